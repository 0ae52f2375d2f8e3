"""A plan in the making is given up when the worker begins to stop (streams/plumbing.py)."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest

from streams.plumbing import STOP_POLL, run_batch, unless_stopping


class App:
    should_stop = False


async def _slow(seconds: float, cancelled: list[bool]) -> str:
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        cancelled.append(True)
        raise
    return "plan"


async def test_a_plan_finishes_while_the_worker_runs() -> None:
    ctx = SimpleNamespace(app=App())
    cancelled: list[bool] = []
    assert await unless_stopping(ctx, _slow(3 * STOP_POLL, cancelled)) == "plan"
    assert not cancelled


async def test_a_stop_gives_the_plan_up_and_withholds_the_batch() -> None:
    """The batch's records are marked acked for faust (so it neither waits for them nor
    commits past them) and the plan's task is cancelled, within a poll of the stop."""
    app = App()
    cancelled: list[bool] = []
    message = SimpleNamespace(acked=False)
    ctx = SimpleNamespace(app=app, health=None)

    async def handle(_events: object) -> None:
        await unless_stopping(ctx, _slow(60, cancelled))

    async def stop_soon() -> float:
        await asyncio.sleep(2 * STOP_POLL)
        app.should_stop = True
        return time.monotonic()

    stopper = asyncio.ensure_future(stop_soon())
    # the agent goes on quietly (no crash for faust to restart it for)
    await run_batch(ctx, "national", [SimpleNamespace(message=message)], handle)
    given_up = time.monotonic()
    stopped = await stopper
    assert given_up - stopped < 3 * STOP_POLL
    await asyncio.sleep(0)
    assert cancelled == [True]
    assert message.acked  # withheld: never committed, processed again after the restart

    # a batch taken once the worker stops is not processed at all
    later = SimpleNamespace(acked=False)
    handled: list[object] = []

    async def record(events: object) -> None:
        handled.append(events)

    await run_batch(ctx, "national", [SimpleNamespace(message=later)], record)
    assert handled == [] and later.acked


async def test_a_cancelled_agent_is_still_cancelled() -> None:
    """faust cancelling the agent's task (not a plan given up) goes through run_batch."""
    ctx = SimpleNamespace(app=App(), health=None)
    message = SimpleNamespace(acked=False)
    cancelled: list[bool] = []

    async def handle(_events: object) -> None:
        await _slow(60, cancelled)

    task = asyncio.ensure_future(
        run_batch(ctx, "shelters", [SimpleNamespace(message=message)], handle))
    await asyncio.sleep(STOP_POLL)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled == [True] and message.acked
