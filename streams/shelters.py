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

import logging
from functools import partial
from typing import Any

from siaga.catalogue import QUICK_VIEWS
from siaga.events import ShelterHeadcountReported, ShelterRegistered, ShortfallDecisionRecorded
from streams.changes import loads, make_change, quick_version
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
        previous = loads(raw) if raw and not deleted else None
        stored_version = version.decode() if isinstance(version, bytes) else version
        view_version, data = quick_view(row, previous, stored_version)
        accepted = row.get("accepted_at") or ""
        score = 0.0
        if accepted:
            from datetime import datetime

            score = datetime.fromisoformat(accepted).timestamp()
        ctx.quick_viewed.setdefault(row["province_code"], set()).add(row["shelter_id"])
        # on a lane of their own: on siaga.state-changes a report would wait behind every
        # change of the re-plans before it (thousands at 2,000 shelters); versions order the
        # two lanes (a quick view never hides the plan made from its report)
        future = await send_change(ctx, make_change(
            "shelter", row["shelter_id"], row["province_code"], view_version, data, score),
            QUICK_VIEWS)
        future.add_done_callback(partial(_note_acked, ctx, row["province_code"]))
        futures.append(future)
    return futures


def _note_acked(ctx: Any, province: str, future: Any) -> None:
    """The newest quick view of ``province`` the broker acknowledged (runs before the
    batch's table writes, which wait for these acknowledgements)."""
    if future.cancelled() or future.exception() is not None:
        return
    offset = future.result().offset
    if offset > ctx.quick_acked.get(province, -1):
        ctx.quick_acked[province] = offset


def _version_parts(version: str) -> tuple[str, str, str | None] | None:
    """(accepted, plan, report or None) of a shelter view's version; None for a version
    written before shelter views had two writers."""
    accepted, colon, rest = version.partition(":")
    if not colon:
        return None
    plan, quick, report = rest.partition(".q")
    return accepted, plan, (report if quick else None)


async def merge_outranked_plan_views(redis: Any, changes: list[dict[str, Any]]
                                     ) -> list[dict[str, Any]]:
    """The projector's step for shelter views: a plan's view made before the newest report
    was accepted loses against that report's quick view — but its plan figures (needs,
    planned, shortfalls) are newer than the quick view's. Such a view is merged into the quick
    view instead of refused: the report's fields stay, the plan's figures are the new plan's,
    ``plan_pending`` stays (the report's own plan is still to come), and the version keeps
    the report's accepted time with the newer plan part. Without this, a shelter whose reports
    came faster than its province's plans showed one plan's figures until the reports paused.
    Changes are kept in order; the same batch's earlier changes count."""
    from siaga.readmodel import entity_key

    keys = {entity_key("shelter", c["id"], c["province_code"])
            for c in changes if c.get("entity") == "shelter"}
    if not any(c.get("entity") == "shelter" and ".q" not in str(c.get("version"))
               for c in changes):
        return changes
    ordered = sorted(keys)
    pipe = redis.pipeline(transaction=False)
    for key in ordered:
        pipe.hmget(key, "version", "json", "deleted")
    latest: dict[str, tuple[str, Any]] = {}
    for key, (version, raw, deleted) in zip(ordered, await pipe.execute(), strict=True):
        if version is not None:
            text = version.decode() if isinstance(version, bytes) else str(version)
            latest[key] = (text, None if deleted == b"1" or raw is None else raw)
    out: list[dict[str, Any]] = []
    for change in changes:
        if change.get("entity") != "shelter":
            out.append(change)
            continue
        key = entity_key("shelter", change["id"], change["province_code"])
        version = str(change["version"])
        stored = latest.get(key)
        if stored is None or version > stored[0]:
            out.append(change)
            latest[key] = (version, None if change.get("deleted") else change.get("data"))
            continue
        mine, theirs = _version_parts(version), _version_parts(stored[0])
        data = stored[1]
        if (change.get("deleted") or data is None or mine is None or theirs is None
                or mine[2] is not None or theirs[2] is None or mine[1] <= theirs[1]):
            out.append(change)  # refused by the projector's script, as any older change
            continue
        shown = loads(data) if isinstance(data, bytes | str) else data
        merged = dict(change.get("data") or {})
        for field in REPORTED_FIELDS:
            merged[field] = shown.get(field)
        merged["plan_pending"] = True
        merged_version = f"{theirs[0]}:{mine[1]}.q{theirs[2]}"
        out.append(dict(change, version=merged_version, data=merged))
        latest[key] = (merged_version, merged)
    return out


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
