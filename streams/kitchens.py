"""Topic ``siaga.kitchens``: public kitchens (dapur umum), one row per kitchen.

- ``kitchen.registered`` (a coordinator, or a coordinator approving a siting proposal):
  where it cooks, its Dumlap units and rhythm, the teams running it, assigned shelters.
- ``kitchen.status_reported`` (the team running it, or a coordinator): preparing, open or
  closed; after a meal, the portions served (kept per local day and meal, the last
  :data:`SERVED_DAYS` days, so a row stays small).

The worker checks the scope again (the API checks it first): a kitchen is in the province
its record is keyed by (its location), a status report concerns a kitchen registered in
that province and comes from one of the teams running it — a team's phone (``source``
``team:<id>``) only for itself. Anything else is dead-lettered with the reason.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from siaga.events import InvalidRecord, KitchenRegistered, KitchenStatusReported
from streams.changes import version_of
from streams.ingest import check_location
from streams.plumbing import Route, register_ingest

State = dict[str, Any]
SERVED_DAYS = 7
# Local time of a province for "which day was this meal": WIT, WITA, else WIB.
_WIT = {"81", "82", "91", "92", "93", "94", "95", "96"}
_WITA = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}


def utc_offset_hours(province_code: str) -> int:
    """The province's time zone: WIB (+7), WITA (+8) or WIT (+9)."""
    if province_code in _WIT:
        return 9
    if province_code in _WITA:
        return 8
    return 7


def local_day(at: datetime, province_code: str) -> str:
    """The local calendar day (ISO) of a UTC time in the province."""
    return (at + timedelta(hours=utc_offset_hours(province_code))).date().isoformat()


def _version(event: Any) -> str:
    return version_of(event.occurred_at, str(event.event_id))


def _latest(current: str | None, at: str) -> str:
    return at if current is None or current < at else current


def apply_kitchen_registered(state: State, event: KitchenRegistered) -> dict[str, Any] | None:
    check_location(event)
    current = state.get(event.kitchen_id)
    version = _version(event)
    if current is not None and str(current.get("registration_version", "")) >= version:
        return None
    kitchen = dict(current or {"served": {}, "status_version": "", "status": event.status})
    kitchen.update(
        kitchen_id=event.kitchen_id,
        name=event.name,
        location=event.location.model_dump(),
        province_code=event.province_code,
        kabupaten_code=event.kabupaten_code,
        units=event.units,
        portions_per_cooking=event.portions_per_cooking,
        cookings_per_day=event.cookings_per_day,
        team_ids=sorted(set(event.team_ids)),
        assigned_shelter_ids=sorted(set(event.assigned_shelter_ids)),
        warehouse_id=event.warehouse_id,
        proposal_id=event.proposal_id,
        registered_by=event.coordinator,
        registration_version=version,
        updated_at=_latest(kitchen.get("updated_at"), event.occurred_at.isoformat()),
    )
    # the registration's status holds unless a later report said otherwise
    if str(kitchen.get("status_version") or "") < version:
        kitchen["status"] = event.status
        kitchen["status_version"] = version
    state[event.kitchen_id] = kitchen
    return kitchen


def apply_kitchen_status(state: State, event: KitchenStatusReported) -> dict[str, Any] | None:
    if event.source.startswith("team:") and event.source != f"team:{event.team_id}":
        raise InvalidRecord(
            f"team_id: {event.source} may only report for its own team, not {event.team_id}")
    current = state.get(event.kitchen_id)
    if current is None:
        raise InvalidRecord(f"kitchen_id: no kitchen {event.kitchen_id!r} registered in "
                            f"province {event.province_code}")
    if event.team_id not in (current.get("team_ids") or []):
        raise InvalidRecord(f"team_id: team {event.team_id} does not run kitchen "
                            f"{event.kitchen_id}")
    kitchen = dict(current)
    version = _version(event)
    changed = False
    if str(kitchen.get("status_version") or "") < version:
        kitchen["status"] = event.status
        kitchen["status_version"] = version
        changed = True
    if event.meal is not None and event.portions_served is not None:
        day = local_day(event.occurred_at, event.province_code)
        served = {d: dict(m) for d, m in (kitchen.get("served") or {}).items()}
        entry = served.get(day, {}).get(event.meal)
        if entry is None or str(entry.get("version", "")) < version:
            served.setdefault(day, {})[event.meal] = {
                "portions": event.portions_served, "team_id": event.team_id,
                "version": version}
            for old in sorted(served)[:-SERVED_DAYS]:
                served.pop(old)
            kitchen["served"] = served
            changed = True
    if not changed:
        return None
    kitchen["updated_at"] = _latest(kitchen.get("updated_at"), event.occurred_at.isoformat())
    state[event.kitchen_id] = kitchen
    return kitchen


def register(ctx: Any) -> None:
    def kitchen_of(event: Any) -> str:
        return str(event.kitchen_id)

    def kind(model: type[Any]) -> str:
        return str(model.model_fields["type"].default)

    register_ingest(
        ctx,
        "kitchens",
        {
            kind(KitchenRegistered): Route("kitchens", kitchen_of, apply_kitchen_registered),
            kind(KitchenStatusReported): Route("kitchens", kitchen_of, apply_kitchen_status),
        },
    )
