"""Which batches to pick for a shipment: the warehouse desk's suggestion is logistics' rule
(first expiry first out, nothing within 75 days of expiry): :mod:`logistics.picking`."""

from __future__ import annotations

from logistics.picking import PickSuggestion, suggest_batches
from logistics.stock import MIN_DAYS_BEFORE_EXPIRY

__all__ = ["MIN_DAYS_BEFORE_EXPIRY", "PickSuggestion", "suggest_batches"]
