"""The network simplex behind allocation (logistics._netsimplex) against OR-Tools' cost-scaling
min-cost flow, a different algorithm from a different code base.

Checked on random networks with capacities, negative costs and unreachable supplies: the same
optimal cost, a flow that respects every bound and balance, node potentials that certify
optimality (complementary slackness), and the same answer whether arcs are given at once or in
instalments (the warm start that column generation relies on).
"""

from __future__ import annotations

import numpy as np
import pytest
from ortools.graph.python import min_cost_flow

from logistics import _flow
from logistics._netsimplex import INFEASIBLE, OPTIMAL, UNBOUNDED, NetworkSimplex


def _random_network(seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 40))
    m = int(rng.integers(1, 200))
    tail = rng.integers(0, n, m)
    head = rng.integers(0, n, m)
    keep = tail != head
    tail, head = tail[keep].astype(np.int64), head[keep].astype(np.int64)
    cap = rng.integers(0, 25, tail.shape[0]).astype(np.int64)
    cost = rng.integers(-8 if seed % 2 else 0, 40, tail.shape[0]).astype(np.int64)
    # supplies of a random feasible flow, so the problem is feasible by construction
    f = rng.integers(0, cap + 1)
    supply = np.zeros(n, dtype=np.int64)
    np.add.at(supply, tail, f)
    np.add.at(supply, head, -f)
    return tail, head, cap, cost, supply


def _ortools_cost(tail: np.ndarray, head: np.ndarray, cap: np.ndarray, cost: np.ndarray,
                  supply: np.ndarray) -> int:
    o = min_cost_flow.SimpleMinCostFlow()
    if tail.shape[0]:
        o.add_arcs_with_capacity_and_unit_cost(tail, head, cap, cost)
    o.set_nodes_supplies(np.arange(supply.shape[0]), supply)
    assert o.solve() == o.OPTIMAL
    return int(o.optimal_cost())


def _check_certificate(ns: NetworkSimplex, tail: np.ndarray, head: np.ndarray,
                       cap: np.ndarray, cost: np.ndarray, supply: np.ndarray) -> int:
    fl = ns.flows()
    assert np.all(fl >= 0) and np.all(fl <= cap)
    bal = np.zeros(supply.shape[0], dtype=np.int64)
    np.add.at(bal, tail, fl)
    np.add.at(bal, head, -fl)
    assert np.array_equal(bal, supply)
    pi = ns.potentials()
    rc = cost + pi[tail] - pi[head]
    assert np.all((rc >= 0) | (fl == cap)), "an arc below capacity could still cut the cost"
    assert np.all((rc <= 0) | (fl == 0)), "an arc with flow should be cheaper to empty"
    return int(np.dot(fl, cost))


@pytest.mark.parametrize("seed", range(150))
def test_optimal_cost_equals_ortools_and_potentials_certify_it(seed: int) -> None:
    tail, head, cap, cost, supply = _random_network(seed)
    ns = NetworkSimplex(supply, int(np.abs(cost).max(initial=0)))
    ns.add_arcs(tail, head, cap, cost)
    assert ns.solve() == OPTIMAL
    assert _check_certificate(ns, tail, head, cap, cost, supply) == \
        _ortools_cost(tail, head, cap, cost, supply)


@pytest.mark.parametrize("seed", range(150, 250))
def test_adding_arcs_to_a_solved_network_continues_to_the_same_optimum(seed: int) -> None:
    tail, head, cap, cost, supply = _random_network(seed)
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.integers(0, tail.shape[0] + 1, 3))
    ns = NetworkSimplex(supply, int(np.abs(cost).max(initial=0)), arc_capacity=2)
    lo = 0
    for hi in [*cuts.tolist(), tail.shape[0]]:
        ns.add_arcs(tail[lo:hi], head[lo:hi], cap[lo:hi], cost[lo:hi])
        ns.solve()  # intermediate instalments may be infeasible on their own
        lo = hi
    assert ns.solve() == OPTIMAL
    assert _check_certificate(ns, tail, head, cap, cost, supply) == \
        _ortools_cost(tail, head, cap, cost, supply)


def test_infeasible_supplies_are_reported() -> None:
    # node 0 must send 5 but its only arc carries 3
    ns = NetworkSimplex(np.array([5, -5]), 10)
    ns.add_arcs(np.array([0]), np.array([1]), np.array([3]), np.array([1]))
    assert ns.solve() == INFEASIBLE


