"""Exact lexicographic allocation of one item as an integer min-cost flow (OR-Tools).

Model (one item; whole catalogue units)::

    x[w, s] >= 0 units from warehouse w to shelter s (reachable pairs only)
    sum_s x[w, s] <= S[w],   covered[s] = sum_w x[w, s] <= d[s]
    1st: maximise sum_s p[s] covered[s]      2nd: minimise sum_ws h[w, s] x[w, s]

**Phase 1 needs only the order of the priorities.** The set of coverable vectors is a
polymatroid (bipartite supply/demand), so for any weights p_1 > ... > p_m > 0 on the priority
classes G_1, ..., G_m, ``p . covered = sum_j (p_j - p_(j+1)) covered(G_1 u ... u G_j)`` is maximal
iff every prefix ``G_1 u ... u G_j`` is covered as much as possible (greedy on a polymatroid). The
optimal face is therefore the same for every strictly decreasing positive weighting: real
priorities are replaced by their integer ranks r[s] in 1..m (equal floats share a rank) with no
loss at all. Phase 1 is exact, with no priority resolution involved.

**One flow, lexicographic by weight.** Travel hours are integer-scaled, c = rint(h K) (see
:func:`_hour_scale`), and covering one unit of shelter s earns B[s] = M r[s] with
M = (W + 1) max(c) + 1. Any two integral flows differ by a sum of simple residual cycles; a cycle
has at most W forward transport arcs (each leaves a distinct warehouse), so per unit it changes
travel by at most W max(c) < M, while a coverage change is a whole multiple of M. Hence no
travel saving can ever pay for a coverage loss, and among max-coverage flows the cheapest is
chosen: the min-cost flow *is* the lexicographic optimum (for the hours c / K).

**Closed form when every pair is reachable.** Coverage is then limited only by total supply:
shelters above a cut-off priority are fully covered, those below get nothing, and the tied group
shares the rest (fractional knapsack by priority). The flow then only minimises travel with those
shelter totals fixed (no big coverage weights; fewer shelters). To keep every restricted problem
feasible, artificial arcs source -> shelter cost P = (W + 1) max(c) + 1 per unit; by the same cycle
argument a full-problem optimum never uses them (checked).

**Travel resolution.** If every travel time is a multiple of 10^-j h for some j <= 6 (as ``geo``
outputs rounded to 0.01 h are), K = 10^j and the result is exact. Otherwise K is the largest power
of ten <= 10^6 that keeps all costs and potentials inside int64 (``_hour_scale``); the plan is
then optimal for hours rounded to 1/K h and its true unit-hours exceed the optimum by at most
(units shipped) / K (each unit's hours are off by <= 1/(2K) in both plans; coverage is not
affected at all).

**Column generation.** Each restricted problem holds, per shelter, its ``k`` cheapest arcs (after
a warm start from an aggregated problem, cheapest in reduced cost) plus each warehouse's
cheapest shelters. After each OR-Tools solve, node potentials pi (pi[head] <= pi[tail] + cost on
every residual arc) are rebuilt from the flow (:func:`_potentials`), and every reachable pair of
the full W x S matrix is priced in one vectorised int64 pass: c[w,s] + pi[w] - pi[s]. Pairs with
a negative reduced cost are added (the most negative few per shelter and per warehouse) and the
problem re-solved; when none is negative, the potentials prove the restricted optimum optimal
for the full problem. Integer arithmetic throughout: no tolerance is involved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from logistics._solver import ItemSolution

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: reduced-cost sentinel of unreachable pairs; potentials stay below 2^60 (see _hour_scale)
_UNREACHABLE = np.int64(2**61)
_COST_LIMIT = 2**60
#: violating pairs added per shelter and per warehouse in a pricing round (measured: 16 needs
#: fewer, larger rounds than 4 and is faster overall on the national case)
_PER_NODE = 16


@dataclass
class _Network:
    """Fixed part of a flow network whose first W + S nodes are warehouses and shelters.

    Transport arcs w -> W + s are added per restricted problem by :func:`_column_generation`.
    """

    n_w: int
    n_s: int
    n_nodes: int
    tail: IntArray
    head: IntArray
    cap: IntArray
    cost: IntArray
    supply: IntArray          # node supplies (> 0 source, < 0 sink), sum 0
    transport_cap: int


def _hour_scale(hours: FloatArray, reachable: BoolArray, weight_factor: int,
                n_w: int, n_nodes: int) -> int:
    """Integer scale K for travel hours (cost = rint(hours K)).

    The smallest power of ten 10^j (j <= 6) on whose grid every reachable travel time lies, if
    that fits the integer headroom; else the largest power of ten <= 10^6 that fits. Headroom:
    the largest arc cost, ``(W + 1) max(c) + 1`` times ``weight_factor`` (the largest rank, or 1),
    times the node count must stay below 2^60, so potentials (path sums of at most n_nodes arcs)
    and OR-Tools' internal cost scaling (x (n + 1)) fit in int64.
    """
    h_max = float(np.max(hours, where=reachable, initial=0.0))

    def fits(scale: int) -> bool:
        c_max = round(h_max * scale)
        return ((n_w + 1) * c_max + 1) * weight_factor * (n_nodes + 2) < _COST_LIMIT

    if not fits(1):
        raise RuntimeError("travel hours x priority ranks exceed the integer cost range")
    vals = hours[reachable]
    sample = vals[:: max(1, vals.shape[0] // 20_000)]
    for j in range(7):
        scale = int(10**j)
        if not fits(scale):
            break
        # on the grid = within float rounding of a whole multiple of 1/scale
        if all(np.all(np.abs(v * scale - np.rint(v * scale)) <= 1e-9 + 1e-13 * v * scale)
               for v in (sample, vals)):
            return scale
    best = 1
    for j in range(7):
        if fits(10**j):
            best = int(10**j)
    return best


def _potentials(tail: IntArray, head: IntArray, cap: IntArray, cost: IntArray, flow: IntArray,
                n_nodes: int) -> IntArray:
    """Node potentials pi with pi[v] <= pi[u] + cost for every residual arc u -> v.

    Such potentials exist because the flow is optimal. Arcs with 0 < flow < cap are residual in
    both directions, so they fix pi[v] - pi[u] = cost exactly: each connected component of these
    "free" arcs gets relative offsets by one traversal. What remains is a system of difference
    constraints between components (one per residual arc at a bound), solved by Bellman-Ford on
    the (small) component graph.
    """
    free = (flow > 0) & (flow < cap)
    ft, fh, fc = tail[free], head[free], cost[free]
    u = np.concatenate([ft, fh])
    order = np.argsort(u, kind="stable")
    v_l = np.concatenate([fh, ft])[order].tolist()
    c_l = np.concatenate([fc, -fc])[order].tolist()
    ptr = np.searchsorted(u[order], np.arange(n_nodes + 1)).tolist()
    label = [-1] * n_nodes
    offset = [0] * n_nodes
    n_comp = 0
    for root in range(n_nodes):
        if label[root] >= 0:
            continue
        label[root] = n_comp
        stack = [root]
        while stack:
            a = stack.pop()
            for e in range(ptr[a], ptr[a + 1]):
                b = v_l[e]
                if label[b] < 0:
                    label[b] = n_comp
                    offset[b] = offset[a] + c_l[e]
                    stack.append(b)
        n_comp += 1
    lab = np.array(label, dtype=np.int64)
    off = np.array(offset, dtype=np.int64)
    fwd = (flow < cap) & ~free   # at zero: residual u -> v with +cost
    bwd = (flow > 0) & ~free     # at capacity: residual v -> u with -cost
    ct = np.concatenate([lab[tail[fwd]], lab[head[bwd]]])
    ch = np.concatenate([lab[head[fwd]], lab[tail[bwd]]])
    cw = np.concatenate([cost[fwd] + off[tail[fwd]] - off[head[fwd]],
                         -cost[bwd] + off[head[bwd]] - off[tail[bwd]]])
    inside = ct != ch
    # arcs inside a component are implied by optimality (no negative cycle); drop them
    ct, ch, cw = ct[inside], ch[inside], cw[inside]
    dist = np.zeros(n_comp, dtype=np.int64)
    if ct.shape[0]:
        order = np.argsort(ch, kind="stable")
        ct, ch, cw = ct[order], ch[order], cw[order]
        heads, starts = np.unique(ch, return_index=True)
        for _ in range(n_comp + 1):
            best = np.minimum.reduceat(dist[ct] + cw, starts)
            improved = best < dist[heads]
            if not improved.any():
                break
            dist[heads[improved]] = best[improved]
        else:
            raise RuntimeError("negative cycle in an optimal residual graph; this is a bug")
    pot: IntArray = dist[lab] + off
    return pot


def _solve_network(net: _Network, aw: IntArray, as_: IntArray, costs: IntArray) -> IntArray:
    """Solve the network with the given transport arcs; returns the flow on every arc (fixed
    arcs first, then transport arcs)."""
    f = min_cost_flow.SimpleMinCostFlow()
    f.add_arcs_with_capacity_and_unit_cost(net.tail, net.head, net.cap, net.cost)
    f.add_arcs_with_capacity_and_unit_cost(
        aw, net.n_w + as_, np.full(aw.shape[0], net.transport_cap, dtype=np.int64), costs)
    f.set_nodes_supplies(np.arange(net.n_nodes, dtype=np.int64), net.supply)
    status = f.solve()
    if status != f.OPTIMAL:
        raise RuntimeError(f"min-cost flow status {status}")
    flows: IntArray = np.asarray(f.flows(np.arange(f.num_arcs(), dtype=np.int64)),
                                 dtype=np.int64)
    return flows


def _initial_arcs(cost: IntArray, reachable: BoolArray, k: int, k_w: int,
                  pot_w: IntArray | None = None) -> BoolArray:
    """Each shelter's k cheapest reachable warehouses (by cost + pot_w, i.e. reduced cost up to
    a per-shelter constant, when potentials are given) and each warehouse's k_w cheapest
    shelters."""
    n_w, n_s = cost.shape
    chosen = np.zeros((n_w, n_s), dtype=bool)
    key = cost if pot_w is None else cost + pot_w[:, None]
    kk = min(k, n_w)
    if kk == n_w:
        chosen[:] = True
    else:
        idx = np.argpartition(key, kk - 1, axis=0)[:kk, :]
        chosen[idx, np.arange(n_s)[None, :]] = True
    k2 = min(k_w, n_s)
    if k2 == n_s:
        chosen[:] = True
    else:
        idx2 = np.argpartition(cost, k2 - 1, axis=1)[:, :k2]
        chosen[np.arange(n_w)[:, None], idx2] = True
    chosen &= reachable
    return chosen


def _column_generation(net: _Network, cost: IntArray, chosen: BoolArray, per_node: int,
                       max_rounds: int) -> tuple[IntArray, IntArray, IntArray, IntArray, int]:
    """Price-and-solve until no reachable pair has a negative reduced cost.

    ``cost`` is W x S with ``_UNREACHABLE`` for unusable pairs; ``chosen`` is updated in place.
    Returns (flows on fixed arcs, transport tails, transport heads (shelter index), transport
    flows, rounds).
    """
    n_w, n_s = net.n_w, net.n_s
    n_fixed = net.tail.shape[0]
    cols = np.arange(n_s)
    rows = np.arange(n_w)
    rounds = 0
    while True:
        rounds += 1
        aw, as_ = np.nonzero(chosen)
        aw = aw.astype(np.int64)
        as_ = as_.astype(np.int64)
        arc_cost = cost[aw, as_]
        flows = _solve_network(net, aw, as_, arc_cost)
        tail = np.concatenate([net.tail, aw])
        head = np.concatenate([net.head, n_w + as_])
        cap = np.concatenate([net.cap, np.full(aw.shape[0], net.transport_cap, dtype=np.int64)])
        pot = _potentials(tail, head, cap, np.concatenate([net.cost, arc_cost]), flows,
                          net.n_nodes)
        rc = cost + pot[:n_w, None]
        rc -= pot[n_w : n_w + n_s][None, :]
        rc[chosen] = _UNREACHABLE
        if not (rc < 0).any():
            return flows[:n_fixed], aw, as_, flows[n_fixed:], rounds
        if rounds >= max_rounds:
            raise RuntimeError("column generation did not converge")
        r = min(per_node, n_w)
        idx = np.argpartition(rc, r - 1, axis=0)[:r, :] if r < n_w else \
            np.broadcast_to(rows[:, None], (n_w, n_s))
        neg = rc[idx, cols[None, :]] < 0
        chosen[idx[neg], np.broadcast_to(cols[None, :], idx.shape)[neg]] = True
        r = min(per_node, n_s)
        idx = np.argpartition(rc, r - 1, axis=1)[:, :r] if r < n_s else \
            np.broadcast_to(cols[None, :], (n_w, n_s))
        neg = rc[rows[:, None], idx] < 0
        chosen[np.broadcast_to(rows[:, None], idx.shape)[neg], idx[neg]] = True


def _cover_plan(demand: IntArray, priority: FloatArray, total_supply: int
                ) -> tuple[BoolArray, BoolArray, int]:
    """Phase 1 in closed form when every pair is reachable (integers, exact).

    Returns (must: fully covered, tied: shares ``left`` units, left)."""
    n_s = demand.shape[0]
    if total_supply >= int(demand.sum()):
        return np.ones(n_s, dtype=bool), np.zeros(n_s, dtype=bool), 0
    order = np.argsort(-priority, kind="stable")
    cum = np.cumsum(demand[order])
    cut = int(np.searchsorted(cum, total_supply, side="right"))
    p_star = priority[order[cut]]
    must = priority > p_star
    tied = priority == p_star
    return must, tied, total_supply - int(demand[must].sum())


def _aggregate_potentials(cost: IntArray, net: _Network, group: IntArray, n_groups: int,
                          ) -> IntArray:
    """Warehouse potentials from a dense problem whose shelters are merged into groups.

    ``net`` is the shelter-level network; shelters of a group are merged node by node (supplies
    added, arcs re-pointed). Group costs are the rounded mean of the members'. Only a warm start:
    exactness comes from pricing, so any potentials would do.
    """
    n_w, n_s = net.n_w, net.n_s
    counts = np.bincount(group, minlength=n_groups).astype(np.float64)
    gcost = np.empty((n_w, n_groups), dtype=np.int64)
    for w in range(n_w):
        sums = np.bincount(group, weights=cost[w].astype(np.float64), minlength=n_groups)
        gcost[w] = np.rint(sums / counts).astype(np.int64)
    node_map = np.arange(net.n_nodes, dtype=np.int64)
    node_map[n_w : n_w + n_s] = n_w + group
    extra = net.n_nodes - n_w - n_s
    node_map[n_w + n_s :] = n_w + n_groups + np.arange(extra)
    n_nodes = n_w + n_groups + extra
    supply = np.bincount(node_map, weights=net.supply.astype(np.float64),
                         minlength=n_nodes)
    agg = _Network(n_w, n_groups, n_nodes, node_map[net.tail], node_map[net.head], net.cap,
                   net.cost, np.rint(supply).astype(np.int64), net.transport_cap)
    gw, gg = np.nonzero(np.ones((n_w, n_groups), dtype=bool))
    gw, gg = gw.astype(np.int64), gg.astype(np.int64)
    arc_cost = gcost[gw, gg]
    flows = _solve_network(agg, gw, gg, arc_cost)
    tail = np.concatenate([agg.tail, gw])
    head = np.concatenate([agg.head, n_w + gg])
    cap = np.concatenate([agg.cap, np.full(gw.shape[0], agg.transport_cap, dtype=np.int64)])
    pot = _potentials(tail, head, cap, np.concatenate([agg.cost, arc_cost]), flows, n_nodes)
    pot_w: IntArray = pot[:n_w]
    return pot_w


def solve_item(
    demand: IntArray,
    priority: FloatArray,
    supply: IntArray,
    hours: FloatArray,
    k: int = 8,
    max_rounds: int = 100,
    force_general: bool = False,
) -> ItemSolution:
    """Solve one item's lexicographic allocation exactly (see the module doc).

    Args:
        demand: shape (S,), whole units needed per shelter (> 0).
        priority: shape (S,), priority weight per shelter (> 0).
        supply: shape (W,), whole eligible units per warehouse (> 0).
        hours: shape (W, S), travel hours; ``inf`` marks an unreachable pair.
        k: cheapest warehouses per shelter in the initial candidate set (any k is exact).
        max_rounds: safety cap on pricing rounds.
        force_general: use the rank-weighted flow even when every pair is reachable (tests).

    Returns:
        The flows; ``phase1_rounds`` is 0 when phase 1 had the closed form, else the rounds of
        the combined flow; ``phase2_rounds`` counts the pricing rounds.

    Raises:
        RuntimeError: if the solver fails or pricing does not converge in ``max_rounds``.
    """
    n_w, n_s = hours.shape
    d = demand.astype(np.int64)
    sup = supply.astype(np.int64)
    total = int(sup.sum())
    reachable = np.isfinite(hours)
    closed_form = bool(reachable.all()) and not force_general
    src = n_w + n_s
    snk = src + 1
    if closed_form:
        must, tied, left = _cover_plan(d, priority, total)
        keep = np.nonzero(must | tied)[0].astype(np.int64)
        must, tied, d_k = must[keep], tied[keep], d[keep]
        n_k = keep.shape[0]
        n_nodes = n_w + n_k + 3
        scale = _hour_scale(hours, reachable, 1, n_w, n_nodes)
        cost = np.rint(hours[:, keep] * scale).astype(np.int64)
        penalty = (n_w + 1) * int(cost.max(initial=0)) + 1
        src, snk, tnode = n_w + n_k, n_w + n_k + 1, n_w + n_k + 2
        tied_idx = np.nonzero(tied)[0]
        shelters = n_w + np.arange(n_k, dtype=np.int64)
        node_supply = np.zeros(n_nodes, dtype=np.int64)
        node_supply[src] = total
        node_supply[n_w + np.nonzero(must)[0]] = -d_k[must]
        node_supply[tnode] = -left
        node_supply[snk] = -(total - int(d_k[must].sum()) - left)
        net = _Network(
            n_w, n_k, n_nodes,
            tail=np.concatenate([np.full(n_w, src), n_w + tied_idx, [src],
                                 np.full(n_k, src)]).astype(np.int64),
            head=np.concatenate([np.arange(n_w), np.full(tied_idx.shape[0], tnode), [snk],
                                 shelters]).astype(np.int64),
            cap=np.concatenate([sup, d_k[tied_idx], [total], d_k]).astype(np.int64),
            cost=np.concatenate([np.zeros(n_w + tied_idx.shape[0] + 1, dtype=np.int64),
                                 np.full(n_k, penalty, dtype=np.int64)]),
            supply=node_supply, transport_cap=max(total, 1),
        )
        artificial = slice(n_w + tied_idx.shape[0] + 1, n_w + tied_idx.shape[0] + 1 + n_k)
        reach_k = np.ones((n_w, n_k), dtype=bool)
        shelter_map = keep
    else:
        ranks = np.searchsorted(np.unique(priority), priority).astype(np.int64) + 1
        n_nodes = n_w + n_s + 2
        scale = _hour_scale(hours, reachable, int(ranks.max(initial=1)), n_w, n_nodes)
        cost = np.where(reachable, np.rint(np.where(reachable, hours, 0.0) * scale),
                        0).astype(np.int64)
        big_m = (n_w + 1) * int(cost.max(initial=0)) + 1
        cost[~reachable] = _UNREACHABLE
        node_supply = np.zeros(n_nodes, dtype=np.int64)
        node_supply[src] = total
        node_supply[snk] = -total
        net = _Network(
            n_w, n_s, n_nodes,
            tail=np.concatenate([np.full(n_w, src), n_w + np.arange(n_s), [src]]
                                ).astype(np.int64),
            head=np.concatenate([np.arange(n_w), np.full(n_s, snk), [snk]]).astype(np.int64),
            cap=np.concatenate([sup, d, [total]]).astype(np.int64),
            cost=np.concatenate([np.zeros(n_w, dtype=np.int64), -big_m * ranks, [0]]
                                ).astype(np.int64),
            supply=node_supply, transport_cap=max(total, 1),
        )
        artificial = slice(0, 0)
        reach_k = reachable
        shelter_map = np.arange(n_s, dtype=np.int64)

    pot_w: IntArray | None = None
    if net.n_s > 4 * n_w and n_w > k and bool(reachable.all()):
        # warm start: merge shelters by nearest warehouse, solve densely, use its potentials
        nearest = np.argmin(cost, axis=0)
        uniq, group = np.unique(nearest, return_inverse=True)
        pot_w = _aggregate_potentials(cost, net, group.astype(np.int64), int(uniq.shape[0]))
    chosen = _initial_arcs(cost, reach_k, k, 2, pot_w)
    fixed_flows, aw, as_, q, rounds = _column_generation(net, cost, chosen, _PER_NODE,
                                                         max_rounds)
    if int(fixed_flows[artificial].sum()) != 0:
        raise RuntimeError("artificial arcs used at the optimum; this is a bug")

    nz = q > 0
    aw, as_, aq = aw[nz], shelter_map[as_[nz]], q[nz]
    order = np.lexsort((as_, aw))  # deterministic order: by warehouse, then shelter
    aw, as_, aq = aw[order], as_[order], aq[order]
    received = np.bincount(as_, weights=aq, minlength=n_s).astype(np.int64)
    unmet = d - received
    return ItemSolution(
        warehouse_index=aw,
        shelter_index=as_,
        quantity=aq,
        unmet=unmet,
        weighted_coverage=float(np.dot(priority.astype(np.float64),
                                       received.astype(np.float64))),
        transport_cost=float(np.dot(hours[aw, as_], aq.astype(np.float64))),
        phase1_rounds=0 if closed_form else rounds,
        phase2_rounds=rounds,
        columns=int(np.count_nonzero(chosen)),
    )
