"""How old is the picture? What the person on duty and the dashboard are told.

Two clocks, both Redis' own (``TIME``), so hosts whose clocks disagree still agree:

- **current at** (``siaga.workers.CURRENT_KEY``): the time as of which every live worker
  had read, on every partition it holds, everything that was there then — the slowest
  worker's (``siaga.workers``: each worker's :class:`~siaga.workers.CatchUp`). The picture
  is at least that fresh. When a worker stops or falls behind, this stops moving; past
  ``stale_after_seconds`` the picture is **stale** (the dashboard's banner,
  ``api/static/staleness.js``).
- **projected at** (:data:`PROJECTED_KEY`): per entity type, when the projector last
  wrote a change of that type — how old each panel's newest figure is.

:func:`picture` is the block ``/healthz`` carries; :func:`status_screen` is ``siaga
status`` (adds the pipeline as Kafka sees it and the per-province plan times).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from siaga.workers import CURRENT_KEY, worker_status

log = logging.getLogger("streams.projector")

PROJECTED_KEY = "siaga:projected_at"

# KEYS: 1 the hash; ARGV: entity types. Stamped with the server's clock.
_STAMP_LUA = """
local t = redis.call('TIME')
local now = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
for i = 1, #ARGV do
  redis.call('HSET', KEYS[1], ARGV[i], now)
