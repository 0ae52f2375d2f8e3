"""The approval gate's rules in the core: a national-tier shipment awaiting (or declined by)
the receiving province is not confirmed; a decline stands until the need grows by a quarter."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logistics import InvalidInput, InvalidShipmentTransition, Shipment
from logistics.allocation import BatchPick
from logistics.approval import MATERIAL_GROWTH, decline_stands
from logistics.shipment import BLOCKED_BY_APPROVAL, TRANSITIONS, approval_refusal

AT = datetime(2022, 11, 22, 8, 0, tzinfo=UTC)
PICK = [BatchPick("BRS-01", 400, None)]


def _national(approval: str) -> Shipment:
    return Shipment("shp-1", "prop-1", "wh-bekasi", "sh-1", "rice", 400,
                    batches=(BatchPick("BRS-01", 400, None),), approval=approval)  # type: ignore[arg-type]


@pytest.mark.parametrize("approval", ["awaiting", "declined"])
def test_a_shipment_awaiting_or_declined_is_not_confirmed(approval: str) -> None:
    with pytest.raises(InvalidShipmentTransition, match="approval: shipment shp-1"):
        _national(approval).confirm(PICK, AT, "e1")


@pytest.mark.parametrize("approval", ["approved", "not_required"])
def test_an_approved_shipment_or_one_needing_none_is_confirmed(approval: str) -> None:
    confirmed, _ = _national(approval).confirm(PICK, AT, "e1")
    assert confirmed.status == "confirmed" and confirmed.approval == approval


def test_the_gate_blocks_only_the_confirmation_a_refusal_or_cancel_goes_through() -> None:
    assert set(BLOCKED_BY_APPROVAL) == {"confirmed"}
    assert "confirmed" in TRANSITIONS["proposed"]
    rejected, _ = _national("awaiting").reject("no truck", AT, "e1")
    assert rejected.status == "rejected"
    cancelled, _ = _national("awaiting").cancel("declined", AT, "e2")
    assert cancelled.status == "cancelled"


def test_the_refusal_names_the_approval_and_the_shipment() -> None:
    text = approval_refusal("shp-9", "awaiting", "confirmed")
    assert text is not None and text.startswith("approval: shipment shp-9")
    assert "receiving province" in text
    assert approval_refusal("shp-9", "approved", "confirmed") is None
    assert approval_refusal("shp-9", None, "confirmed") is None
    assert approval_refusal("shp-9", "awaiting", "dispatched") is None


def test_the_approval_survives_the_dict_round_trip_and_an_unknown_one_is_refused() -> None:
    shipment = _national("approved")
    assert Shipment.from_dict(json.loads(json.dumps(shipment.to_dict()))) == shipment
    old = {k: v for k, v in shipment.to_dict().items() if k != "approval"}
    assert Shipment.from_dict(old).approval == "not_required"  # a row from before the gate
    with pytest.raises(InvalidInput, match="approval"):
        _national("maybe")


def test_a_decline_stands_until_the_need_grows_by_a_quarter() -> None:
    assert MATERIAL_GROWTH == 0.25
    assert decline_stands(480.0, 480.0)
    assert decline_stands(480.0, 100.0)  # shrank: still declined
    assert decline_stands(480.0, 599.0)  # +24.8 %
    assert not decline_stands(480.0, 600.0)  # +25 %: material
    assert decline_stands(2, 2) and not decline_stands(2, 3)  # teams: one more of two
    assert not decline_stands(1, 2)
    assert not decline_stands(0, 1)  # a need that appeared from nothing
    assert decline_stands(0, 0)
    with pytest.raises(InvalidInput, match="need_now"):
        decline_stands(1, -1)
    with pytest.raises(InvalidInput, match="growth"):
        decline_stands(1, 1, growth=0)


@given(st.floats(0, 1e6), st.floats(0, 1e6))
def test_a_decline_lapses_exactly_when_the_need_grew_materially(before: float,
                                                                now: float) -> None:
    lapsed = now > before and now >= before * (1 + MATERIAL_GROWTH)
    assert decline_stands(before, now) is not lapsed
    if now <= before:
        assert decline_stands(before, now)
