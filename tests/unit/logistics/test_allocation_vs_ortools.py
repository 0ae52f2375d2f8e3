"""The allocation (own network simplex with column generation, logistics._flow) equals
independent solves.

References, none of which shares code or method with the core:

* SciPy's HiGHS LP, genuinely two-phase (max coverage, then min travel at that coverage);
* SciPy's HiGHS LP of the single integer-weighted objective on centi-hour/centi-priority grids
  (a transportation LP with integer data has an integral optimal vertex, so it is exact);
* the previous HiGHS column-generation solver (kept as highs_reference.py), two-phase with real
  priorities: it checks that replacing priorities by their ranks changes nothing.

OR-Tools' cost-scaling min-cost flow is the reference in test_netsimplex.py and in the benchmark.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import PLANNED_AT, random_instance
from highs_reference import solve_item as lp_solve_item
from scipy.optimize import linprog

from logistics import allocate
from logistics._flow import _hour_scale, solve_item
from logistics.allocation import prepare


def _transport_lp(demand: np.ndarray, supply: np.ndarray, hours: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, sp.csr_matrix, np.ndarray]:
    """Arcs (i, j) of reachable pairs and the <= rows: shelter totals, then warehouse totals."""
    n_w, n_s = hours.shape
    wi, sj = np.nonzero(np.isfinite(hours))
    n = wi.shape[0]
    rows = np.concatenate([sj, n_s + wi])
    a = sp.csr_matrix((np.ones(2 * n), (rows, np.concatenate([np.arange(n)] * 2))),
                      shape=(n_s + n_w, n))
    b = np.concatenate([demand, supply]).astype(np.float64)
    return wi, sj, a, b


def highs_two_phase(demand: np.ndarray, prio: np.ndarray, supply: np.ndarray,
                    hours: np.ndarray) -> tuple[float, float]:
    wi, sj, a, b = _transport_lp(demand, supply, hours)
    cov = prio[sj].astype(np.float64)
    r1 = linprog(-cov, A_ub=a, b_ub=b, bounds=(0, None), method="highs")
    assert r1.status == 0
    best = -float(r1.fun)
    a2 = sp.vstack([a, sp.csr_matrix(-cov)])
    b2 = np.concatenate([b, [-(best - 1e-9 * max(1.0, best))]])
    r2 = linprog(hours[wi, sj], A_ub=a2, b_ub=b2, bounds=(0, None), method="highs")
    assert r2.status == 0
    return best, float(r2.fun)


def highs_integer_lexicographic(demand: np.ndarray, prio_cents: np.ndarray,
                                supply: np.ndarray, hours_cents: np.ndarray
                                ) -> tuple[int, int]:
    """Exact integer lexicographic optimum: cost = c x - M p' covered, M = 2 (W + 1) max(c) + 1
    (a coverage gain >= 1 is a residual cycle with < 2 (W + 1) transport arcs)."""
    n_w, _ = hours_cents.shape
    h = np.where(hours_cents >= 0, hours_cents.astype(np.float64), np.inf)
    wi, sj, a, b = _transport_lp(demand, supply, h)
    big = 2 * (n_w + 1) * int(hours_cents.max(initial=1)) + 1
    c = hours_cents[wi, sj] - big * prio_cents[sj]
    assert float(np.abs(c).max(initial=0)) * float(supply.sum()) < 2.0**52
    r = linprog(c.astype(np.float64), A_ub=a, b_ub=b, bounds=(0, None), method="highs")
    assert r.status == 0
    x = np.rint(r.x).astype(np.int64)
    assert np.abs(r.x - x).max(initial=0) < 1e-6
    return int(np.dot(x, prio_cents[sj])), int(np.dot(x, hours_cents[wi, sj]))


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("unreachable", [0.0, 0.4])
def test_objective_equals_independent_two_phase_lp(seed: int, unreachable: float) -> None:
    needs, stock, whs, travel, rules = random_instance(
        seed, n_s=30, n_w=6, items=("rice", "blanket"), unreachable=unreachable,
        supply_ratio=[0.4, 0.8, 1.3][seed % 3])
    plan = allocate("p", PLANNED_AT, needs, stock, whs, travel, rules, k=2,
                    objective="lexicographic")
    for prob, st in zip(prepare(needs, stock, whs, travel, rules), plan.stats, strict=True):
        cov, cost = highs_two_phase(prob.demand, prob.priority, prob.supply, prob.hours)
        assert st.weighted_coverage == pytest.approx(cov, rel=1e-7, abs=1e-6)
        # the LP holds the coverage optimum only to its tolerance, which buys a hair of travel;
        # the exact integer check is the next test
        assert st.unit_hours == pytest.approx(cost, rel=1e-6)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("unreachable", [0.0, 0.3])
def test_objective_equals_exact_integer_lp(seed: int, unreachable: float) -> None:
    needs, stock, whs, travel, rules = random_instance(
        100 + seed, n_s=40, n_w=8, items=("rice",), unreachable=unreachable,
        supply_ratio=[0.3, 0.7, 1.2][seed % 3], grid_priority=True)
    plan = allocate("p", PLANNED_AT, needs, stock, whs, travel, rules, k=2,
                    objective="lexicographic")
    prob = prepare(needs, stock, whs, travel, rules)[0]
    hc = np.where(np.isfinite(prob.hours), np.rint(prob.hours * 100), -1).astype(np.int64)
    pc = np.rint(prob.priority * 100).astype(np.int64)
    cov, cost = highs_integer_lexicographic(prob.demand, pc, prob.supply, hc)
    assert round(plan.stats[0].weighted_coverage * 100) == cov
    assert round(plan.stats[0].unit_hours * 100) == cost


def _random_item(seed: int, unreachable: float, ties: bool, grid: bool
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_w, n_s = int(rng.integers(2, 9)), int(rng.integers(5, 60))
    d = rng.integers(1, 100, n_s)
    p = np.round(1 + rng.random(n_s), 1) if ties else 1 + rng.random(n_s)
    s = rng.integers(1, 300, n_w)
    h = rng.uniform(0.5, 30, (n_w, n_s))
    if grid:
        h = np.round(h, 2)
    if unreachable:
        h[rng.random((n_w, n_s)) < unreachable] = np.inf
    return d, p, s, h


@pytest.mark.parametrize("seed", range(30))
def test_rank_weighted_flow_equals_two_phase_column_generation(seed: int) -> None:
    # Real-valued priorities (with and without ties), reachable and not: replacing priorities by
    # their ranks must not change the optimum of either objective.
    d, p, s, h = _random_item(seed, [0.0, 0.3][seed % 2], ties=seed % 3 == 0, grid=True)
    new = solve_item(d, p, s, h, k=1)
    ref = lp_solve_item(d, p, s, h, k=1, force_lp_phase1=True)
    assert new.weighted_coverage == pytest.approx(ref.weighted_coverage, rel=1e-9)
    assert new.transport_cost == pytest.approx(ref.transport_cost, rel=1e-9)
    assert int(new.unmet.sum()) == int(ref.unmet.sum())


@pytest.mark.parametrize("seed", range(10))
def test_off_grid_hours_are_optimal_within_the_documented_resolution(seed: int) -> None:
    d, p, s, h = _random_item(1000 + seed, 0.2 * (seed % 2), ties=False, grid=False)
    new = solve_item(d, p, s, h, k=2)
    ref = lp_solve_item(d, p, s, h, k=2, force_lp_phase1=True)
    scale = _hour_scale(h, 1, h.shape[0], sum(h.shape) + 3)
    assert scale == 10**6
    shipped = float(new.quantity.sum())
    assert new.weighted_coverage == pytest.approx(ref.weighted_coverage, rel=1e-9)
    assert new.transport_cost <= ref.transport_cost + shipped / scale + 1e-6 * ref.transport_cost


@pytest.mark.parametrize("seed", range(8))
def test_closed_form_phase_one_matches_the_general_flow(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = rng.integers(1, 100, 40)
    p = np.round(1 + rng.random(40), 1)  # ties on purpose
    s = rng.integers(1, 200, 7)
    h = np.round(rng.uniform(0.5, 20, (7, 40)), 2)
    a = solve_item(d, p, s, h, k=1)
    b = solve_item(d, p, s, h, k=1, force_general=True)
    assert a.weighted_coverage == pytest.approx(b.weighted_coverage, rel=1e-12)
    assert a.transport_cost == pytest.approx(b.transport_cost, rel=1e-12)
    assert a.phase1_rounds == 0 and b.phase1_rounds >= 1


def test_only_the_order_of_priorities_matters() -> None:
    d, p, s, h = _random_item(7, 0.3, ties=True, grid=True)
    a = solve_item(d, p, s, h)
    b = solve_item(d, np.exp(3 * p) + 5.0, s, h)  # strictly increasing transform
    assert np.array_equal(a.unmet, b.unmet)
    assert a.transport_cost == pytest.approx(b.transport_cost, rel=1e-12)


def test_hour_scale_finds_the_grid_of_the_travel_times() -> None:
    h = np.array([[0.25, 1.5, np.inf], [2.0, 0.1, 3.0]])
    assert _hour_scale(h, 1, 2, 8) == 100
    assert _hour_scale(np.round(h), 1, 2, 8) == 1
    assert _hour_scale(h + 1e-7, 1, 2, 8) == 10**6


def test_column_generation_adds_arcs_beyond_the_initial_candidates() -> None:
    # k=1: each shelter starts with its nearest warehouse only, which cannot serve everyone.
    d = np.array([100, 100, 100])
    p = np.array([1.0, 1.0, 1.0])
    s = np.array([100, 300])
    h = np.array([[1.0, 1.0, 1.0], [5.0, 6.0, 7.0]])
    sol = solve_item(d, p, s, h, k=1)
    assert int(sol.unmet.sum()) == 0
    assert sol.transport_cost == pytest.approx(100 * 1.0 + 100 * 5 + 100 * 6)


def test_pricing_rounds_reach_arcs_outside_a_large_restricted_set() -> None:
    # Enough shelters for the aggregated warm start; k=1 forces pricing to find the rest.
    rng = np.random.default_rng(3)
    n_w, n_s = 6, 200
    d = rng.integers(1, 50, n_s)
    p = np.round(1 + rng.random(n_s), 1)
    s = rng.integers(100, 600, n_w)
    h = np.round(rng.uniform(0.5, 30, (n_w, n_s)), 2)
    a = solve_item(d, p, s, h, k=1)
    ref = lp_solve_item(d, p, s, h, k=n_w, force_lp_phase1=True)
    assert a.phase2_rounds > 1
    assert a.weighted_coverage == pytest.approx(ref.weighted_coverage, rel=1e-9)
    assert a.transport_cost == pytest.approx(ref.transport_cost, rel=1e-9)
