"""Topic ``siaga.warehouses``: warehouse registrations (one row per warehouse) and stock
(one row per stock batch ``<warehouse>/<batch>``).

Stock reaches a batch four ways: a stock level a warehouse system reports (a count that
replaces what is known), and the desk's goods received (adds), stock counts (replace; the
difference is the adjustment) and write-offs (subtracts). The desk's movements are
checked again here, whatever the API did: the source must be the staff of that warehouse
(or an admin), the item and unit must be the catalogue's, a batch keeps its item, and a
write-off cannot take more than the batch holds; otherwise the record is dead-lettered
with the reason. Each movement also goes to the read models as one line of the item's
stock card (and a receipt as its goods-received note), see :mod:`siaga.stockcard`.

A receipt or write-off is applied once per event id: the batch keeps the ids applied
since its last count (a count clears them). One that happened before the batch's last
count is already in that count and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from logistics.stock_accounting import Departure, units_on_hand
from siaga.events import (
    GoodsReceived,
    InvalidRecord,
    StockCounted,
    StockLevelReported,
    StockWrittenOff,
    WarehouseRegistered,
)
from siaga.stockcard import RECEIPT_ENTITY, may_record, movement_of, stock_card_entity
from streams.changes import make_change, version_of
from streams.ingest import apply_batch_count, apply_warehouse_registered, batch_entity_id
from streams.plumbing import Route, register_ingest, send_change

Movement = GoodsReceived | StockCounted | StockWrittenOff | StockLevelReported
MAX_APPLIED = 1000  # receipts and write-offs remembered per batch between two counts


def _check(event: Movement, batch: dict[str, Any] | None) -> None:
    from logistics.catalogue import default_catalogue

    if not may_record(event.source, event.warehouse_id):
        raise InvalidRecord(
            f"source: {event.source!r} may not record stock of warehouse {event.warehouse_id} "
            f"(only warehouse:{event.warehouse_id} or an admin)"
        )
    catalogue = default_catalogue()
    if event.item not in catalogue:
        raise InvalidRecord(f"item: {event.item!r} is not in the catalogue")
    unit = catalogue.get(event.item).unit
    if event.unit != unit:
        raise InvalidRecord(f"unit: {event.item} is counted in {unit!r}, not {event.unit!r}")
    if batch is not None and batch.get("item") != event.item:
        raise InvalidRecord(
            f"batch_id: batch {event.batch_id} of {event.warehouse_id} holds "
            f"{batch.get('item')}, not {event.item}"
        )


def available(batch: dict[str, Any]) -> int:
    """Whole units physically in the batch: its on-hand figure minus what left after it
    (the core's rule, :func:`logistics.stock_accounting.units_on_hand`)."""
    left = [Departure(d["shipment_id"], int(d["quantity"]), _time(d["at"]))
            for d in batch.get("departures", ())]
    return units_on_hand(float(batch.get("on_hand") or 0), _time(batch.get("counted_at")), left)


def _time(text: str | None) -> datetime:
    return datetime.fromisoformat(text) if text else datetime(1970, 1, 1, tzinfo=UTC)


def _already_applied(batch: dict[str, Any] | None, event: Movement) -> bool:
    if batch is None:
        return False
    if str(event.event_id) in batch.get("applied", ()):
        return True
    # A movement older than the batch's last count is already in that count.
    return bool(batch.get("version")) and event.occurred_at.isoformat() <= str(
        batch.get("counted_at") or "")


def _moved(batch: dict[str, Any], event: Movement, change: float) -> dict[str, Any]:
    applied = [*batch.get("applied", ()), str(event.event_id)]
    if len(applied) > MAX_APPLIED:
        raise InvalidRecord(
            f"batch_id: batch {event.batch_id} has {MAX_APPLIED} receipts and write-offs since "
            "its last count; count it first"
        )
    moved = dict(batch, on_hand=float(batch.get("on_hand") or 0) + change, applied=applied)
    moved["last_movement"] = movement_of(event, change, available(moved))
    return moved


def apply_goods_received(state: dict[str, Any], event: GoodsReceived) -> dict[str, Any] | None:
    key = batch_entity_id(event.warehouse_id, event.batch_id)
    batch = state.get(key)
    _check(event, batch)
    if _already_applied(batch, event):
        return None
    at = event.occurred_at.isoformat()
    if batch is None:
        # A new batch: nothing left it before it arrived, so its "count" time is now.
        batch = {
            "batch_id": event.batch_id, "warehouse_id": event.warehouse_id,
            "item": event.item, "unit": event.unit, "on_hand": 0.0,
            "expires_on": event.expires_on.isoformat() if event.expires_on else None,
            "version": "", "counted_at": at, "departures": [], "applied": [],
        }
    elif batch.get("expires_on") is None and event.expires_on is not None:
        batch = dict(batch, expires_on=event.expires_on.isoformat())
    moved = _moved(batch, event, float(event.quantity))
    state[key] = moved
    return moved


def apply_stock_written_off(
    state: dict[str, Any], event: StockWrittenOff
) -> dict[str, Any] | None:
    key = batch_entity_id(event.warehouse_id, event.batch_id)
    batch = state.get(key)
    _check(event, batch)
    if batch is None:
        raise InvalidRecord(
            f"batch_id: warehouse {event.warehouse_id} holds no batch {event.batch_id!r}")
    if _already_applied(batch, event):
        return None
    there = available(batch)
    if event.quantity > there + 1e-9:
        raise InvalidRecord(
            f"quantity: cannot write off {event.quantity:g} {event.unit}; batch "
            f"{event.batch_id} holds {there:g}"
        )
    moved = _moved(batch, event, -float(event.quantity))
    state[key] = moved
    return moved


def apply_stock_counted(state: dict[str, Any], event: StockCounted) -> dict[str, Any] | None:
    """The count is the batch's quantity on hand from now on; departures after it still
    leave it. The adjustment on the stock card is the difference from what was expected."""
    key = batch_entity_id(event.warehouse_id, event.batch_id)
    batch = state.get(key)
    _check(event, batch)
    version = version_of(event.occurred_at, str(event.event_id))
    if batch is not None and str(batch.get("version") or "") >= version:
        return None
    at = event.occurred_at.isoformat()
    expected = available(batch) if batch is not None else 0
    counted = {
        "batch_id": event.batch_id, "warehouse_id": event.warehouse_id, "item": event.item,
        "unit": event.unit, "on_hand": float(event.counted),
        "expires_on": (batch or {}).get("expires_on"), "version": version, "counted_at": at,
        "departures": [d for d in (batch or {}).get("departures", []) if d["at"] > at],
        "applied": [],
    }
    counted["last_movement"] = movement_of(
        event, float(event.counted) - expected, available(counted))
    state[key] = counted
    return counted


def apply_stock_level_reported(
    state: dict[str, Any], event: StockLevelReported
) -> dict[str, Any] | None:
    """A warehouse system's stock level (see :func:`streams.ingest.apply_batch_count`), kept
    on the stock card too, with the difference from what was expected."""
    key = batch_entity_id(event.warehouse_id, event.batch_id)
    before = state.get(key)
    expected = available(before) if before is not None else 0
    row = apply_batch_count(state, event)
    if row is None:
        return None
    row = dict(row, last_movement=movement_of(
        event, float(event.quantity) - expected, available(row)))
    state[key] = row
    return row


def stock_card_changes(event: Movement, batch: dict[str, Any]) -> list[dict[str, Any]]:
    """The read-model changes of one movement: its stock-card line, and for a receipt the
    goods-received note."""
    movement = batch["last_movement"]
    version = version_of(event.occurred_at, str(event.event_id))
    score = event.occurred_at.timestamp()
    changes = [make_change(stock_card_entity(event.warehouse_id, event.item),
                           movement["movement_id"], event.province_code, version, movement,
                           score)]
    if isinstance(event, GoodsReceived):
        changes.append(make_change(RECEIPT_ENTITY, movement["movement_id"],
                                   event.province_code, version, movement, score))
    return changes


def register(ctx: Any) -> None:
    async def project(event: Movement, batch: dict[str, Any]) -> Any:
        import asyncio

        futures = [await send_change(ctx, change) for change in stock_card_changes(event, batch)]
        return asyncio.gather(*futures)

    def batch_of(e: Any) -> str:
        return batch_entity_id(e.warehouse_id, e.batch_id)

    register_ingest(
        ctx,
        "warehouses",
        {
            WarehouseRegistered.model_fields["type"].default: Route(
                "warehouses", lambda e: str(e.warehouse_id), apply_warehouse_registered),
            StockLevelReported.model_fields["type"].default: Route(
                "batches", batch_of, apply_stock_level_reported, after_apply=project),
            GoodsReceived.model_fields["type"].default: Route(
                "batches", batch_of, apply_goods_received, after_apply=project),
            StockCounted.model_fields["type"].default: Route(
                "batches", batch_of, apply_stock_counted, after_apply=project),
            StockWrittenOff.model_fields["type"].default: Route(
                "batches", batch_of, apply_stock_written_off, after_apply=project),
        },
    )


def dispatch_change(
    province: str, batch: dict[str, Any], shipment: dict[str, Any], quantity: int,
    shelter_name: str | None = None,
) -> dict[str, Any]:
    """The stock-card line of a shipment leaving with ``quantity`` of ``batch`` (the batch as
    it is after the departure): one line per shipment and batch, so a redelivery rewrites the
    same line."""
    from datetime import datetime

    at = str(shipment["dispatched_at"])
    line_id = f"{shipment['shipment_id']}:{batch['batch_id']}"
    movement = {
        "movement_id": line_id, "kind": "dispatch", "warehouse_id": batch["warehouse_id"],
        "province_code": province, "item": batch["item"], "unit": batch["unit"],
        "batch_id": batch["batch_id"], "change": -float(quantity), "balance": available(batch),
        "at": at, "recorded_by": f"warehouse:{batch['warehouse_id']}", "by": None,
        "shipment_id": shipment["shipment_id"], "shelter_id": shipment.get("shelter_id"),
        "shelter_name": shelter_name, "reason": None,
    }
    when = datetime.fromisoformat(at)
    return make_change(stock_card_entity(batch["warehouse_id"], batch["item"]), line_id,
                       province, version_of(when, line_id), movement, when.timestamp())
