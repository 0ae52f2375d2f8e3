"""Which stream workers are alive and ready, as they report it in Redis.

Every worker writes a heartbeat every couple of seconds to one Redis hash,
:data:`WORKERS_KEY` (field = worker id, value = JSON). A worker says it is ready only when
it holds its partitions, its tables are recovered and it has caught up with its input; the
API's ``/readyz`` and ``siaga run`` read :func:`worker_status` to say "ready" only then.

Heartbeats are stamped with the Redis server's clock (``TIME``), and freshness is judged on
the same clock, so a worker host and an API host whose clocks disagree still agree on which
workers are alive. A worker that stops reporting turns stale after ``stale_after`` seconds
and is no longer counted (its entry is removed by the next :func:`worker_status`).
"""

from __future__ import annotations

import json
import math
from typing import Any

WORKERS_KEY = "siaga:workers"
# app id -> Redis time when a ready worker of it last reported lag 0 (never expires)
CURRENT_KEY = "siaga:pipeline:current_at"


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
) -> None:
    """Write worker ``worker_id``'s heartbeat: whether it is ready, how many partitions it
    holds, its lag (records behind, summed over its partitions) and any ``detail``.

    ``ttl`` (seconds) bounds how long the hash outlives the last report of any worker, so
    nothing is left behind when every worker is gone.
    """
    heartbeat = await _redis_now(redis)
    entry = {
        "app_id": app_id,
        "worker_id": worker_id,
        "ready": bool(ready),
        "partitions": int(partitions),
        "lag": int(lag),
        "detail": detail or {},
        "heartbeat": heartbeat,
    }
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hset(WORKERS_KEY, worker_id, json.dumps(entry, default=str))
        pipe.expire(WORKERS_KEY, max(1, math.ceil(ttl)))
        if ready and int(lag) == 0:
            # the read models are current as of now (siaga.status: the picture's age)
            pipe.hset(CURRENT_KEY, app_id, heartbeat)
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
        for key, value in sorted((entry.get("detail") or {}).items())[:3]:
            bits.append(f"{key}={value}")
        parts.append(f"{entry.get('worker_id')} not ready ({', '.join(bits)})")
    return "; ".join(parts)
