from __future__ import annotations

from pathlib import Path

import pytest

from siaga.settings import Settings


def test_settings_come_from_siaga_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIAGA_KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("SIAGA_REDIS_URL", "redis://redis:6379/0")
    monkeypatch.setenv("SIAGA_PARTITIONS", "12")
    monkeypatch.setenv("SIAGA_API_PORT", "8080")
    monkeypatch.setenv("SIAGA_DATA_DIR", "/var/lib/siaga")
    settings = Settings()
    assert settings.kafka_bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.partitions == 12
    assert settings.api_port == 8080
    assert settings.data_dir == Path("/var/lib/siaga")


def test_defaults_are_the_embedded_local_run(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL", "DATA_DIR", "KAFKA_PROFILE"):
        monkeypatch.delenv(f"SIAGA_{name}", raising=False)
    settings = Settings()
    assert settings.kafka_bootstrap_servers is None
    assert settings.redis_url is None
    assert settings.data_dir == Path(".siaga")
    assert settings.kafka_profile == "production"


def test_blank_service_urls_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIAGA_REDIS_URL", "  ")
    assert Settings().redis_url is None


def test_commands_needing_services_name_the_missing_variable() -> None:
    settings = Settings(kafka_bootstrap_servers="k:9092", redis_url=None)
    with pytest.raises(SystemExit, match="SIAGA_REDIS_URL"):
        settings.require_services()


def test_bad_partition_count_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIAGA_PARTITIONS", "0")
    with pytest.raises(ValueError, match="partitions"):
        Settings()


def test_settings_round_trip_through_child_environment() -> None:
    original = Settings(kafka_bootstrap_servers="a:1", redis_url="redis://b:2/0", partitions=6)
    env = original.as_env()
    assert env["SIAGA_PARTITIONS"] == "6"
    assert "SIAGA_KAFKA_BOOTSTRAP_SERVERS" in env


def test_local_broker_workarounds_stay_out_of_the_production_profile() -> None:
    from streams.app import faust_options

    prod = faust_options(Settings(kafka_bootstrap_servers="k:9092", redis_url="redis://r"))
    local = faust_options(
        Settings(kafka_bootstrap_servers="k:9092", redis_url="redis://r", kafka_profile="local")
    )
    # production batches normally (large batches for big re-plans); one record per request
    # is the local broker's workaround only
    assert prod["producer_max_batch_size"] >= 16384
    assert local["producer_max_batch_size"] == 1
    assert prod["broker"] == "kafka://k:9092"
