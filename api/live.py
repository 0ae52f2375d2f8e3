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


# ---------------------------------------------------------------- the timeline of changes
# The coordinators' timeline is read from the same feed, newest first: one row per applied
# change, with a short summary of the entity after it (and before it, when the previous
# change of the same entity is within reach), filtered by kind, province, kabupaten/kota
# and time, a page at a time. The feed keeps about FEED_MAXLEN changes: the timeline
# reaches back as far as it does (``reaches_back_to``).

TIMELINE_KINDS = (
    "incident", "shelter", "warehouse", "team", "shipment", "shortfall", "decision", "task",
    "kitchen", "kitchen_proposal",
)
TIMELINE_SCAN = 10_000  # feed entries examined for one page at most (the cursor goes on)
TIMELINE_LOOKBEHIND = 1_000  # entries read past a full page to find rows' previous states
TIMELINE_CHUNK = 1_000
DECISION_FRESH_MS = 120_000  # a decision this recent when its previous state is out of reach

_SUMMARY_KEYS = (
    "name", "shelter_id", "shelter_name", "warehouse_id", "warehouse_name", "kitchen_id",
    "team_id", "task_id", "incident_id", "item", "unit", "missing", "need", "quantity",
    "status", "held", "tier", "escalated", "decision", "unmet_share", "incident_type",
    "severity", "displaced", "availability", "kind", "target_id", "capacity_per_day",
    "portions_needed_per_day", "portions_cooked_per_day", "people_served", "load_share",
    "kabupaten_code", "released", "portions_covered_per_day", "uncovered", "members",
    "quantity_received",
)


