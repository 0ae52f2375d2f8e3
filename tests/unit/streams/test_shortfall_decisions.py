"""A coordinator's decision on a shortfall, in the worker's reducer (checked again after the API).

The API checks the caller's province; the reducer is the authority on the stream: a record
that is not a coordinator's, or names a shelter the keyed province does not hold, raises
InvalidRecord (parked on the dead-letter topic with the reason). The newest decision by event
time wins, whatever order the records arrive in.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from siaga import events as ev
from siaga.events import InvalidRecord
from streams.ingest import apply_shortfall_decision

T0 = datetime(2022, 11, 21, 9, 0, tzinfo=UTC)


def decision(minutes: int = 0, source: str = "coordinator:Pusdalops Jabar",
             **changes: Any) -> ev.ShortfallDecisionRecorded:
    fields: dict[str, Any] = dict(
        event_id=uuid.uuid4(), occurred_at=T0 + timedelta(minutes=minutes), source=source,
        schema_version=1, shelter_id="sh-cugenang", province_code="32", item="family_tent",
        decision="donor_request", note="120 tenda ke BAZNAS", coordinator="Pusdalops Jabar",
    )
    fields.update(changes)
    return ev.ShortfallDecisionRecorded(**fields)


def shelters() -> dict[str, Any]:
    return {"sh-cugenang": {"shelter_id": "sh-cugenang", "province_code": "32",
                            "name": "Lapangan Cibulakan", "headcount": {"total": 640}}}


def test_a_decision_is_kept_on_the_shelter_row_per_item() -> None:
    state = shelters()
    row = apply_shortfall_decision(state, decision())
    assert row is not None
    kept = state["sh-cugenang"]["decisions"]["family_tent"]
    assert kept["decision"] == "donor_request"
    assert kept["note"] == "120 tenda ke BAZNAS"
    assert kept["coordinator"] == "Pusdalops Jabar"
    assert state["sh-cugenang"]["headcount"] == {"total": 640}  # the rest of the row stays
    apply_shortfall_decision(state, decision(item="rice", decision="risk_accepted"))
    assert set(state["sh-cugenang"]["decisions"]) == {"family_tent", "rice"}


def test_the_newest_decision_wins_whatever_the_arrival_order() -> None:
    later = decision(minutes=10, decision="risk_accepted", note="stok datang besok")
    earlier = decision(minutes=1, decision="procurement_request", note="minta pengadaan")
    state = shelters()
    assert apply_shortfall_decision(state, later) is not None
    assert apply_shortfall_decision(state, earlier) is None  # older: no change
    assert state["sh-cugenang"]["decisions"]["family_tent"]["decision"] == "risk_accepted"
    assert apply_shortfall_decision(state, later) is None  # redelivery: no change


def test_a_shelter_outside_the_keyed_province_is_refused() -> None:
    with pytest.raises(InvalidRecord, match="shelter_id: no shelter 'sh-palu' in province 32"):
        apply_shortfall_decision(shelters(), decision(shelter_id="sh-palu"))


@pytest.mark.parametrize("source", ["posko:cianjur-kab", "warehouse:wh-bekasi", "transfer:x"])
def test_only_a_coordinator_records_a_decision(source: str) -> None:
    state = shelters()
    with pytest.raises(InvalidRecord, match="source: only a coordinator"):
        apply_shortfall_decision(state, decision(source=source))
    assert "decisions" not in state["sh-cugenang"]


def test_the_wire_model_refuses_an_unknown_decision_and_an_empty_note() -> None:
    with pytest.raises(ValueError, match="decision"):
        decision(decision="ignore")
    with pytest.raises(ValueError, match="note"):
        decision(note="")
