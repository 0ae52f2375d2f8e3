"""A public kitchen has no posko: the worker lets only a team running it, a coordinator or an
admin confirm ingredients delivered to it (the API checks first, from a read model that may
lag); anyone else's confirmation raises InvalidRecord("source: …") and is dead-lettered."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from siaga import events as ev
from siaga.events import InvalidRecord
from streams.shipments import check_kitchen_receipt

SHIPMENT = {"shipment_id": "shp-1", "shelter_id": "dapur-balaroa", "warehouse_id": "wh-palu"}
KITCHEN = {"kitchen_id": "dapur-balaroa", "team_ids": ["tagana-palu-01", "tagana-gtlo"]}


def delivered(source: str) -> ev.ShipmentStatusChanged:
    return ev.ShipmentStatusChanged(
        event_id=uuid.uuid4(), occurred_at=datetime(2018, 10, 4, 6, tzinfo=UTC), source=source,
        schema_version=1, shipment_id="shp-1", province_code="72", warehouse_id="wh-palu",
        status="delivered", quantity_received=400)


@pytest.mark.parametrize("source", ["team:tagana-palu-01", "team:tagana-gtlo",
                                    "coordinator:coord-sulteng", "admin:ops"])
def test_a_team_running_the_kitchen_or_a_coordinator_confirms_its_delivery(source: str) -> None:
    check_kitchen_receipt(SHIPMENT, KITCHEN, delivered(source))


@pytest.mark.parametrize("source", ["posko:posko-palu", "team:tagana-sigi",
                                    "team:tagana-palu-01x", "warehouse_staff:gudang"])
def test_a_posko_or_another_team_cannot_confirm_a_kitchens_delivery(source: str) -> None:
    with pytest.raises(InvalidRecord) as refused:
        check_kitchen_receipt(SHIPMENT, KITCHEN, delivered(source))
    assert refused.value.reason.startswith("source: shipment shp-1 goes to kitchen "
                                           "dapur-balaroa")
    assert source in refused.value.reason


def test_a_kitchen_without_teams_takes_only_a_coordinators_confirmation() -> None:
    kitchen: dict[str, Any] = {"kitchen_id": "dapur-balaroa", "team_ids": []}
    check_kitchen_receipt(SHIPMENT, kitchen, delivered("coordinator:c"))
    with pytest.raises(InvalidRecord):
        check_kitchen_receipt(SHIPMENT, kitchen, delivered("team:tagana-palu-01"))
