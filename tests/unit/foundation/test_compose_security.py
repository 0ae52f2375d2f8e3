"""docker-compose.yml runs Kafka and Redis authenticated: SASL/SCRAM with ACLs per service,
Redis ACL users with passwords, and Siaga's services configured to use them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from siaga.settings import Settings, kafka_client_options

ROOT = Path(__file__).resolve().parents[3]
SECRET = re.compile(r"^\$\{(SIAGA_[A-Z_]+):\?[^}]*\}$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def _kafka_env(compose: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in compose["services"]["kafka"]["environment"].items()}


def _listeners(value: str) -> dict[str, str]:
    """``NAME://host:port,…`` → {name: host:port}."""
    return dict(item.split("://", 1) for item in value.split(","))


def _protocols(env: dict[str, str]) -> dict[str, str]:
    pairs = env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    return dict(pair.split(":") for pair in pairs)


def _service_env(compose: dict[str, Any], name: str) -> dict[str, str]:
    return {k: str(v) for k, v in compose["services"][name]["environment"].items()}


def _settings(env: dict[str, str]) -> Settings:
    values = {k[len("SIAGA_"):].lower(): SECRET.sub("test-secret", v) for k, v in env.items()
              if k.startswith("SIAGA_")}
    return Settings(**values)


def test_kafka_clients_can_reach_only_sasl_listeners(compose: dict[str, Any]) -> None:
    env = _kafka_env(compose)
    protocols = _protocols(env)
    listeners = _listeners(env["KAFKA_LISTENERS"])
    reachable = {name for name, address in listeners.items()
                 if not address.startswith(("localhost:", "127.0.0.1:"))}
    assert reachable, "no listener for clients"
    for name in reachable:
        assert protocols[name].startswith("SASL_"), f"{name} is {protocols[name]}"
        mechanisms = env[f"KAFKA_LISTENER_NAME_{name}_SASL_ENABLED_MECHANISMS"]
        assert mechanisms.startswith("SCRAM-"), mechanisms
    advertised = _listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    for service in ("api", "worker", "topics"):
        bootstrap = _service_env(compose, service)["SIAGA_KAFKA_BOOTSTRAP_SERVERS"]
        names = [n for n, a in advertised.items() if a == bootstrap]
        assert names and all(protocols[n].startswith("SASL_") for n in names), service


def test_kafka_authorizes_with_acls_and_denies_by_default(compose: dict[str, Any]) -> None:
    env = _kafka_env(compose)
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    # the only super user is the loopback listeners' anonymous principal
    assert env["KAFKA_SUPER_USERS"] == "User:ANONYMOUS"
    listeners = _listeners(env["KAFKA_LISTENERS"])
    protocols = _protocols(env)
    for name, address in listeners.items():
        if not protocols[name].startswith("SASL_"):
            assert address.startswith(("localhost:", "127.0.0.1:")), (name, address)


def _users_script(compose: dict[str, Any]) -> str:
    users = compose["services"]["kafka-users"]
    assert users["network_mode"] == "service:kafka"
    return "\n".join(users["command"])


def _published_topics() -> set[str]:
    """The topics the API publishes to: every event type its routes build."""
    from siaga import events as ev
    from siaga.catalogue import topic_for_event_type

    source = "\n".join(p.read_text() for p in (ROOT / "api" / "routes").glob("*.py"))
    names = set(re.findall(r"build\(\s*ev\.(\w+)", source))
    assert names, "no events built by the API?"
    return {topic_for_event_type(getattr(ev, n).model_fields["type"].default).name
            for n in names}


