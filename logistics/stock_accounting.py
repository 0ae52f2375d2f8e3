"""Stock accounting: what a batch physically holds, and where an item's stock stands.

A stock count is a snapshot: the units counted are on hand as of the count's time. A shipment
that left the warehouse (was dispatched) *after* the count has taken its units out of the
batch; one that left before is already excluded from the count. A departure counts once per
shipment, however many records of it there are.

An item's position at a warehouse is its units on hand (the sum over its batches), the units
*reserved* (shipments confirmed: picked from the batches, not yet left) and the units *in
transit* (shipments dispatched, not yet delivered).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

#: Shipment statuses whose units are reserved at the warehouse (picked, not yet left).
RESERVED: frozenset[str] = frozenset({"confirmed"})
#: Shipment statuses whose units are on the road (left the warehouse, not yet delivered).
IN_TRANSIT: frozenset[str] = frozenset({"dispatched"})


class Departure(NamedTuple):
    """``quantity`` whole units of a batch that left with shipment ``shipment_id`` at ``at``.
    (Named tuples: a province's accounting makes thousands, and they cost little.)"""

    shipment_id: str
    quantity: int
    at: datetime


def units_on_hand(counted: float, counted_at: datetime, departures: Iterable[Departure]) -> int:
    """Whole units physically in a batch: its last count, rounded down to whole units, minus
    the units that left after the count (never below zero).

    ``departures`` may name a shipment more than once (e.g. a departure recorded on the batch
    and the dispatched shipment itself): the last one given counts, once. Departures at or
    before ``counted_at`` are in the count already and take nothing more.
    """
    last: dict[str, Departure] = {}
    for departure in departures:
        last[departure.shipment_id] = departure
    left = sum(d.quantity for d in last.values() if d.at > counted_at)
    return max(0, int(math.floor(counted)) - left)


class BatchUnits(NamedTuple):
    """A batch's units on hand (see :func:`units_on_hand`) with what it holds and its expiry
    date (ISO ``YYYY-MM-DD``; None = does not expire)."""

    batch_id: str
    item_id: str
    unit: str
    units: int
    expires_on: str | None = None


class ShipmentUnits(NamedTuple):
    """A shipment's units of an item from a warehouse, and its lifecycle status
    (:data:`logistics.shipment.STATUSES`)."""

    item_id: str
    status: str
    quantity: int


@dataclass
class ItemStock:
    """One item's position at one warehouse, in the item's unit: ``on_hand`` (whole units in
    its batches), ``reserved`` (confirmed shipments), ``in_transit`` (dispatched shipments),
    and its batches (in the order given)."""

    item_id: str
    unit: str
    on_hand: int = 0
    reserved: int = 0
    in_transit: int = 0
    batches: list[BatchUnits] = field(default_factory=list)


def stock_by_item(
    batches: Iterable[BatchUnits], shipments: Iterable[ShipmentUnits]
) -> list[ItemStock]:
    """Each item's position at a warehouse from its batches and its shipments, by item id.

    An item's unit is its first batch's. Shipments of an item the warehouse holds no batch
    of change nothing; statuses other than :data:`RESERVED` and :data:`IN_TRANSIT` (proposed,
    delivered, cancelled, rejected) neither.
    """
    items: dict[str, ItemStock] = {}
    for batch in batches:
        stock = items.get(batch.item_id)
        if stock is None:
            stock = items[batch.item_id] = ItemStock(batch.item_id, batch.unit)
        stock.on_hand += batch.units
        stock.batches.append(batch)
    for shipment in shipments:
        stock = items.get(shipment.item_id)
        if stock is None:
            continue
        if shipment.status in RESERVED:
            stock.reserved += shipment.quantity
        elif shipment.status in IN_TRANSIT:
            stock.in_transit += shipment.quantity
    return [items[k] for k in sorted(items)]

