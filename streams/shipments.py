"""Topic ``siaga.shipments``: warehouse staff and receiving posts move shipments; coordinators
hold them. Stock moves follow from the shipment's state (see ``streams/planning.py``)."""

from __future__ import annotations

from typing import Any

from siaga.events import ShipmentHoldChanged, ShipmentStatusChanged
from streams.ingest import apply_shipment_hold, apply_shipment_status
from streams.plumbing import register_ingest


def register(ctx: Any) -> None:
    register_ingest(
        ctx,
        "shipments",
        {
            ShipmentStatusChanged.model_fields["type"].default: (
                "shipments",
                apply_shipment_status,
            ),
            ShipmentHoldChanged.model_fields["type"].default: ("shipments", apply_shipment_hold),
        },
    )
