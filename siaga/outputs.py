"""The planners' output events: what a consumer of ``siaga.plans``, ``siaga.dispatch`` and
``siaga.shortfalls`` can rely on (documented and given schemas like the inputs).

The planner writes them (``streams/planning.py``, enveloped by ``streams/outputs.py``); a
consumer (a warehouse system, a dispatch radio bridge, BNPB's situation room) reads them.
Each carries the envelope of every Siaga event plus the plan it came from. The fields named
here are guaranteed; the schemas allow further fields (consumers ignore what they do not
know, and adding a field is not a new schema version).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from siaga import events as ev

Tier = Literal["province", "national"]  # where a shipment's stock comes from
TeamTier = Literal["kabupaten", "province", "national"]  # how far a team travels


class OutputEvent(ev.Envelope):
    """Fields every output event carries."""

    model_config = ConfigDict(extra="allow", frozen=True)

    province_code: ev.ProvinceCode = Field(description="The province whose plan decided it")
    plan_id: str = Field(min_length=1, max_length=200,
                         description="The plan that decided it, e.g. 'plan-32-17'")


class _ShipmentEvent(OutputEvent):
    shipment_id: str = Field(min_length=1, max_length=200)
    proposal_id: str | None = Field(default=None, description="The plan line it came from")
    status: str = Field(description="proposed while the plan still decides it")
    warehouse_id: str = Field(min_length=1, max_length=200, description="Where it leaves from")
    warehouse_province: str | None = Field(default=None, description="The warehouse's "
                                           "province (another one for a national shipment)")
    shelter_id: str = Field(min_length=1, max_length=200, description="Where it goes")
    item_id: ev.ItemCode = Field(description="Item code from the catalogue (GET /api/v1/items)")
    unit: str = Field(max_length=32, description="The item's catalogue unit")
    quantity: float = Field(ge=0, allow_inf_nan=False)
    tier: Tier = Field(description="province: from the province's own stock; national: from "
                       "a regional warehouse, decided by the national tier")
    held: bool = Field(default=False, description="A coordinator holds it (not to be confirmed)")
    travel_hours: float | None = Field(default=None, ge=0, description="Travel time estimate")
    eta: str | None = Field(default=None, description="Expected arrival, ISO 8601")
    batches: list[dict[str, Any]] = Field(
        default_factory=list, description="Stock batches to pick: batch_id, quantity, "
        "expires_on (first expiry first)")
    summary: str | None = Field(default=None, description="Why, as one English sentence")
    why: Any = Field(default=None, description="Why, as structured data (rule and figures)")
    approval: Literal["awaiting", "approved", "declined", "not_required"] | None = Field(
        default=None, description="Tier national only: the receiving province's decision "
        "(the approval gate, setting SIAGA_NATIONAL_APPROVAL) — awaiting until one of its "
        "coordinators approves; a declined shipment is withdrawn; not_required when the gate "
        "is off")
    need: float | None = Field(default=None, ge=0, allow_inf_nan=False, description="Tier "
                               "national only: the shelter's need of the item when decided "
                               "(a decline stands until the need grows by a quarter)")
    reason: str | None = Field(default=None, max_length=1300, description="Why a national "
                               "shipment was withdrawn: who declined it and their reason")

class ShipmentProposed(_ShipmentEvent):
    """The plan proposes a new shipment (warehouse staff confirm it on the desk)."""

    type: Literal["shipment.proposed"] = "shipment.proposed"


class ShipmentProposalChanged(_ShipmentEvent):
    """A proposed shipment changed (quantity, batches or source) in a later plan."""

    type: Literal["shipment.proposal_changed"] = "shipment.proposal_changed"


class ShipmentProposalWithdrawn(_ShipmentEvent):
    """A proposed, not yet confirmed shipment is no longer needed or no longer possible."""

    type: Literal["shipment.proposal_withdrawn"] = "shipment.proposal_withdrawn"


class TeamDispatched(OutputEvent):
    """A TAGANA team is assigned to a task."""

    type: Literal["team.dispatched"] = "team.dispatched"
    task_id: str = Field(min_length=1, max_length=200)
    team_id: str = Field(min_length=1, max_length=200)
    tier: TeamTier = Field(default="province", description="kabupaten: a team of the "
                           "kabupaten; province: of the province; national: mobilised from "
                           "another province")


class TeamReleased(OutputEvent):
    """A TAGANA team is released from a task (done, reassigned or no longer needed)."""

    type: Literal["team.released"] = "team.released"
    task_id: str = Field(min_length=1, max_length=200)
    team_id: str = Field(min_length=1, max_length=200)


class SupplyShortfallDetected(OutputEvent):
    """A shelter's need for an item cannot be covered by the stock the plan can reach."""

    type: Literal["supply_shortfall.detected"] = "supply_shortfall.detected"
    shortfall_id: str = Field(min_length=1, max_length=300, description="'{shelter}:{item}'")
    shelter_id: str | None = Field(description="The shelter short of it; null for a public "
                                   "kitchen short of capacity (then `kitchen_id`)")
    kitchen_id: str | None = Field(default=None, description="The public kitchen (dapur "
                                   "umum) whose capacity falls short, item `portions`")
    item: str = Field(min_length=1, max_length=64, description="Item code, or `portions`")
    unit: str = Field(max_length=32)
    missing: float = Field(ge=0, allow_inf_nan=False, description="Quantity not covered")


class SupplyShortfallResolved(OutputEvent):
    """A shortfall detected earlier is covered now (or its need is gone)."""

    type: Literal["supply_shortfall.resolved"] = "supply_shortfall.resolved"
    shortfall_id: str = Field(min_length=1, max_length=300)
