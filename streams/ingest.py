"""Pure reducers: fold one input event into a province's state (plain JSON-able dicts).

Each reducer takes the current province state of one table and an event, and
returns the entity it changed (or None when the event changes nothing — a
duplicate, or older than what is known). Reports are snapshots and the newest
wins by (occurred_at, event_id), so redelivered or replayed events are harmless
and the result does not depend on the order they arrive in.
"""

from __future__ import annotations

from typing import Any

from siaga import events as ev
from streams.changes import version_of

State = dict[str, Any]


def _version(event: ev.Envelope) -> str:
    return version_of(event.occurred_at, str(event.event_id))


def _newer(current: dict[str, Any] | None, field: str, version: str) -> bool:
    return current is None or str(current.get(field, "")) < version


def apply_shelter_registered(state: State, event: ev.ShelterRegistered) -> dict[str, Any] | None:
    shelter = state.get(event.shelter_id)
    version = _version(event)
    if not _newer(shelter, "registration_version", version):
        return None
    shelter = dict(shelter or {"headcount": None, "headcount_version": "", "received": {}})
    shelter.update(
        shelter_id=event.shelter_id,
        name=event.name,
        location=event.location.model_dump(),
        province_code=event.province_code,
        kabupaten_code=event.kabupaten_code,
        incident_id=event.incident_id,
        capacity=event.capacity,
        posko_id=event.posko_id,
        registration_version=version,
        updated_at=event.occurred_at.isoformat(),
    )
    state[event.shelter_id] = shelter
    return shelter


def apply_headcount(state: State, event: ev.ShelterHeadcountReported) -> dict[str, Any] | None:
    shelter = state.get(event.shelter_id)
    version = _version(event)
    if not _newer(shelter, "headcount_version", version):
        return None
    shelter = dict(
        shelter
        or {
            # A headcount can arrive before the registration (another topic): keep it.
            "shelter_id": event.shelter_id,
            "name": event.shelter_id,
            "location": None,
            "province_code": event.province_code,
            "kabupaten_code": None,
            "incident_id": None,
            "capacity": None,
            "posko_id": event.posko_id,
            "registration_version": "",
            "received": {},
        }
    )
    shelter["headcount"] = {
        "total": event.total,
        "infants": event.infants,
        "children": event.children,
        "elderly": event.elderly,
        "pregnant_lactating": event.pregnant_lactating,
        "disabled": event.disabled,
        "counted_at": event.occurred_at.isoformat(),
    }
    shelter["headcount_version"] = version
    shelter["updated_at"] = event.occurred_at.isoformat()
    state[event.shelter_id] = shelter
    return shelter


def apply_warehouse_registered(
    state: State, event: ev.WarehouseRegistered
) -> dict[str, Any] | None:
    warehouse = state.get(event.warehouse_id)
    version = _version(event)
    if not _newer(warehouse, "registration_version", version):
        return None
    warehouse = dict(warehouse or {"batches": {}})
    warehouse.update(
        warehouse_id=event.warehouse_id,
        name=event.name,
        kind=event.kind,
        location=event.location.model_dump(),
        province_code=event.province_code,
        kabupaten_code=event.kabupaten_code,
        registration_version=version,
        updated_at=event.occurred_at.isoformat(),
    )
    state[event.warehouse_id] = warehouse
    return warehouse


def apply_stock_level(state: State, event: ev.StockLevelReported) -> dict[str, Any] | None:
    """A stock count replaces the batch's on-hand quantity (newest count wins)."""
    warehouse = state.get(event.warehouse_id)
    version = _version(event)
    batch = (warehouse or {}).get("batches", {}).get(event.batch_id)
    if not _newer(batch, "version", version):
        return None
    warehouse = dict(
        warehouse
        or {
            "warehouse_id": event.warehouse_id,
            "name": event.warehouse_id,
            "kind": None,
            "location": None,
            "province_code": event.province_code,
            "kabupaten_code": None,
            "registration_version": "",
            "batches": {},
        }
    )
    batches = dict(warehouse["batches"])
    batches[event.batch_id] = {
        "batch_id": event.batch_id,
        "item": event.item,
        "unit": event.unit,
        "on_hand": event.quantity,
        "expires_on": event.expires_on.isoformat() if event.expires_on else None,
        "version": version,
        "counted_at": event.occurred_at.isoformat(),
    }
    warehouse["batches"] = batches
    warehouse["updated_at"] = event.occurred_at.isoformat()
    state[event.warehouse_id] = warehouse
    return warehouse


def apply_team_status(state: State, event: ev.TeamStatusReported) -> dict[str, Any] | None:
    team = state.get(event.team_id)
    version = _version(event)
    if not _newer(team, "version", version):
        return None
    team = {
        "team_id": event.team_id,
        "name": event.name or event.team_id,
        "province_code": event.province_code,
        "kabupaten_code": event.kabupaten_code,
        "location": event.location.model_dump(),
        "skills": list(event.skills),
        "members": event.members,
        "rank": event.rank,
        "availability": event.availability,
        "hours_on_duty": event.hours_on_duty,
        "version": version,
        "updated_at": event.occurred_at.isoformat(),
    }
    state[event.team_id] = team
    return team


def apply_emergency_declared(state: State, event: ev.EmergencyDeclared) -> dict[str, Any] | None:
    if event.declaration_id in state:
        return None
    declaration = {
        "declaration_id": event.declaration_id,
        "province_code": event.province_code,
        "kabupaten_code": event.kabupaten_code,
        "declared_by": event.declared_by,
        "reference": event.reference,
        "declared_at": event.occurred_at.isoformat(),
    }
    state[event.declaration_id] = declaration
    return declaration


def apply_dispatch_override(state: State, event: ev.DispatchOverridden) -> dict[str, Any] | None:
    """Overrides are kept per task and team; the newest decision for a pair wins."""
    key = f"{event.task_id}|{event.team_id}"
    version = _version(event)
    if not _newer(state.get(key), "version", version):
        return None
    override = {
        "task_id": event.task_id,
        "team_id": event.team_id,
        "action": event.action,
        "reason": event.reason,
        "coordinator": event.coordinator,
        "version": version,
    }
    state[key] = override
    return override
