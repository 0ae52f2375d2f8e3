"""docker-compose.yml describes a deployment the code can actually run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
import yaml

from siaga.cli import build_parser
from siaga.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def _subcommands() -> set[str]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    raise AssertionError("no subcommands")


def test_every_siaga_service_runs_an_existing_command(compose: dict[str, Any]) -> None:
    commands = _subcommands()
    siaga_services = [s for s in compose["services"].values() if s.get("image") == "siaga:latest"]
    assert len(siaga_services) >= 3
    for service in siaga_services:
        program, subcommand, *_ = service["command"]
        assert program == "siaga"
        assert subcommand in commands, f"siaga {subcommand} does not exist"


def test_kafka_is_the_official_image_in_kraft_mode(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "CONTROLLER" in kafka["environment"]["KAFKA_CONTROLLER_LISTENER_NAMES"]


def test_redis_persists_with_append_only_file(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    assert "--appendonly" in redis["command"]
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert redis["volumes"]


def test_long_running_services_have_healthchecks(compose: dict[str, Any]) -> None:
    for name in ("kafka", "redis", "api", "worker"):
        assert compose["services"][name]["healthcheck"]["test"], name


def test_worker_can_scale(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    assert worker["command"] == ["siaga", "worker"]


def test_environment_is_valid_production_settings(compose: dict[str, Any]) -> None:
    known = {f"SIAGA_{name.upper()}" for name in Settings.model_fields}
    for name in ("api", "worker", "topics"):
        env = compose["services"][name]["environment"]
        siaga_vars = {k: v for k, v in env.items() if k.startswith("SIAGA_")}
        assert set(siaga_vars) <= known, set(siaga_vars) - known
        assert siaga_vars["SIAGA_KAFKA_PROFILE"] == "production"
        assert siaga_vars["SIAGA_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"


def test_the_image_is_built_from_a_dockerfile_that_installs_the_project() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install" in dockerfile
    for package in ("siaga", "streams", "logistics", "api", "geo"):
        assert f"COPY {package} ./{package}" in dockerfile


# ------------------------------------------------- the same Kafka as `siaga run` runs


def _kafka_properties(compose: dict[str, Any]) -> dict[str, str]:
    """The broker properties the apache/kafka image derives from KAFKA_* variables
    (KAFKA_LOG_DIRS -> log.dirs; ``__`` -> ``_``, ``___`` -> ``-``)."""
    out = {}
    for key, value in compose["services"]["kafka"]["environment"].items():
        if key.startswith("KAFKA_"):
            name = key[len("KAFKA_"):].lower()
            name = name.replace("___", "-").replace("__", "\0").replace("_", ".")
            out[name.replace("\0", "_")] = str(value)
    return out


def _local_properties(replication: int) -> dict[str, str]:
    from siaga.apache_kafka import KafkaNode, _server_properties

    node = KafkaNode(node_id=1, port=9092, controller_port=9093, home=Path("/x/kafka"),
                     log_path=Path("/x/kafka.log"), heap="512m")
    return _server_properties(node, "1@127.0.0.1:9093", replication, None)


def _siaga_env(compose: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in compose["services"]["topics"]["environment"].items()}


def test_compose_runs_the_kafka_version_of_the_pom(compose: dict[str, Any]) -> None:
    import re

    pom = (ROOT / "siaga" / "kafka_jars" / "pom.xml").read_text()
    match = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", pom)
    assert match
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{match.group(1)}"


# Settings that must mean the same in production as on the local broker.
MUST_AGREE = (
    "process.roles",
    "controller.listener.names",
    "inter.broker.listener.name",
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
    "share.coordinator.state.topic.replication.factor",
    "share.coordinator.state.topic.min.isr",
    "default.replication.factor",
    "min.insync.replicas",
    "group.initial.rebalance.delay.ms",
    "auto.create.topics.enable",
)


def test_compose_kafka_settings_agree_with_the_local_broker(compose: dict[str, Any]) -> None:
    replication = int(_siaga_env(compose)["SIAGA_REPLICATION_FACTOR"])
    local = _local_properties(replication)
    deployed = _kafka_properties(compose)
    for name in MUST_AGREE:
        assert deployed.get(name) == local[name], (name, deployed.get(name), local[name])
    # the local listeners mean the same there; the deployment may add its own (an
    # authenticated CLIENT listener for the services)
    name = "listener.security.protocol.map"
    assert set(local[name].split(",")) <= set(deployed[name].split(",")), name
    assert "CONTROLLER" in deployed["listeners"] and "PLAINTEXT" in deployed["listeners"]


def test_retention_is_per_topic_not_a_broker_wide_override(compose: dict[str, Any]) -> None:
    # `siaga topics` sets each topic's retention; a broker-wide -1 (as this file once had)
    # would also keep faust's repartition topics forever, and the local broker has none
    local = _local_properties(1)
    deployed = _kafka_properties(compose)
    for props in (local, deployed):
        assert not [k for k in props if k.startswith(("log.retention", "log.cleanup"))], props
    assert "max.message.bytes" not in deployed and "message.max.bytes" not in deployed


def test_topics_are_created_by_siaga_topics_before_api_and_workers(
    compose: dict[str, Any],
) -> None:
    topics = compose["services"]["topics"]
    assert topics["command"] == ["siaga", "topics"]
    parser = build_parser()
    args = parser.parse_args(topics["command"][1:])
    from siaga.cli import cmd_topics

    assert args.func is cmd_topics  # which runs siaga.kafka.ensure_topics
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name in ("api", "worker"):
        condition = compose["services"][name]["depends_on"]["topics"]["condition"]
        assert condition == "service_completed_successfully", name


def test_compose_min_insync_replicas_follows_its_replication_factor(
    compose: dict[str, Any],
) -> None:
    from siaga.kafka import min_insync_replicas

    env = _siaga_env(compose)
    settings = Settings(replication_factor=int(env["SIAGA_REPLICATION_FACTOR"]))
    assert _kafka_properties(compose)["min.insync.replicas"] == min_insync_replicas(settings)
