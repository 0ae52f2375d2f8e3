"""Fixtures: a real Kafka broker and a real Redis, started once for the test run.

The broker is Apache Kafka (the production broker, from the project's own jars; the
worker runs its production profile on it). ``SIAGA_TEST_BROKER=tansu`` runs the suites on
the light embedded broker instead (local profile); without Java the suites fall back to
Tansu with a warning, except in CI, where Apache Kafka is required. The ``tansu_settings``
fixture gives a smoke set Tansu in every run, so the light default keeps working.

Each test gets its own topic prefix and consumer group (faust app id), so tests
never see each other's records, and a flushed Redis database.
"""

from __future__ import annotations

import asyncio
import os
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from siaga.local import ManagedProcess, free_port, start_broker, start_redis
from siaga.settings import Settings
from tests.support import start_api, start_worker

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Services:
    bootstrap: str
    redis_url: str
    broker: ManagedProcess
    redis: ManagedProcess
    profile: str = "production"  # the worker profile that goes with the broker
    kind: str = "kafka"


def broker_choice() -> str:
    """Which broker the suites run on: ``kafka`` (Apache Kafka) or ``tansu``."""
    from siaga.apache_kafka import kafka_available

    chosen = os.environ.get("SIAGA_TEST_BROKER", "").strip().lower()
    if chosen in ("kafka", "tansu"):
        return chosen
    reason = kafka_available()
    if reason is None:
        return "kafka"
    if os.environ.get("CI"):
        raise RuntimeError(f"CI runs the suites on Apache Kafka, which cannot start: {reason}")
    warnings.warn(f"Apache Kafka unavailable ({reason}); the suites run on Tansu", stacklevel=1)
    return "tansu"


def _start_broker(kind: str, data_dir: Path) -> tuple[ManagedProcess, str]:
    if kind == "kafka":
        from siaga.apache_kafka import start_kafka

        return start_kafka(data_dir, timeout=180)
    return start_broker(data_dir)


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    data_dir = tmp_path_factory.mktemp("services")
    kind = broker_choice()
    broker, bootstrap = _start_broker(kind, data_dir)
    redis_proc, redis_url = start_redis(data_dir)
    try:
        yield Services(bootstrap, redis_url, broker, redis_proc,
                       profile="production" if kind == "kafka" else "local", kind=kind)
    finally:
        redis_proc.stop()
        broker.stop()


@pytest.fixture(scope="session")
def tansu(tmp_path_factory: pytest.TempPathFactory, services: Services) -> Iterator[str]:
    """A Tansu broker for the smoke set (the suites' own broker when they run on Tansu)."""
    if services.kind == "tansu":
        yield services.bootstrap
        return
    proc, bootstrap = start_broker(tmp_path_factory.mktemp("tansu"))
    try:
        yield bootstrap
    finally:
        proc.stop()


@pytest.fixture
def tansu_settings(settings: Settings, tansu: str) -> Settings:
    """This test's settings on Tansu with the local profile."""
    return settings.model_copy(update={"kafka_bootstrap_servers": tansu,
                                       "kafka_profile": "local"})


@pytest.fixture
def settings(services: Services, tmp_path: Path) -> Settings:
    token = uuid.uuid4().hex[:10]
    return Settings(
        kafka_bootstrap_servers=services.bootstrap,
        redis_url=services.redis_url,
        kafka_profile=services.profile,  # type: ignore[arg-type]
        topic_prefix=f"t{token}",
        app_id=f"siaga-test-{token}",
        data_dir=tmp_path / "data",
        partitions=4,
        api_port=free_port(),
        log_level="INFO",
    )


@pytest_asyncio.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url or "")
    await client.flushdb()
    try:
        yield client
    finally:
        # leave nothing for the next test (some read Redis without this fixture)
        await client.flushdb()
        await client.aclose()


@pytest.fixture
def worker(settings: Settings) -> Iterator[ManagedProcess]:
    from siaga.kafka import ensure_topics

    asyncio.run(ensure_topics(settings))
    proc = start_worker(settings)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def api(settings: Settings) -> Iterator[str]:
    proc, base = start_api(settings)
    try:
        yield base
    finally:
        proc.stop()
