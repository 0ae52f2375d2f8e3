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
from siaga.events import InvalidRecord
from streams.changes import version_of

State = dict[str, Any]


def _version(event: ev.Envelope) -> str:
    return version_of(event.occurred_at, str(event.event_id))


def check_location(event: Any) -> None:
    """A position must be in Indonesia and in the province the record is keyed by.

    Raises :class:`InvalidRecord` naming ``location`` or ``province_code``, so one bad
    registration is parked instead of breaking its province's plan.
    """
    import geo

    location = event.location
    try:
        region = geo.resolve(location.lat, location.lon)
    except geo.GeoError as exc:
        raise InvalidRecord(f"location: {exc}") from None
    if region.province_code != event.province_code:
        raise InvalidRecord(
            f"province_code: {event.province_code} does not match the location, which is in "
            f"{region.province_code} {region.province_name}"
        )


def _latest(current: str | None, event: ev.Envelope) -> str:
    """The later of a stored time and the event's, so the fold does not depend on order."""
    at = event.occurred_at.isoformat()
    return at if current is None or current < at else current


def _newer(current: dict[str, Any] | None, field: str, version: str) -> bool:
    return current is None or str(current.get(field, "")) < version


def apply_shelter_registered(state: State, event: ev.ShelterRegistered) -> dict[str, Any] | None:
    check_location(event)
    shelter = state.get(event.shelter_id)
    version = _version(event)
    if not _newer(shelter, "registration_version", version):
        return None
    # A shelter belongs to the posko that registered it: another posko's registration is
    # parked, unless it is a coordinator's transfer (source "transfer:…", written only by
    # the API's transfer route).
    owner = (shelter or {}).get("posko_id")
    if owner and owner != event.posko_id and not event.source.startswith("transfer:"):
        raise InvalidRecord(
            f"posko_id: shelter {event.shelter_id} belongs to posko {owner}, not "
            f"{event.posko_id} (a coordinator can transfer it)"
        )
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
        updated_at=_latest(shelter.get("updated_at"), event),
    )
    state[event.shelter_id] = shelter
    return shelter


def apply_shortfall_decision(
    state: State, event: ev.ShortfallDecisionRecorded
) -> dict[str, Any] | None:
    """A coordinator's decision on one shelter's shortfall of one item, kept on the shelter
    row (``decisions[item]``, the newest by event time wins; the planner shows it on the
    shortfall). Checked here again, not only in the API: the shelter must be one of the
    province the record is keyed by, and the record must come from a coordinator."""
    if not event.source.startswith("coordinator:"):
        raise InvalidRecord("source: only a coordinator records a decision on a shortfall")
    shelter = state.get(event.shelter_id)
    if shelter is None:
        raise InvalidRecord(
            f"shelter_id: no shelter {event.shelter_id!r} in province {event.province_code}"
        )
    version = _version(event)
    decisions = dict(shelter.get("decisions") or {})
    if str((decisions.get(event.item) or {}).get("version", "")) >= version:
        return None
    decisions[event.item] = {
        "decision": event.decision,
        "note": event.note,
        "coordinator": event.coordinator,
        "at": event.occurred_at.isoformat(),
        "version": version,
    }
    updated = dict(shelter, decisions=decisions)
    state[event.shelter_id] = updated
    return updated


def apply_headcount(state: State, event: ev.ShelterHeadcountReported) -> dict[str, Any] | None:
    shelter = state.get(event.shelter_id)
    version = _version(event)
    if not _newer(shelter, "headcount_version", version):
        return None
    # Only the shelter's own posko counts its people (a transfer is a registration).
    owner = (shelter or {}).get("posko_id")
    if owner and owner != event.posko_id:
        raise InvalidRecord(
            f"posko_id: shelter {event.shelter_id} belongs to posko {owner}, not "
            f"{event.posko_id} (a coordinator can transfer it)"
        )
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
    shelter["updated_at"] = _latest(shelter.get("updated_at"), event)
    state[event.shelter_id] = shelter
    return shelter


def apply_warehouse_registered(
    state: State, event: ev.WarehouseRegistered
) -> dict[str, Any] | None:
    check_location(event)
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
        updated_at=_latest(warehouse.get("updated_at"), event),
    )
    state[event.warehouse_id] = warehouse
    return warehouse


def batch_entity_id(warehouse_id: str, batch_id: str) -> str:
    """The id of a stock batch in the batches table (batch ids are unique per warehouse)."""
    return f"{warehouse_id}/{batch_id}"


def counted_batch(batch: dict[str, Any] | None, event: ev.StockLevelReported) -> dict[str, Any]:
    """The batch after a stock count: the count is the new on-hand quantity; departures
    recorded after the count's time still leave it, earlier ones are in the count."""
    at = event.occurred_at.isoformat()
    departures = [d for d in (batch or {}).get("departures", []) if d["at"] > at]
    return {
        "batch_id": event.batch_id,
        "warehouse_id": event.warehouse_id,
        "item": event.item,
        "unit": event.unit,
        "on_hand": event.quantity,
        "expires_on": event.expires_on.isoformat() if event.expires_on else None,
        "version": _version(event),
        "counted_at": at,
        "departures": departures,
    }


def apply_batch_count(state: State, event: ev.StockLevelReported) -> dict[str, Any] | None:
    """Per-entity form of :func:`apply_stock_level`: ``state`` maps batch entity ids
    (:func:`batch_entity_id`) to batches."""
    key = batch_entity_id(event.warehouse_id, event.batch_id)
    batch = state.get(key)
    if not _newer(batch, "version", _version(event)):
        return None
    counted = counted_batch(batch, event)
    state[key] = counted
    return counted


