"""Which stream workers are alive and ready, as they report it in Redis.

Every worker writes a heartbeat every couple of seconds to one Redis hash,
:data:`WORKERS_KEY` (field = worker id, value = JSON). A worker says it is ready only when
it holds its partitions, its tables are recovered and it has caught up with its input; the
API's ``/readyz`` and ``siaga run`` read :func:`worker_status` to say "ready" only then.

Heartbeats are stamped with the Redis server's clock (``TIME``), and freshness is judged on
the same clock, so a worker host and an API host whose clocks disagree still agree on which
workers are alive. A worker that stops reporting turns stale after ``stale_after`` seconds
and is no longer counted (its entry is removed by the next :func:`worker_status`).

The picture's age (``siaga.status.picture``) comes from here too. Each worker says how far
behind *in time* it is (:class:`CatchUp`): it is **current as of t** when, on every
partition it holds, it has read everything that was on that partition at t — under a
steady flow of reports that stays a report or two old although its lag (in records) is
rarely 0 at the moment it reports. Its report carries ``current_as_of`` (Redis time), and
the app's marker :data:`CURRENT_KEY` is set to the *oldest* ``current_as_of`` among the
app's live workers: the picture is as old as its slowest worker's part. While a live worker
has not yet been current (just started, or given partitions it has not caught up with),
the marker stays where it was; a worker that stops reporting holds it back until its
heartbeat is older than ``ttl`` (by then its partitions have gone to the others, which hold
the marker back until they have caught up with them).
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Hashable, Mapping
from typing import Any

WORKERS_KEY = "siaga:workers"
# app id -> Redis time as of which every live worker of the app was current (never expires)
CURRENT_KEY = "siaga:pipeline:current_at"

# KEYS: 1 the workers' hash, 2 the marker hash; ARGV: app id, now (Redis time), how old a
# heartbeat may be. Sets the app's marker to the oldest current_as_of of its live workers,
# unless one of them has none yet (then it stays). Atomic: reports of two workers never
# interleave. Returns the marker set, or false.
_MARK_LUA = """
local entries = redis.call('HGETALL', KEYS[1])
local now = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local oldest = nil
for i = 2, #entries, 2 do
  local ok, entry = pcall(cjson.decode, entries[i])
  if ok and type(entry) == 'table' and entry['app_id'] == ARGV[1] then
    local heartbeat = tonumber(entry['heartbeat'])
    if heartbeat and now - heartbeat <= limit then
      local at = tonumber(entry['current_as_of'])
      if not at then
        return false
      end
      if oldest == nil or at < oldest then
        oldest = at
      end
    end
  end
end
if oldest == nil then
  return false
