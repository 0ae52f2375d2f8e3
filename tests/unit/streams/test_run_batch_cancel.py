"""A batch cancelled before it is done (the worker stopping) is withheld from faust's
acknowledgement, so its offsets are never committed; a finished batch is left to faust."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from streams.plumbing import Health, run_batch


def _events(n: int) -> list[Any]:
    return [SimpleNamespace(message=SimpleNamespace(acked=False, offset=i, topic="t.shelters",
                                                    headers=[], timestamp=None),
                            value=b"{}", key=b"32", headers=[]) for i in range(n)]


def _ctx() -> Any:
    return SimpleNamespace(health=Health(), settings=SimpleNamespace(topic_prefix="t"))


async def test_a_cancelled_batch_is_withheld_from_fausts_acks() -> None:
    started = asyncio.Event()

    async def handle(events: Any) -> None:
        started.set()
        await asyncio.sleep(60)  # the rows are still being written when the stop comes

    events = _events(3)
    task = asyncio.create_task(run_batch(_ctx(), "shelters", events, handle))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert all(e.message.acked for e in events)


async def test_a_finished_batch_is_left_to_faust() -> None:
    done: list[int] = []

    async def handle(events: Any) -> None:
        done.extend(e.message.offset for e in events)

    events = _events(3)
    await run_batch(_ctx(), "shelters", events, handle)
    assert done == [0, 1, 2]
    assert not any(e.message.acked for e in events)
