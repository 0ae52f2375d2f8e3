"""Fixtures: a real Kafka-protocol broker and a real Redis, started once for the test run.

Each test gets its own topic prefix and consumer group (faust app id), so tests
never see each other's records, and a flushed Redis database.
"""

from __future__ import annotations

import asyncio
import uuid
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


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    data_dir = tmp_path_factory.mktemp("services")
    broker, bootstrap = start_broker(data_dir)
    redis_proc, redis_url = start_redis(data_dir)
    try:
        yield Services(bootstrap, redis_url, broker, redis_proc)
    finally:
        redis_proc.stop()
        broker.stop()


@pytest.fixture
def settings(services: Services, tmp_path: Path) -> Settings:
    token = uuid.uuid4().hex[:10]
    return Settings(
        kafka_bootstrap_servers=services.bootstrap,
        redis_url=services.redis_url,
        kafka_profile="local",
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
