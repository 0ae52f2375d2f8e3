"""The desk's stock movements folded into a batch: goods received add, a count replaces (the
difference is the adjustment), a write-off subtracts; the worker refuses what the caller's
scope, the catalogue or the batch does not allow."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siaga.events import GoodsReceived, InvalidRecord, StockCounted, StockWrittenOff
from streams.ingest import batch_entity_id, record_departure
from streams.warehouses import (
    apply_goods_received,
    apply_stock_counted,
    apply_stock_written_off,
    available,
    stock_card_changes,
)

WH = "wh-gudang-uji"
T0 = datetime(2022, 11, 21, 8, 0, tzinfo=UTC)
KEY = batch_entity_id(WH, "B-1")


def _base(minutes: int, source: str = f"warehouse:{WH}") -> dict[str, Any]:
    return {"event_id": uuid.uuid4(), "occurred_at": T0 + timedelta(minutes=minutes),
            "source": source, "schema_version": 1, "warehouse_id": WH, "province_code": "32",
            "batch_id": "B-1"}


def receipt(minutes: int, quantity: float, **kw: Any) -> GoodsReceived:
    fields = {"item": "rice", "unit": "kg", "origin": "donation", "donor": "Warga Bandung",
              "document_number": "BAST-1", "received_by": "Rina",
              "expires_on": date(2027, 1, 1), **kw}
    return GoodsReceived(**{**_base(minutes, fields.pop("source", f"warehouse:{WH}")),
                            **fields}, quantity=quantity)


def count(minutes: int, counted: float) -> StockCounted:
    return StockCounted(**_base(minutes), item="rice", unit="kg", counted=counted,
                        reason="stock opname", counted_by="Rina")


def write_off(minutes: int, quantity: float) -> StockWrittenOff:
    return StockWrittenOff(**_base(minutes), item="rice", unit="kg", quantity=quantity,
                           reason_code="damaged", reason="karung sobek", written_off_by="Rina")


def test_a_receipt_creates_the_batch_and_a_second_adds_to_it() -> None:
    state: dict[str, Any] = {}
    apply_goods_received(state, receipt(0, 1000))
    apply_goods_received(state, receipt(5, 250))
    assert available(state[KEY]) == 1250
    assert state[KEY]["expires_on"] == "2027-01-01"
    assert state[KEY]["last_movement"]["change"] == 250
    assert state[KEY]["last_movement"]["balance"] == 1250


def test_a_redelivered_receipt_counts_once() -> None:
    state: dict[str, Any] = {}
    event = receipt(0, 1000)
    apply_goods_received(state, event)
    assert apply_goods_received(state, event) is None
    assert available(state[KEY]) == 1000


def test_a_count_replaces_on_hand_and_records_the_difference() -> None:
    state: dict[str, Any] = {}
    apply_goods_received(state, receipt(0, 1000))
    apply_stock_counted(state, count(10, 980))
    assert available(state[KEY]) == 980
    assert state[KEY]["last_movement"]["kind"] == "count"
    assert state[KEY]["last_movement"]["change"] == -20


def test_a_count_sees_what_left_by_shipment_before_it_as_expected() -> None:
    state: dict[str, Any] = {}
    apply_goods_received(state, receipt(0, 1000))
    left = record_departure(state[KEY], "shp-1", 300, (T0 + timedelta(minutes=5)).isoformat())
    assert left is not None
    state[KEY] = left
    assert available(state[KEY]) == 700
    apply_stock_counted(state, count(10, 700))
    assert state[KEY]["last_movement"]["change"] == 0
    assert available(state[KEY]) == 700


def test_a_receipt_older_than_the_last_count_is_in_the_count() -> None:
    state: dict[str, Any] = {}
    apply_goods_received(state, receipt(0, 1000))
    apply_stock_counted(state, count(10, 1000))
    assert apply_goods_received(state, receipt(5, 400)) is None
    assert available(state[KEY]) == 1000


def test_a_write_off_subtracts_and_cannot_take_more_than_the_batch_holds() -> None:
    state: dict[str, Any] = {}
    apply_goods_received(state, receipt(0, 100))
    apply_stock_written_off(state, write_off(1, 30))
    assert available(state[KEY]) == 70
    assert state[KEY]["last_movement"]["change"] == -30
    with pytest.raises(InvalidRecord, match="quantity"):
        apply_stock_written_off(state, write_off(2, 71))
    assert available(state[KEY]) == 70


def test_a_write_off_of_an_unknown_batch_is_refused() -> None:
    with pytest.raises(InvalidRecord, match="batch_id"):
        apply_stock_written_off({}, write_off(1, 1))


def test_another_warehouses_staff_cannot_record_stock_here() -> None:
    with pytest.raises(InvalidRecord, match="source"):
        apply_goods_received({}, receipt(0, 10, source="warehouse:wh-lain"))
    state: dict[str, Any] = {}
    apply_goods_received(state, receipt(0, 10, source="admin:ops"))
    assert available(state[KEY]) == 10


def test_the_unit_and_item_must_be_the_catalogues_and_a_batch_keeps_its_item() -> None:
    with pytest.raises(InvalidRecord, match="unit"):
        apply_goods_received({}, receipt(0, 10, unit="sak"))
    state: dict[str, Any] = {}
    apply_goods_received(state, receipt(0, 10))
    with pytest.raises(InvalidRecord, match="batch_id"):
        apply_goods_received(state, receipt(1, 10, item="drinking_water", unit="L"))


def test_a_donation_names_its_donor() -> None:
    with pytest.raises(ValueError, match="donor"):
        receipt(0, 10, donor=None)
    assert receipt(0, 10, origin="procurement", donor=None).donor is None


def test_every_movement_is_one_stock_card_line_and_a_receipt_its_note() -> None:
    state: dict[str, Any] = {}
    event = receipt(0, 10)
    apply_goods_received(state, event)
    changes = stock_card_changes(event, state[KEY])
    assert [c["entity"] for c in changes] == [f"stockcard:{WH}:rice", "receipt"]
    assert {c["id"] for c in changes} == {str(event.event_id)}
    assert changes[0]["data"]["donor"] == "Warga Bandung"
    counted = count(1, 9)
    apply_stock_counted(state, counted)
    assert [c["entity"] for c in stock_card_changes(counted, state[KEY])] == [
        f"stockcard:{WH}:rice"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["in", "out", "count"]),
                          st.integers(min_value=1, max_value=500)), max_size=25))
def test_stock_never_goes_negative_and_follows_the_movements(
    moves: list[tuple[str, int]],
) -> None:
    state: dict[str, Any] = {}
    expected = 0
    for minute, (kind, quantity) in enumerate(moves, start=1):
        try:
            if kind == "in":
                apply_goods_received(state, receipt(minute, quantity))
                expected += quantity
            elif kind == "out":
                apply_stock_written_off(state, write_off(minute, quantity))
                expected -= quantity
            elif KEY in state:
                apply_stock_counted(state, count(minute, quantity))
                expected = quantity
        except InvalidRecord:
            assert kind == "out"  # only a write-off beyond stock (or of no batch) is refused
        if KEY in state:
            assert available(state[KEY]) == expected >= 0


def test_a_dispatch_is_a_stock_card_line_with_the_shipment_and_the_balance_after() -> None:
    from streams.warehouses import dispatch_change

    state: dict[str, Any] = {}
    apply_goods_received(state, receipt(0, 1000))
    at = (T0 + timedelta(minutes=5)).isoformat()
    left = record_departure(state[KEY], "shp-1", 300, at)
    assert left is not None
    change = dispatch_change("32", left, {"shipment_id": "shp-1", "shelter_id": "sh-1",
                                          "dispatched_at": at}, 300, "GOR Pajajaran")
    assert change["entity"] == f"stockcard:{WH}:rice" and change["id"] == "shp-1:B-1"
    line = change["data"]
    assert (line["kind"], line["change"], line["balance"], line["shelter_name"]) == (
        "dispatch", -300, 700, "GOR Pajajaran")


def test_a_warehouse_systems_stock_level_is_a_stock_card_line_with_the_difference() -> None:
    from siaga.events import StockLevelReported
    from streams.warehouses import apply_stock_level_reported

    state: dict[str, Any] = {}
    apply_goods_received(state, receipt(0, 1000))
    base = _base(10, source="warehouse-system:sap")
    reported = StockLevelReported(**base, item="rice", unit="kg", quantity=940)
    apply_stock_level_reported(state, reported)
    assert available(state[KEY]) == 940
    line = state[KEY]["last_movement"]
    assert (line["kind"], line["change"], line["balance"], line["recorded_by"]) == (
        "level_reported", -60, 940, "warehouse-system:sap")
    assert apply_stock_level_reported(state, reported) is None  # redelivered: nothing new
    assert [c["entity"] for c in stock_card_changes(reported, state[KEY])] == [
        f"stockcard:{WH}:rice"]