def test_each_service_has_its_own_scram_user_and_acls(compose: dict[str, Any]) -> None:
    script = _users_script(compose)
    for user in ("siaga-api", "siaga-worker"):
        assert re.search(rf"--entity-name {user} --add-config \"SCRAM-SHA-512=", script), user
    api_acls = [line for line in script.splitlines() if "User:siaga-api" in line]
    assert api_acls and all("--operation All" not in line and "prefixed" not in line
                            for line in api_acls)
    loop = re.search(r"for topic in ([^;]+); do", script)
    assert loop, "the API's topics are listed one by one"
    granted = {t.removeprefix("siaga.") for t in loop.group(1).split()}
    assert granted == _published_topics()
    env = {name: _service_env(compose, name) for name in ("api", "worker", "topics")}
    assert env["api"]["SIAGA_KAFKA_SASL_USERNAME"] == "siaga-api"
    assert env["worker"]["SIAGA_KAFKA_SASL_USERNAME"] == "siaga-worker"
    assert env["topics"]["SIAGA_KAFKA_SASL_USERNAME"] == "siaga-worker"  # it creates topics
    for name, values in env.items():
        assert values["SIAGA_KAFKA_SECURITY_PROTOCOL"].startswith("SASL_"), name
        assert SECRET.match(values["SIAGA_KAFKA_SASL_PASSWORD"]), f"{name}: a literal password"
    assert env["api"]["SIAGA_KAFKA_SASL_PASSWORD"] != env["worker"]["SIAGA_KAFKA_SASL_PASSWORD"]
    for name in ("topics", "api", "worker"):
        depends = compose["services"][name]["depends_on"]
        assert "kafka-users" in depends or "topics" in depends, name
    assert compose["services"]["topics"]["depends_on"]["kafka-users"]["condition"] == (
        "service_completed_successfully"
    )


def _redis_users(command: list[str]) -> dict[str, list[str]]:
    users: dict[str, list[str]] = {}
    for index, arg in enumerate(command):
        if arg == "--user":
            rest = []
            for item in command[index + 1:]:
                if item.startswith("--"):
                    break
                rest.append(item)
            users[rest[0]] = rest[1:]
    return users


def test_redis_requires_a_user_and_password(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    users = _redis_users(redis["command"])
    assert users.get("default") == ["off"], "the anonymous default user must be off"
    others = {name: rules for name, rules in users.items() if name != "default"}
    assert {"siaga-api", "siaga-worker"} <= set(others)
    for name, rules in others.items():
        assert "on" in rules
        passwords = [r for r in rules if r.startswith(">")]
        assert len(passwords) == 1 and SECRET.match(passwords[0][1:]), name
        assert "-@dangerous" in rules and "~siaga:*" in rules, name
    assert "--user" in redis["healthcheck"]["test"]
    assert SECRET.match(str(redis["environment"]["REDISCLI_AUTH"]))
    for name, user in (("api", "siaga-api"), ("worker", "siaga-worker"),
                       ("topics", "siaga-worker")):
        env = _service_env(compose, name)
        assert env["SIAGA_REDIS_USERNAME"] == user, name
        assert SECRET.match(env["SIAGA_REDIS_PASSWORD"]), name


def test_siaga_settings_from_the_compose_file_authenticate(compose: dict[str, Any]) -> None:
    for name in ("api", "worker"):
        settings = _settings(_service_env(compose, name))
        options = kafka_client_options(settings)
        assert options["security_protocol"] == "SASL_PLAINTEXT"
        assert options["sasl_mechanism"] == "SCRAM-SHA-512"
        assert options["sasl_plain_username"].startswith("siaga-")
        assert options["sasl_plain_password"] == "test-secret"
        url = urlsplit(settings.redis_url or "")
        assert url.username and url.username.startswith("siaga-")
        assert url.password == "test-secret"


def test_plaintext_settings_give_no_client_options_and_sasl_needs_credentials() -> None:
    assert kafka_client_options(Settings()) == {}
    with pytest.raises(SystemExit):
        kafka_client_options(Settings(kafka_security_protocol="SASL_SSL"))
    tls = kafka_client_options(Settings(kafka_security_protocol="SSL"))
    assert tls["security_protocol"] == "SSL" and tls["ssl_context"] is not None
