"""Which batches to pick for a shipment: first expiry, first out (FEFO).

A suggestion for the warehouse desk, computed from the warehouse read model.
Batches that expire fewer than 75 days from today are not suggested: Kemensos
distributes items at least 75 days before expiry (rule issued after expired
family kits were handed out in 2024; see REFERENCE.md). Batches without an
expiry date go last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

MIN_DAYS_BEFORE_EXPIRY = 75


@dataclass
class PickSuggestion:
    batches: list[dict[str, Any]] = field(default_factory=list)
    short: float = 0.0
    excluded: list[dict[str, Any]] = field(default_factory=list)


def _expiry(batch: dict[str, Any]) -> date | None:
    value = batch.get("expires_on")
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def suggest_batches(
    stock_batches: list[dict[str, Any]], quantity: float, today: date
) -> PickSuggestion:
    """FEFO picks covering ``quantity`` (item units) from ``stock_batches`` [{batch_id,
    quantity, expires_on}]; ``short`` is what the eligible batches cannot cover."""
    cutoff = today + timedelta(days=MIN_DAYS_BEFORE_EXPIRY)
    suggestion = PickSuggestion()
    eligible: list[tuple[date, dict[str, Any]]] = []
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
