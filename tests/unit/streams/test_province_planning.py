"""The pure re-planning of a province, fed by the same reducers the agents use."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest

from siaga import events as ev
from siaga import scenarios
from siaga.catalogue import EXAMPLES
from siaga.events import InvalidRecord
from streams import ingest
from streams.incidents import apply_incident
from streams.national import plan_national
from streams.planning import PlanningOptions, ProvinceState, plan_province

REDUCERS = {
    "incident.reported": ("incidents", apply_incident),
    "emergency.declared": ("declarations", ingest.apply_emergency_declared),
    "shelter.registered": ("shelters", ingest.apply_shelter_registered),
    "shelter.headcount_reported": ("shelters", ingest.apply_headcount),
    "warehouse.registered": ("warehouses", ingest.apply_warehouse_registered),
    "warehouse.stock_level_reported": ("warehouses", ingest.apply_stock_level),
    "team.status_reported": ("teams", ingest.apply_team_status),
}


def _fold(state: ProvinceState, events: list[Any]) -> None:
    for event in events:
        table, reducer = REDUCERS[event.type]
        reducer(getattr(state, table), event)


@pytest.fixture(scope="module")
def semeru_events() -> list[Any]:
    return [t.event for t in scenarios.build_events(scenarios.load("semeru-2021"))]


def _plan(state: ProvinceState, previous: dict[str, Any]) -> Any:
    outcome = plan_province(state, previous, PlanningOptions())
    state.shipments = outcome.shipments
    return outcome


def test_replaying_the_same_events_again_changes_no_input(semeru_events: list[Any]) -> None:
    """The planner skips a province whose input digest is unchanged, so duplicates of every
    event must leave the digest exactly as it was."""
    state = ProvinceState("35")
    _fold(state, semeru_events)
    _plan(state, {})
    digest = state.digest()
    _fold(state, semeru_events)
    assert state.digest() == digest


def test_replanning_unchanged_input_settles_after_one_round(semeru_events: list[Any]) -> None:
    state = ProvinceState("35")
    _fold(state, semeru_events)
    first = _plan(state, {})
    second = _plan(state, first.plan)
    third = _plan(state, second.plan)
    assert [e for e in third.entities if e[0] != "plan"] == []
    assert third.events == []


def test_events_in_another_order_give_the_same_state(semeru_events: list[Any]) -> None:
    ordered, shuffled = ProvinceState("35"), ProvinceState("35")
    _fold(ordered, semeru_events)
    _fold(shuffled, list(reversed(semeru_events)))
    assert ordered.digest() == shuffled.digest()


def test_no_batch_is_promised_beyond_what_it_holds(semeru_events: list[Any]) -> None:
    state = ProvinceState("35")
    _fold(state, semeru_events)
    outcome = _plan(state, {})
    promised: dict[tuple[str, str], int] = defaultdict(int)
    for shipment in outcome.shipments.values():
        for batch in shipment["batches"]:
            promised[(shipment["warehouse_id"], batch["batch_id"])] += batch["quantity"]
    assert promised
    for (warehouse_id, batch_id), quantity in promised.items():
        on_hand = state.warehouses[warehouse_id]["batches"][batch_id]["on_hand"]
        assert quantity <= on_hand


def test_lumbung_sosial_without_declaration_ships_nothing(semeru_events: list[Any]) -> None:
    without = [e for e in semeru_events if e.type != "emergency.declared"]
    state = ProvinceState("35")
    _fold(state, without)
    outcome = _plan(state, {})
    lumbung = {w for w, d in state.warehouses.items() if d["kind"] == "lumbung_sosial"}
    assert lumbung
    assert not [s for s in outcome.shipments.values() if s["warehouse_id"] in lumbung]


def test_a_higher_headcount_replans_and_keeps_shipment_ids(semeru_events: list[Any]) -> None:
    state = ProvinceState("35")
    _fold(state, semeru_events)
    first = _plan(state, {})
    ids_before = set(first.shipments)
    shelter_id, shelter = sorted(state.shelters.items())[0]
    count = shelter["headcount"]
    bump = ev.ShelterHeadcountReported(
        event_id=uuid.uuid4(),
        occurred_at=datetime.fromisoformat(count["counted_at"]) + timedelta(hours=1),
        source="test",
        schema_version=1,
        shelter_id=shelter_id,
        province_code="35",
        total=count["total"] + 500,
        posko_id=shelter["posko_id"],  # only the shelter's own posko counts its people
    )
    ingest.apply_headcount(state.shelters, bump)
    second = _plan(state, first.plan)
    changed = {e for e, i, _ in second.entities if e == "shelter" and i == shelter_id}
    assert changed, "the shelter's read model must change"
    kept = ids_before & set(second.shipments)
    assert len(kept) >= len(ids_before) // 2, "re-planning must not churn every shipment"


def test_national_tier_covers_what_the_province_cannot(semeru_events: list[Any]) -> None:
    state = ProvinceState("35")
    _fold(state, semeru_events)
    first = _plan(state, {})
    record, results = plan_national({"35": first.escalation}, {})
    assert first.escalation["shortfalls"]
    state.national = results["35"]
    second = _plan(state, first.plan)
    national = [s for s in second.shipments.values() if s["tier"] == "national"]
    regional = {w for w, d in state.warehouses.items() if d["kind"] == "regional"}
    assert first.escalation["regional_stock"], "semeru-2021 has a regional warehouse"
    assert national, "the regional warehouse must cover some of the escalated shortfalls"
    assert {s["warehouse_id"] for s in national} <= regional
    # and the national plan is stable when nothing changed
    record2, results2 = plan_national({"35": second.escalation}, record)
    assert results2["35"]["proposals"] == results["35"]["proposals"]


def test_the_national_tier_plans_again_from_a_record_with_team_travel(
    semeru_events: list[Any],
) -> None:
    """The national record keeps team travel as [[task_id, team_id], hours] (JSON has no
    tuples); the next national plan reads it back (it raised 'unhashable type: list' once a
    team had been mobilised, and the national tier stopped planning)."""
    state = ProvinceState("35")
    _fold(state, semeru_events)
    first = _plan(state, {})
    record, _ = plan_national({"35": first.escalation}, {})
    travelled = dict(record, travel=[[["35/evacuation:smr-x", "tagana-3508-01"], 2.5]])
    again, results = plan_national({"35": first.escalation}, travelled)
    assert [["35/evacuation:smr-x", "tagana-3508-01"], 2.5] in again["travel"]
    assert results["35"]["proposals"]


def test_shelter_registered_at_sea_is_refused_naming_location() -> None:
    event = EXAMPLES[ev.ShelterRegistered].model_copy(
        update={"location": ev.Location(lat=-9.5, lon=108.0)}
    )
    with pytest.raises(InvalidRecord, match="location"):
        ingest.apply_shelter_registered({}, event)


def test_shelter_in_another_province_than_its_key_is_refused() -> None:
    event = EXAMPLES[ev.ShelterRegistered].model_copy(update={"province_code": "31"})
    with pytest.raises(InvalidRecord, match="province_code: 31"):
        ingest.apply_shelter_registered({}, event)


def test_a_dispatch_after_the_count_leaves_the_warehouse(semeru_events: list[Any]) -> None:
    from streams.planning import effective_on_hand

    state = ProvinceState("35")
    _fold(state, semeru_events)
    outcome = _plan(state, {})
    shipment = sorted(outcome.shipments.values(), key=lambda s: s["shipment_id"])[0]
    warehouse = state.warehouses[shipment["warehouse_id"]]
    before = effective_on_hand(state, warehouse)
    batch = shipment["batches"][0]
    counted = max(b["counted_at"] for b in warehouse["batches"].values())
    state.shipments[shipment["shipment_id"]] = dict(
        shipment, status="dispatched",
        dispatched_at=(datetime.fromisoformat(counted) + timedelta(hours=1)).isoformat())
    after = effective_on_hand(state, warehouse)
    assert after[batch["batch_id"]] == before[batch["batch_id"]] - batch["quantity"]


def test_planner_merge_keeps_a_confirmation_made_while_it_was_sending() -> None:
    from streams.planner import shipment_writes

    read = {"a": {"status": "proposed", "quantity": 5}, "b": {"status": "proposed", "q": 1},
            "c": {"status": "proposed", "q": 2}}
    planned = {"a": {"status": "proposed", "quantity": 7}, "new": {"status": "proposed"},
               "c": {"status": "proposed", "q": 3}, "b": None}  # b withdrawn
    current = {"a": {"status": "confirmed", "quantity": 5}, "b": {"status": "proposed", "q": 1},
               "c": {"status": "proposed", "q": 2}, "new": None}
    writes = shipment_writes(read, planned, current)
    assert "a" not in writes  # the confirmation is not overwritten by the stale plan
    assert writes["b"] is None  # withdrawn, nobody touched it
    assert writes["c"] == {"status": "proposed", "q": 3}
    assert "new" in writes


def test_a_confirmed_national_shipment_is_not_re_proposed_over(semeru_events: list[Any]) -> None:
    state = ProvinceState("35")
    _fold(state, semeru_events)
    first = _plan(state, {})
    _, results = plan_national({"35": first.escalation}, {})
    state.national = results["35"]
    second = _plan(state, first.plan)
    national = sorted(
        (s for s in second.shipments.values() if s["tier"] == "national"),
        key=lambda s: s["shipment_id"],
    )
    assert national, "semeru's shortfalls escalate to the regional warehouse"
    taken = national[0]
    state.shipments[taken["shipment_id"]] = dict(taken, status="confirmed")
    # the national results still list the proposal (the national tier has not re-planned)
    third = _plan(state, second.plan)
    assert third.shipments[taken["shipment_id"]]["status"] == "confirmed"
