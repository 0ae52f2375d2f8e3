"""Exact allocation of one item as an integer min-cost flow (network simplex), for either
objective: the fair one (:func:`solve_item_fair`, deprivation + arrival delay + logistics cost,
see :mod:`logistics.deprivation` and the section at the end of this module) or the lexicographic
one (:func:`solve_item`, described first).

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

**Closed form when the priority cover is reachable.** With every pair reachable, coverage is
limited only by total supply: shelters above a cut-off priority are fully covered, those below get
nothing, and the tied group shares the rest (fractional knapsack by priority). That knapsack
bounds the weighted coverage from above in any case, so whenever a flow over the *reachable*
pairs attains it, the coverage optimum is exactly that face and the flow only minimises travel
with those shelter totals fixed (no big coverage weights; fewer shelters). To keep every
restricted problem feasible, artificial arcs source -> shelter cost P = (W + 1) max(c) + 1 per
unit; by the same cycle argument an optimum uses them only if no flow attains the totals. With
every pair reachable that never happens (checked); with road cuts it means a shelter the knapsack
would cover cannot be, and the rank-weighted flow above decides instead (``phase1_rounds`` > 0).

**Travel resolution.** If every travel time is a multiple of 10^-j h for some j <= 6 (as ``geo``
outputs rounded to 0.01 h are), K = 10^j and the result is exact. Otherwise K is the largest power
of ten <= 10^6 that keeps all costs and potentials inside int64 (``_hour_scale``); the plan is
then optimal for hours rounded to 1/K h and its true unit-hours exceed the optimum by at most
(units shipped) / K (each unit's hours are off by <= 1/(2K) in both plans; coverage is not
affected at all).

**Column generation.** The flow is solved by the network simplex of :mod:`logistics._netsimplex`
on a restricted arc set: per shelter its ``k`` cheapest warehouses plus each warehouse's two
cheapest shelters. After each solve the simplex's node potentials pi are optimal duals of the
restricted problem, and every reachable pair of the full W x S matrix is priced in one compiled
int64 pass: c[w,s] + pi[w] - pi[s]. Pairs with a negative reduced cost are added (the most
negative few per shelter and per warehouse) and the simplex continues from its optimal basis;
when none is negative, the potentials prove the restricted optimum optimal for the full problem.
Integer arithmetic throughout: no tolerance is involved.

**Warm start (speed only; exactness comes from pricing).** When shelters far outnumber
warehouses and every pair is reachable, shelters are merged by nearest warehouse into a small
aggregated problem, solved the same way; its warehouse potentials rank each shelter's candidate
arcs (cheapest by c + pi[w]) and drive a greedy first basis (:class:`Crash`: shelters that must
be covered go wholly to their cheapest candidate with the stock left). On the national benchmark
this cuts the simplex pivots from about 140,000 to 45,000 per item.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from logistics._netsimplex import INF_CAP, OPTIMAL, NetworkSimplex

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: reduced-cost sentinel of unreachable pairs; potentials stay below 2^60 (see _hour_scale)
_UNREACHABLE = np.int64(2**61)
_COST_LIMIT = 2**60
#: violating pairs added per shelter and per warehouse in a pricing round; with k = 16 initial
#: candidates per shelter this was fastest on the national benchmark (8 / 16: 1.08 s for 4
#: items; 16 / 8: 1.19 s; 4 / 12: 1.20 s; best of 5 interleaved runs)
_PER_NODE = 8
_WARM = True
_CRASH = True
#: weight bands per nearest warehouse in the fair problem's aggregated warm start
_BANDS = 8
#: regret of a shelter with a single candidate warehouse in the fair crash basis
_NO_SECOND = np.int64(2**62)


@dataclass(frozen=True)
class ItemSolution:
    """Optimal flows for one item, indexed into the caller's warehouse/shelter arrays."""

    warehouse_index: IntArray
    shelter_index: IntArray
    quantity: IntArray
    unmet: IntArray
    weighted_coverage: float
    transport_cost: float
    phase1_rounds: int
    phase2_rounds: int
    columns: int
    #: fair objective only: per warehouse, what one more unit of its stock would earn at the
    #: optimum (dual price, person-day equivalents); per shelter, the marginal relief there
    warehouse_value: FloatArray | None = None
    shelter_value: FloatArray | None = None
    #: fair objective, when the caller asked for them (``logistics.allocation`` does, in the
    #: solving thread): per shelter, the best and second-best source (:func:`best_two_sources`)
    best_source: IntArray | None = None
    second_source: IntArray | None = None


def _greedy_tree(net: _Network, aw: IntArray, as_: IntArray, cost: IntArray, pot_w: IntArray,
                 order: IntArray, demand: IntArray, below: int | None = None,
                 ) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """The part of a crash basis both networks share: shelters of ``order`` wholly to their
    cheapest candidate warehouse by ``cost + pot_w`` that still has their demand, each hanging
    from that warehouse, which hangs from the source (fixed arcs 0..W-1 are source -> w).

    Returns (parent, pred, flow, assigned shelters); nodes left out hang from the root on their
    artificial arcs. With ``below``, the assigned demand is kept under it (one shelter is left
    out if it would reach it).
    """
    n_w, n_s = net.n_w, net.n_s
    key = cost[aw, as_] + pot_w[aw]
    by_shelter = np.argsort(as_, kind="stable").astype(np.int64)
    starts = np.searchsorted(as_[by_shelter], np.arange(n_s + 1)).astype(np.int64)
    pick = _greedy_assign(aw, as_, key, by_shelter, starts, order, demand, net.cap[:n_w].copy())
    got = np.nonzero(pick >= 0)[0]
    if below is not None and got.shape[0] and int(demand[got].sum()) >= below:
        got = got[:-1]
    arcs = pick[got]
    n_fixed = net.tail.shape[0]
    flow = np.zeros(n_fixed + aw.shape[0], dtype=np.int64)
    parent = np.full(net.n_nodes, net.n_nodes, dtype=np.int64)
    pred = np.full(net.n_nodes, -1, dtype=np.int64)
    flow[n_fixed + arcs] = demand[got]
    parent[n_w + got] = aw[arcs]
    pred[n_w + got] = n_fixed + arcs
    f_w = np.bincount(aw[arcs], weights=demand[got], minlength=n_w).astype(np.int64)
    used = np.nonzero(f_w > 0)[0]
    flow[used] = f_w[used]
    parent[used] = n_w + n_s   # the source
    pred[used] = used
    return parent, pred, flow, got


@dataclass
class Crash:
    """A first basis for the closed-form network: must-cover shelters wholly assigned, greedily,
    to their cheapest candidate warehouse by ``cost + pot_w`` (approximate warehouse prices)."""

    pot_w: IntArray
    must: BoolArray           # per kept shelter
    n_tied: int

    def apply(self, ns: NetworkSimplex, net: _Network, aw: IntArray, as_: IntArray,
              cost: IntArray) -> None:
        n_w, n_k = net.n_w, net.n_s
        src, snk = n_w + n_k, n_w + n_k + 1
        demand = np.where(self.must, -net.supply[n_w : n_w + n_k], 0).astype(np.int64)
        order = np.nonzero(self.must)[0].astype(np.int64)
        order = order[np.argsort(-demand[order], kind="stable")]
        parent, pred, flow, _ = _greedy_tree(net, aw, as_, cost, self.pot_w, order, demand)
        surplus = -int(net.supply[snk])
        if surplus > 0:                     # src -> snk is fixed arc W + n_tied
            flow[n_w + self.n_tied] = surplus
            parent[snk] = src
            pred[snk] = n_w + self.n_tied
        ns.crash(parent, pred, flow)