def summarize(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """The few fields of a read model that a timeline row shows (names, figures, status)."""
    if not isinstance(data, dict):
        return None
    out = {k: data[k] for k in _SUMMARY_KEYS if data.get(k) is not None}
    if isinstance(data.get("headcount"), dict):
        out["headcount"] = {"total": data["headcount"].get("total")}
    if isinstance(data.get("assignment"), dict):
        a = data["assignment"]
        out["assignment"] = {k: a.get(k) for k in ("task_id", "kind", "target_id", "status")}
    if isinstance(data.get("teams"), list):
        out["teams"] = [{k: t.get(k) for k in ("team_id", "name", "status", "reason")}
                        for t in data["teams"][:10] if isinstance(t, dict)]
    if isinstance(data.get("site"), dict):
        out["site"] = {k: data["site"].get(k) for k in ("site_id", "name")}
    if isinstance(data.get("reason"), str):
        out["reason"] = data["reason"]
    if isinstance(data.get("blocked"), dict):
        out["blocked"] = data["blocked"]
    return out


def _load(raw: Any) -> dict[str, Any] | None:
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _ms_iso(stream_id: str) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(parse_id(stream_id)[0] / 1000, UTC).isoformat()


def _decided(row: dict[str, Any]) -> bool:
    """Whether this shortfall change records a new decision (not one carried along)."""
    decision = (row["data"] or {}).get("decision")
    if not isinstance(decision, dict):
        return False
    if row["before_known"]:
        before = (row["before"] or {}).get("decision") or {}
        return before.get("version") != decision.get("version")
    from datetime import datetime

    try:
        at = datetime.fromisoformat(str(decision.get("at"))).timestamp() * 1000
    except ValueError:
        return False
    return 0 <= parse_id(row["seq"])[0] - at <= DECISION_FRESH_MS


def _place_of(entity: str, data: dict[str, Any] | None) -> list[str]:
    """Ids whose kabupaten/kota is this change's, when the change does not carry its own."""
    if not data:
        return []
    if entity in ("shipment", "shortfall"):
        return [str(x) for x in (data.get("shelter_id"), data.get("kitchen_id")) if x]
    if entity == "task":
        return [str(data["target_id"])] if data.get("target_id") else []
    if entity == "kitchen_proposal":
        site = data.get("site") or {}
        return [str(site["site_id"])] if site.get("site_id") else []
    return []


async def _kabupaten_of(
    redis: Redis, wanted: set[tuple[str, str]], known: dict[tuple[str, str], str | None]
) -> None:
    """Fill ``known[(province, id)]`` with the kabupaten/kota of shelters, kitchens or
    incidents (read models), one round trip per call."""
    from siaga.readmodel import entity_key

    todo = sorted(wanted - set(known))
    if not todo:
        return
    pipe = redis.pipeline(transaction=False)
    for province, entity_id in todo:
        for entity in ("shelter", "kitchen", "incident"):
            pipe.hget(entity_key(entity, entity_id, province), "json")
    found = await pipe.execute()
    for n, pair in enumerate(todo):
        known[pair] = None
        for raw in found[3 * n: 3 * n + 3]:
            if raw:
                kab = (json.loads(raw) or {}).get("kabupaten_code")
                if kab:
                    known[pair] = str(kab)
                    break


async def timeline(
    redis: Redis,
    *,
    kinds: set[str] | None = None,
    province_code: str | None = None,
    kabupaten_code: str | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Changes from the feed, newest first, after ``cursor`` (a feed id: older than it).

    Each row: ``seq`` (feed id), ``at`` (UTC), ``entity``, ``kind`` (the entity, or
    ``decision`` for a shortfall change that records a coordinator's decision), ``id``,
    ``province_code``, ``kabupaten_code`` (its own or its shelter's/kitchen's), ``deleted``,
    ``data`` and ``before`` (summaries, see :func:`summarize`; ``before`` is None when the
    previous change of the entity is out of reach). At most ``TIMELINE_SCAN`` feed entries
    are examined per page, so a page with narrow filters may hold fewer than ``limit`` rows:
    ``next_cursor`` continues (None at the end of the feed or of the time range).
    """
    wanted_kinds = set(kinds or TIMELINE_KINDS)
    entities = {("shortfall" if k == "decision" else k) for k in wanted_kinds}
    hi = f"({cursor}" if cursor else "+"
    if until_ms is not None:
        top = f"{until_ms}-18446744073709551615"
        if cursor is None or parse_id(cursor) > parse_id(top):
            hi = top
    lo = f"{since_ms}-0" if since_ms is not None else "-"
    rows: list[dict[str, Any]] = []
    waiting: dict[tuple[str, str, str], dict[str, Any]] = {}  # rows awaiting their before
    places: dict[tuple[str, str], str | None] = {}
    scanned = 0
    full_at: str | None = None  # the feed id of the page's last row, once full
    past_full = 0
    last_seen: str | None = None
    exhausted = False
    while True:
        entries: Any = await redis.xrevrange(FEED, max=hi, min=lo, count=TIMELINE_CHUNK)
        if not entries:
            exhausted = True
            break
        # the JSON of an entry is parsed only when it may be a row or is a row's previous
        # state: a page with narrow filters examines thousands of entries
        parsed = []
        for raw_id, fields in entries:
            entity = _s(fields.get(b"entity", fields.get("entity", "")))
            province = _s(fields.get(b"province", fields.get("province", "")))
            candidate = entity in entities and (not province_code or province == province_code)
            parsed.append((_s(raw_id), entity, province,
                           _s(fields.get(b"id", fields.get("id", ""))),
                           _s(fields.get(b"deleted", fields.get("deleted", "0"))) == "1",
                           fields.get(b"json", fields.get("json")),
                           candidate and full_at is None))
        loaded: dict[int, dict[str, Any] | None] = {}
        if kabupaten_code is not None and full_at is None:
            need: set[tuple[str, str]] = set()
            for n, (_, e, p, _, _, raw, candidate) in enumerate(parsed):
                if candidate:
                    d = loaded[n] = _load(raw)
                    if not (d or {}).get("kabupaten_code"):
                        need.update((p, i) for i in _place_of(e, d))
            await _kabupaten_of(redis, need, places)
        for n, (sid, entity, province, entity_id, deleted, raw, candidate) in enumerate(parsed):
            scanned += 1
            last_seen = sid
            key = (entity, province, entity_id)
            newer = waiting.pop(key, None)
            if newer is None and not candidate:
                if full_at is not None:
                    past_full += 1
                continue
            data = loaded[n] if n in loaded else _load(raw)
            summary = summarize(data)
            if newer is not None:
                newer["before"] = summary
                newer["before_known"] = True
            if full_at is not None:
                past_full += 1
                continue
            if not candidate:
                continue
            kab = (data or {}).get("kabupaten_code")
            if not kab:
                kab = next((places[(province, i)] for i in _place_of(entity, data)
                            if places.get((province, i))), None)
            if kabupaten_code is not None and kab != kabupaten_code:
                continue
            if entity == "shortfall" and "shortfall" not in wanted_kinds and not (
                    data or {}).get("decision"):
                continue  # only decisions wanted: a shortfall without one is none
            row = {"seq": sid, "at": _ms_iso(sid), "entity": entity, "kind": entity,
                   "id": entity_id, "province_code": province, "kabupaten_code": kab,
                   "deleted": deleted, "data": summary, "before": None,
                   "before_known": False}
            rows.append(row)
            waiting[key] = row
            if len(rows) >= limit:
                full_at = sid
        if full_at is not None and (not waiting or past_full >= TIMELINE_LOOKBEHIND):
            break
        if full_at is None and scanned >= TIMELINE_SCAN:
            break
        if len(entries) < TIMELINE_CHUNK:
            exhausted = True
            break
        hi = f"({_s(entries[-1][0])}"
    # what rows lack a kabupaten: their shelter's, kitchen's or incident's (for the name)
    need = {(r["province_code"], i) for r in rows if not r["kabupaten_code"]
            for i in _place_of(r["entity"], r["data"])}
    await _kabupaten_of(redis, need, places)
    out = []
    for row in rows:
        if not row["kabupaten_code"]:
            row["kabupaten_code"] = next(
                (places[(row["province_code"], i)] for i in _place_of(row["entity"], row["data"])
                 if places.get((row["province_code"], i))), None)
        if row["entity"] == "shortfall" and _decided(row):
            row["kind"] = "decision"
        row.pop("before_known")
        if row["kind"] in wanted_kinds:
            out.append(row)
    if full_at is not None:
        next_cursor: str | None = full_at
    else:
        next_cursor = None if exhausted else last_seen
    oldest: Any = await redis.xrange(FEED, count=1)
    return {"count": len(out), "items": out, "next_cursor": next_cursor, "scanned": scanned,
            "reaches_back_to": _ms_iso(_s(oldest[0][0])) if oldest else None}
