"""The API's shipment check and the worker's state machine are one table (they disagreed)."""

from __future__ import annotations

import itertools

import pytest
from fastapi import HTTPException

from api.shipments import check_transition
from logistics.shipment import STATUSES, TRANSITIONS


@pytest.mark.parametrize(("current", "target"), list(itertools.product(STATUSES, STATUSES)))
def test_the_api_allows_exactly_the_moves_the_state_machine_allows(
    current: str, target: str
) -> None:
    shipment = {"shipment_id": "shp-1", "status": current, "held": False}
    if target == "proposed":
        return  # nothing moves back to proposed; the API has no such route
    if target in TRANSITIONS[current]:
        check_transition(shipment, target)
    else:
        with pytest.raises(HTTPException) as refused:
            check_transition(shipment, target)
        assert refused.value.status_code == 409
        assert "status:" in str(refused.value.detail)
