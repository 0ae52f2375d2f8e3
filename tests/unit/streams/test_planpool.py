"""The planning process (streams/planpool.py): a real child process, started, warmed, replaced."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import time

import pytest

from streams.planning import PlanningOptions
from streams.planpool import GC_THRESHOLDS, PlanPool, PlanProcessLost


def _wait_ready(pool: PlanPool, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not pool.ready():
        assert time.monotonic() < deadline, "the planning process never got ready"
        time.sleep(0.2)


def test_plans_in_a_thread_need_no_process() -> None:
    pool = PlanPool(0)
    pool.start()
    assert pool.ready()  # nothing to wait for


def test_the_child_is_warm_with_its_own_collector_thresholds_and_is_replaced_when_killed() -> None:
    pool = PlanPool(1)
    try:
        assert not pool.ready()  # not before it was started
        pool.start()
        _wait_ready(pool)
        executor = pool._pool()
        child = executor.submit(os.getpid).result(timeout=60)
        assert child != os.getpid()
        assert executor.submit(gc.get_threshold).result(timeout=60) == GC_THRESHOLDS
        assert gc.get_threshold() != GC_THRESHOLDS  # the worker's own are left alone

        os.kill(child, signal.SIGKILL)
        time.sleep(1)
        with pytest.raises(PlanProcessLost):
            asyncio.run(pool.plan("32", {}, {}, PlanningOptions()))
        _wait_ready(pool)  # a new one was started at once
        assert pool._pool().submit(os.getpid).result(timeout=60) not in (child, os.getpid())
    finally:
        pool.close()
