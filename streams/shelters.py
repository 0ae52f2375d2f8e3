"""Topic ``siaga.shelters``: shelter registrations, headcounts and coordinators' decisions on
their shortfalls → one row per shelter.

A report shows at once: after each batch the agent writes a *quick view* of every shelter
it changed — the view the dashboard already holds, with the new registration and headcount
patched in and ``plan_pending`` set — so what a command post reported is visible in well
under a second whatever the size of the province. The needs, plans and shortfalls in it are
the last plan's until the re-plan the report asked for replaces the view (its version
orders after the quick view's, see :func:`streams.changes.quick_version`). A quick view is
best effort: while Redis cannot be read the agent skips it and the plan's view follows.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from siaga.events import ShelterHeadcountReported, ShelterRegistered, ShortfallDecisionRecorded
from streams.changes import make_change, quick_version
from streams.ingest import apply_headcount, apply_shelter_registered, apply_shortfall_decision
from streams.plumbing import Route, register_ingest, send_change

log = logging.getLogger(__name__)

# What a report changes in a shelter's view (the rest is the plan's).
REPORTED_FIELDS = (
    "shelter_id", "name", "location", "province_code", "kabupaten_code", "incident_id",
    "capacity", "posko_id", "headcount", "updated_at", "accepted_at",
)


def _shelter_id(event: Any) -> str:
    return str(event.shelter_id)


def quick_view(row: dict[str, Any], stored: dict[str, Any] | None,
               stored_version: str | None) -> tuple[str, dict[str, Any]]:
    """(version, data) of the quick view of a shelter ``row`` patched onto the view stored in
    the read model (None: a shelter not planned yet, shown without needs)."""
    data: dict[str, Any] = dict(stored) if stored else {"needs": [], "unmet_share": 0.0}
    for field in REPORTED_FIELDS:
        data[field] = row.get(field)
    data["plan_pending"] = True
    report = max(str(row.get("headcount_version") or ""),
                 str(row.get("registration_version") or ""))
    return quick_version(row.get("accepted_at"), stored_version, report), data


async def send_quick_views(ctx: Any, changed: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Quick views of the shelters a batch changed; their sends' futures."""
    from redis import exceptions as redis_errors

    from siaga.readmodel import entity_key

    rows = [row for table, row in changed
            if table == "shelters" and row.get("shelter_id") and row.get("province_code")]
    if not rows or getattr(ctx, "redis", None) is None:
        return []
    try:
        pipe = ctx.redis.pipeline(transaction=False)
        for row in rows:
            pipe.hmget(entity_key("shelter", row["shelter_id"], row["province_code"]),
                       "json", "version", "deleted")
        stored = await pipe.execute()
    except (redis_errors.RedisError, OSError) as exc:
        log.info("quick views skipped (%s: %s); the re-plan will show these reports",
                 type(exc).__name__, exc)
        return []
    futures = []
    for row, (raw, version, deleted) in zip(rows, stored, strict=True):
        previous = json.loads(raw) if raw and not deleted else None
        stored_version = version.decode() if isinstance(version, bytes) else version
        view_version, data = quick_view(row, previous, stored_version)
        accepted = row.get("accepted_at") or ""
        score = 0.0
        if accepted:
            from datetime import datetime

            score = datetime.fromisoformat(accepted).timestamp()
        ctx.quick_viewed.setdefault(row["province_code"], set()).add(row["shelter_id"])
        futures.append(await send_change(ctx, make_change(
            "shelter", row["shelter_id"], row["province_code"], view_version, data, score)))
    return futures


def register(ctx: Any) -> None:
    register_ingest(
        ctx,
        "shelters",
        {
            ShelterRegistered.model_fields["type"].default: Route(
                "shelters", _shelter_id, apply_shelter_registered),
            ShelterHeadcountReported.model_fields["type"].default: Route(
                "shelters", _shelter_id, apply_headcount),
            ShortfallDecisionRecorded.model_fields["type"].default: Route(
                "shelters", _shelter_id, apply_shortfall_decision),
        },
        after_batch=send_quick_views,
    )
