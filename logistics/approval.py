"""The approval gate on what the national tier sends a province.

A shipment the national tier proposes to a province (from a regional warehouse) and a team
it mobilises from another province to one of the province's tasks wait for a coordinator of
the receiving province (or a national coordinator or an admin) before they can be confirmed
or dispatched: their approval is ``awaiting`` until one approves (``approved``) or declines
(``declined``). With the gate off (``SIAGA_NATIONAL_APPROVAL=false``) it is ``not_required``,
and so is every province-tier shipment.

A decline is about the need, not only the one proposal: until the need changes materially
(:func:`decline_stands`) the national tier proposes nothing more for it than what was
already approved.
"""

from __future__ import annotations

from typing import Literal

from logistics.errors import InvalidInput

Approval = Literal["not_required", "awaiting", "approved", "declined"]
APPROVALS: tuple[Approval, ...] = ("not_required", "awaiting", "approved", "declined")
#: Approvals under which a national-tier shipment may be confirmed (or a team dispatched).
CLEARED: frozenset[str] = frozenset({"not_required", "approved"})
#: A declined need changes materially when it has grown by at least this share (a quarter)
#: since the decline: then the decline lapses and the national tier plans for it again.
#: A policy assumption (to be confirmed with Kemensos), like the other thresholds.
MATERIAL_GROWTH = 0.25


def decline_stands(need_when_declined: float, need_now: float,
                   growth: float = MATERIAL_GROWTH) -> bool:
    """Whether a coordinator's decline still holds for a need.

    ``need_when_declined`` and ``need_now`` are the same measure of the need (units of an
    item at a shelter, from headcount × rate × days; or the teams a task needs). The decline
    stands until the need has grown materially: by at least ``growth`` of what it was, and
    by more than nothing (a need of 0 lapses at any need). A need that shrank keeps it.

    Raises:
        InvalidInput: for a negative or non-finite need, or a growth <= 0.
    """
    for name, value in (("need_when_declined", need_when_declined), ("need_now", need_now)):
        if not value >= 0 or value == float("inf"):
            raise InvalidInput(f"{name} must be a finite number >= 0, got {value!r}")
    if not growth > 0:
        raise InvalidInput(f"growth must be > 0, got {growth!r}")
    lapsed = need_now > need_when_declined and need_now >= need_when_declined * (1 + growth)
    return not lapsed


def check_approval(value: str) -> Approval:
    """``value`` as an :data:`Approval`; raises InvalidInput naming it otherwise."""
    for approval in APPROVALS:
        if value == approval:
            return approval
    raise InvalidInput(f"unknown approval {value!r}; one of {', '.join(APPROVALS)}")