@dataclass
class RankCrash:
    """A first basis for the rank-weighted network (some pairs unreachable): shelters in
    decreasing priority rank, larger demand first among equals, wholly to their cheapest
    candidate warehouse by ``cost + pot_w`` that still has their demand in stock."""

    pot_w: IntArray
    ranks: IntArray           # per shelter
    demand: IntArray          # per shelter

    def apply(self, ns: NetworkSimplex, net: _Network, aw: IntArray, as_: IntArray,
              cost: IntArray) -> None:
        n_w, n_s = net.n_w, net.n_s
        src, snk = n_w + n_s, n_w + n_s + 1
        total = int(net.supply[src])
        order = np.lexsort((-self.demand, -self.ranks)).astype(np.int64)
        # keep some stock unplaced, so the tree arc source -> sink carries flow
        parent, pred, flow, got = _greedy_tree(net, aw, as_, cost, self.pot_w, order,
                                               self.demand, below=total)
        flow[n_w + got] = self.demand[got]   # shelter -> sink at capacity: non-tree, upper
        flow[n_w + n_s] = total - int(self.demand[got].sum())   # fixed arc src -> snk
        parent[snk] = src
        pred[snk] = n_w + n_s
        ns.crash(parent, pred, flow)


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


def _hour_scale(hours: FloatArray, weight_factor: int, n_w: int, n_nodes: int) -> int:
    """Integer scale K for travel hours (cost = rint(hours K)).

    The smallest power of ten 10^j (j <= 6) on whose grid every finite (reachable) travel time
    lies, if that fits the integer headroom; else the largest power of ten <= 10^6 that fits.
    Headroom: the largest arc cost, ``(W + 1) max(c) + 1`` times ``weight_factor`` (the largest
    rank, or 1), times the node count must stay below 2^60, so the network simplex's artificial
    cost (x (n + 1)), its potentials and reduced costs fit in int64.
    """
    h_max = _finite_max(hours)

    def fits(scale: int) -> bool:
        c_max = round(h_max * scale)
        return ((n_w + 1) * c_max + 1) * weight_factor * (n_nodes + 2) < _COST_LIMIT

    if not fits(1):
        raise RuntimeError("travel hours x priority ranks exceed the integer cost range")
    grid = _grid_exponent(hours)
    for j in range(7):
        scale = int(10**j)
        if not fits(scale):
            break
        if j >= grid:
            return scale
    best = 1
    for j in range(7):
        if fits(10**j):
            best = int(10**j)
    return best


@njit(cache=True, nogil=True)
def _finite_max(hours: FloatArray) -> float:  # pragma: no cover - compiled
    """Largest finite value (0.0 if none)."""
    best = 0.0
    for v in hours.ravel():
        best = max(best, v if v < np.inf else 0.0)   # branch-free: vectorises
    return best


@njit(cache=True, nogil=True)
def _reachable_max(cost: IntArray) -> int:  # pragma: no cover - compiled
    """Largest cost below the unreachable sentinel (0 if none)."""
    best = 0
    for c in cost.ravel():
        best = max(best, int(c) if c < _UNREACHABLE else 0)   # branch-free: vectorises
    return best


@njit(cache=True, nogil=True)
def _on_grid(hours: FloatArray, scale: float) -> bool:  # pragma: no cover - compiled
    """Every finite value within float rounding of a whole multiple of 1/scale."""
    flat = hours.ravel()
    bad = 0
    for i in range(flat.shape[0]):
        x = flat[i] * scale
        d = abs(x - np.rint(x))
        # inf - inf is nan and fails every comparison: unreachable pairs never count as bad
        bad += d > 1e-9 + 1e-13 * abs(x)
    return bad == 0


