from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
from conftest import PLAN_DATE, PLANNED_AT

from logistics import (
    Need,
    Plan,
    ReleaseRules,
    SolverError,
    StockBatch,
    TravelHours,
    UnknownShelter,
    UnknownWarehouse,
    Warehouse,
    allocate,
)
from logistics.allocation import prepare
from logistics.baseline import nearest_warehouse_first

RULES = ReleaseRules(plan_date=PLAN_DATE)


def _travel(m: dict[tuple[str, str], float]) -> TravelHours:
    return TravelHours.from_mapping(m)


def test_never_allocates_more_than_available_stock() -> None:
    needs = [Need("S1", "rice", 500, 1.0), Need("S2", "rice", 500, 1.0)]
    stock = [StockBatch("W1", "rice", "B1", 300)]
    plan = allocate("p", PLANNED_AT, needs, stock, [Warehouse("W1", "regional")],
                    _travel({("W1", "S1"): 1, ("W1", "S2"): 2}), RULES)
    assert sum(p.quantity for p in plan.proposals) == 300
    assert sum(s.missing for s in plan.shortfalls) == 700
    assert plan.remaining[0].quantity == 0


def test_lexicographic_objective_serves_higher_priority_first_even_if_farther() -> None:
    needs = [Need("near", "rice", 100, 1.0), Need("far_vulnerable", "rice", 100, 2.0)]
    stock = [StockBatch("W1", "rice", "B1", 100)]
    plan = allocate("p", PLANNED_AT, needs, stock, [Warehouse("W1", "regional")],
                    _travel({("W1", "near"): 1, ("W1", "far_vulnerable"): 9}), RULES,
                    objective="lexicographic")
    assert plan.objective == "lexicographic"
    assert [(p.shelter_id, p.quantity) for p in plan.proposals] == [("far_vulnerable", 100)]
    assert plan.shortfalls[0].shelter_id == "near"


def test_among_equal_coverage_the_cheaper_transport_is_chosen() -> None:
    needs = [Need("S1", "rice", 100, 1.0)]
    stock = [StockBatch("W1", "rice", "a", 100), StockBatch("W2", "rice", "b", 100)]
    plan = allocate("p", PLANNED_AT, needs, stock,
                    [Warehouse("W1", "regional"), Warehouse("W2", "regional")],
                    _travel({("W1", "S1"): 5, ("W2", "S1"): 2}), RULES)
    assert [(p.warehouse_id, p.quantity) for p in plan.proposals] == [("W2", 100)]
    assert plan.unit_hours == 200


def test_lumbung_sosial_releases_only_after_emergency_declaration_for_its_area() -> None:
    needs = [Need("S1", "rice", 100, 1.0)]
    stock = [StockBatch("L1", "rice", "B1", 100)]
    wh = [Warehouse("L1", "lumbung_sosial", area_code="32.03")]
    travel = _travel({("L1", "S1"): 1})
    blocked = allocate("p", PLANNED_AT, needs, stock, wh, travel, RULES)
    assert blocked.proposals == ()
    assert blocked.shortfalls[0].explanation.blocked_stock == {"lumbung_not_released": 100}
    assert "lumbung not released" in blocked.shortfalls[0].summary
    other = allocate("p", PLANNED_AT, needs, stock, wh, travel,
                     ReleaseRules(PLAN_DATE, declared_areas=frozenset({"32.04"})))
    assert other.proposals == ()
    declared = allocate("p", PLANNED_AT, needs, stock, wh, travel,
                        ReleaseRules(PLAN_DATE, declared_areas=frozenset({"32.03"})))
    assert declared.proposals[0].quantity == 100


def test_nothing_within_75_days_of_expiry_is_planned_unless_coordinator_allows() -> None:
    needs = [Need("S1", "rice", 100, 1.0)]
    soon = StockBatch("W1", "rice", "soon", 100, date.fromordinal(PLAN_DATE.toordinal() + 74))
    ok = StockBatch("W1", "rice", "ok", 30, date.fromordinal(PLAN_DATE.toordinal() + 75))
    expired = StockBatch("W1", "rice", "old", 100, PLAN_DATE)
    wh, travel = [Warehouse("W1", "regional")], _travel({("W1", "S1"): 1})
    plan = allocate("p", PLANNED_AT, needs, [soon, ok, expired], wh, travel, RULES)
    assert [(b.batch_id, b.quantity) for p in plan.proposals for b in p.batches] == [("ok", 30)]
    assert plan.stats[0].blocked_stock == {"near_expiry": 100, "expired": 100}
    override = allocate("p", PLANNED_AT, needs, [soon, ok, expired], wh, travel,
                        ReleaseRules(PLAN_DATE, allow_near_expiry=True))
    picked = [b.batch_id for p in override.proposals for b in p.batches]
    assert "old" not in picked  # expired stock is never planned, override or not
    assert sum(p.quantity for p in override.proposals) == 100


def test_batches_closer_to_expiry_go_first() -> None:
    needs = [Need("S1", "rice", 50, 1.0), Need("S2", "rice", 50, 1.0)]
    stock = [StockBatch("W1", "rice", "late", 100, date(2028, 1, 1)),
             StockBatch("W1", "rice", "none", 100, None),
             StockBatch("W1", "rice", "early", 60, date(2027, 1, 1))]
    plan = allocate("p", PLANNED_AT, needs, stock, [Warehouse("W1", "regional")],
                    _travel({("W1", "S1"): 1, ("W1", "S2"): 2}), RULES)
    by = {p.shelter_id: [(b.batch_id, b.quantity) for b in p.batches] for p in plan.proposals}
    assert by == {"S1": [("early", 50)], "S2": [("early", 10), ("late", 40)]}


