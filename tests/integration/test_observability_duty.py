"""What the person on duty is told, against the real Redis: the picture is as old as its
slowest reporting worker (two workers report; a stuck one is never hidden by the other,
and a steady flow that never lets lag reach 0 at a report is not called stale), and
`siaga status` still shows Redis' half, and says so, when the broker cannot be reached."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest
from redis.asyncio import Redis

from siaga.local import free_port
from siaga.settings import Settings
from siaga.status import PROJECTED_KEY, picture
from siaga.workers import CatchUp, report_worker
from tests.support import ROOT, child_env

pytestmark = [pytest.mark.integration]

LIMIT = 30.0


async def test_the_picture_is_as_old_as_the_slowest_of_two_reporting_workers(
    settings: Settings, redis: Redis
) -> None:
    app = settings.app_id
    await report_worker(redis, app, "w1", ready=True, partitions=2, lag=0, behind_seconds=0.0)
    await report_worker(redis, app, "w2", ready=False, partitions=2, lag=40,
                        behind_seconds=120.0)
    seen = await picture(redis, app, LIMIT)
    assert seen["stale"] is True and seen["age_seconds"] >= 119, seen
    # w1 reporting "caught up" again does not hide w2, still stuck
    await report_worker(redis, app, "w1", ready=True, partitions=2, lag=0, behind_seconds=0.0)
    seen = await picture(redis, app, LIMIT)
    assert seen["stale"] is True and seen["age_seconds"] >= 119, seen
    assert seen["workers"] == 2 and seen["lag"] == 40
    # w2 catches up: the picture is current
    await report_worker(redis, app, "w2", ready=True, partitions=2, lag=0, behind_seconds=0.0)
    seen = await picture(redis, app, LIMIT)
    assert seen["stale"] is False and seen["age_seconds"] < 2, seen


async def test_two_workers_under_steady_load_keep_the_picture_current(
    settings: Settings, redis: Redis
) -> None:
    """Records arrive all the time: neither worker's lag is 0 at any report, but each
    reads past, by its next report, what was there at the one before."""
    app = settings.app_id
    trackers = {"w1": CatchUp(), "w2": CatchUp()}
    for k in range(4):
        for worker, catch_up in trackers.items():
            end = 100 * (k + 1)
            behind = catch_up.observe(2.0 * k, {(worker, 0): (end - 30, end)})
            await report_worker(redis, app, worker, ready=False, partitions=1, lag=30,
                                behind_seconds=behind)
    seen = await picture(redis, app, LIMIT)
    assert seen["stale"] is False, seen
    assert 1.5 <= seen["age_seconds"] <= 4.0, seen  # one report interval (2 s) behind


async def test_a_worker_not_yet_current_holds_the_picture_and_a_silent_one_stops_counting(
    settings: Settings, redis: Redis
) -> None:
    app = settings.app_id
    await report_worker(redis, app, "w1", ready=True, partitions=2, lag=0, behind_seconds=0.0)
    # a worker starting (or given partitions it has not caught up with): never current yet
    await report_worker(redis, app, "w3", ready=False, partitions=0, lag=0,
                        detail={"starting": True})
    await asyncio.sleep(1.5)
    await report_worker(redis, app, "w1", ready=True, partitions=2, lag=0, behind_seconds=0.0)
    seen = await picture(redis, app, LIMIT)
    assert seen["age_seconds"] >= 1.4, seen  # held where it was when w3 appeared
    # w3 falls silent: once its heartbeat is older than the reports' ttl it no longer counts
    await report_worker(redis, app, "w1", ready=True, partitions=2, lag=0, behind_seconds=0.0,
                        ttl=1.0)
    seen = await picture(redis, app, LIMIT)
    assert seen["age_seconds"] < 1.0, seen


async def _siaga(settings: Settings, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "siaga.cli", *args, cwd=ROOT, env=child_env(settings),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_siaga_status_shows_redis_and_says_the_broker_cannot_be_reached(
    settings: Settings, redis: Redis
) -> None:
    closed = f"127.0.0.1:{free_port()}"  # nothing listens there
    down = settings.model_copy(update={"kafka_bootstrap_servers": closed})
    await report_worker(redis, settings.app_id, "w1", ready=True, partitions=4, lag=0,
                        behind_seconds=0.0)
    await redis.hset(PROJECTED_KEY, "incident", "1700000000.0")

    code, out, err = await _siaga(down, "status")
    assert "Traceback" not in err, err
    assert code == 1, (out, err)
    assert f"Kafka: the broker cannot be reached at {closed}" in out, out
    assert "picture: current — caught up" in out, out
    assert "1 worker(s) reporting" in out and "incident" in out, out

    code, out, err = await _siaga(down, "status", "--json")
    assert code == 1 and "Traceback" not in err, err
    screen = json.loads(out)
    assert screen["kafka"]["bootstrap"] == closed and screen["kafka"]["error"]
    assert screen["picture"]["stale"] is False and "incident" in screen["picture"]["panels"]
