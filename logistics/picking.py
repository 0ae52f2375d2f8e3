"""Which batches to pick for a shipment: first expiry, first out (FEFO), with the 75-day rule.

Batches that expire fewer than :data:`logistics.stock.MIN_DAYS_BEFORE_EXPIRY` days from the
pick date are not picked: Kemensos distributes items at least 75 days before expiry (rule
issued after expired family kits were handed out in 2024; see REFERENCE.md). Batches without
an expiry date go last. The warehouse desk's suggestion (API) and the allocator's release
rules use this one rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from logistics.stock import MIN_DAYS_BEFORE_EXPIRY


@dataclass
class PickSuggestion:
    """Picks covering a quantity; ``short`` is what eligible batches cannot cover, and
    ``excluded`` the batches refused by the 75-day rule (with the reason)."""

    batches: list[dict[str, Any]] = field(default_factory=list)
    short: float = 0.0
    excluded: list[dict[str, Any]] = field(default_factory=list)


def _expiry(batch: Mapping[str, Any]) -> date | None:
    value = batch.get("expires_on")
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def suggest_batches(
    stock_batches: Sequence[Mapping[str, Any]], quantity: float, today: date
) -> PickSuggestion:
    """FEFO picks covering ``quantity`` (item units) from ``stock_batches``
    (``{batch_id, quantity, expires_on}``, ISO dates) on the pick date ``today``."""
    cutoff = today + timedelta(days=MIN_DAYS_BEFORE_EXPIRY)
    suggestion = PickSuggestion()
    eligible: list[tuple[date, Mapping[str, Any]]] = []
    for batch in stock_batches:
        expiry = _expiry(batch)
        if expiry is not None and expiry < cutoff:
            suggestion.excluded.append(
                {
                    "batch_id": batch["batch_id"],
                    "expires_on": batch.get("expires_on"),
                    "reason": f"expires within {MIN_DAYS_BEFORE_EXPIRY} days",
                }
            )
            continue
        if float(batch.get("quantity") or 0) > 0:
            eligible.append((expiry or date.max, batch))
    eligible.sort(key=lambda pair: (pair[0], str(pair[1]["batch_id"])))
    remaining = quantity
    for _, batch in eligible:
        if remaining <= 1e-9:
            break
        take = min(remaining, float(batch["quantity"]))
        suggestion.batches.append(
            {"batch_id": batch["batch_id"], "quantity": take, "expires_on": batch.get("expires_on")}
        )
        remaining -= take
    suggestion.short = max(0.0, remaining)
    return suggestion