def _grid_exponent(hours: FloatArray) -> int:
    """Smallest j <= 6 such that every finite travel time is a whole multiple of 10^-j h
    (within float rounding), or 7 if there is none. Small exponents are rejected on a sample
    first; one full compiled pass confirms the candidate."""
    flat = hours.ravel()
    sample = np.ascontiguousarray(flat[:: max(1, flat.shape[0] // 4096)])
    for j in range(7):
        if _on_grid(sample, 10.0**j) and _on_grid(hours, 10.0**j):
            return j
    return 7


@njit(cache=True, nogil=True)
def _scaled_costs(hours: FloatArray, cols: IntArray, scale: float,
                  out: IntArray) -> None:  # pragma: no cover - compiled
    """out[w, j] = rint(hours[w, cols[j]] x scale), or the unreachable sentinel."""
    n_w = hours.shape[0]
    for w in range(n_w):
        row = hours[w]
        dst = out[w]
        for j in range(cols.shape[0]):
            h = row[cols[j]]
            dst[j] = np.int64(np.rint(h * scale)) if np.isfinite(h) else _UNREACHABLE


@njit(cache=True, nogil=True)
def _column_argmin(cost: IntArray) -> IntArray:  # pragma: no cover - compiled
    """Per shelter (column), the warehouse (row) of least cost; ties to the lowest row."""
    n_w, n_s = cost.shape
    best = cost[0].copy()
    arg = np.zeros(n_s, dtype=np.int64)
    for w in range(1, n_w):
        row = cost[w]
        for s in range(n_s):
            if row[s] < best[s]:
                best[s] = row[s]
                arg[s] = w
    return arg


@njit(cache=True, nogil=True)
def _group_costs(cost: IntArray, group: IntArray,
                 n_groups: int) -> IntArray:  # pragma: no cover - compiled
    """Rounded mean cost from each warehouse to the members of each group of shelters that it
    can reach (unreachable if it reaches none)."""
    n_w, n_s = cost.shape
    out = np.empty((n_w, n_groups), dtype=np.int64)
    sums = np.empty(n_groups, dtype=np.float64)
    counts = np.empty(n_groups, dtype=np.float64)
    for w in range(n_w):
        sums[:] = 0.0
        counts[:] = 0.0
        row = cost[w]
        for s in range(n_s):
            c = row[s]
            if c < _UNREACHABLE:
                sums[group[s]] += c
                counts[group[s]] += 1.0
        for g in range(n_groups):
            out[w, g] = np.int64(np.rint(sums[g] / counts[g])) if counts[g] > 0 \
                else _UNREACHABLE
    return out


def _initial_arcs(cost: IntArray, k: int, k_w: int, pot_w: IntArray | None = None) -> BoolArray:
    """Each shelter's k cheapest reachable warehouses (by cost + pot_w, i.e. by reduced cost up
    to a per-shelter constant, when warehouse potentials are given) and each warehouse's k_w
    cheapest reachable shelters: the first restricted problem (any choice is exact)."""
    chosen = np.zeros(cost.shape, dtype=np.bool_)
    shift = np.zeros(cost.shape[0], dtype=np.int64) if pot_w is None else pot_w
    _mark_cheapest(cost, shift, min(k, cost.shape[0]), min(k_w, cost.shape[1]), chosen)
    return chosen


@njit(cache=True, nogil=True, inline="always")
def _offer(vals: IntArray, ids: IntArray, cnt: IntArray, worst: IntArray, i: int, value: int,
           ident: int) -> None:  # pragma: no cover - compiled
    """Buffer ``i`` keeps the ``vals.shape[1]`` smallest values offered to it, with their ids;
    ``worst[i]`` is the slot of its largest kept value."""
    size = vals.shape[1]
    j = cnt[i]
    if j < size:
        vals[i, j] = value
        ids[i, j] = ident
        cnt[i] = j + 1
        if value > vals[i, worst[i]]:
            worst[i] = j
    elif value < vals[i, worst[i]]:
        vals[i, worst[i]] = value
        ids[i, worst[i]] = ident
        b = 0
        for t in range(1, size):
            if vals[i, t] > vals[i, b]:
                b = t
        worst[i] = b


@njit(cache=True, nogil=True)
def _mark_cheapest(cost: IntArray, shift: IntArray, k: int, k_w: int,
                   chosen: BoolArray) -> None:  # pragma: no cover - compiled
    """Kernel of :func:`_initial_arcs`. It spells out :func:`_offer`'s keep-smallest logic:
    through the helper this kernel measured 2-8x slower (the per-pair state stays in registers
    here)."""
    n_w, n_s = cost.shape
    key = np.empty(n_s, dtype=np.int64)
    if k > 0:
        buf_c = np.empty((n_s, k), dtype=np.int64)
        buf_w = np.empty((n_s, k), dtype=np.int64)
        cnt = np.zeros(n_s, dtype=np.int64)
        worst = np.zeros(n_s, dtype=np.int64)
        # worst key kept per shelter; 2^62 until its buffer is full, so the hot test below is
        # one vectorisable comparison per pair
        limit = np.full(n_s, np.int64(2**62), dtype=np.int64)
        for w in range(n_w):
            sh = shift[w]
            row = cost[w]
            hits = 0
            # pass 1 (vectorisable): keys of the row and whether any beats its shelter's worst
            for s in range(n_s):
                c = row[s]
                kk = c + sh if c < _UNREACHABLE else np.int64(2**62)
                key[s] = kk
                hits += kk < limit[s]
            if hits == 0:
                continue
            for s in range(n_s):
                c = key[s]
                if c >= limit[s]:
                    continue
                j = cnt[s]
                if j < k:
                    buf_c[s, j] = c
                    buf_w[s, j] = w
                    cnt[s] = j + 1
                    if c > buf_c[s, worst[s]]:
                        worst[s] = j
                    if j + 1 == k:
                        limit[s] = buf_c[s, worst[s]]
                else:
                    buf_c[s, worst[s]] = c
                    buf_w[s, worst[s]] = w
                    b = 0
                    for i in range(1, k):
                        if buf_c[s, i] > buf_c[s, b]:
                            b = i
                    worst[s] = b
                    limit[s] = buf_c[s, b]
        for s in range(n_s):
            for i in range(cnt[s]):
                chosen[buf_w[s, i], s] = True
    if k_w > 0:
        row_c = np.empty(k_w, dtype=np.int64)
        row_s = np.empty(k_w, dtype=np.int64)
        for w in range(n_w):
            m = 0
            wi = 0
            for s in range(n_s):
                c = cost[w, s]
                if c >= _UNREACHABLE:
                    continue
                if m < k_w:
                    row_c[m] = c
                    row_s[m] = s
                    if c > row_c[wi]:
                        wi = m
                    m += 1
                elif c < row_c[wi]:
                    row_c[wi] = c
                    row_s[wi] = s
                    wi = 0
                    for i in range(1, k_w):
                        if row_c[i] > row_c[wi]:
                            wi = i
            for i in range(m):
                chosen[w, row_s[i]] = True


@njit(cache=True, nogil=True)
def _price(cost: IntArray, pot_w: IntArray, pot_s: IntArray, chosen: BoolArray,
           r: int) -> tuple[IntArray, IntArray]:  # pragma: no cover - compiled
    """Pairs not yet in the restricted problem with a negative reduced cost
    c[w, s] + pot_w[w] - pot_s[s]: the r most negative per shelter and per warehouse. Marks them
    in ``chosen``; returns (warehouse, shelter) indices."""
    n_w, n_s = cost.shape
    buf_c = np.empty((n_s, r), dtype=np.int64)
    buf_w = np.empty((n_s, r), dtype=np.int64)
    cnt = np.zeros(n_s, dtype=np.int64)
    worst = np.zeros(n_s, dtype=np.int64)
    out_w = np.empty(n_w * r + n_s * r, dtype=np.int64)
    out_s = np.empty(n_w * r + n_s * r, dtype=np.int64)
    n_out = 0
    row_c = np.empty((1, r), dtype=np.int64)
    row_s = np.empty((1, r), dtype=np.int64)
    m = np.zeros(1, dtype=np.int64)
    wi = np.zeros(1, dtype=np.int64)
    rc_row = np.empty(n_s, dtype=np.int64)
    for w in range(n_w):
        pw = pot_w[w]
        row = cost[w]
        # pass 1 (vectorisable): reduced costs of the row; unreachable pairs stay >= 0
        for s in range(n_s):
            c = row[s]
            rc_row[s] = c + pw - pot_s[s] if c < _UNREACHABLE else 0
        m[0] = 0
        wi[0] = 0
        for s in range(n_s):
            rc = rc_row[s]
            if rc >= 0 or chosen[w, s]:
                continue
            _offer(buf_c, buf_w, cnt, worst, s, rc, w)
            _offer(row_c, row_s, m, wi, 0, rc, s)
        for i in range(m[0]):
            chosen[w, row_s[0, i]] = True
            out_w[n_out] = w
            out_s[n_out] = row_s[0, i]
            n_out += 1
    for s in range(n_s):
        for i in range(cnt[s]):
            w = buf_w[s, i]
            if not chosen[w, s]:
                chosen[w, s] = True
                out_w[n_out] = w
                out_s[n_out] = s
                n_out += 1
    return out_w[:n_out].copy(), out_s[:n_out].copy()


@njit(cache=True, nogil=True)
def _greedy_assign(aw: IntArray, as_: IntArray, key: IntArray, by_shelter: IntArray,
                   starts: IntArray, order: IntArray, demand: IntArray,
                   supply: IntArray) -> IntArray:  # pragma: no cover - compiled
    """Each shelter of ``order`` wholly to its cheapest (by ``key``) candidate warehouse that
    still has its demand in stock; returns per shelter the arc index, or -1."""
    left = supply.copy()
    out = np.full(starts.shape[0] - 1, -1, dtype=np.int64)
    for s in order:
        best = -1
        for i in range(starts[s], starts[s + 1]):
            a = by_shelter[i]
            if left[aw[a]] >= demand[s] and (best < 0 or key[a] < key[best]):
                best = a
        if best >= 0:
            left[aw[best]] -= demand[s]
            out[s] = best
    return out


def _column_generation(net: _Network, cost: IntArray, chosen: BoolArray, per_node: int,
                       max_rounds: int, crash: Crash | RankCrash | FairCrash | None = None,
                       ) -> tuple[IntArray, IntArray, IntArray, IntArray, int]:
    """Price-and-solve until no reachable pair has a negative reduced cost.

    Returns (flows on fixed arcs, transport tails, transport heads (shelter index), transport
    flows, rounds); see :func:`_restricted_solve`.
    """
    ns, rounds = _restricted_solve(net, cost, chosen, per_node, max_rounds, crash)
    n_fixed = net.tail.shape[0]
    flows = ns.flows()
    first = ns.n + n_fixed
    tails = ns.source[first : ns.m_end].copy()
    heads = ns.target[first : ns.m_end] - net.n_w
    return flows[:n_fixed], tails, heads, flows[n_fixed:], rounds


def _restricted_solve(net: _Network, cost: IntArray, chosen: BoolArray, per_node: int,
                      max_rounds: int, crash: Crash | RankCrash | FairCrash | None = None,
                      ) -> tuple[NetworkSimplex, int]:
    """Solve restricted problems until pricing proves the last one optimal for all pairs.

    ``cost`` is W x S with ``_UNREACHABLE`` for unusable pairs; ``chosen`` marks the arcs of the
    restricted problem and is updated in place. One :class:`NetworkSimplex` is kept across
    rounds: new arcs join the optimal basis of the previous round. Returns the solved network
    (fixed arcs first, then transport arcs in the order added) and the number of rounds.
    """
    n_w, n_s = net.n_w, net.n_s
    n_fixed = net.tail.shape[0]
    bound = max(int(np.max(np.abs(net.cost), initial=0)),
                _reachable_max(cost))
    aw, as_ = np.nonzero(chosen)
    ns = NetworkSimplex(net.supply, bound, arc_capacity=n_fixed + 2 * aw.shape[0])
    ns.add_arcs(net.tail, net.head, net.cap, net.cost)
    aw = aw.astype(np.int64)
    as_ = as_.astype(np.int64)
    ns.add_arcs(aw, n_w + as_, np.full(aw.shape[0], INF_CAP), cost[aw, as_])
    if crash is not None:
        crash.apply(ns, net, aw, as_, cost)
    rounds = 0
    while True:
        rounds += 1
        status = ns.solve()
        if status != OPTIMAL:
            raise RuntimeError(f"network simplex status {status}")
        pi = ns.potentials()
        new_w, new_s = _price(cost, pi[:n_w], pi[n_w : n_w + n_s], chosen, per_node)
        if new_w.shape[0] == 0:
            break
        if rounds >= max_rounds:
            raise RuntimeError("column generation did not converge")
        ns.add_arcs(new_w, n_w + new_s, np.full(new_w.shape[0], INF_CAP), cost[new_w, new_s])
    return ns, rounds


def _cover_plan(demand: IntArray, priority: FloatArray, total_supply: int
                ) -> tuple[BoolArray, BoolArray, int]:
    """Phase 1 in closed form, the priority knapsack (integers, exact when every pair is
    reachable, an upper bound on coverage otherwise).

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
    gcost = _group_costs(cost, group, n_groups)
    node_map = np.arange(net.n_nodes, dtype=np.int64)
    node_map[n_w : n_w + n_s] = n_w + group
    extra = net.n_nodes - n_w - n_s
    node_map[n_w + n_s :] = n_w + n_groups + np.arange(extra)
    n_nodes = n_w + n_groups + extra
    supply = np.bincount(node_map, weights=net.supply.astype(np.float64), minlength=n_nodes)
    agg = _Network(n_w, n_groups, n_nodes, node_map[net.tail], node_map[net.head], net.cap,
                   net.cost, np.rint(supply).astype(np.int64))
    ns, _ = _restricted_solve(agg, gcost, _initial_arcs(gcost, 8, 2), _PER_NODE, 1000)
    pot_w: IntArray = ns.potentials()[:n_w]
    return pot_w


def solve_item(
    demand: IntArray,
    priority: FloatArray,
    supply: IntArray,
    hours: FloatArray,
    k: int = 16,
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
    d = demand.astype(np.int64)
    sup = supply.astype(np.int64)
    reachable = np.isfinite(hours)
    if not force_general:
        cover = _cover_plan(d, priority, int(sup.sum()))
        must, tied, _ = cover
        if bool(reachable.all()):
            sol = _solve_flow(d, priority, sup, hours, k, max_rounds, cover)
            if sol is None:
                raise RuntimeError("artificial arcs used at the optimum; this is a bug")
            return sol
        # Some pairs are unreachable. The priority knapsack still bounds coverage from above,
        # so if a flow over reachable pairs attains it, that face is the coverage optimum and
        # the closed form is exact; try it unless a shelter it must cover plainly cannot be.
        kept = must | tied
        reach_supply = sup.astype(np.float64) @ reachable[:, kept]
        if bool(np.all(reach_supply >= np.where(must[kept], d[kept], 0))):
            sol = _solve_flow(d, priority, sup, hours, k, max_rounds, cover)
            if sol is not None:
                return sol
    sol = _solve_flow(d, priority, sup, hours, k, max_rounds, None)
    assert sol is not None
    return sol


def _solve_flow(d: IntArray, priority: FloatArray, sup: IntArray, hours: FloatArray, k: int,
                max_rounds: int, cover: tuple[BoolArray, BoolArray, int] | None,
                ) -> ItemSolution | None:
    """One exact solve: the closed form for the knapsack ``cover`` of :func:`_cover_plan` (None
    if, with unreachable pairs, it cannot be met without artificial arcs) or, without a cover,
    the rank-weighted flow."""
    n_w, n_s = hours.shape
    total = int(sup.sum())
    closed_form = cover is not None
    if cover is not None:
        must, tied, left = cover
        keep = np.nonzero(must | tied)[0].astype(np.int64)
        must, tied, d_k = must[keep], tied[keep], d[keep]
        n_k = keep.shape[0]
        n_nodes = n_w + n_k + 3
        scale = _hour_scale(hours, 1, n_w, n_nodes)
        cost = np.empty((n_w, n_k), dtype=np.int64)
        _scaled_costs(np.ascontiguousarray(hours), keep, float(scale), cost)
        penalty = (n_w + 1) * _reachable_max(cost) + 1
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
            supply=node_supply,
        )
        artificial = slice(n_w + tied_idx.shape[0] + 1, n_w + tied_idx.shape[0] + 1 + n_k)
        shelter_map = keep
    else:
        ranks = np.searchsorted(np.unique(priority), priority).astype(np.int64) + 1
        src, snk = n_w + n_s, n_w + n_s + 1
        n_nodes = n_w + n_s + 2
        scale = _hour_scale(hours, int(ranks.max(initial=1)), n_w, n_nodes)
        cost = np.empty((n_w, n_s), dtype=np.int64)
        _scaled_costs(np.ascontiguousarray(hours), np.arange(n_s, dtype=np.int64), float(scale),
                      cost)
        big_m = (n_w + 1) * _reachable_max(cost) + 1
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
            supply=node_supply,
        )
        artificial = slice(0, 0)
        shelter_map = np.arange(n_s, dtype=np.int64)

    pot_w = None
    if net.n_s > 4 * n_w and n_w > k and _WARM:
        nearest = _column_argmin(cost)
        uniq, group = np.unique(nearest, return_inverse=True)
        pot_w = _aggregate_potentials(cost, net, group.astype(np.int64), int(uniq.shape[0]))
    chosen = _initial_arcs(cost, k, 2, pot_w)
    crash: Crash | RankCrash | None = None
    shift = np.zeros(n_w, dtype=np.int64) if pot_w is None else pot_w
    if closed_form and _CRASH:
        crash = Crash(shift, must, n_tied=int(np.count_nonzero(tied)))
    elif _CRASH and int(d.sum()) > 0:
        crash = RankCrash(shift, ranks, d)
    fixed_flows, aw, as_, q, rounds = _column_generation(net, cost, chosen, _PER_NODE,
                                                         max_rounds, crash)
    if int(fixed_flows[artificial].sum()) != 0:
        return None  # the knapsack totals are not reachable: not the coverage optimum

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


def warm_up() -> float:
    """Compile (or load from numba's on-disk cache) every compiled routine of the solver by
    solving tiny items, one fully reachable (closed form, warm start, crash basis) and one not
    (rank-weighted flow), each also under the fair objective. Returns the seconds it took:
    about 15 s the first time on a machine, well under 1 s once cached. Workers call this before
    taking traffic so that the first re-plan does not stall the event loop."""
    import time

    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    n_w, n_s = 3, 40
    hours = np.round(rng.uniform(0.5, 9.5, (n_w, n_s)), 2)
    demand = rng.integers(1, 20, n_s).astype(np.int64)
    prio = np.round(1 + rng.random(n_s), 1)
    supply = np.full(n_w, int(demand.sum()) // 4, dtype=np.int64)
    solve_item(demand, prio, supply, hours, k=1)
    # the fair objective: two segments per shelter, warm start and crash basis (n_s > 4 n_w)
    seg_cap = np.stack([demand // 2, demand - demand // 2], axis=1).astype(np.int64)
    seg_value = np.stack([prio, 3 * prio], axis=1)
    solve_item_fair(demand, prio, supply, hours, seg_cap, seg_value, 0.001, prio, 72.0, 0.9, k=1,
                    best_sources=True)
    hours[0, :5] = np.inf
    solve_item(demand, prio, supply, hours, k=1)
    solve_item_fair(demand, prio, supply, hours, seg_cap, seg_value, 0.001, prio, 72.0, 0.9, k=1,
                    best_sources=True)
    best_two_sources(hours, 0.001, prio, 72.0, 0.9, np.zeros(n_w))
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- fair objective


@njit(cache=True, nogil=True)
def _fair_costs(hours: FloatArray, per_hour: float, delay_weight: FloatArray, horizon: float,
                max_share: float, scale: float, out: IntArray,
                share: FloatArray) -> None:  # pragma: no cover
    """out[w, s] = rint(scale x (per_hour h + delay_weight[s] delay_share(h))), or the
    unreachable sentinel; delay_share(h) = max_share (1 - exp(-h / (max_share horizon))), see
    :meth:`logistics.deprivation.ItemCost.delay_cost`. ``share[w, s]`` keeps
    1 - exp(-h / (max_share horizon)) for :func:`_best_two_from_share` (the exponential is
    most of the cost of both passes)."""
    n_w, n_s = hours.shape
    a = per_hour * scale
    rate = 1.0 / (max_share * horizon) if max_share > 0 else 0.0
    b = delay_weight * scale * max_share
    for w in range(n_w):
        row = hours[w]
        dst = out[w]
        kept = share[w]
        for s in range(n_s):   # branch-free, so it vectorises; inf (or nan) is then replaced
            h = row[s]
            e = 1.0 - np.exp(-h * rate)
            kept[s] = e
            c = a * h + b[s] * e
            dst[s] = np.int64(c + 0.5) if c < 4e18 else _UNREACHABLE


def _fair_scale(seg_value: FloatArray, hours: FloatArray, per_hour: float,
                delay_weight: FloatArray, max_share: float, n_nodes: int) -> float:
    """Integer scale for the fair objective's costs: the largest cost becomes about 2^40 (or
    less, so that the network simplex's artificial cost, potentials and reduced costs fit in
    int64). Costs are then exact to about 1e-12 of the largest one."""
    top = max(float(seg_value.max(initial=0.0)),
              per_hour * _finite_max(hours) + float(delay_weight.max(initial=0.0)) * max_share)
    if top <= 0:
        return 1.0
    target = min(2.0**40, 2.0**58 / (n_nodes + 2))
    return target / top


@dataclass
class FairCrash:
    """A first basis for the fair network: each shelter's target is the segments whose relief
    exceeds its cheapest candidate's cost + warehouse potential (the optimality condition, with
    approximate warehouse prices ``pot_w``); shelters, those with most to lose by not getting
    their cheapest candidate first (regret), take as many whole top segments of it as fit from
    the cheapest candidate warehouse with stock left (see
    :func:`_fair_greedy`), and the stock left over goes source -> sink. Speed only: the simplex
    and pricing make it exact."""

    pot_w: IntArray
    seg_shelter: IntArray     # per segment arc (fixed arcs W + 1 ...), its shelter
    seg_value: IntArray       # its relief per unit (minus its cost), decreasing within a shelter

    def apply(self, ns: NetworkSimplex, net: _Network, aw: IntArray, as_: IntArray,
              cost: IntArray) -> None:
        n_w, n_s = net.n_w, net.n_s
        src, snk = n_w + n_s, n_w + n_s + 1
        total = int(net.supply[src])
        key = cost[aw, as_] + self.pot_w[aw]
        cheapest, second, by_shelter, starts = _by_shelter(as_, key, n_s)
        seg_caps = net.cap[n_w + 1:]
        fill = self.seg_value > cheapest[self.seg_shelter]
        target = np.bincount(self.seg_shelter[fill], weights=seg_caps[fill],
                             minlength=n_s).astype(np.int64)
        seg_start = np.searchsorted(self.seg_shelter, np.arange(n_s + 1)).astype(np.int64)
        order = np.nonzero(target > 0)[0].astype(np.int64)
        # shelters that lose most by not getting their cheapest candidate choose first (regret:
        # second-cheapest minus cheapest key; a shelter with one candidate, first of all), so
        # that stock runs out on those nearly indifferent between warehouses: 16 % fewer pivots
        # on the national bench than most-deprived-first
        regret = np.minimum(second - cheapest, _NO_SECOND)
        order = order[np.argsort(-regret[order], kind="stable")]
        pick, amount = _fair_greedy(aw, key, by_shelter, starts, order, seg_start, seg_caps,
                                    target, net.cap[:n_w].copy())
        got = np.nonzero(pick >= 0)[0]
        arcs = pick[got]
        n_fixed = net.tail.shape[0]
        flow = np.zeros(n_fixed + aw.shape[0], dtype=np.int64)
        parent = np.full(net.n_nodes, net.n_nodes, dtype=np.int64)
        pred = np.full(net.n_nodes, -1, dtype=np.int64)
        flow[n_fixed + arcs] = amount[got]
        parent[n_w + got] = aw[arcs]
        pred[n_w + got] = n_fixed + arcs
        f_w = np.bincount(aw[arcs], weights=amount[got], minlength=n_w).astype(np.int64)
        used = np.nonzero(f_w > 0)[0]
        flow[used] = f_w[used]
        parent[used] = src
        pred[used] = used
        # a segment is filled iff it lies within the shelter's amount counted from its top
        from_top = np.concatenate([np.cumsum(seg_caps[::-1])[::-1], [0]])
        within = from_top[:-1] - from_top[seg_start[1:][self.seg_shelter]]
        flow[n_w + 1 : n_w + 1 + seg_caps.shape[0]] = np.where(
            within <= amount[self.seg_shelter], seg_caps, 0)
        flow[n_w] = total - int(amount[got].sum())   # fixed arc src -> snk
        parent[snk] = src
        pred[snk] = n_w
        ns.crash(parent, pred, flow)


@njit(cache=True, nogil=True)
def _by_shelter(as_: IntArray, key: IntArray,
                n_s: int) -> tuple[IntArray, IntArray, IntArray, IntArray]:  # pragma: no cover
    """Arcs grouped by shelter in one counting pass: per shelter the least and second-least
    ``key`` of its arcs (int64 max / ``_NO_SECOND`` if it has none / only one), and the arcs
    in stable shelter order with each shelter's start (what ``np.argsort(as_, kind="stable")``
    and ``np.searchsorted`` give, without the sorts)."""
    m = as_.shape[0]
    cheapest = np.full(n_s, np.iinfo(np.int64).max, dtype=np.int64)
    second = np.full(n_s, _NO_SECOND, dtype=np.int64)
    starts = np.zeros(n_s + 1, dtype=np.int64)
    count = np.zeros(n_s, dtype=np.int64)
    for a in range(m):
        s = as_[a]
        k = key[a]
        c = count[s]
        if c == 0 or k < cheapest[s]:
            if c > 0:
                second[s] = cheapest[s]
            cheapest[s] = k
        elif c == 1 or k < second[s]:
            second[s] = k
        count[s] = c + 1
    for s in range(n_s):
        starts[s + 1] = starts[s] + count[s]
    fill = starts[:-1].copy()
    by_shelter = np.empty(m, dtype=np.int64)
    for a in range(m):
        s = as_[a]
        by_shelter[fill[s]] = a
        fill[s] += 1
    return cheapest, second, by_shelter, starts


@njit(cache=True, nogil=True)
def _fair_greedy(aw: IntArray, key: IntArray, by_shelter: IntArray, starts: IntArray,
                 order: IntArray, seg_start: IntArray, seg_caps: IntArray, target: IntArray,
                 supply: IntArray) -> tuple[IntArray, IntArray]:  # pragma: no cover
    """Shelters of ``order`` in turn: the candidate of least ``key`` whose stock left holds at
    least the shelter's top segment gives it as many whole top segments as fit, up to
    ``target``; stock is never exhausted entirely (one unit at least stays source -> sink).
    Returns per shelter the arc index (-1: none) and the units."""
    left = supply.copy()
    total_left = 0
    for w in range(supply.shape[0]):
        total_left += supply[w]
    n_s = starts.shape[0] - 1
    pick = np.full(n_s, -1, dtype=np.int64)
    amount = np.zeros(n_s, dtype=np.int64)
    for s in order:
        top_cap = seg_caps[seg_start[s + 1] - 1]
        best = -1
        for i in range(starts[s], starts[s + 1]):
            a = by_shelter[i]
            if left[aw[a]] >= top_cap and (best < 0 or key[a] < key[best]):
                best = a
        if best < 0:
            continue
        room = min(target[s], left[aw[best]], total_left - 1)
        got = 0
        j = seg_start[s + 1] - 1
        while j >= seg_start[s] and got + seg_caps[j] <= room:
            got += seg_caps[j]
            j -= 1
        if got == 0:
            continue
        pick[s] = best
        amount[s] = got
        left[aw[best]] -= got
        total_left -= got
    return pick, amount


def _fair_aggregate_potentials(cost: IntArray, sup: IntArray, seg_cap: IntArray,
                               seg_value: IntArray, group: IntArray, n_groups: int,
                               pot_w: IntArray | None = None) -> IntArray:
    """Warehouse prices (potential minus the sink's) from the fair problem with shelters merged
    into groups: group costs are the members' rounded mean, and each group gets one segment arc
    per segment index (units added, relief the units' rounded mean). Given prices ``pot_w``
    (from a coarser grouping), they rank the candidates and seed a crash basis. Only a warm
    start: exactness comes from pricing."""
    n_w = cost.shape[0]
    n_k = seg_cap.shape[1]
    gcost = _group_costs(cost, group, n_groups)
    caps = np.zeros((n_groups, n_k), dtype=np.float64)
    vals = np.zeros((n_groups, n_k), dtype=np.float64)
    np.add.at(caps, group, seg_cap.astype(np.float64))
    np.add.at(vals, group, seg_cap * seg_value.astype(np.float64))
    gg, kk = np.nonzero(caps > 0)
    g_val = np.rint(vals[gg, kk] / caps[gg, kk]).astype(np.int64)
    total = int(sup.sum())
    src, snk = n_w + n_groups, n_w + n_groups + 1
    n_nodes = n_w + n_groups + 2
    node_supply = np.zeros(n_nodes, dtype=np.int64)
    node_supply[src] = total
    node_supply[snk] = -total
    agg = _Network(
        n_w, n_groups, n_nodes,
        tail=np.concatenate([np.full(n_w, src), [src], n_w + gg]).astype(np.int64),
        head=np.concatenate([np.arange(n_w), [snk], np.full(gg.shape[0], snk)]
                            ).astype(np.int64),
        cap=np.concatenate([sup, [total], caps[gg, kk].astype(np.int64)]).astype(np.int64),
        cost=np.concatenate([np.zeros(n_w + 1, dtype=np.int64), -g_val]),
        supply=node_supply,
    )
    crash = None if pot_w is None or not _CRASH else FairCrash(pot_w, gg.astype(np.int64), g_val)
    ns, _ = _restricted_solve(agg, gcost, _initial_arcs(gcost, 8, 2, pot_w), _PER_NODE, 1000,
                              crash)
    pi = ns.potentials()
    out: IntArray = pi[:n_w] - pi[snk]
    return out


@njit(cache=True, nogil=True)
def _column_hash(hours: FloatArray, cols: IntArray) -> IntArray:  # pragma: no cover - compiled
    """A 64-bit hash of the bits of each column ``cols[j]`` of ``hours`` (equal columns, equal
    hashes; the caller compares columns with equal hashes exactly)."""
    bits = hours.view(np.int64)
    out = np.full(cols.shape[0], np.int64(1469598103934665603), dtype=np.int64)
    mult = np.int64(1099511628211)
    for w in range(bits.shape[0]):
        row = bits[w]
        for j in range(cols.shape[0]):
            out[j] = (out[j] ^ row[cols[j]]) * mult
    return out


def _balance_identical(demand: IntArray, seg_cap: IntArray, seg_value: FloatArray,
                       delay_weight: FloatArray, hours: FloatArray, aw: IntArray,
                       as_: IntArray, aq: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Among shelters identical in every input (need, segments, weight, travel from every
    warehouse), spread what they receive so their totals differ by at most one unit.

    Exact: their columns of the problem are the same, so any redistribution keeps each
    warehouse's shipments and the transport cost, and a more even spread of the same total over
    identical convex deprivation curves never costs more (the optimum stays optimal)."""
    n_s = demand.shape[0]
    if n_s < 2:
        return aw, as_, aq
    # only shelters that share their need and weight with another can be identical: the full
    # comparison (every segment, then every travel time) runs on those alone
    pre = np.lexsort((delay_weight, demand))
    same = (demand[pre[1:]] == demand[pre[:-1]]) & (delay_weight[pre[1:]] == delay_weight[pre[:-1]])
    near = np.zeros(n_s, dtype=bool)
    near[1:] |= same
    near[:-1] |= same
    cand = np.sort(pre[near])
    if cand.shape[0] == 0:
        return aw, as_, aq
    key = np.concatenate([demand[cand, None].astype(np.float64), delay_weight[cand, None],
                          seg_cap[cand].astype(np.float64), seg_value[cand]], axis=1)
    _, group, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    group = group.reshape(-1)
    in_dup = counts[group] > 1
    dup, group = cand[in_dup], group[in_dup]
    if dup.shape[0] == 0:
        return aw, as_, aq
    # travel columns compared by a hash of their bits first, then byte for byte
    fingerprint = _column_hash(np.ascontiguousarray(hours), dup)
    by_hash: dict[tuple[int, int], list[int]] = {}
    for s, g, f in zip(dup.tolist(), group.tolist(), fingerprint.tolist(), strict=True):
        by_hash.setdefault((g, f), []).append(s)
    classes: dict[tuple[int, bytes], list[int]] = {}
    for (g, _), same_hash in by_hash.items():
        if len(same_hash) > 1:
            for s in same_hash:
                classes.setdefault((g, hours[:, s].tobytes()), []).append(s)
    members = [m for m in classes.values() if len(m) > 1]
    if not members:
        return aw, as_, aq
    in_class = np.zeros(n_s, dtype=bool)
    for m in members:
        in_class[m] = True
    mask = ~in_class[as_]
    keep_w, keep_s, keep_q = [aw[mask]], [as_[mask]], [aq[mask]]
    for m in members:
        sel = in_class[as_] & np.isin(as_, m)
        per_w = np.bincount(aw[sel], weights=aq[sel]).astype(np.int64)
        total = int(per_w.sum())
        g = len(m)
        targets = [total // g + (1 if i < total % g else 0) for i in range(g)]
        ws = np.nonzero(per_w)[0].tolist()
        wi = 0
        for s, t in zip(sorted(m), targets, strict=True):
            while t > 0:
                take = min(t, int(per_w[ws[wi]]))
                keep_w.append(np.array([ws[wi]], dtype=np.int64))
                keep_s.append(np.array([s], dtype=np.int64))
                keep_q.append(np.array([take], dtype=np.int64))
                per_w[ws[wi]] -= take
                t -= take
                if per_w[ws[wi]] == 0:
                    wi += 1
    out_w, out_s, out_q = (np.concatenate(keep_w), np.concatenate(keep_s),
                           np.concatenate(keep_q))
    order = np.lexsort((out_s, out_w))
    return out_w[order], out_s[order], out_q[order]


#: per thread, reused W x S matrices (the fair solver's costs and arrival-time factors, the
#: item's travel hours)
_scratch = threading.local()


def scratch_array(name: str, n_w: int, n_s: int, dtype: type[np.generic]) -> npt.NDArray[Any]:
    """A W x S matrix of this thread named ``name``, reused from item to item (contents
    undefined). A national item's matrix is ~50 MB: a fresh one each time costs ~12,000 page
    faults, which on this project's 2-core VMs took 20-80 ms of system time per matrix and
    item. Released by :func:`release_scratch` (and with its thread)."""
    size = n_w * n_s
    buf: npt.NDArray[Any] | None = getattr(_scratch, name, None)
    if buf is None or buf.shape[0] < size or buf.dtype != dtype:
        buf = np.empty(size, dtype=dtype)
        setattr(_scratch, name, buf)
    return buf[:size].reshape(n_w, n_s)


def _scratch_costs(n_w: int, n_s: int) -> IntArray:
    """This thread's reused W x S int64 cost matrix (see :func:`scratch_array`)."""
    out: IntArray = scratch_array("costs", n_w, n_s, np.int64)
    return out


def release_scratch() -> None:
    """Free this thread's reused matrices (see :func:`scratch_array`)."""
    for name in list(vars(_scratch)):
        delattr(_scratch, name)


def solve_item_fair(
    demand: IntArray,
    priority: FloatArray,
    supply: IntArray,
    hours: FloatArray,
    seg_cap: IntArray,
    seg_value: FloatArray,
    per_hour: float,
    delay_weight: FloatArray,
    horizon: float,
    max_share: float,
    k: int = 16,
    max_rounds: int = 100,
    best_sources: bool = False,
) -> ItemSolution:
    """Solve one item's fair allocation exactly: minimise unrelieved deprivation + delay +
    logistics cost (see :mod:`logistics.deprivation`) as one integer min-cost flow.

    Network: source -> warehouse (capacity its stock, cost 0); warehouse -> shelter (reachable
    pairs, per-unit delay + logistics cost); shelter -> sink, one arc per deprivation segment
    (capacity its units, cost minus their deprivation); source -> sink (stock left unused, cost
    0). Deprivation is convex in the unmet share, so the segment costs increase along the
    coverage order and the flow fills the most deprived units first: the min-cost flow *is* the
    piecewise-linear optimum. Costs are scaled to integers (:func:`_fair_scale`), solved by the
    network simplex with column generation over the W x S pairs as the lexicographic flow is,
    then identical shelters are evened out (:func:`_balance_identical`).

    Args:
        demand: shape (S,), net need per shelter (> 0); the segments of ``seg_cap`` sum to it.
        priority: shape (S,), only for the reported priority-weighted coverage.
        supply: shape (W,), eligible units per warehouse (> 0).
        hours: shape (W, S), travel hours, ``inf`` where unreachable.
        seg_cap, seg_value: shape (S, K), units and per-unit deprivation of each segment.
        per_hour, delay_weight, horizon, max_share: per-unit arc cost ``per_hour h +
            delay_weight[s] max_share (1 - exp(-h / (max_share horizon)))``.
        k: cheapest warehouses per shelter in the initial candidate set (any k is exact).
        max_rounds: safety cap on pricing rounds.
        best_sources: also find each shelter's best two sources at the optimum (as
            :func:`best_two_sources` does), for the trade-off explanations.

    Raises:
        RuntimeError: if the solver fails or pricing does not converge in ``max_rounds``.
    """
    n_w, n_s = hours.shape
    d = demand.astype(np.int64)
    sup = supply.astype(np.int64)
    total = int(sup.sum())
    src, snk = n_w + n_s, n_w + n_s + 1
    n_nodes = n_w + n_s + 2
    scale = _fair_scale(seg_value, hours, per_hour, delay_weight, max_share, n_nodes)
    cost = _scratch_costs(n_w, n_s)
    share = scratch_array("delay_share", n_w, n_s, np.float64)
    hours = np.ascontiguousarray(hours)
    delay_weight = np.ascontiguousarray(delay_weight, dtype=np.float64)
    _fair_costs(hours, float(per_hour), delay_weight, float(horizon), float(max_share), scale,
                cost, share)
    seg_int = np.rint(seg_value * scale).astype(np.int64)
    ss, kk = np.nonzero(seg_cap > 0)
    seg_cost = -seg_int[ss, kk]
    node_supply = np.zeros(n_nodes, dtype=np.int64)
    node_supply[src] = total
    node_supply[snk] = -total
    net = _Network(
        n_w, n_s, n_nodes,
        tail=np.concatenate([np.full(n_w, src), [src], n_w + ss]).astype(np.int64),
        head=np.concatenate([np.arange(n_w), [snk], np.full(ss.shape[0], snk)]
                            ).astype(np.int64),
        cap=np.concatenate([sup, [total], seg_cap[ss, kk]]).astype(np.int64),
        cost=np.concatenate([np.zeros(n_w + 1, dtype=np.int64), seg_cost]),
        supply=node_supply,
    )
    pot_w = None
    if n_s > 4 * n_w and n_w > k and _WARM:
        # merge shelters by nearest warehouse and by weight band (values of a group alike)
        # (first by nearest warehouse only: its prices seed the finer problem's crash basis)
        nearest = _column_argmin(cost)
        caps64 = seg_cap.astype(np.int64)
        uniq, group = np.unique(nearest, return_inverse=True)
        pot_w = _fair_aggregate_potentials(cost, sup, caps64, seg_int, group.astype(np.int64),
                                           int(uniq.shape[0]))
        bands = np.quantile(delay_weight, np.linspace(0, 1, _BANDS + 1)[1:-1])
        uniq, group = np.unique(nearest * _BANDS + np.searchsorted(bands, delay_weight),
                                return_inverse=True)
        pot_w = _fair_aggregate_potentials(cost, sup, caps64, seg_int, group.astype(np.int64),
                                           int(uniq.shape[0]), pot_w)
    chosen = _initial_arcs(cost, k, 2, pot_w)
    crash = None
    if _CRASH and total > 0:
        crash = FairCrash(np.zeros(n_w, dtype=np.int64) if pot_w is None else pot_w,
                          ss.astype(np.int64), -seg_cost)
    ns, rounds = _restricted_solve(net, cost, chosen, _PER_NODE, max_rounds, crash)
    n_fixed = net.tail.shape[0]
    flows = ns.flows()
    first = ns.n + n_fixed
    aw = ns.source[first : ns.m_end].copy()
    as_ = ns.target[first : ns.m_end] - n_w
    q = flows[n_fixed:]
    pi = ns.potentials().astype(np.float64)
    nz = q > 0
    aw, as_, aq = aw[nz], as_[nz], q[nz]
    order = np.lexsort((as_, aw))
    aw, as_, aq = _balance_identical(d, seg_cap, seg_value, delay_weight, hours,
                                     aw[order], as_[order], aq[order])
    received = np.bincount(as_, weights=aq, minlength=n_s).astype(np.int64)
    warehouse_value = (pi[:n_w] - pi[snk]) / scale
    best = second = None
    if best_sources:
        best, second = _best_two_from_share(hours, share, float(per_hour), delay_weight,
                                            float(max_share), warehouse_value)
    return ItemSolution(
        warehouse_index=aw,
        shelter_index=as_,
        quantity=aq,
        unmet=d - received,
        weighted_coverage=float(np.dot(priority.astype(np.float64),
                                       received.astype(np.float64))),
        transport_cost=float(np.dot(hours[aw, as_], aq.astype(np.float64))),
        phase1_rounds=0,
        phase2_rounds=rounds,
        columns=int(np.count_nonzero(chosen)),
        warehouse_value=warehouse_value,
        shelter_value=(pi[n_w : n_w + n_s] - pi[snk]) / scale,
        best_source=best,
        second_source=second,
    )


@njit(cache=True, nogil=True)
def best_two_sources(hours: FloatArray, per_hour: float, delay_weight: FloatArray,
                     horizon: float, max_share: float,
                     value_w: FloatArray) -> tuple[IntArray, IntArray]:  # pragma: no cover
    """Per shelter, the warehouse of least per-unit arc cost + stock value (the cheapest source
    counting what its stock earns elsewhere) and the second least; -1 if none is reachable."""
    n_w, n_s = hours.shape
    best = np.full(n_s, -1, dtype=np.int64)
    second = np.full(n_s, -1, dtype=np.int64)
    b1 = np.full(n_s, np.inf)
    b2 = np.full(n_s, np.inf)
    rate = 1.0 / (max_share * horizon) if max_share > 0 else 0.0
    for w in range(n_w):
        row = hours[w]
        vw = value_w[w]
        for s in range(n_s):
            h = row[s]
            if not np.isfinite(h):
                continue
            c = per_hour * h + delay_weight[s] * max_share * (1.0 - np.exp(-h * rate)) + vw
            if c < b1[s]:
                b2[s] = b1[s]
                second[s] = best[s]
                b1[s] = c
                best[s] = w
            elif c < b2[s]:
                b2[s] = c
                second[s] = w
    return best, second


@njit(cache=True, nogil=True)
def _best_two_from_share(hours: FloatArray, share: FloatArray, per_hour: float,
                         delay_weight: FloatArray, max_share: float,
                         value_w: FloatArray) -> tuple[IntArray, IntArray]:  # pragma: no cover
    """:func:`best_two_sources` with 1 - exp(-h / (max_share horizon)) read from ``share``
    (kept by :func:`_fair_costs`) instead of computed again: the same sums, hence the same
    sources, ~3x faster."""
    n_w, n_s = hours.shape
    best = np.full(n_s, -1, dtype=np.int64)
    second = np.full(n_s, -1, dtype=np.int64)
    b1 = np.full(n_s, np.inf)
    b2 = np.full(n_s, np.inf)
    for w in range(n_w):
        row = hours[w]
        kept = share[w]
        vw = value_w[w]
        for s in range(n_s):
            h = row[s]
            if not np.isfinite(h):
                continue
            c = per_hour * h + delay_weight[s] * max_share * kept[s] + vw
            if c < b1[s]:
                b2[s] = b1[s]
                second[s] = best[s]
                b1[s] = c
                best[s] = w
            elif c < b2[s]:
                b2[s] = c
                second[s] = w
    return best, second