def test_a_negative_cycle_of_unbounded_arcs_is_unbounded() -> None:
    ns = NetworkSimplex(np.array([0, 0]), 10)
    inf = 2**62
    ns.add_arcs(np.array([0, 1]), np.array([1, 0]), np.array([inf, inf]), np.array([-3, 1]))
    assert ns.solve() == UNBOUNDED


def test_supplies_must_balance_and_costs_must_fit_int64() -> None:
    with pytest.raises(ValueError, match="sum to 0"):
        NetworkSimplex(np.array([1, 0]), 1)
    with pytest.raises(ValueError, match="too large"):
        NetworkSimplex(np.array([1, -1]), 2**60)


def test_crash_basis_is_validated() -> None:
    ns = NetworkSimplex(np.array([4, -4]), 5)
    ns.add_arcs(np.array([0]), np.array([1]), np.array([10]), np.array([2]))
    with pytest.raises(ValueError, match="balanced"):
        ns.crash(np.array([2, 0]), np.array([-1, 0]), np.array([3]))
    with pytest.raises(ValueError, match="bounds"):
        ns.crash(np.array([2, 0]), np.array([-1, 0]), np.array([11]))
    ns.crash(np.array([2, 0]), np.array([-1, 0]), np.array([4]))
    assert ns.solve() == OPTIMAL
    assert ns.flows().tolist() == [4]
    assert ns.pivots == 0  # the crash basis was already optimal


