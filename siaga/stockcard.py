"""The stock card and goods-received notes as read models (shared by the worker and the API).

A stock card is the list of one item's movements at one warehouse: every receipt, count
and write-off, with who and why. A real warehouse has thousands of movements, so each
movement is its own read-model entity (one small hash), indexed in a sorted set per
warehouse and item (score = when it happened): the API pages through it, nothing grows in
one record. Every receipt is also its own entity (``receipt``, id = the event id): the
printable goods-received note, and for a donation the receipt for the donor.
"""

from __future__ import annotations

from typing import Any

from siaga import events as ev

RECEIPT_ENTITY = "receipt"
MOVEMENT_KINDS = ("receipt", "count", "write_off", "level_reported", "dispatch")


def stock_card_entity(warehouse_id: str, item: str) -> str:
    """The read-model entity name of one item's stock card at one warehouse."""
    return f"stockcard:{warehouse_id}:{item}"


def movement_of(
    event: ev.GoodsReceived | ev.StockCounted | ev.StockWrittenOff | ev.StockLevelReported,
    change: float,
    balance: float,
) -> dict[str, Any]:
    """One line of the stock card: the signed ``change`` to the batch and its ``balance``
    after the movement (units of the item's catalogue unit)."""
    base: dict[str, Any] = {
        "movement_id": str(event.event_id),
        "warehouse_id": event.warehouse_id,
        "province_code": event.province_code,
        "item": event.item,
        "unit": event.unit,
        "batch_id": event.batch_id,
        "change": change,
        "balance": balance,
        "at": event.occurred_at.isoformat(),
        "recorded_by": event.source,
    }
    if isinstance(event, ev.GoodsReceived):
        return {
            **base,
            "kind": "receipt",
            "by": event.received_by,
            "origin": event.origin,
            "donor": event.donor,
            "document_number": event.document_number,
            "expires_on": event.expires_on.isoformat() if event.expires_on else None,
            "reason": event.note,
        }
    if isinstance(event, ev.StockLevelReported):
        # a warehouse system's report: a count without a person or a reason
        return {**base, "kind": "level_reported", "by": None, "counted": event.quantity,
                "reason": None}
    if isinstance(event, ev.StockCounted):
        return {**base, "kind": "count", "by": event.counted_by, "counted": event.counted,
                "reason": event.reason}
    return {
        **base,
        "kind": "write_off",
        "by": event.written_off_by,
        "reason_code": event.reason_code,
        "reason": event.reason,
        "document_number": event.document_number,
    }


def may_record(source: str, warehouse_id: str) -> bool:
    """A movement is recorded by the staff of the warehouse it concerns (source
    ``warehouse:<id>``, written by the API from the token's scope) or by an admin
    (``admin:…``)."""
    return source == f"warehouse:{warehouse_id}" or source.startswith("admin:")
