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
