"""The fair solver's speed-ups change nothing but speed: the warm-started path (aggregated
prices, crash basis in regret order) gives the same allocation as plain column generation from
the artificial basis; the fast search for identical shelters finds the same classes as the full
comparison; the trade-offs' best sources found in the solving thread are those the plan would
compute itself."""

from __future__ import annotations

import gc
import sys
from dataclasses import fields
from datetime import date
from typing import Any

import numpy as np
import pytest
from conftest import PLAN_DATE, PLANNED_AT

from logistics import Need, ReleaseRules, StockBatch, TravelHours, Warehouse
from logistics import _flow as flow
from logistics import allocation as alloc
from logistics.deprivation import load_deprivation_params

RULES = ReleaseRules(plan_date=PLAN_DATE)


def _instance(seed: int, n_w: int, n_s: int, items: tuple[str, ...] = ("rice", "blanket"),
              ) -> tuple[list[Need], list[StockBatch], list[Warehouse], TravelHours]:
    """Clustered shelters, warehouses around them, continuous travel times (so the optimum is
    unique: ties between plans would need equal sums of real-valued costs)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 300, (max(1, n_s // 60), 2))
    s_xy = centres[rng.integers(0, centres.shape[0], n_s)] + rng.normal(0, 8, (n_s, 2))
    w_xy = rng.uniform(0, 300, (n_w, 2))
    hours = np.sqrt(((w_xy[:, None, :] - s_xy[None, :, :]) ** 2).sum(axis=2)) * 1.26 / 40
    hours += rng.uniform(0, 0.01, hours.shape)
    if seed % 3 == 0:  # road cuts
        hours[rng.random(hours.shape) < 0.2] = np.inf
    shelters = [f"S{j:04d}" for j in range(n_s)]
    whs = [Warehouse(f"W{i:02d}", "provincial") for i in range(n_w)]
    needs, stock = [], []
    for it in items:
        for s in shelters:
            needs.append(Need(s, it, int(rng.integers(1, 400)), float(rng.uniform(1, 3)),
                              headcount=int(rng.integers(20, 900)),
                              on_hand=int(rng.integers(0, 60)) * int(rng.random() < 0.3),
                              days=3.0))
        total = sum(n.quantity for n in needs if n.item_id == it)
        share = rng.dirichlet(np.ones(n_w)) * total * rng.uniform(0.3, 1.1)
        for w, q in zip(whs, share, strict=True):
            if int(q):
                stock.append(StockBatch(w.id, it, f"{w.id}-{it}", int(q), date(2027, 1, 1)))
    return needs, stock, whs, TravelHours(tuple(w.id for w in whs), tuple(shelters), hours)


def _solve(prob: alloc.ItemProblem) -> flow.ItemSolution:
    c = alloc.problem_cost(prob, load_deprivation_params())
    return flow.solve_item_fair(prob.demand, prob.priority, prob.supply, prob.hours, c.seg_cap,
                                c.seg_value, c.per_hour, c.delay_weight, c.horizon,
                                c.max_delay_share, k=8)


@pytest.mark.parametrize("seed", range(24))
def test_warm_started_fair_solve_gives_the_allocation_of_plain_column_generation(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1000 + seed)
    n_w = int(rng.integers(10, 30))
    n_s = int(rng.integers(5 * n_w, 12 * n_w))
    needs, stock, whs, travel = _instance(seed, n_w, n_s)
    # the largest item first, so later (smaller) ones reuse a larger, dirty cost matrix
    problems = sorted(alloc.prepare(needs, stock, whs, travel, RULES), key=lambda p: -p.pairs)
    crashes: list[int] = []
    apply = flow.FairCrash.apply

    def counted(self: flow.FairCrash, *args: Any) -> None:
        crashes.append(1)
        apply(self, *args)

    monkeypatch.setattr(flow.FairCrash, "apply", counted)
    fast = [_solve(p) for p in problems]
    # the fast path really ran: two aggregated warm starts (one with a crash) + the crash of
    # the item's own network
    assert len(crashes) == 2 * len(problems)
    monkeypatch.setattr(flow, "_WARM", False)
    monkeypatch.setattr(flow, "_CRASH", False)
    reference = []
    for p in problems:   # each with a fresh cost matrix (the fast path reuses one per thread)
        flow.release_scratch()
        reference.append(_solve(p))
    assert len(crashes) == 2 * len(problems)   # no crash basis on the reference path
    for f, r in zip(fast, reference, strict=True):
        np.testing.assert_array_equal(f.warehouse_index, r.warehouse_index)
        np.testing.assert_array_equal(f.shelter_index, r.shelter_index)
        np.testing.assert_array_equal(f.quantity, r.quantity)
        np.testing.assert_array_equal(f.unmet, r.unmet)
        assert f.quantity.sum() > 0


def _balance_reference(demand: np.ndarray, seg_cap: np.ndarray, seg_value: np.ndarray,
                       delay_weight: np.ndarray, hours: np.ndarray, aw: np.ndarray,
                       as_: np.ndarray, aq: np.ndarray) -> list[list[int]]:
    """Classes of identical shelters, found the slow, obvious way: every input compared."""
    classes: dict[bytes, list[int]] = {}
    for s in range(demand.shape[0]):
        key = b"".join([demand[s].tobytes(), delay_weight[s].tobytes(), seg_cap[s].tobytes(),
                        seg_value[s].tobytes(), hours[:, s].tobytes()])
        classes.setdefault(key, []).append(s)
    return sorted(m for m in classes.values() if len(m) > 1)


@pytest.mark.parametrize("seed", range(12))
def test_identical_shelters_are_found_and_evened_out_as_by_comparing_every_input(
        seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_w, n_s, n_k = int(rng.integers(1, 6)), int(rng.integers(2, 60)), 4
    demand = rng.integers(1, 4, n_s).astype(np.int64)          # few values: many near-twins
    delay_weight = rng.choice([1.0, 1.5], n_s)
    seg_cap = rng.integers(0, 3, (n_s, n_k)).astype(np.int64)
    seg_value = rng.choice([2.0, 3.0], (n_s, n_k))
    hours = rng.choice([1.0, 2.0, np.inf], (n_w, n_s))
    # plant exact twins (and twins in every input but one travel time)
    for _ in range(n_s // 3):
        a, b = rng.integers(0, n_s, 2)
        demand[b], delay_weight[b] = demand[a], delay_weight[a]
        seg_cap[b], seg_value[b], hours[:, b] = seg_cap[a], seg_value[a], hours[:, a]
        if rng.random() < 0.3:
            hours[int(rng.integers(0, n_w)), b] += 0.5
    # a flow: each shelter gets something from random warehouses
    pairs = sorted({(int(rng.integers(0, n_w)), int(s)) for s in range(n_s)
                    for _ in range(int(rng.integers(0, 3)))})
    aw = np.array([w for w, _ in pairs], dtype=np.int64)
    as_ = np.array([s for _, s in pairs], dtype=np.int64)
    aq = rng.integers(1, 9, aw.shape[0]).astype(np.int64)
    out_w, out_s, out_q = flow._balance_identical(demand, seg_cap, seg_value, delay_weight,
                                                  hours, aw, as_, aq)
    got = np.bincount(out_s, weights=out_q, minlength=n_s)
    before = np.bincount(as_, weights=aq, minlength=n_s)
    classes = _balance_reference(demand, seg_cap, seg_value, delay_weight, hours, aw, as_, aq)
    in_class = {s for m in classes for s in m}
    for m in classes:   # members of a class end within one unit, same total
        assert got[m].max() - got[m].min() <= 1
        assert got[m].sum() == before[m].sum()
    for s in set(range(n_s)) - in_class:   # everyone else untouched
        assert got[s] == before[s]
    # every warehouse ships what it shipped
    np.testing.assert_array_equal(np.bincount(out_w, weights=out_q, minlength=n_w),
                                  np.bincount(aw, weights=aq, minlength=n_w))


@pytest.mark.parametrize("seed", [6, 7])   # 6: with road cuts
def test_what_the_lines_take_from_the_solving_thread_equals_the_full_travel_matrix(
        seed: int) -> None:
    """The solving thread cuts each item's hours into a reused matrix and hands the plan only
    what its lines need: those figures are the ones the whole (W x S) hours give."""
    needs, stock, whs, travel = _instance(seed, 12, 150)
    params = load_deprivation_params()
    for prob in alloc.prepare(needs, stock, whs, travel, RULES):
        flow.release_scratch()
        solved = alloc._solve(prob, None, params)
        assert prob._hours is None   # cut into the thread's scratch matrix, not kept
        hours = prob.hours           # a fresh, full copy
        sol = solved.solution
        np.testing.assert_array_equal(solved.line_hours,
                                      hours[sol.warehouse_index, sol.shelter_index])
        reach = (np.isfinite(hours) * prob.supply[:, None]).sum(axis=0)
        assert solved.reach == reach.tolist()
        c = alloc.problem_cost(prob, params)
        assert sol.warehouse_value is not None
        best, second = flow.best_two_sources(hours, c.per_hour, c.delay_weight, c.horizon,
                                             c.max_delay_share, sol.warehouse_value)
        np.testing.assert_array_equal(sol.best_source, best)
        np.testing.assert_array_equal(sol.second_source, second)
        cols = np.arange(len(prob.shelter_ids))
        np.testing.assert_array_equal(solved.best_hours,
                                      np.where(best >= 0, hours[best, cols], 0.0))
        np.testing.assert_array_equal(solved.second_hours,
                                      np.where(second >= 0, hours[second, cols], 0.0))
        # the same problem with its hours already held gives the same solution
        again = alloc._solve(prob, None, params)
        np.testing.assert_array_equal(again.solution.quantity, sol.quantity)
        np.testing.assert_array_equal(again.line_hours, solved.line_hours)
    if seed == 6:
        assert min(solved.reach) < int(prob.supply.sum())   # the road cuts are there
    plan = alloc.allocate("p", PLANNED_AT, needs, stock, whs, travel, RULES)
    alternatives = {pr.explanation.tradeoff.alternative_warehouse_id  # type: ignore[union-attr]
                    for pr in plan.proposals}
    assert len(alternatives - {""}) > 1


def test_a_plan_does_not_keep_the_solvers_cost_matrix() -> None:
    needs, stock, whs, travel = _instance(3, 12, 100)
    flow.release_scratch()
    alloc.allocate("p", PLANNED_AT, needs, stock, whs, travel, RULES)
    assert getattr(flow._scratch, "costs", None) is None
    assert getattr(flow._scratch, "hours", None) is None
    c = alloc.problem_cost(alloc.prepare(needs, stock, whs, travel, RULES)[0],
                           load_deprivation_params())
    assert c.seg_cap.shape[0] == 100
    assert flow._scratch_costs(12, 100).shape == (12, 100)
    assert flow._scratch_costs(3, 7).base is flow._scratch.costs   # reused, not reallocated
    flow.release_scratch()


def test_fast_constructors_build_the_lines_their_classes_build() -> None:
    pick = alloc.BatchPick("B1", 3, date(2027, 1, 1))
    expl = alloc.Explanation(10, 12.5, 40, 3.0, 2, 0, "perka", "1", 1.4, 0.25, 3, None,
                             ("rule",), "W1", "provincial", (pick,), 2.5, 7.5, 99,
                             {"expiry": 4}, "fair", None)
    args = [getattr(expl, f.name) for f in fields(alloc.Explanation)]
    fast = alloc._new_explanation(*args)
    assert fast == expl and type(fast) is alloc.Explanation and vars(fast) == vars(expl)
    assert hash(alloc._new_batch_pick("B1", 3, date(2027, 1, 1))) == hash(pick)
    with pytest.raises(TypeError):   # every field, positionally: a missing one is an error
        alloc._new_explanation(*args[:-1])
    with pytest.raises(AssertionError):   # never for a class that validates its input
        alloc._fast_constructor(StockBatch)


@pytest.mark.parametrize("seed", range(6))
def test_arcs_grouped_by_shelter_in_one_pass_equal_the_sorts(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_s, m = int(rng.integers(1, 40)), int(rng.integers(0, 200))
    as_ = rng.integers(0, n_s, m).astype(np.int64)
    key = rng.integers(-5, 5, m).astype(np.int64)   # many ties
    cheapest, second, by_shelter, starts = flow._by_shelter(as_, key, n_s)
    np.testing.assert_array_equal(by_shelter, np.argsort(as_, kind="stable"))
    np.testing.assert_array_equal(starts, np.searchsorted(as_[by_shelter], np.arange(n_s + 1)))
    for s in range(n_s):
        keys = np.sort(key[as_ == s])
        assert cheapest[s] == (keys[0] if keys.shape[0] else np.iinfo(np.int64).max)
        assert second[s] == (keys[1] if keys.shape[0] > 1 else flow._NO_SECOND)


def test_a_threaded_plan_shortens_the_gil_switch_interval_only_while_it_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    needs, stock, whs, travel = _instance(5, 12, 100)
    monkeypatch.setattr(alloc, "_PARALLEL_MIN_PAIRS", 0)   # threads even for this small plan
    seen: list[float] = []
    assemble = alloc._assemble

    def spy(*args: Any, **kwargs: Any) -> alloc.Plan:
        seen.append(sys.getswitchinterval())
        return assemble(*args, **kwargs)

    monkeypatch.setattr(alloc, "_assemble", spy)
    before = sys.getswitchinterval()
    threaded = alloc.allocate("p", PLANNED_AT, needs, stock, whs, travel, RULES, workers=2)
    assert seen == [alloc._THREADED_SWITCH_INTERVAL] and sys.getswitchinterval() == before
    alloc.allocate("p", PLANNED_AT, needs, stock, whs, travel, RULES)   # one thread: untouched
    assert seen[1] == before
    with alloc._short_switch_interval():   # nested or concurrent plans restore it once, last
        with alloc._short_switch_interval():
            pass
        assert sys.getswitchinterval() == alloc._THREADED_SWITCH_INTERVAL
    assert sys.getswitchinterval() == before
    serial = alloc.allocate("p", PLANNED_AT, needs, stock, whs, travel, RULES)
    assert threaded.to_dict() == serial.to_dict()


def test_a_plans_lines_go_to_the_oldest_gc_generation_unless_objects_are_frozen() -> None:
    needs, stock, whs, travel = _instance(4, 12, 100)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    plan = alloc.allocate("p", PLANNED_AT, needs, stock, whs, travel, RULES)
    explanation = plan.proposals[0].explanation
    assert any(o is explanation for o in gc.get_objects(generation=2))
    assert gc.isenabled() and gc.get_freeze_count() == 0
    del plan, explanation
    keep = [object() for _ in range(3)]
    gc.freeze()   # a process that froze its warm state keeps it frozen
    try:
        plan = alloc.allocate("p", PLANNED_AT, needs, stock, whs, travel, RULES)
        assert gc.get_freeze_count() > 0 and gc.isenabled()   # (unfreeze would make it 0)
        explanation = plan.proposals[0].explanation
        assert not any(o is explanation for o in gc.get_objects(generation=2))
    finally:
        gc.unfreeze()
    assert keep


@pytest.mark.parametrize("cap", [None, 3.0])
def test_an_items_hours_cut_into_a_reused_matrix_equal_the_travel_block(
        cap: float | None) -> None:
    rng = np.random.default_rng(3)
    travel = rng.uniform(0.1, 6.0, (9, 30))
    travel[rng.random(travel.shape) < 0.1] = np.inf
    rows = np.array([1, 4, 5, 8], dtype=np.int64)
    for cols in (np.arange(30, dtype=np.int64), np.arange(7, 19, dtype=np.int64),
                 np.array([0, 3, 4, 29], dtype=np.int64)):
        expected = travel[np.ix_(rows, cols)].copy()
        if cap is not None:
            expected[expected > cap] = np.inf
        cut = alloc._HoursCut(travel, rows, cols, cap)
        out = np.full((rows.shape[0], cols.shape[0]), -1.0)   # dirty, as a reused matrix is
        np.testing.assert_array_equal(cut(out), expected)
        np.testing.assert_array_equal(cut(), expected)
