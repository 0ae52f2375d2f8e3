"""First expiry, first out — never a batch that expires within 75 days."""

from __future__ import annotations

from datetime import date

from logistics.picking import suggest_batches

TODAY = date(2022, 11, 21)


def test_earliest_expiring_eligible_batch_is_picked_first() -> None:
    batches = [
        {"batch_id": "late", "quantity": 500, "expires_on": "2024-01-01"},
        {"batch_id": "early", "quantity": 300, "expires_on": "2023-06-01"},
        {"batch_id": "undated", "quantity": 900, "expires_on": None},
    ]
    suggestion = suggest_batches(batches, 400, TODAY)
    assert [(b["batch_id"], b["quantity"]) for b in suggestion.batches] == [
        ("early", 300),
        ("late", 100),
    ]
    assert suggestion.short == 0


def test_batches_within_75_days_of_expiry_are_not_suggested() -> None:
    batches = [
        {"batch_id": "soon", "quantity": 1000, "expires_on": "2023-01-15"},
        {"batch_id": "ok", "quantity": 100, "expires_on": "2023-03-01"},
    ]
    suggestion = suggest_batches(batches, 400, TODAY)
    assert [b["batch_id"] for b in suggestion.batches] == ["ok"]
    assert suggestion.short == 300
    assert suggestion.excluded[0]["batch_id"] == "soon"
