"""A re-plan waits for a burst to settle, in proportion to what its province's plans cost."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from streams import planner


def _moving_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inputs that change every time they are looked at (a stream that never goes still)."""
    revision = [0]

    def moving(ctx: Any, province: str) -> tuple[tuple[int, int], ...]:
        revision[0] += 1
        return ((0, revision[0]),)

    monkeypatch.setattr(planner, "input_revision", moving)


def _ctx(last_plan_seconds: float | None) -> Any:
    seconds = {} if last_plan_seconds is None else {"32": last_plan_seconds}
    return SimpleNamespace(plan_seconds=seconds)


async def test_a_first_plan_and_a_small_province_do_not_wait(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setattr(planner, "input_revision", lambda ctx, p: ((0, 1),))
    assert await planner.settle(_ctx(None), "32") == 0.0
    # a 25-shelter province plans in ~0.07 s: it waits at most a quarter of that
    assert await planner.settle(_ctx(0.07), "32") <= 0.07


async def test_still_inputs_are_planned_after_the_quiet_time(monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    monkeypatch.setattr(planner, "input_revision", lambda ctx, p: ((0, 1),))
    waited = await planner.settle(_ctx(3.0), "32")
    assert planner.SETTLE_QUIET <= waited < planner.SETTLE_SHARE * 3.0


async def test_a_burst_is_waited_for_until_it_settles(monkeypatch: pytest.MonkeyPatch) -> None:
    revision = [0]
    monkeypatch.setattr(planner, "input_revision", lambda ctx, p: ((0, revision[0]),))

    async def burst(seconds: float) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            revision[0] += 1
            await asyncio.sleep(0.02)

    feeding = asyncio.create_task(burst(0.35))
    waited = await planner.settle(_ctx(4.0), "32")  # may wait up to 1 s
    await feeding
    assert 0.35 + planner.SETTLE_QUIET - 0.05 <= waited < planner.SETTLE_MAX


async def test_inputs_that_never_settle_wait_no_longer_than_the_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _moving_inputs(monkeypatch)
    waited = await planner.settle(_ctx(1.2), "32")  # limit 0.3 s
    assert 0.3 <= waited < 0.3 + 0.2
    waited = await planner.settle(_ctx(60.0), "32")  # limit SETTLE_MAX
    assert planner.SETTLE_MAX <= waited < planner.SETTLE_MAX + 0.2


async def test_a_plan_that_follows_on_from_a_streaming_one_does_not_wait(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _moving_inputs(monkeypatch)
    loop = asyncio.get_running_loop()  # its clock is time.monotonic
    ctx = _ctx(4.0)  # limit 1 s
    # inputs changed while the last plan was made, and its outputs were written just now
    ctx.plan_streaming = {"32": (True, loop.time() - 0.1)}
    assert await planner.settle(ctx, "32") == 0.0
    # still while it was made: a new burst, waited for
    ctx.plan_streaming = {"32": (False, loop.time() - 0.1)}
    assert await planner.settle(ctx, "32") >= planner.SETTLE_MAX
    # after a pause the next change starts a new burst, however the last plan ran
    ctx.plan_streaming = {"32": (True, loop.time() - planner.STREAM_GAP - 5)}
    assert await planner.settle(ctx, "32") >= planner.SETTLE_MAX
    # another province's stream is not this one's
    ctx.plan_streaming = {"33": (True, loop.time())}
    assert await planner.settle(ctx, "32") >= planner.SETTLE_MAX
