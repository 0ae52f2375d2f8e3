from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from logistics import InvalidInput, InvalidShipmentTransition, Shipment
from logistics.allocation import BatchPick

AT = datetime(2022, 11, 22, 8, 0, tzinfo=UTC)


def _proposed() -> Shipment:
    return Shipment("sh-1", "prop-1", "W1", "S1", "rice", 400,
                    batches=(BatchPick("B-12", 400, None),))


def test_happy_path_records_batches_and_delivery_difference() -> None:
    s, ev = _proposed().confirm([BatchPick("B-12", 390, None)], AT, "e1")
    assert (s.status, s.quantity, ev.kind) == ("confirmed", 390, "ShipmentConfirmed")
    s, ev = s.dispatch(AT, "e2")
    assert s.status == "dispatched"
    s, ev = s.deliver(385, AT, "e3")
    assert s.status == "delivered" and s.difference == -5
    assert ev.data == {"received_quantity": 385, "difference": -5}
    assert ev.event_id == "e3" and ev.shipment_id == "sh-1" and ev.occurred_at == AT
    assert Shipment.from_dict(json.loads(json.dumps(s.to_dict()))) == s


@pytest.mark.parametrize("path", [
    ["dispatch"], ["deliver"], ["confirm", "deliver"], ["confirm", "dispatch", "cancel"],
    ["cancel", "confirm"], ["reject", "dispatch"],
    ["confirm", "dispatch", "deliver", "cancel"],
])
def test_illegal_transitions_raise_a_domain_error(path: list[str]) -> None:
    s = _proposed()
    steps = {
        "confirm": lambda x: x.confirm([BatchPick("B-12", 1, None)], AT, "e"),
        "dispatch": lambda x: x.dispatch(AT, "e"),
        "deliver": lambda x: x.deliver(1, AT, "e"),
        "cancel": lambda x: x.cancel("no truck", AT, "e"),
        "reject": lambda x: x.reject("wrong item", AT, "e"),
    }
    with pytest.raises(InvalidShipmentTransition):
        for step in path:
            s, _ = steps[step](s)


def test_cancel_and_reject_need_a_reason_and_confirm_cannot_exceed_the_proposal() -> None:
    with pytest.raises(InvalidInput):
        _proposed().cancel("", AT, "e")
    with pytest.raises(InvalidInput):
        _proposed().confirm([BatchPick("B-12", 401, None)], AT, "e")
    s, ev = _proposed().reject("stock damaged", AT, "e")
    assert s.status == "rejected" and ev.data == {"reason": "stock damaged"}
    d, _ = _proposed().confirm([BatchPick("B-12", 400, None)], AT, "e")
    d, _ = d.dispatch(AT, "e")
    d, ev = d.reject("spoiled on arrival", AT, "e")
    assert d.status == "rejected"
