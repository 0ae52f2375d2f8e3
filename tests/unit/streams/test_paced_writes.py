"""Bulk writes (a plan's write-back, a batch's flush) go through ``streams.plumbing.paced``:
each chunk only once faust's producer buffer has drained, the event loop let go between
rows — on a real asyncio loop (the producer buffer is a stand-in: only its size is read)."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

from streams.plumbing import EBB, SHARE_EVERY, WRITE_CHUNK, paced


def _ctx(size: int = 0) -> SimpleNamespace:
    return SimpleNamespace(app=SimpleNamespace(producer=SimpleNamespace(
        buffer=SimpleNamespace(size=size))))


async def test_each_chunk_waits_for_the_producer_buffer_to_drain() -> None:
    ctx = _ctx()
    buffer = ctx.app.producer.buffer
    items = list(range(2 * WRITE_CHUNK + 5))
    seen: list[int] = []
    drained_at: list[float] = []

    async def drain() -> None:
        await asyncio.sleep(0.05)
        buffer.size = EBB
        drained_at.append(time.monotonic())

    async for item in paced(ctx, items):
        if item == WRITE_CHUNK:  # the second chunk starts only after the drain
            assert drained_at and buffer.size <= EBB
        seen.append(item)
        if item == WRITE_CHUNK - 1:  # the first chunk filled the buffer
            buffer.size = EBB + 400
            asyncio.get_running_loop().create_task(drain())
    assert seen == items


async def test_long_work_between_rows_lets_the_loop_go() -> None:
    ticks = 0

    async def other_agent() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    other = asyncio.get_running_loop().create_task(other_agent())
    await asyncio.sleep(0)
    start = ticks
    async for _ in paced(_ctx(), list(range(10))):
        time.sleep(SHARE_EVERY)  # a row's write holding the loop this long
    other.cancel()
    await asyncio.sleep(0)
    assert ticks - start >= 5  # the other agent ran between the rows

    # short work does not give the loop away after every row
    other = asyncio.get_running_loop().create_task(other_agent())
    await asyncio.sleep(0)
    ticks_before = ticks
    async for _ in paced(_ctx(), list(range(WRITE_CHUNK - 1))):
        pass
    other.cancel()
    assert ticks - ticks_before <= 2  # one chunk: one ebb check, no share
