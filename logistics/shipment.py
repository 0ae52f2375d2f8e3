"""Shipment lifecycle as a state machine.

    proposed --confirm(picked batches)--> confirmed --dispatch--> dispatched --deliver--> delivered
    proposed --reject(reason)--> rejected          (warehouse staff refuse the proposal)
    proposed | confirmed --cancel(reason)--> cancelled
    dispatched --reject(reason)--> rejected        (the receiving post refuses the delivery)

A national-tier shipment also carries the approval of the receiving province
(:mod:`logistics.approval`): while it is ``awaiting`` (or ``declined``) it cannot be
confirmed (:data:`BLOCKED_BY_APPROVAL`), however legal the move is by :data:`TRANSITIONS`.

Every transition returns the new (immutable) shipment and the event it emits; an illegal
transition raises :class:`InvalidShipmentTransition`. A delivery records the quantity received
and the difference from the quantity dispatched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from logistics._serde import dt_from_str, dt_to_str, require_utc
from logistics.allocation import BatchPick, ShipmentProposal
from logistics.approval import Approval, check_approval
from logistics.errors import InvalidInput, InvalidShipmentTransition

Status = Literal["proposed", "confirmed", "dispatched", "delivered", "cancelled", "rejected"]
TERMINAL: frozenset[str] = frozenset({"delivered", "cancelled", "rejected"})
_ALLOWED: dict[str, frozenset[str]] = {
    "proposed": frozenset({"confirmed", "rejected", "cancelled"}),
    "confirmed": frozenset({"dispatched", "cancelled"}),
    "dispatched": frozenset({"delivered", "rejected"}),
    "delivered": frozenset(),
    "cancelled": frozenset(),
    "rejected": frozenset(),
}
#: The lifecycle: status -> the statuses it may move to (the API checks against this one copy).
TRANSITIONS: Mapping[str, frozenset[str]] = _ALLOWED
STATUSES: tuple[str, ...] = tuple(_ALLOWED)
#: Moves a shipment's approval refuses: a national-tier shipment awaiting a coordinator of
#: the receiving province (or declined by one) is not confirmed (the API checks this one too).
BLOCKED_BY_APPROVAL: Mapping[str, frozenset[str]] = {
    "confirmed": frozenset({"awaiting", "declined"}),
}


def approval_refusal(shipment_id: str, approval: str | None, target: str) -> str | None:
    """Why ``target`` is refused for a shipment with this approval (None when it is not):
    a sentence naming ``approval``, for a dead letter or an HTTP 409."""
    if approval in BLOCKED_BY_APPROVAL.get(target, frozenset()):
        if approval == "awaiting":
            return (f"approval: shipment {shipment_id} comes from the national tier and awaits "
                    "the approval of a coordinator of the receiving province; it can become "
                    f"{target} once approved")
        return (f"approval: shipment {shipment_id} was declined by a coordinator of the "
                f"receiving province; it cannot become {target}")
    return None


def allowed_from(target: str) -> tuple[str, ...]:
    """The statuses a shipment can move to ``target`` from (in lifecycle order)."""
    return tuple(status for status, targets in _ALLOWED.items() if target in targets)


@dataclass(frozen=True)
class ShipmentEvent:
    """Something that happened to a shipment (``ShipmentConfirmed``, ``ShipmentDelivered``...)."""

    event_id: str
    shipment_id: str
    kind: str
    occurred_at: datetime
    data: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {"event_id": self.event_id, "shipment_id": self.shipment_id, "kind": self.kind,
                "occurred_at": dt_to_str(self.occurred_at), "data": dict(self.data)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ShipmentEvent:
        """Inverse of :meth:`to_dict`."""
        return cls(event_id=str(d["event_id"]), shipment_id=str(d["shipment_id"]),
                   kind=str(d["kind"]), occurred_at=dt_from_str(d["occurred_at"]),
                   data=dict(d["data"]))


@dataclass(frozen=True)
class Shipment:
    """One shipment of one item from a warehouse to a shelter, whole units."""

    shipment_id: str
    proposal_id: str
    warehouse_id: str
    shelter_id: str
    item_id: str
    quantity: int
    status: Status = "proposed"
    batches: tuple[BatchPick, ...] = ()
    received_quantity: int | None = None
    reason: str = ""
    updated_at: datetime | None = None
    approval: Approval = "not_required"

    def __post_init__(self) -> None:
        check_approval(self.approval)

    @property
    def difference(self) -> int | None:
        """received - shipped once delivered (negative = lost/damaged), else None."""
        if self.received_quantity is None:
            return None
        return self.received_quantity - self.quantity

    @classmethod
    def from_proposal(cls, proposal: ShipmentProposal, shipment_id: str | None = None) -> Shipment:
        """A proposed shipment for a plan line (id defaults to the proposal id)."""
        return cls(shipment_id=shipment_id or proposal.proposal_id,
                   proposal_id=proposal.proposal_id, warehouse_id=proposal.warehouse_id,
                   shelter_id=proposal.shelter_id, item_id=proposal.item_id,
                   quantity=proposal.quantity, batches=proposal.batches)

    def _move(self, to: Status, at: datetime, event_id: str, kind: str,
              data: Mapping[str, Any], **changes: Any) -> tuple[Shipment, ShipmentEvent]:
        if to not in _ALLOWED[self.status]:
            raise InvalidShipmentTransition(
                f"shipment {self.shipment_id}: cannot go from {self.status} to {to}")
        refused = approval_refusal(self.shipment_id, self.approval, to)
        if refused is not None:
            raise InvalidShipmentTransition(refused)
        at = require_utc(at, "at")
        new = replace(self, status=to, updated_at=at, **changes)
        return new, ShipmentEvent(event_id, self.shipment_id, kind, at, data)

    def confirm(self, picked: Sequence[BatchPick], at: datetime,
                event_id: str) -> tuple[Shipment, ShipmentEvent]:
        """Warehouse staff confirm, with the batches actually picked (total may be less than
        proposed, never more).

        Raises:
            InvalidShipmentTransition: unless proposed, or while its approval is awaited
                (or was declined).
            InvalidInput: if the picked total is 0 or exceeds the proposed quantity.
        """
        total = sum(p.quantity for p in picked)
        if self.status == "proposed" and not 0 < total <= self.quantity:
            raise InvalidInput(f"shipment {self.shipment_id}: picked {total} units, "
                               f"must be 1..{self.quantity}")
        return self._move("confirmed", at, event_id, "ShipmentConfirmed",
                          {"batches": [p.to_dict() for p in picked], "quantity": total},
                          batches=tuple(picked), quantity=total)

    def dispatch(self, at: datetime, event_id: str) -> tuple[Shipment, ShipmentEvent]:
        """The truck has left. Raises InvalidShipmentTransition unless confirmed."""
        return self._move("dispatched", at, event_id, "ShipmentDispatched", {})

    def deliver(self, received_quantity: int, at: datetime,
                event_id: str) -> tuple[Shipment, ShipmentEvent]:
        """The receiving post confirms delivery; a difference from the shipped quantity is
        recorded in the event (``difference`` = received - shipped).

        Raises:
            InvalidShipmentTransition: unless dispatched.
            InvalidInput: if received_quantity < 0.
        """
        if received_quantity < 0:
            raise InvalidInput(f"shipment {self.shipment_id}: received {received_quantity} < 0")
        return self._move("delivered", at, event_id, "ShipmentDelivered",
                          {"received_quantity": received_quantity,
                           "difference": received_quantity - self.quantity},
                          received_quantity=received_quantity)

    def cancel(self, reason: str, at: datetime, event_id: str) -> tuple[Shipment, ShipmentEvent]:
        """Cancel before dispatch. Raises InvalidShipmentTransition otherwise; InvalidInput
        without a reason."""
        if not reason:
            raise InvalidInput("a cancellation needs a reason")
        return self._move("cancelled", at, event_id, "ShipmentCancelled", {"reason": reason},
                          reason=reason)

    def reject(self, reason: str, at: datetime, event_id: str) -> tuple[Shipment, ShipmentEvent]:
        """Reject a proposal (warehouse) or a delivery (receiving post). Raises
        InvalidShipmentTransition from other states; InvalidInput without a reason."""
        if not reason:
            raise InvalidInput("a rejection needs a reason")
        return self._move("rejected", at, event_id, "ShipmentRejected", {"reason": reason},
                          reason=reason)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-safe)."""
        return {
            "shipment_id": self.shipment_id, "proposal_id": self.proposal_id,
            "warehouse_id": self.warehouse_id, "shelter_id": self.shelter_id,
            "item_id": self.item_id, "quantity": self.quantity, "status": self.status,
            "batches": [b.to_dict() for b in self.batches],
            "received_quantity": self.received_quantity, "reason": self.reason,
            "updated_at": None if self.updated_at is None else dt_to_str(self.updated_at),
            "approval": self.approval,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Shipment:
        """Inverse of :meth:`to_dict`."""
        rq = d.get("received_quantity")
        ua = d.get("updated_at")
        status = d["status"]
        if status not in _ALLOWED:
            raise InvalidInput(f"unknown shipment status {status!r}")
        return cls(
            shipment_id=str(d["shipment_id"]), proposal_id=str(d["proposal_id"]),
            warehouse_id=str(d["warehouse_id"]), shelter_id=str(d["shelter_id"]),
            item_id=str(d["item_id"]), quantity=int(d["quantity"]), status=status,
            batches=tuple(BatchPick.from_dict(b) for b in d.get("batches", ())),
            received_quantity=None if rq is None else int(rq), reason=str(d.get("reason", "")),
            updated_at=None if ua is None else dt_from_str(ua),
            approval=check_approval(str(d.get("approval") or "not_required")),
        )