def record_departure(
    batch: dict[str, Any], shipment_id: str, quantity: int, at: str
) -> dict[str, Any] | None:
    """The batch after a shipment left with ``quantity`` of it (None when already recorded).

    Kept on the batch so that stock stays right after the shipment leaves the working
    state; a later stock count drops the departures it already includes.
    """
    departures = list(batch.get("departures", []))
    if any(d["shipment_id"] == shipment_id for d in departures):
        return None
    if at <= str(batch.get("counted_at") or ""):
        return None  # the count already excludes it
    departures.append({"shipment_id": shipment_id, "quantity": int(quantity), "at": at})
    return dict(batch, departures=departures)


DELIVERY_MEMORY_DAYS = 90  # deliveries older than this (days of cover is at most 90) drop


def record_delivery(shelter: dict[str, Any], shipment: dict[str, Any]) -> dict[str, Any]:
    """The shelter after a delivery: what it received stays with it (``received``), so the
    needs count it after the shipment leaves the working state."""
    from datetime import datetime, timedelta

    at = shipment["delivered_at"]
    horizon = (datetime.fromisoformat(at) - timedelta(days=DELIVERY_MEMORY_DAYS)).isoformat()
    received = {
        k: v for k, v in (shelter.get("received") or {}).items() if str(v.get("at")) >= horizon
    }
    received[shipment["shipment_id"]] = {
        "item": shipment["item_id"],
        "quantity": int(shipment.get("received_quantity") or 0),
        "at": at,
    }
    return dict(shelter, received=received)


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
    batches[event.batch_id] = counted_batch(batch, event)
    warehouse["batches"] = batches
    warehouse["updated_at"] = _latest(warehouse.get("updated_at"), event)
    state[event.warehouse_id] = warehouse
    return warehouse


def apply_team_status(state: State, event: ev.TeamStatusReported) -> dict[str, Any] | None:
    check_location(event)
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


def apply_shipment_status(state: State, event: ev.ShipmentStatusChanged) -> dict[str, Any] | None:
    """Move a shipment along its lifecycle (logistics' state machine decides what is legal).

    Raises :class:`InvalidRecord` for an unknown shipment, another warehouse's shipment or an
    illegal transition, so the record is parked with that reason. A redelivered event (same
    ``event_id``) changes nothing.
    """
    from logistics.allocation import BatchPick
    from logistics.errors import InvalidInput, InvalidShipmentTransition
    from streams.planning import shipment_of

    current = state.get(event.shipment_id)
    if current is None:
        raise InvalidRecord(
            f"shipment_id: no open shipment {event.shipment_id!r} (unknown, or already "
            "delivered, cancelled or rejected)"
        )
    if event.warehouse_id != current["warehouse_id"]:
        raise InvalidRecord(
            f"warehouse_id: shipment {event.shipment_id} belongs to {current['warehouse_id']}, "
            f"not {event.warehouse_id}"
        )
    event_id = str(event.event_id)
    if event_id in current.get("applied_events", []):
        return None
    shipment = shipment_of(current)
    at = event.occurred_at
    updated = dict(current)
    try:
        if event.status == "confirmed":
            proposed = {b["batch_id"]: b for b in current["batches"]}
            picks = [BatchPick(b.batch_id, int(b.quantity), None) for b in event.batches]
            moved, _ = shipment.confirm(picks, at, event_id)
            updated["batches"] = [
                {
                    "batch_id": p.batch_id,
                    "quantity": p.quantity,
                    "expires_on": proposed.get(p.batch_id, {}).get("expires_on"),
                }
                for p in picks
            ]
            updated["quantity"] = moved.quantity
            updated["confirmed_at"] = at.isoformat()
        elif event.status == "dispatched":
            moved, _ = shipment.dispatch(at, event_id)
            updated["dispatched_at"] = at.isoformat()
        elif event.status == "delivered":
            received = int(event.quantity_received or 0)
            moved, _ = shipment.deliver(received, at, event_id)
            updated["delivered_at"] = at.isoformat()
            updated["received_quantity"] = received
            updated["difference"] = received - shipment.quantity
        elif event.status == "cancelled":
            moved, _ = shipment.cancel(event.reason or "", at, event_id)
            updated["reason"] = event.reason
        else:
            moved, _ = shipment.reject(event.reason or "", at, event_id)
            updated["reason"] = event.reason
    except (InvalidShipmentTransition, InvalidInput) as exc:
        raise InvalidRecord(f"status: {exc}") from None
    updated["status"] = moved.status
    updated["updated_at"] = at.isoformat()
    updated["applied_events"] = [*current.get("applied_events", []), event_id][-50:]
    state[event.shipment_id] = updated
    return updated


def apply_shipment_hold(state: State, event: ev.ShipmentHoldChanged) -> dict[str, Any] | None:
    current = state.get(event.shipment_id)
    if current is None:
        raise InvalidRecord(
            f"shipment_id: no open shipment {event.shipment_id!r} (unknown, or already "
            "delivered, cancelled or rejected)"
        )
    if current["status"] != "proposed" and event.held:
        raise InvalidRecord(f"held: only a proposed shipment can be held ({current['status']})")
    version = _version(event)
    if str(current.get("hold_version", "")) >= version:
        return None
    updated = dict(current, held=event.held, hold_reason=event.reason, hold_version=version)
    state[event.shipment_id] = updated
    return updated


def apply_national_results(state: State, event: Any) -> dict[str, Any] | None:
    """The national tier's allocations for this province (a snapshot; the newest wins)."""
    if int(state.get("seq", 0)) >= int(event["seq"]):
        return None
    state.clear()
    state.update(event)
    return state