end
return now
"""


async def note_projected(redis: Any, events: Any, changes: list[dict[str, Any]]) -> None:
    """The projector's hook after a batch is written: projection lag and counts
    (metrics), and the time each entity type was last written (panels' age)."""
    from siaga.metrics import observe_projection
    from siaga.tracing import log_projected

    observe_projection(events, changes, time.time())
    log_projected(log, events, len(changes))
    entities = sorted({str(c.get("entity")) for c in changes})
    if entities:
        await redis.eval(_STAMP_LUA, 1, PROJECTED_KEY, *entities)


async def redis_now(redis: Any) -> float:
    seconds, micros = await redis.time()
    return float(seconds) + float(micros) / 1e6


def _f(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value.decode() if isinstance(value, bytes) else value)
    except (TypeError, ValueError):
        return None


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


async def picture(redis: Any, app_id: str, stale_after: float) -> dict[str, Any]:
    """``{"current_at", "age_seconds", "stale", "stale_after_seconds", "lag",
    "newest_change_at", "newest_change_age_seconds", "panels": {entity: {...}}}``.

    ``age_seconds`` is how long ago the slowest live worker was current (None: never);
    ``stale`` when that is unknown or longer ago than ``stale_after`` seconds. ``lag``:
    records the fresh workers are behind, summed (None without a fresh worker).
    """
    from siaga.readmodel import FEED

    now = await redis_now(redis)
    current = _f(await redis.hget(CURRENT_KEY, app_id))
    workers = await worker_status(redis, app_id)
    # reporting: a heartbeat within the limit (a worker reports every 2 s; one silent for
    # longer than the limit is not keeping the picture current, whatever its last report)
    fresh = [w for w in workers["workers"] if float(w.get("age_seconds") or 0) <= stale_after]
    lag = sum(int(w.get("lag") or 0) for w in fresh) if fresh else None
    age = None if current is None else round(max(0.0, now - current), 3)
    newest = await redis.xrevrange(FEED, count=1)
    newest_at: float | None = None
    if newest:
        raw_id = newest[0][0]
        text = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
        newest_at = int(text.split("-", 1)[0]) / 1000.0
    panels: dict[str, Any] = {}
    for raw_entity, raw_at in (await redis.hgetall(PROJECTED_KEY)).items():
        entity = raw_entity.decode() if isinstance(raw_entity, bytes) else str(raw_entity)
        at = _f(raw_at)
        if at is None:
            continue
        panels[entity] = {"projected_at": _iso(at), "age_seconds": round(max(0.0, now - at), 3)}
    return {
        "current_at": _iso(current),
        "age_seconds": age,
        "stale": age is None or age > stale_after,
        "stale_after_seconds": stale_after,
        "lag": lag,
        "workers": len(fresh),
        "newest_change_at": _iso(newest_at),
        "newest_change_age_seconds": (
            None if newest_at is None else round(max(0.0, now - newest_at), 3)
        ),
        "panels": dict(sorted(panels.items())),
    }


async def province_plans(redis: Any) -> dict[str, str]:
    """Province code → when its last plan was made (from the ``plan`` read model)."""
    from siaga.readmodel import list_entities

    out: dict[str, str] = {}
    for plan in await list_entities(redis, "plan", limit=1000):
        code = str(plan.get("province_code") or "")
        if code:
            out[code] = str(plan.get("planned_at") or "")
    return dict(sorted(out.items()))


#: how long ``siaga status`` waits for each half (the broker, Redis) before saying so
HALF_TIMEOUT = 15.0


async def status_screen(settings: Any, redis: Any) -> dict[str, Any]:
    """Everything ``siaga status`` shows, as data (``--json``) — the pipeline as Kafka sees
    it (lag per topic and partition, dead letters by reason), the picture's age, the read
    models' age per entity type and each province's last plan time.

    Each half is read on its own: when the broker cannot be reached, ``kafka`` is
    ``{"error": …, "bootstrap": …}`` and the Redis half is still shown (and the other way
    round: ``picture``/``plans`` then carry ``error``)."""
    from siaga.pipeline import PipelineView

    async def read_kafka() -> dict[str, Any]:
        view = PipelineView(settings)
        try:
            await view.start()
            snapshot: dict[str, Any] = await view.refresh()
            return snapshot
        finally:
            await view.stop()

    async def read_redis() -> tuple[dict[str, Any], dict[str, str]]:
        return (await picture(redis, settings.app_id, settings.stale_after_seconds),
                await province_plans(redis))

    kafka: dict[str, Any]
    try:
        kafka = await asyncio.wait_for(read_kafka(), timeout=HALF_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - the duty screen says so instead of a traceback
        kafka = {"error": _reason(exc), "bootstrap": settings.kafka_bootstrap_servers}
    pic: dict[str, Any]
    plans: dict[str, Any]
    try:
        pic, plans = await asyncio.wait_for(read_redis(), timeout=HALF_TIMEOUT)
    except Exception as exc:  # noqa: BLE001
        error = _reason(exc)
        pic = {"error": error, "stale": True,
               "stale_after_seconds": settings.stale_after_seconds}
        plans = {"error": error}
    return {"picture": pic, "kafka": kafka, "plans": plans}


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {HALF_TIMEOUT:g} s"
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


def reachable(screen: dict[str, Any]) -> bool:
    """Both halves answered (``siaga status`` exits 1 otherwise)."""
    return "error" not in screen["kafka"] and "error" not in screen["picture"]


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def render(screen: dict[str, Any]) -> str:
    """The one screen for the person on duty (plain text)."""
    pic = screen["picture"]
    kafka = screen["kafka"]
    if "error" in pic:
        lines = [f"picture: UNKNOWN — Redis cannot be reached ({pic['error']})"]
    else:
        lines = [
            f"picture: {'STALE' if pic['stale'] else 'current'} — caught up "
            f"{_age(pic['age_seconds'])} (limit {pic['stale_after_seconds']:g} s); "
            f"{pic['workers']} worker(s) reporting, "
            f"lag {'?' if pic['lag'] is None else pic['lag']}",
            f"newest change projected {_age(pic['newest_change_age_seconds'])}",
        ]
    lines.append("")
    if "error" in kafka:
        lines.append(f"Kafka: the broker cannot be reached at {kafka.get('bootstrap')} "
                     f"({kafka['error']}): consumer lag and dead letters unknown")
    else:
        lines.append(f"consumer group {kafka['group']}: total lag {kafka['total_lag']}")
        for row in kafka["lag"]:
            if row["lag"]:
                committed = "never" if row["committed"] is None else row["committed"]
                lines.append(f"  {row['topic']}[{row['partition']}] lag {row['lag']} "
                             f"(committed {committed}, end {row['end']})")
        if not any(r["lag"] for r in kafka["lag"]):
            lines.append("  every partition caught up")
        lines.append("")
        total = sum(r["count"] for r in kafka["deadletters"])
        lines.append(f"dead letters: {total}")
        for row in kafka["deadletters"]:
            lines.append(f"  {row['count']:6d}  {row['topic']}: {row['reason']}")
    if "error" in pic:
        return "\n".join(lines)
    lines.append("")
    lines.append("read models (last written):")
    for entity, panel in pic["panels"].items():
        lines.append(f"  {entity:12s} {_age(panel['age_seconds'])}")
    if not pic["panels"]:
        lines.append("  nothing projected yet")
    lines.append("")
    lines.append("last plan per province:")
    for code, at in screen["plans"].items():
        lines.append(f"  {code}  {at}")
    if not screen["plans"]:
        lines.append("  no plan yet")
    return "\n".join(lines)


def dumps(screen: dict[str, Any]) -> str:
    return json.dumps(screen, indent=2, sort_keys=True, default=str)
