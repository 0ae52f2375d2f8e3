"""Stock accounting: a batch holds its last count minus what left after it; an item's stock
is on hand, reserved (confirmed) and in transit (dispatched)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from logistics.stock_accounting import (
    BatchUnits,
    Departure,
    ShipmentUnits,
    stock_by_item,
    units_on_hand,
)

COUNTED = datetime(2022, 11, 21, 8, 0, tzinfo=UTC)


def test_a_departure_after_the_count_leaves_the_batch() -> None:
    left = [Departure("shp-1", 30, COUNTED + timedelta(hours=1))]
    assert units_on_hand(100, COUNTED, left) == 70


def test_a_departure_before_the_count_is_already_in_it() -> None:
    left = [Departure("shp-1", 30, COUNTED - timedelta(hours=1)),
            Departure("shp-2", 5, COUNTED)]
    assert units_on_hand(100, COUNTED, left) == 100


def test_a_shipment_recorded_twice_leaves_once_and_the_last_record_counts() -> None:
    after = COUNTED + timedelta(hours=2)
    left = [Departure("shp-1", 30, after), Departure("shp-1", 20, after)]
    assert units_on_hand(100, COUNTED, left) == 80


def test_a_count_counts_whole_units() -> None:
    assert units_on_hand(99.9, COUNTED, []) == 99


def test_never_less_than_nothing_on_hand() -> None:
    left = [Departure("shp-1", 30, COUNTED + timedelta(hours=1))]
    assert units_on_hand(10, COUNTED, left) == 0


@given(
    counted=st.floats(min_value=0, max_value=1e7, allow_nan=False),
    departures=st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]),
                                  st.integers(min_value=0, max_value=10**6),
                                  st.integers(min_value=-48, max_value=48)), max_size=12),
)
def test_stock_is_never_negative_and_each_shipment_leaves_once(
    counted: float, departures: list[tuple[str, int, int]]
) -> None:
    left = [Departure(s, q, COUNTED + timedelta(hours=h)) for s, q, h in departures]
    units = units_on_hand(counted, COUNTED, left)
    assert units >= 0
    last = {s: (q, h) for s, q, h in departures}
    assert units == max(0, int(counted) - sum(q for q, h in last.values() if h > 0))
    assert units_on_hand(counted, COUNTED, left + left) == units  # redelivered: same


def test_an_items_stock_is_on_hand_reserved_and_in_transit() -> None:
    batches = [BatchUnits("b-2", "rice", "kg", 40, "2023-06-01"),
               BatchUnits("b-1", "rice", "kg", 60, None),
               BatchUnits("w-1", "drinking_water", "L", 500)]
    shipments = [ShipmentUnits("rice", "confirmed", 25), ShipmentUnits("rice", "dispatched", 10),
                 ShipmentUnits("rice", "proposed", 99), ShipmentUnits("rice", "delivered", 7),
                 ShipmentUnits("blanket", "confirmed", 3)]
    water, rice = stock_by_item(batches, shipments)
    assert (rice.item_id, rice.unit, rice.on_hand, rice.reserved, rice.in_transit) == (
        "rice", "kg", 100, 25, 10)
    assert [b.batch_id for b in rice.batches] == ["b-2", "b-1"]  # as given
    assert (water.item_id, water.on_hand, water.reserved, water.in_transit) == (
        "drinking_water", 500, 0, 0)
