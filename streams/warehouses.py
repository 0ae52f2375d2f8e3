"""Topic ``siaga.warehouses``: warehouse registrations and stock counts → the stock table."""

from __future__ import annotations

from typing import Any

from siaga.events import StockLevelReported, WarehouseRegistered
from streams.ingest import apply_stock_level, apply_warehouse_registered
from streams.plumbing import register_ingest


def register(ctx: Any) -> None:
    register_ingest(
        ctx,
        "warehouses",
        {
            WarehouseRegistered.model_fields["type"].default: (
                "warehouses",
                apply_warehouse_registered,
            ),
            StockLevelReported.model_fields["type"].default: ("warehouses", apply_stock_level),
        },
    )