end
local text = string.format('%.6f', oldest)
redis.call('HSET', KEYS[2], ARGV[1], text)
return text
"""


class CatchUp:
    """How far behind in time one worker is, from its partitions' end offsets and its
    positions at each report (a monotonic clock; no Redis, no Kafka).

    At each :meth:`observe` every partition's end offset is remembered with the time; the
    partition is current as of the latest such time whose end offset its position has
    reached, and the worker as of the oldest of its partitions'. ``working`` False (tables
    recovering, a rebalance, a failing batch: its read position may be past records it has
    not finished) records the marks but does not move the worker's time.
    """

    def __init__(self, keep: int = 2000) -> None:
        self._marks: dict[Hashable, deque[tuple[float, int]]] = {}
        self._keep = keep  # marks per partition (at one report every 2 s: over an hour)
        self.as_of: float | None = None

    def observe(self, now: float, offsets: Mapping[Hashable, tuple[int, int]],
                working: bool = True) -> float | None:
        """Record ``offsets`` (partition -> (position, end offset)) at ``now``; returns how
        many seconds behind the worker is (None: it has never been current)."""
        for gone in [tp for tp in self._marks if tp not in offsets]:
            del self._marks[gone]  # revoked: its history means nothing any more
        times: list[float | None] = []
        for tp, (position, end) in offsets.items():
            marks = self._marks.setdefault(tp, deque())
            marks.append((now, int(end)))
            reached = None
            while marks and marks[0][1] <= int(position):
                reached = marks.popleft()
            if reached is not None:
                marks.appendleft(reached)  # the newest mark reached stays the partition's
            while len(marks) > self._keep:
                marks.popleft()
            times.append(reached[0] if reached is not None else None)
        if working and all(t is not None for t in times):
            candidate = min((t for t in times if t is not None), default=now)
            if self.as_of is None or candidate > self.as_of:
                self.as_of = candidate
        return None if self.as_of is None else max(0.0, now - self.as_of)


async def _redis_now(redis: Any) -> float:
    seconds, micros = await redis.time()
    return float(seconds) + float(micros) / 1e6


async def report_worker(
    redis: Any,
    app_id: str,
    worker_id: str,
    *,
    ready: bool,
    partitions: int,
    lag: int,
    detail: dict[str, Any] | None = None,
    ttl: float = 15.0,
    behind_seconds: float | None | Any = ...,
) -> None:
    """Write worker ``worker_id``'s heartbeat: whether it is ready, how many partitions it
    holds, its lag (records behind, summed over its partitions), how far behind in time it
    is (``behind_seconds``, :class:`CatchUp`; None: never current yet; left out: 0 when
    ready with lag 0, else None) and any ``detail``; then move the app's picture marker to
    the oldest ``current_as_of`` of its live workers (module docstring).

    ``ttl`` (seconds) bounds how long the hash outlives the last report of any worker, so
    nothing is left behind when every worker is gone, and how long a silent worker still
    holds the picture back.
    """
    if behind_seconds is ...:
        behind_seconds = 0.0 if ready and int(lag) == 0 else None
    heartbeat = await _redis_now(redis)
    entry = {
        "app_id": app_id,
        "worker_id": worker_id,
        "ready": bool(ready),
        "partitions": int(partitions),
        "lag": int(lag),
        "current_as_of": (None if behind_seconds is None
                          else heartbeat - max(0.0, float(behind_seconds))),
        "detail": detail or {},
        "heartbeat": heartbeat,
    }
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hset(WORKERS_KEY, worker_id, json.dumps(entry, default=str))
        pipe.expire(WORKERS_KEY, max(1, math.ceil(ttl)))
        pipe.eval(_MARK_LUA, 2, WORKERS_KEY, CURRENT_KEY, app_id, repr(heartbeat), repr(ttl))
        await pipe.execute()


async def remove_worker(redis: Any, worker_id: str) -> None:
    """Forget ``worker_id`` at once (a worker stopping cleanly), instead of waiting for its
    heartbeat to turn stale."""
    await redis.hdel(WORKERS_KEY, worker_id)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def worker_status(
    redis: Any, app_id: str | None = None, stale_after: float = 15.0
) -> dict[str, Any]:
    """``{"ready": bool, "workers": [fresh entries], "stale": n}``.

    Only workers of ``app_id`` count when it is given. Ready means at least one fresh worker
    and every fresh worker ready. An entry whose heartbeat is older than ``stale_after``
    seconds (or unreadable) is stale: counted in ``stale``, left out of ``workers`` and
    deleted.
    """
    now = await _redis_now(redis)
    raw = await redis.hgetall(WORKERS_KEY)
    fresh: list[dict[str, Any]] = []
    stale: list[str] = []
    for field, value in raw.items():
        worker_id = _text(field)
        try:
            entry = json.loads(_text(value))
            heartbeat = float(entry["heartbeat"])
        except (ValueError, TypeError, KeyError):
            stale.append(worker_id)
            continue
        if app_id is not None and entry.get("app_id") != app_id:
            continue
        age = now - heartbeat
        if age > stale_after:
            stale.append(worker_id)
            continue
        entry["age_seconds"] = round(max(0.0, age), 3)
        fresh.append(entry)
    if stale:
        await redis.hdel(WORKERS_KEY, *stale)
    fresh.sort(key=lambda e: str(e.get("worker_id")))
    ready = bool(fresh) and all(e.get("ready") is True for e in fresh)
    return {"ready": ready, "workers": fresh, "stale": len(stale)}


# A worker's readiness detail (streams/readiness.py) that says what it waits for.
WAITING_ON = {"recovered": False, "rebalancing": True, "positions_known": False,
              "planning_process": False, "starting": True}


def describe(status: dict[str, Any]) -> str:
    """What a not-ready status is waiting for, in a few words (for progress output)."""
    workers = status.get("workers") or []
    if not workers:
        stale = status.get("stale") or 0
        extra = f" ({stale} stale)" if stale else ""
        return f"no stream worker has reported yet{extra}"
    waiting = [e for e in workers if not e.get("ready")]
    if not waiting:
        return f"{len(workers)} worker(s) ready"
    parts = []
    for entry in waiting:
        bits = [f"partitions={entry.get('partitions')}", f"lag={entry.get('lag')}"]
        detail = entry.get("detail") or {}
        # what it waits for (streams/readiness.py), not every figure it reports
        bits += [f"{key}={value}" for key, value in sorted(detail.items())
                 if WAITING_ON.get(key) is value or (key == "failing" and value)]
        parts.append(f"{entry.get('worker_id')} not ready ({', '.join(bits)})")
    return "; ".join(parts)
