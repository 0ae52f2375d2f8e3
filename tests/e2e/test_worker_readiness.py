"""Ready means ready: stream workers report their heartbeat to Redis, and `/readyz` says
200 only once a fresh worker is ready (real Redis, real API process)."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from redis.asyncio import Redis

from siaga.settings import Settings
from siaga.workers import WORKERS_KEY, describe, report_worker, worker_status


def _app() -> str:
    return f"app-{uuid.uuid4().hex[:8]}"


@pytest.mark.integration
async def test_no_report_means_not_ready(redis: Redis) -> None:
    status = await worker_status(redis, _app())
    assert status == {"ready": False, "workers": [], "stale": 0}
    assert "no stream worker" in describe(status)


@pytest.mark.integration
async def test_a_fresh_ready_worker_is_ready_with_what_it_reported(redis: Redis) -> None:
    app = _app()
    await report_worker(redis, app, "w1", ready=True, partitions=4, lag=0, detail={"tables": 7})
    status = await worker_status(redis, app)
    assert status["ready"] is True and status["stale"] == 0
    [entry] = status["workers"]
    assert {k: entry[k] for k in ("app_id", "worker_id", "ready", "partitions", "lag")} == {
        "app_id": app, "worker_id": "w1", "ready": True, "partitions": 4, "lag": 0
    }
    assert entry["detail"] == {"tables": 7}
    raw = json.loads(await redis.hget(WORKERS_KEY, "w1"))
    seconds, _ = await redis.time()
    assert abs(raw["heartbeat"] - seconds) < 5  # epoch seconds on the Redis clock


@pytest.mark.integration
async def test_one_worker_still_catching_up_makes_the_app_not_ready(redis: Redis) -> None:
    app = _app()
    await report_worker(redis, app, "w1", ready=True, partitions=2, lag=0)
    await report_worker(redis, app, "w2", ready=False, partitions=2, lag=1234)
    status = await worker_status(redis, app)
    assert status["ready"] is False
    assert [e["worker_id"] for e in status["workers"]] == ["w1", "w2"]
    assert "w2 not ready" in describe(status) and "lag=1234" in describe(status)
    # it names what the worker waits for, not the figures it reports besides
    await report_worker(redis, app, "w2", ready=False, partitions=2, lag=0, detail={
        "recovered": False, "rebalancing": False, "planning_process": True,
        "failing": None, "loop_stalls": 3, "loop_worst_seconds": 0.2, "metrics_port": 9})
    said = describe(await worker_status(redis, app))
    assert "recovered=False" in said and "loop_stalls" not in said
    assert "planning_process" not in said and "rebalancing" not in said
    await report_worker(redis, app, "w2", ready=True, partitions=2, lag=0)
    assert (await worker_status(redis, app))["ready"] is True


@pytest.mark.integration
async def test_stale_workers_are_ignored_and_removed(redis: Redis) -> None:
    app = _app()
    await report_worker(redis, app, "gone", ready=False, partitions=4, lag=99)
    await asyncio.sleep(1.2)
    await report_worker(redis, app, "alive", ready=True, partitions=4, lag=0)
    status = await worker_status(redis, app, stale_after=1.0)
    assert status["ready"] is True  # the dead worker that was not ready does not count
    assert [e["worker_id"] for e in status["workers"]] == ["alive"]
    assert status["stale"] == 1
    assert await redis.hexists(WORKERS_KEY, "gone") == 0
    await asyncio.sleep(1.2)
    status = await worker_status(redis, app, stale_after=1.0)
    assert status["ready"] is False and status["workers"] == [] and status["stale"] == 1


@pytest.mark.integration
async def test_other_apps_workers_do_not_count(redis: Redis) -> None:
    app, other = _app(), _app()
    await report_worker(redis, other, "w-other", ready=True, partitions=4, lag=0)
    assert (await worker_status(redis, app))["ready"] is False
    assert (await worker_status(redis, other))["ready"] is True
    assert len((await worker_status(redis))["workers"]) == 1  # no app_id: every app


@pytest.mark.integration
async def test_the_hash_expires_when_no_worker_reports(redis: Redis) -> None:
    await report_worker(redis, _app(), "w1", ready=True, partitions=1, lag=0, ttl=1)
    assert await redis.exists(WORKERS_KEY)
    await asyncio.sleep(2.2)
    assert not await redis.exists(WORKERS_KEY)


@pytest.mark.e2e
async def test_readyz_is_503_until_a_worker_reports_ready_while_healthz_stays_200(
    api: str, settings: Settings, redis: Redis
) -> None:
    async with httpx.AsyncClient(base_url=api, timeout=10) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body["ready"] is False and body["worker"]["ready"] is False
        assert body["broker"]["connected"] and body["redis"]["connected"]
        assert "no stream worker" in body["worker"]["waiting_for"]
        health = await client.get("/healthz")
        assert health.status_code == 200  # the API alone is healthy
        assert health.json()["ready"] is False

        await report_worker(redis, settings.app_id, "w1", ready=False, partitions=4, lag=50)
        assert (await client.get("/readyz")).status_code == 503

        await report_worker(redis, settings.app_id, "w1", ready=True, partitions=4, lag=0)
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["ready"] is True
        assert [w["worker_id"] for w in body["worker"]["workers"]] == ["w1"]
        health = (await client.get("/healthz")).json()
        assert health["ready"] is True and health["worker"]["ready"] is True


@pytest.mark.integration
async def test_a_removed_worker_no_longer_counts(redis: Redis) -> None:
    from siaga.workers import remove_worker

    app = _app()
    await report_worker(redis, app, "w1", ready=True, partitions=4, lag=0)
    await report_worker(redis, app, "w2", ready=True, partitions=4, lag=0)
    await remove_worker(redis, "w1")
    status = await worker_status(redis, app)
    assert [e["worker_id"] for e in status["workers"]] == ["w2"] and status["stale"] == 0
