"""Stock accounting on a province's rows: what each batch holds, where each item stands.

The rules are :mod:`logistics.stock_accounting`'s; this module reads them off the rows: a
batch's count and the departures kept on it, the dispatched shipments still in the working
state, each shipment's status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from logistics.stock_accounting import (
    BatchUnits,
    Departure,
    ShipmentUnits,
    stock_by_item,
    units_on_hand,
)
from streams.planning.rows import ShipmentRow, View, WarehouseRow
from streams.planning.state import ProvinceState, parse_time


def shipments_by_warehouse(
    shipments: Mapping[str, ShipmentRow],
) -> dict[str, list[ShipmentRow]]:
    """The shipments of each warehouse (in table order)."""
    by: dict[str, list[ShipmentRow]] = {}
    for shipment in shipments.values():
        by.setdefault(shipment["warehouse_id"], []).append(shipment)
    return by


def _of_warehouse(state: ProvinceState, warehouse: WarehouseRow) -> list[ShipmentRow]:
    return [s for s in state.shipments.values()
            if s["warehouse_id"] == warehouse["warehouse_id"]]


def effective_on_hand(
    state: ProvinceState,
    warehouse: WarehouseRow,
    shipments: Iterable[ShipmentRow] | None = None,
) -> dict[str, int]:
    """Whole units physically in each batch: the last count minus what left after it
    (:func:`logistics.stock_accounting.units_on_hand`).

    What left is kept on the batch (``departures``, recorded when a shipment is dispatched,
    so it outlives the shipment in the working state); a dispatched shipment still in the
    state counts once either way. ``shipments`` are this warehouse's (all of the state's
    when omitted).
    """
    if shipments is None:
        shipments = _of_warehouse(state, warehouse)
    picks: dict[str, list[Departure]] = {}
    for shipment in shipments:
        dispatched_at = shipment.get("dispatched_at")
        if dispatched_at is None:
            continue
        at = parse_time(dispatched_at)
        for pick in shipment.get("batches", []):
            picks.setdefault(pick["batch_id"], []).append(
                Departure(shipment["shipment_id"], int(pick["quantity"]), at))
    out: dict[str, int] = {}
    for batch_id, batch in warehouse.get("batches", {}).items():
        left = picks.get(batch_id, [])
        recorded = batch.get("departures", ())
        if recorded:
            left = left + [Departure(d["shipment_id"], int(d["quantity"]), parse_time(d["at"]))
                           for d in recorded]
        out[batch_id] = units_on_hand(batch["on_hand"], parse_time(batch.get("counted_at")),
                                      left)
    return out


def stock_view(
    state: ProvinceState,
    warehouse: WarehouseRow,
    shipments: Iterable[ShipmentRow] | None = None,
) -> list[View]:
    """Per item: on hand, reserved (confirmed), in transit (dispatched, not yet delivered),
    and its batches with their units and expiry (the warehouse view's ``stock``)."""
    shipments = _of_warehouse(state, warehouse) if shipments is None else list(shipments)
    on_hand = effective_on_hand(state, warehouse, shipments)
    batches = [BatchUnits(batch_id, batch["item"], batch["unit"], on_hand[batch_id],
                          batch["expires_on"])
               for batch_id, batch in sorted(warehouse.get("batches", {}).items())]
    moving = [ShipmentUnits(s["item_id"], s["status"], s["quantity"]) for s in shipments]
    return [
        {
            "item": stock.item_id,
            "unit": stock.unit,
            "on_hand": stock.on_hand,
            "reserved": stock.reserved,
            "in_transit": stock.in_transit,
            "batches": [{"batch_id": b.batch_id, "quantity": b.units, "expires_on": b.expires_on}
                        for b in stock.batches],
        }
        for stock in stock_by_item(batches, moving)
    ]
