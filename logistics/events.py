"""Outcome events of planning and dispatch, for the streams layer to publish.

Frozen dataclasses, each with its own id, the id of what it concerns and a UTC timestamp.
Event ids are derived from the plan/dispatch id, so re-running the same plan yields the same
ids (consumers deduplicate on them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from logistics._serde import dt_to_str
from logistics.allocation import Plan
from logistics.dispatch import DispatchPlan


@dataclass(frozen=True)
class SuppliesAllocated:
    """One shipment proposal of a plan."""

    event_id: str
    proposal_id: str
    plan_id: str
    occurred_at: datetime
    proposal: dict[str, Any]


@dataclass(frozen=True)
class SupplyShortfallDetected:
    """One need a plan cannot cover — an outcome the coordinator must see."""

    event_id: str
    shortfall_id: str
    plan_id: str
    occurred_at: datetime
    shortfall: dict[str, Any]


@dataclass(frozen=True)
class TeamDispatched:
    """One team assigned to one task."""

    event_id: str
    assignment_id: str
    dispatch_id: str
    occurred_at: datetime
    assignment: dict[str, Any]


@dataclass(frozen=True)
class TaskUncovered:
    """A task no mobilisation tier could fully staff."""

    event_id: str
    task_id: str
    dispatch_id: str
    occurred_at: datetime
    uncovered: dict[str, Any]


def plan_events(plan: Plan) -> list[SuppliesAllocated | SupplyShortfallDetected]:
    """Events describing a plan, proposals first, in the plan's (deterministic) order."""
    out: list[SuppliesAllocated | SupplyShortfallDetected] = [
        SuppliesAllocated(f"evt:{p.proposal_id}", p.proposal_id, plan.plan_id, plan.planned_at,
                          p.to_dict()) for p in plan.proposals]
    out += [SupplyShortfallDetected(f"evt:{s.shortfall_id}", s.shortfall_id, plan.plan_id,
                                    plan.planned_at, s.to_dict()) for s in plan.shortfalls]
    return out


def dispatch_events(plan: DispatchPlan) -> list[TeamDispatched | TaskUncovered]:
    """Events describing a dispatch decision."""
    out: list[TeamDispatched | TaskUncovered] = [
        TeamDispatched(f"evt:{a.assignment_id}", a.assignment_id, plan.dispatch_id,
                       plan.planned_at, a.to_dict()) for a in plan.assignments]
    out += [TaskUncovered(f"evt:{plan.dispatch_id}:uncovered:{u.task_id}", u.task_id,
                          plan.dispatch_id, plan.planned_at, u.to_dict())
            for u in plan.uncovered]
    return out


def event_to_dict(event: SuppliesAllocated | SupplyShortfallDetected | TeamDispatched
                  | TaskUncovered) -> dict[str, Any]:
    """Plain-dict form with the event type name."""
    d = {k: getattr(event, k) for k in event.__dataclass_fields__}
    d["occurred_at"] = dt_to_str(event.occurred_at)
    d["type"] = type(event).__name__
    return d