def test_nearest_warehouse_first_leaves_people_unserved_where_the_optimiser_does_not() -> None:
    # Shelter A (reported first) is nearest to W1 but can also reach W2; shelter B can only
    # reach W1 (road cut). Greedy gives W1 to A and leaves B's 100 people with nothing.
    needs = [Need("A", "rice", 100, 1.0), Need("B", "rice", 100, 1.0)]
    stock = [StockBatch("W1", "rice", "a", 100), StockBatch("W2", "rice", "b", 100)]
    wh = [Warehouse("W1", "regional"), Warehouse("W2", "regional")]
    travel = TravelHours(("W1", "W2"), ("A", "B"), np.array([[1.0, 2.0], [3.0, np.inf]]))
    greedy = nearest_warehouse_first(prepare(needs, stock, wh, travel, RULES)[0])
    assert greedy.unmet_by_shelter == {"A": 0, "B": 100}
    optimal = allocate("p", PLANNED_AT, needs, stock, wh, travel, RULES)
    assert optimal.shortfalls == ()
    assert {(p.warehouse_id, p.shelter_id) for p in optimal.proposals} == {("W2", "A"),
                                                                          ("W1", "B")}


def test_every_line_is_explained_with_need_stock_rule_and_cost() -> None:
    needs = [Need("Posko X", "rice", 1200, 1.8, gross=1200.0, headcount=3000,
                  vulnerable_share=0.32, days=1, profile_id="bnpb-perka-7-2008")]
    stock = [StockBatch("Gudang Bekasi", "rice", "B-12", 400, date(2027, 3, 1))]
    plan = allocate("p", PLANNED_AT, needs, stock, [Warehouse("Gudang Bekasi", "regional")],
                    _travel({("Gudang Bekasi", "Posko X"): 2.4}), RULES,
                    objective="lexicographic")
    p = plan.proposals[0]
    assert p.summary.startswith("400 kg rice to Posko X: need 1,200 kg (3,000 people")
    assert "batch B-12 (400, expires 2027-03-01)" in p.summary
    assert "2.4 h travel" in p.summary and "32% vulnerable" in p.summary
    assert p.explanation.unit_hours == pytest.approx(960.0)
    assert p.eta.isoformat() == "2022-11-22T08:24:00+00:00"
    sf = plan.shortfalls[0]
    assert sf.missing == 800 and sf.reason == "stock_used_for_higher_priority_or_cheaper_needs"


def test_plan_round_trips_through_json_and_is_deterministic(make_instance) -> None:  # type: ignore[no-untyped-def]
    needs, stock, whs, travel, rules = make_instance(3, 20, 5, items=("rice", "blanket"))
    a = allocate("p", PLANNED_AT, needs, stock, whs, travel, rules)
    b = allocate("p", PLANNED_AT, list(reversed(needs)), list(reversed(stock)),
                 list(reversed(whs)), travel, rules, workers=2)
    assert a == b
    again = Plan.from_dict(json.loads(json.dumps(a.to_dict())))
    assert again == a


def test_unknown_warehouse_or_shelter_raises() -> None:
    travel = _travel({("W1", "S1"): 1})
    with pytest.raises(UnknownWarehouse):
        allocate("p", PLANNED_AT, [], [StockBatch("W9", "rice", "b", 1)],
                 [Warehouse("W1", "regional")], travel, RULES)
    with pytest.raises(UnknownShelter):
        allocate("p", PLANNED_AT, [Need("S9", "rice", 1, 1.0)], [],
                 [Warehouse("W1", "regional")], travel, RULES)


def test_shortfall_is_an_event_not_an_exception() -> None:
    from logistics.events import SupplyShortfallDetected, event_to_dict, plan_events

    plan = allocate("p", PLANNED_AT, [Need("S1", "rice", 10, 1.0)], [],
                    [Warehouse("W1", "regional")], _travel({("W1", "S1"): 1}), RULES)
    events = plan_events(plan)
    assert [type(e) for e in events] == [SupplyShortfallDetected]
    d = event_to_dict(events[0])
    assert d["shortfall_id"] == "p:shortfall:rice:S1" and d["occurred_at"].endswith("+00:00")
    assert json.loads(json.dumps(d))["shortfall"]["reason"] == "no_eligible_stock_reachable"


def test_items_solved_in_threads_give_the_same_plan(make_instance, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import logistics.allocation as allocation

    needs, stock, whs, travel, rules = make_instance(5, 60, 6, items=("rice", "blanket", "soap"))
    serial = allocate("p", PLANNED_AT, needs, stock, whs, travel, rules)
    monkeypatch.setattr(allocation, "_PARALLEL_MIN_PAIRS", 0)  # force threads on a small case
    threaded = allocate("p", PLANNED_AT, needs, stock, whs, travel, rules, workers=3)
    assert threaded == serial


def test_a_solver_failure_in_a_thread_reaches_the_caller(make_instance, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import logistics.allocation as allocation

    needs, stock, whs, travel, rules = make_instance(6, 30, 4, items=("rice", "blanket"))
    real = allocation._solve

    def failing(problem, k, params=None):  # type: ignore[no-untyped-def]
        if problem.item_id == "rice":
            raise SolverError("item rice: injected failure")
        return real(problem, k, params)

    monkeypatch.setattr(allocation, "_PARALLEL_MIN_PAIRS", 0)
    monkeypatch.setattr(allocation, "_solve", failing)
    with pytest.raises(SolverError, match="injected"):
        allocate("p", PLANNED_AT, needs, stock, whs, travel, rules, workers=2)
