"""The allocation's objectives equal independent solves by OR-Tools (GLOP LP and min-cost flow)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PLANNED_AT, random_instance
from ortools.graph.python import min_cost_flow
from ortools.linear_solver import pywraplp

from logistics import allocate
from logistics._solver import solve_item
from logistics.allocation import prepare


def glop_lexicographic(demand: np.ndarray, prio: np.ndarray, supply: np.ndarray,
                       hours: np.ndarray) -> tuple[float, float]:
    solver = pywraplp.Solver.CreateSolver("GLOP")
    n_w, n_s = hours.shape
    x = {(i, j): solver.NumVar(0, solver.infinity(), "")
         for i in range(n_w) for j in range(n_s) if np.isfinite(hours[i, j])}
    for j in range(n_s):
        solver.Add(sum(x[i, j] for i in range(n_w) if (i, j) in x) <= float(demand[j]))
    for i in range(n_w):
        solver.Add(sum(x[i, j] for j in range(n_s) if (i, j) in x) <= float(supply[i]))
    cov = sum(float(prio[j]) * v for (i, j), v in x.items())
    solver.Maximize(cov)
    assert solver.Solve() == pywraplp.Solver.OPTIMAL
    best = solver.Objective().Value()
    solver.Add(cov >= best - 1e-7 * max(1.0, best))
    solver.Minimize(sum(float(hours[i, j]) * v for (i, j), v in x.items()))
    assert solver.Solve() == pywraplp.Solver.OPTIMAL
    return best, solver.Objective().Value()


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("unreachable", [0.0, 0.4])
def test_objective_equals_independent_glop_solve(seed: int, unreachable: float) -> None:
    needs, stock, whs, travel, rules = random_instance(
        seed, n_s=30, n_w=6, items=("rice", "blanket"), unreachable=unreachable,
        supply_ratio=[0.4, 0.8, 1.3][seed % 3])
    plan = allocate("p", PLANNED_AT, needs, stock, whs, travel, rules, k=2)
    for prob, st in zip(prepare(needs, stock, whs, travel, rules), plan.stats, strict=True):
        cov, cost = glop_lexicographic(prob.demand, prob.priority, prob.supply, prob.hours)
        assert st.weighted_coverage == pytest.approx(cov, rel=1e-7, abs=1e-6)
        # GLOP holds the coverage optimum only to its feasibility tolerance, which buys a hair
        # of travel; the exact integer check is the min-cost-flow test below.
        assert st.unit_hours == pytest.approx(cost, rel=1e-4)


@pytest.mark.parametrize("seed", range(6))
def test_closed_form_phase_one_matches_the_lp_phase_one(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = rng.integers(1, 100, 40)
    p = np.round(1 + rng.random(40), 1)  # ties on purpose
    s = rng.integers(1, 200, 7)
    h = np.round(rng.uniform(0.5, 20, (7, 40)), 2)
    a = solve_item(d, p, s, h, k=1)
    b = solve_item(d, p, s, h, k=1, force_lp_phase1=True)
    assert a.weighted_coverage == pytest.approx(b.weighted_coverage, rel=1e-9)
    assert a.transport_cost == pytest.approx(b.transport_cost, rel=1e-9)
    assert a.phase1_rounds == 0 and b.phase1_rounds >= 1


def test_column_generation_adds_arcs_beyond_the_initial_candidates() -> None:
    # k=1: each shelter starts with its nearest warehouse only, which cannot serve everyone.
    d = np.array([100, 100, 100])
    p = np.array([1.0, 1.0, 1.0])
    s = np.array([100, 300])
    h = np.array([[1.0, 1.0, 1.0], [5.0, 6.0, 7.0]])
    sol = solve_item(d, p, s, h, k=1)
    assert int(sol.unmet.sum()) == 0
    assert sol.phase2_rounds > 1
    assert sol.transport_cost == pytest.approx(100 * 1.0 + 100 * 5 + 100 * 6)


def mcf_lexicographic(demand: np.ndarray, prio_cents: np.ndarray, supply: np.ndarray,
                      hours_cents: np.ndarray) -> tuple[int, int]:
    """Exact integer lexicographic optimum via one min-cost flow.

    cost = sum c x - M sum p' covered with M = 2 (W + 1) max(c) + 1: any flow change that
    raises weighted coverage by >= 1 (integer p') is a residual cycle with at most 2 (W + 1)
    transport arcs, so it is always worth more than the travel it costs.
    """
    n_w, n_s = hours_cents.shape
    reach = hours_cents >= 0
    big = 2 * (n_w + 1) * int(hours_cents[reach].max(initial=1)) + 1
    total = int(supply.sum())
    src, snk = 0, 1 + n_w + n_s
    f = min_cost_flow.SimpleMinCostFlow()
    for i in range(n_w):
        f.add_arc_with_capacity_and_unit_cost(src, 1 + i, int(supply[i]), 0)
    arcs = []
    for i in range(n_w):
        for j in range(n_s):
            if reach[i, j]:
                a = f.add_arc_with_capacity_and_unit_cost(1 + i, 1 + n_w + j, total,
                                                          int(hours_cents[i, j]))
                arcs.append((a, i, j))
    for j in range(n_s):
        f.add_arc_with_capacity_and_unit_cost(1 + n_w + j, snk, int(demand[j]),
                                              -big * int(prio_cents[j]))
    f.add_arc_with_capacity_and_unit_cost(src, snk, total, 0)
    f.set_node_supply(src, total)
    f.set_node_supply(snk, -total)
    assert f.solve() == f.OPTIMAL
    cov = 0
    cost = 0
    for a, i, j in arcs:
        q = f.flow(a)
        cov += q * int(prio_cents[j])
        cost += q * int(hours_cents[i, j])
    return cov, cost


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("unreachable", [0.0, 0.3])
def test_objective_equals_exact_min_cost_flow(seed: int, unreachable: float) -> None:
    needs, stock, whs, travel, rules = random_instance(
        100 + seed, n_s=40, n_w=8, items=("rice",), unreachable=unreachable,
        supply_ratio=[0.3, 0.7, 1.2][seed % 3], grid_priority=True)
    plan = allocate("p", PLANNED_AT, needs, stock, whs, travel, rules, k=2)
    prob = prepare(needs, stock, whs, travel, rules)[0]
    hc = np.where(np.isfinite(prob.hours), np.rint(prob.hours * 100), -1).astype(np.int64)
    pc = np.rint(prob.priority * 100).astype(np.int64)
    cov, cost = mcf_lexicographic(prob.demand, pc, prob.supply, hc)
    assert round(plan.stats[0].weighted_coverage * 100) == cov
    assert round(plan.stats[0].unit_hours * 100) == cost
