"""Live updates: the Redis feed (``siaga:feed``) fanned out to server-sent-event clients.

One reader per API process follows the feed with ``XREAD BLOCK`` and hands each
entry to every subscriber's queue, so 500 dashboards cost one Redis connection,
not 500. A client that reconnects with ``Last-Event-ID`` (or ``?after=``) first
catches up from the stream with ``XRANGE`` and then continues live; it subscribes
before catching up and skips what it has already sent, so nothing falls in the
gap. A client too slow to keep up is disconnected and, on reconnecting, catches
up the same way. If the feed was trimmed past the client's position, it gets a
``reset`` event and reloads the snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis

from siaga.readmodel import FEED

log = logging.getLogger(__name__)

StreamId = tuple[int, int]
Entry = tuple[StreamId, str]  # (stream id, SSE frame)

HEARTBEAT_SECONDS = 15.0
QUEUE_LIMIT = 10_000
CATCH_UP_BATCH = 1000


def parse_id(value: str) -> StreamId:
    """``"1700000000000-3"`` → (1700000000000, 3); raises ValueError when malformed."""
    ms, _, seq = value.strip().partition("-")
    return int(ms), int(seq or 0)


def format_id(stream_id: StreamId) -> str:
    return f"{stream_id[0]}-{stream_id[1]}"


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def frame(stream_id: str, fields: dict[Any, Any]) -> str:
    """One SSE message: ``id`` is the stream id; data is
    {entity, id, province_code, seq, deleted, data}."""
    data = _s(fields.get(b"json", fields.get("json", "null")))
    deleted = _s(fields.get(b"deleted", fields.get("deleted", "0"))) == "1"
    payload = (
        f'{{"entity":{json.dumps(_s(fields.get(b"entity", fields.get("entity", ""))))},'
        f'"id":{json.dumps(_s(fields.get(b"id", fields.get("id", ""))))},'
        f'"province_code":{json.dumps(_s(fields.get(b"province", fields.get("province", ""))))},'
        f'"seq":"{stream_id}","deleted":{"true" if deleted else "false"},"data":{data}}}'
    )
    return f"id: {stream_id}\nevent: change\ndata: {payload}\n\n"


async def last_id(redis: Redis) -> str:
    """The newest feed id, or ``0-0`` for an empty feed (the cursor of a snapshot)."""
    newest = await redis.xrevrange(FEED, count=1)
    return _s(newest[0][0]) if newest else "0-0"


class FeedHub:
    """Follows the feed once per process and fans entries out to subscribers."""

    def __init__(self, redis_url: str) -> None:
        self._redis_url = redis_url
        self._subscribers: set[asyncio.Queue[Entry | None]] = set()
        self._connections: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._reader: Redis | None = None
        self._started = asyncio.Event()

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def acquire(self, subject: str, limit: int) -> bool:
        """Count a live connection of one token; False when it already holds ``limit``."""
        held = self._connections.get(subject, 0)
        if held >= limit:
            return False
        self._connections[subject] = held + 1
        return True

    def release(self, subject: str) -> None:
        held = self._connections.get(subject, 0) - 1
        if held > 0:
            self._connections[subject] = held
        else:
            self._connections.pop(subject, None)

    async def start(self) -> None:
        # XREAD BLOCK holds its connection, so the reader gets a client of its own.
        self._reader = Redis.from_url(self._redis_url)
        self._task = asyncio.create_task(self._follow(), name="feed-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for queue in list(self._subscribers):
            self._close(queue)
        if self._reader is not None:
            await self._reader.aclose()

    async def _follow(self) -> None:
        assert self._reader is not None
        cursor: str | None = None
        while True:
            try:
                if cursor is None:
                    cursor = await last_id(self._reader)
                    self._started.set()
                reply: Any = await self._reader.xread({FEED: cursor}, count=500, block=5000)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep following after Redis hiccups
                log.warning("live feed: %s; retrying", exc)
                await asyncio.sleep(1)
                continue
            for _stream, entries in reply or []:
                for raw_id, fields in entries:
                    sid = _s(raw_id)
                    cursor = sid
                    entry = (parse_id(sid), frame(sid, fields))
                    for queue in list(self._subscribers):
                        try:
                            queue.put_nowait(entry)
                        except asyncio.QueueFull:
                            self._close(queue)

    def _close(self, queue: asyncio.Queue[Entry | None]) -> None:
        """Cut a subscriber off: drop what it has not read and end its stream; the client
        reconnects with the id of the last entry it got and catches up from Redis."""
        self._subscribers.discard(queue)
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)

    async def stream(
        self, redis: Redis, after: str | None, release: str | None = None
    ) -> AsyncIterator[str]:
        """SSE frames from just after ``after`` (None: from now), then live, forever.

        ``release``: the subject whose connection (see :meth:`acquire`) ends with it.
        """
        queue: asyncio.Queue[Entry | None] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        try:
            await asyncio.wait_for(self._started.wait(), timeout=10)
            self._subscribers.add(queue)
            yield "retry: 2000\n\n"
            sent: StreamId = (0, 0)
            if after is None:
                sent = parse_id(await last_id(redis))
            else:
                sent = parse_id(after)
                oldest = await redis.xrange(FEED, count=1)
                if oldest and sent != (0, 0) and parse_id(_s(oldest[0][0])) > _next(sent):
                    yield "event: reset\ndata: {}\n\n"
                # catch up from the stream itself; live entries queue up meanwhile
                start = format_id(_next(sent))
                while True:
                    missed: Any = await redis.xrange(FEED, min=start, count=CATCH_UP_BATCH)
                    for raw_id, fields in missed:
                        sid = _s(raw_id)
                        sent = parse_id(sid)
                        yield frame(sid, fields)
                    if len(missed) < CATCH_UP_BATCH:
                        break
                    start = format_id(_next(sent))
            while True:
                try:
                    entry = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                # Send whatever else is already waiting in the same write: under load a
                # client gets one chunk per wake-up instead of one per change.
                waiting: list[Entry | None] = [entry]
                while not queue.empty() and len(waiting) < 256:
                    waiting.append(queue.get_nowait())
                frames: list[str] = []
                for item in waiting:
                    if item is None:
                        if frames:
                            yield "".join(frames)
                        return
                    if item[0] > sent:
                        sent = item[0]
                        frames.append(item[1])
                if frames:
                    yield "".join(frames)
        finally:
            self._subscribers.discard(queue)
            if release is not None:
                self.release(release)


def _next(stream_id: StreamId) -> StreamId:
    return stream_id[0], stream_id[1] + 1
