"""The plan's proposals as shipments: proposed, changed in place, or withdrawn.

Warehouse staff see a proposal as a shipment in status ``proposed``. A re-plan updates the
open proposal of an (item, warehouse, shelter) in place — same shipment id, so it changes
rather than vanishes — proposes new pairs, and withdraws what the plan no longer wants
(unless a coordinator holds it). The province tier's proposals come from its own plan, the
national tier's from the national results.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from logistics.explain import explain_proposal
from streams.planning.gate import Gates, read_gates, shipment_approval
from streams.planning.rows import (
    Location,
    OutputEvent,
    PickRow,
    ProposalLine,
    ShipmentRow,
)
from streams.planning.state import ProvinceState, short_hash

Key = tuple[str, str, str]  # (item, warehouse, shelter)
Pair = tuple[str, str]  # (shelter, item)
#: What a tier adds to each of its shipments (the national tier: the receiving province's
#: approval, the shelter's need): the line and the open shipment it updates, if any.
Extra = Callable[[ProposalLine, "ShipmentRow | None"], Mapping[str, Any]]
#: Of those, the fields whose change is a change of the proposal (an output event); the
#: others (the need a decline is measured against) change the row silently.
NOTIFIED = frozenset({"approval"})


def _picks(proposal: ProposalLine) -> list[PickRow]:
    return [{"batch_id": b["batch_id"], "quantity": b["quantity"], "expires_on": b["expiry"]}
            for b in proposal["batches"]]


def shipment_id_of(proposal: ProposalLine, province: str) -> str:
    """The id of the shipment a plan line proposes (deterministic)."""
    return "shp-" + short_hash(
        province, proposal["proposal_id"], proposal["item_id"], proposal["warehouse_id"],
        proposal["shelter_id"],
    )


def new_shipment(
    proposal: ProposalLine, province: str, now: datetime, tier: str = "province",
    origin: Location | None = None,
) -> ShipmentRow:
    """The proposed shipment of a plan line (its id derives from the line: deterministic)."""
    shipment_id = shipment_id_of(proposal, province)
    return {
        "shipment_id": shipment_id,
        "proposal_id": proposal["proposal_id"],
        "warehouse_id": proposal["warehouse_id"],
        "shelter_id": proposal["shelter_id"],
        "item_id": proposal["item_id"],
        "unit": proposal["unit"],
        "quantity": proposal["quantity"],
        "batches": _picks(proposal),
        "status": "proposed",
        "held": False,
        "tier": tier,
        "travel_hours": proposal["travel_hours"],
        "eta": proposal["eta"],
        "summary": proposal.get("summary", ""),
        "why": explain_proposal(proposal),
        "origin": origin,
        "warehouse_province": proposal.get("warehouse_province") or province,
        "updated_at": now.isoformat(),
        "applied_events": [],
    }


def public(shipment: ShipmentRow) -> OutputEvent:
    """A shipment's fields as an output event carries them (not the planner's own)."""
    return {k: v for k, v in shipment.items()
            if k not in ("applied_events", "proposal", "accepted_at")}


def sync_proposals(
    state: ProvinceState,
    proposals: Sequence[ProposalLine],
    tier: str,
    now: datetime,
    events: list[OutputEvent],
    extra: Extra | None = None,
    withdrawal: Callable[[ShipmentRow], Mapping[str, Any]] | None = None,
) -> tuple[dict[str, ShipmentRow], list[ShipmentRow]]:
    """Make the proposed shipments of a tier match the plan's proposals.

    A proposal for a (item, warehouse, shelter) that already has an open proposed
    shipment updates it in place (same shipment id: warehouse staff see it change, not
    vanish); a new pair gets a new shipment; a proposed shipment the plan no longer
    wants is withdrawn (unless a coordinator holds it). ``extra`` gives fields the tier
    sets on its shipments (a change of them is a change of the proposal), ``withdrawal``
    what a withdrawn one says instead of the re-plan's reason. Returns the new table value
    and the withdrawn shipments (for the read model); ``events`` receives what changed.
    """
    shipments = {k: v.copy() for k, v in state.shipments.items()}
    open_by_key: dict[Key, ShipmentRow] = {
        (s["item_id"], s["warehouse_id"], s["shelter_id"]): s
        for s in shipments.values()
        if s["status"] == "proposed" and s.get("tier", "province") == tier
    }
    wanted = set()
    for proposal in proposals:
        key = (proposal["item_id"], proposal["warehouse_id"], proposal["shelter_id"])
        wanted.add(key)
        current = open_by_key.get(key)
        if current is None:
            shipment = new_shipment(
                proposal, state.province_code, now, tier, proposal.get("origin")
            )
            if shipment["shipment_id"] in shipments:
                # This very proposal was already taken up (confirmed, dispatched…) and the
                # plan that proposed it has not caught up yet: never overwrite a commitment.
                continue
            if extra is not None:
                shipment.update(extra(proposal, None))  # type: ignore[typeddict-item]
            shipments[shipment["shipment_id"]] = shipment
            events.append({"type": "shipment.proposed", **public(shipment)})
            continue
        batches = _picks(proposal)
        added = {} if extra is None else extra(proposal, current)
        noticed = [k for k, v in added.items() if current.get(k) != v]
        current.update(added)  # type: ignore[typeddict-item]
        if current["quantity"] != proposal["quantity"] or current["batches"] != batches:
            current["quantity"] = proposal["quantity"]
            current["batches"] = batches
            current["proposal_id"] = proposal["proposal_id"]
            current["travel_hours"] = proposal["travel_hours"]
            current["eta"] = proposal["eta"]
            current["summary"] = proposal.get("summary", "")
            current["why"] = explain_proposal(proposal)
            current["updated_at"] = now.isoformat()
            shipments[current["shipment_id"]] = current
            events.append({"type": "shipment.proposal_changed", **public(current)})
        elif any(k in NOTIFIED for k in noticed):
            # the receiving province approved it (or the gate changed): a warehouse system
            # learns it may confirm now
            current["proposal_id"] = proposal["proposal_id"]
            current["updated_at"] = now.isoformat()
            shipments[current["shipment_id"]] = current
            events.append({"type": "shipment.proposal_changed", **public(current)})
        elif current["proposal_id"] != proposal["proposal_id"] or noticed:
            current["proposal_id"] = proposal["proposal_id"]
            shipments[current["shipment_id"]] = current
    withdrawn: list[ShipmentRow] = []
    for key, shipment in open_by_key.items():
        if key in wanted or shipment.get("held"):
            continue
        gone = shipment.copy()
        gone["status"] = "cancelled"
        gone["reason"] = "withdrawn by re-plan"
        if withdrawal is not None:
            gone.update(withdrawal(gone))  # type: ignore[typeddict-item]
        gone["updated_at"] = now.isoformat()
        withdrawn.append(gone)
        del shipments[shipment["shipment_id"]]
        events.append({"type": "shipment.proposal_withdrawn", **public(gone)})
    return shipments, withdrawn


def sync_tiers(
    state: ProvinceState, proposals: Sequence[ProposalLine], now: datetime,
    events: list[OutputEvent], gates: Gates | None = None,
    need_of: Mapping[Pair, float] | None = None,
) -> tuple[dict[str, ShipmentRow], list[ShipmentRow]]:
    """The shipments after this plan: the province tier's proposals (``proposals``), then the
    national tier's (from the national results), each with the receiving province's approval
    (:mod:`streams.planning.gate`; ``need_of``: each shelter's need of an item this plan).
    A national line a coordinator declined — that shipment, or any for a need whose decline
    stands, unless approved — is not proposed (its open shipment is withdrawn, saying so).
    Returns the new table value and the shipments withdrawn."""
    gates = read_gates(state) if gates is None else gates
    need_of = need_of or {}
    shipments, withdrawn = sync_proposals(state, proposals, "province", now, events)
    after = state.with_shipments(shipments)
    open_national = {
        (s["item_id"], s["warehouse_id"], s["shelter_id"]): s["shipment_id"]
        for s in shipments.values()
        if s["status"] == "proposed" and s.get("tier") == "national"
    }
    province = state.province_code

    def shipment_id(line: ProposalLine) -> str:
        key = (line["item_id"], line["warehouse_id"], line["shelter_id"])
        return open_national.get(key) or shipment_id_of(line, province)

    national: list[ProposalLine] = []
    for raw in state.national.get("proposals", []):
        line = raw.copy()
        line["origin"] = line.get("origin")  # (None when the line has none)
        decision = gates.shipment_decision(shipment_id(line))
        pair = (line["shelter_id"], line["item_id"])
        if decision == "declined" or (
                decision != "approved"
                and gates.need_decline(pair, need_of.get(pair, 0.0)) is not None):
            continue
        national.append(line)

    def approval(line: ProposalLine, _current: ShipmentRow | None) -> dict[str, Any]:
        pair = (line["shelter_id"], line["item_id"])
        required = line.get("approval_required", True) is not False
        return {"approval": shipment_approval(
                    required, gates.shipment_decision(shipment_id(line))),
                "need": round(float(need_of.get(pair, 0.0)), 3)}

    def declined(gone: ShipmentRow) -> dict[str, Any]:
        decided = gates.shipments.get(gone["shipment_id"])
        pair = (gone["shelter_id"], gone["item_id"])
        if decided is None or decided["decision"] != "declined":
            decided = gates.need_decline(pair, need_of.get(pair, 0.0))
        if decided is None:
            return {}
        return {"approval": "declined",
                "reason": f"declined by {decided['coordinator']}: {decided['reason']}"}

    shipments, withdrawn_n = sync_proposals(after, national, "national", now, events,
                                            extra=approval, withdrawal=declined)
    return shipments, withdrawn + withdrawn_n