def _clustered_item(seed: int, n_w: int, n_s: int, unreachable: float
                    ) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    w_xy = rng.uniform(0, 1000, (n_w, 2))
    centres = rng.uniform(0, 1000, (max(1, n_s // 100), 2))
    s_xy = centres[rng.integers(0, centres.shape[0], n_s)] + rng.normal(0, 30, (n_s, 2))
    hours = np.round(np.sqrt(((w_xy[:, None, :] - s_xy[None, :, :]) ** 2).sum(-1)) / 40, 2)
    if unreachable:
        hours[rng.random(hours.shape) < unreachable] = np.inf
    demand = rng.integers(1, 400, n_s)
    prio = np.round(rng.uniform(1, 3, n_s), 1)
    supply = rng.integers(1, int(demand.sum() * 0.8 * 2 / n_w) + 2, n_w)
    return demand, prio, supply, hours


def _reference(demand: np.ndarray, prio: np.ndarray, supply: np.ndarray,
               hours: np.ndarray) -> tuple[int, int]:
    """Exact lexicographic optimum with OR-Tools on every reachable pair (centi-units)."""
    n_w, n_s = hours.shape
    reach = np.isfinite(hours)
    cost = np.where(reach, np.rint(np.where(reach, hours, 0) * 100), 0).astype(np.int64)
    pc = np.rint(prio * 10).astype(np.int64)
    big = 2 * (n_w + 1) * int(cost.max()) + 1
    total = int(supply.sum())
    wi, sj = np.nonzero(reach)
    o = min_cost_flow.SimpleMinCostFlow()
    o.add_arcs_with_capacity_and_unit_cost(np.zeros(n_w, np.int64), 1 + np.arange(n_w),
                                           supply.astype(np.int64), np.zeros(n_w, np.int64))
    first = o.num_arcs()
    o.add_arcs_with_capacity_and_unit_cost(1 + wi, 1 + n_w + sj,
                                           np.full(wi.shape[0], total), cost[wi, sj])
    o.add_arcs_with_capacity_and_unit_cost(1 + n_w + np.arange(n_s),
                                           np.full(n_s, 1 + n_w + n_s),
                                           demand.astype(np.int64), -big * pc)
    o.add_arc_with_capacity_and_unit_cost(0, 1 + n_w + n_s, total, 0)
    o.set_node_supply(0, total)
    o.set_node_supply(1 + n_w + n_s, -total)
    assert o.solve() == o.OPTIMAL
    x = np.asarray(o.flows(np.arange(first, first + wi.shape[0])))
    return int(np.dot(x, pc[sj])), int(np.dot(x, cost[wi, sj]))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("unreachable", [0.0, 0.5])
def test_clustered_allocation_with_warm_start_and_crash_equals_full_reference(
        seed: int, unreachable: float) -> None:
    # Large enough for the aggregated warm start (S > 4 W) and, when every pair is reachable,
    # the greedy crash basis; the reference sees every pair at once.
    d, p, s, h = _clustered_item(seed, 25, 600, unreachable)
    sol = _flow.solve_item(d, p, s, h, k=3)
    cov, hrs = _reference(d, p, s, h)
    assert round(sol.weighted_coverage * 10) == cov
    assert round(sol.transport_cost * 100) == hrs
    assert sol.phase2_rounds >= 1


def test_warm_start_and_crash_do_not_change_the_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    d, p, s, h = _clustered_item(11, 30, 700, 0.0)
    fast = _flow.solve_item(d, p, s, h, k=4)
    monkeypatch.setattr(_flow, "_WARM", False)
    monkeypatch.setattr(_flow, "_CRASH", False)
    plain = _flow.solve_item(d, p, s, h, k=4)
    assert fast.weighted_coverage == pytest.approx(plain.weighted_coverage, rel=1e-12)
    assert fast.transport_cost == pytest.approx(plain.transport_cost, rel=1e-12)
    assert np.array_equal(fast.unmet, plain.unmet)


@pytest.mark.parametrize("seed", range(4))
def test_road_cuts_that_leave_the_priority_cover_reachable_keep_the_closed_form(
        seed: int) -> None:
    # A fifth of the pairs cut: every shelter still reaches plenty of stock, so the knapsack
    # totals are attainable, which proves them optimal; the answer equals the full reference.
    d, p, s, h = _clustered_item(40 + seed, 25, 600, 0.2)
    sol = _flow.solve_item(d, p, s, h)
    assert sol.phase1_rounds == 0
    cov, hrs = _reference(d, p, s, h)
    assert round(sol.weighted_coverage * 10) == cov
    assert round(sol.transport_cost * 100) == hrs


def test_a_cut_off_priority_shelter_falls_back_to_the_rank_weighted_flow() -> None:
    # The most urgent shelter is reachable only from warehouse 0, which holds 5 units of the 50
    # it needs: the knapsack would cover it fully, which no flow can, so coverage is not a
    # priority prefix and the general flow must decide (and agree with the reference).
    d, p, s, h = _clustered_item(7, 25, 600, 0.0)
    p[0] = 9.9
    d[0] = 50
    h[1:, 0] = np.inf
    s[0] = 5
    sol = _flow.solve_item(d, p, s, h)
    assert sol.phase1_rounds >= 1
    assert int(sol.unmet[0]) == 45
    cov, hrs = _reference(d, p, s, h)
    assert round(sol.weighted_coverage * 10) == cov
    assert round(sol.transport_cost * 100) == hrs


def test_jointly_unreachable_priority_cover_is_detected_after_the_flow() -> None:
    # Two urgent shelters, each reachable only from warehouse 0, whose 60 units cover either
    # alone but not both: the per-shelter check passes, the closed-form flow then needs its
    # artificial arcs, and the rank-weighted flow takes over.
    d, p, s, h = _clustered_item(8, 25, 600, 0.0)
    p[:2] = 9.9
    d[:2] = 50
    h[1:, :2] = np.inf
    s[0] = 60
    sol = _flow.solve_item(d, p, s, h)
    assert sol.phase1_rounds >= 1
    assert int(sol.unmet[:2].sum()) == 40
    cov, hrs = _reference(d, p, s, h)
    assert round(sol.weighted_coverage * 10) == cov
    assert round(sol.transport_cost * 100) == hrs


def test_a_rejected_crash_basis_leaves_the_problem_usable() -> None:
    # a 2-cycle (each node the other's parent through the same arc) is not a tree
    ns = NetworkSimplex(np.array([3, -3, 0]), 5)
    ns.add_arcs(np.array([0, 1]), np.array([1, 2]), np.array([10, 10]), np.array([1, 1]))
    with pytest.raises(ValueError, match="does not exist"):
        ns.crash(np.array([3, 3, 3]), np.array([-1, 7, -1]), np.array([0, 0]))
    with pytest.raises(ValueError):
        ns.crash(np.array([1, 0, 3]), np.array([0, 0, -1]), np.array([3, 0]))
    assert ns.solve() == OPTIMAL
    assert ns.flows().tolist() == [3, 0]
