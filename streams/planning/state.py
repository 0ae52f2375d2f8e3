"""A province's state as the planner reads it, what a plan returns, and the plan's clock."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from streams.planning.rows import (
    DeclarationRow,
    EntityChange,
    Escalation,
    IncidentRow,
    KitchenRow,
    NationalResults,
    OutputEvent,
    OverrideRow,
    PlanRow,
    ShelterRow,
    ShipmentRow,
    TeamRow,
    WarehouseRow,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
REGIONAL = "regional"


@dataclass(frozen=True)
class PlanningOptions:
    profile_id: str = "bnpb-perka-7-2008"
    days_of_cover: float = 3.0
    replan_threshold: float = 0.05
    fatigue_limit_hours: float = 12.0
    allow_near_expiry: bool = False


@dataclass
class ProvinceState:
    """A province's tables, by entity id (the rows of :mod:`streams.planning.rows`)."""

    province_code: str
    shelters: dict[str, ShelterRow] = field(default_factory=dict)
    warehouses: dict[str, WarehouseRow] = field(default_factory=dict)  # with their batches
    teams: dict[str, TeamRow] = field(default_factory=dict)
    shipments: dict[str, ShipmentRow] = field(default_factory=dict)
    incidents: dict[str, IncidentRow] = field(default_factory=dict)
    declarations: dict[str, DeclarationRow] = field(default_factory=dict)
    overrides: dict[str, OverrideRow] = field(default_factory=dict)
    national: NationalResults = field(  # allocations from the national tier
        default_factory=lambda: NationalResults())
    kitchens: dict[str, KitchenRow] = field(default_factory=dict)  # public kitchens (dapur umum)

    def with_shipments(self, shipments: dict[str, ShipmentRow]) -> ProvinceState:
        """The same state with another shipments table (the others are shared)."""
        return replace(self, shipments=shipments)

    def digest(self) -> str:
        """Fingerprint of every input; equal digests plan identically."""
        payload = json.dumps(
            [
                self.shelters,
                self.warehouses,
                self.teams,
                self.shipments,
                self.incidents,
                self.declarations,
                self.overrides,
                self.national,
            ] + ([self.kitchens] if self.kitchens else []),
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class ProvinceOutcome:
    plan: PlanRow  # what the planner keeps of this plan
    shipments: dict[str, ShipmentRow]  # the new shipments table value
    entities: list[EntityChange]  # read-model changes (entity, id, view or None = deleted)
    escalation: Escalation  # what goes up to the national tier
    events: list[OutputEvent]  # output events (proposals, cancellations, dispatches, …)


def parse_time(text: str | None) -> datetime:
    """A row's ISO time; the epoch when it has none."""
    return datetime.fromisoformat(text) if text else EPOCH


def _accepted(row: Any, field: str) -> datetime:
    """The row's time for the plan clock: its newest event's own time, but never later than
    when the receiving side accepted that event (``accepted_at``, kept with the row)."""
    at = parse_time(row.get(field))
    accepted = row.get("accepted_at")
    return min(at, parse_time(accepted)) if accepted else at


def plan_time(state: ProvinceState) -> datetime:
    """The plan's deterministic 'now': the newest input time, each bounded by when the
    receiving side accepted it.

    Accepted times come from the receiving side (the Kafka record's timestamp, never later
    than the worker's clock), so one report stamped in the future by a phone with a wrong
    clock cannot move the province's clock; a replay of a past disaster keeps its own
    timeline (its events are older than when they were accepted).
    """
    times = [EPOCH]
    for shelter in state.shelters.values():
        times.append(_accepted(shelter, "updated_at"))
    for warehouse in state.warehouses.values():
        times.append(_accepted(warehouse, "updated_at"))
        for batch in warehouse.get("batches", {}).values():
            times.append(_accepted(batch, "counted_at"))
    for team in state.teams.values():
        times.append(_accepted(team, "updated_at"))
    for shipment in state.shipments.values():
        times.append(_accepted(shipment, "updated_at"))
    for incident in state.incidents.values():
        times.append(_accepted(incident, "reported_at"))
    for kitchen in state.kitchens.values():
        times.append(_accepted(kitchen, "updated_at"))
    return max(times)


def short_hash(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:12]


def place_of(state: ProvinceState, place_id: str) -> ShelterRow | KitchenRow | None:
    """The shelter, or else the public kitchen, with this id (a shipment's destination)."""
    return state.shelters.get(place_id) or state.kitchens.get(place_id)
