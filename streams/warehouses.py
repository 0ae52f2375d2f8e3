"""Topic ``siaga.warehouses``: warehouse registrations (one row per warehouse) and stock
counts (one row per stock batch)."""

from __future__ import annotations

from typing import Any

from siaga.events import StockLevelReported, WarehouseRegistered
from streams.ingest import apply_batch_count, apply_warehouse_registered, batch_entity_id
from streams.plumbing import Route, register_ingest


def register(ctx: Any) -> None:
    register_ingest(
        ctx,
        "warehouses",
        {
            WarehouseRegistered.model_fields["type"].default: Route(
                "warehouses", lambda e: str(e.warehouse_id), apply_warehouse_registered),
            StockLevelReported.model_fields["type"].default: Route(
                "batches", lambda e: batch_entity_id(e.warehouse_id, e.batch_id),
                apply_batch_count),
        },
    )
