"""Test reference (not shipped): the former allocation solver, an exact lexicographic
transportation LP per item solved by HiGHS with column generation. The tests compare the
production network simplex with it (same model, different method and code).

Model (one item; quantities in whole catalogue units, travel in hours)::

    x[w, s] >= 0   units sent from warehouse w to shelter s (only reachable pairs)
    u[s]    >= 0   units of shelter s's need left unmet

    demand row s :  sum_w x[w, s] + u[s]  = d[s]
    supply row w :  sum_s x[w, s]         <= S[w]

    phase 1 :  minimise  sum_s p[s] u[s]          (= maximise priority-weighted coverage)
    phase 2 :  minimise  sum_ws h[w, s] x[w, s]   (travel hours x quantity)
               over the phase-1 optimal face only

This is a genuine two-phase lexicographic optimisation: no weight trades coverage for travel.
The phase-1 optimal face is imposed in one of two exact ways:

* general case: by complementary slackness with the phase-1 duals (columns with a positive
  phase-1 reduced cost are fixed to 0, supply rows with a non-zero dual become equalities);
* every shelter can reach every warehouse: phase 1 has a closed form (fractional knapsack by
  priority, see ``_greedy_coverage_bounds``) and the face is "shelters above the cut-off priority
  fully covered, the tied group shares what is left", imposed with penalty columns whose
  zero value is checked afterwards.

Both keep the constraint matrix a network matrix, so with integer d, S the phase-2 vertex is
integral up to solver tolerance.

Column generation: each phase starts on a sparse candidate arc set (each shelter's ``k`` cheapest
reachable warehouses plus each warehouse's cheapest shelters). After each HiGHS solve, the reduced
cost ``c[w,s] - y_dem[s] - y_sup[w]`` of *every* reachable arc of the full W x S matrix is computed
in one vectorised numpy pass; arcs with a negative reduced cost are added and the LP re-solved
(warm-started). When no arc prices out, the restricted optimum is the optimum of the full LP.
The HiGHS row-dual convention (reduced cost = c - A^T y) is relied on and covered by tests.

The flows are rounded to whole units (see ``_round_flows``) without breaking any bound.
"""

from __future__ import annotations

import highspy
import numpy as np
import numpy.typing as npt

from logistics._flow import ItemSolution

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_INF = highspy.kHighsInf


def _initial_arcs(hours: FloatArray, reachable: BoolArray, k: int) -> BoolArray:
    """Candidate set: each shelter's k cheapest reachable warehouses + each warehouse's 2 cheapest
    shelters (so supply-rich warehouses are connected from the start)."""
    n_w, n_s = hours.shape
    chosen = np.zeros((n_w, n_s), dtype=bool)
    kk = min(k, n_w)
    if kk == n_w:
        chosen[:] = True
    else:
        idx = np.argpartition(hours, kk - 1, axis=0)[:kk, :]
        chosen[idx, np.arange(n_s)[None, :]] = True
    k2 = min(2, n_s)
    if k2 == n_s:
        chosen[:] = True
    else:
        idx2 = np.argpartition(hours, k2 - 1, axis=1)[:, :k2]
        chosen[np.arange(n_w)[:, None], idx2] = True
    chosen &= reachable
    return chosen


class _RestrictedLp:
    """The restricted master LP held in one HiGHS instance (warm-started across rounds).

    Columns 0..S-1 are the unmet quantities u[s]; arc columns follow. Rows 0..S-1 are demand
    rows, S..S+W-1 supply rows, and row S+W is the coupling row sum_s a[s] u[s].
    """

    def __init__(
        self,
        demand: FloatArray,
        unmet_cost: FloatArray,
        unmet_upper: FloatArray,
        coupling: FloatArray,
        supply: FloatArray,
    ) -> None:
        self.n_s = demand.shape[0]
        self.n_w = supply.shape[0]
        n_s, n_w = self.n_s, self.n_w
        self.highs = highspy.Highs()  # type: ignore[no-untyped-call]
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("random_seed", 0)
        self.highs.setOptionValue("threads", 1)
        # Primal simplex: a transportation LP starts primal feasible (x = 0, u = d) and the
        # primal method needs far fewer iterations than dual simplex here (measured ~5x).
        self.highs.setOptionValue("simplex_strategy", 4)
        lp = highspy.HighsLp()
        lp.num_col_ = n_s
        lp.num_row_ = n_s + n_w + 1
        lp.col_cost_ = unmet_cost
        lp.col_lower_ = np.zeros(n_s)
        lp.col_upper_ = unmet_upper
        lp.row_lower_ = np.concatenate([demand, np.full(n_w, -_INF), [-_INF]])
        lp.row_upper_ = np.concatenate([demand, supply, [_INF]])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.arange(0, 2 * n_s + 1, 2, dtype=np.int32)
        idx = np.empty(2 * n_s, dtype=np.int32)
        idx[0::2] = np.arange(n_s)
        idx[1::2] = n_s + n_w
        val = np.empty(2 * n_s)
        val[0::2] = 1.0
        val[1::2] = coupling
        lp.a_matrix_.index_ = idx
        lp.a_matrix_.value_ = val
        self.highs.passModel(lp)
        self.arc_w = np.zeros(0, dtype=np.int64)
        self.arc_s = np.zeros(0, dtype=np.int64)
        self.n_extra = 0  # non-arc columns added after the u columns

    def add_arcs(self, w: IntArray, s: IntArray, cost: FloatArray) -> None:
        n = w.shape[0]
        if n == 0:
            return
        starts = np.arange(0, 2 * n, 2, dtype=np.int32)
        idx = np.empty(2 * n, dtype=np.int32)
        idx[0::2] = s
        idx[1::2] = self.n_s + w
        self.highs.addCols(
            n, cost, np.zeros(n), np.full(n, _INF), 2 * n, starts, idx, np.ones(2 * n)
        )
        self.arc_w = np.concatenate([self.arc_w, w])
        self.arc_s = np.concatenate([self.arc_s, s])

    def solve(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        self.highs.run()
        status = self.highs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"HiGHS did not reach optimality: {status}")
        sol = self.highs.getSolution()
        col = np.asarray(sol.col_value, dtype=np.float64)
        dual = np.asarray(sol.row_dual, dtype=np.float64)
        return col, dual[: self.n_s], dual[self.n_s : self.n_s + self.n_w]

    def column_generation(
        self,
        phase_cost: FloatArray,
        in_set: BoolArray,
        tol: float,
        max_rounds: int,
    ) -> tuple[FloatArray, FloatArray, FloatArray, int]:
        """Solve, price every arc of ``phase_cost`` (W x S, +inf = unusable), add the violators,
        repeat until none price out. Returns column values, demand and supply row duals, and
        the rounds used."""
        max_add = max(5 * self.n_s, 20_000)
        rounds = 0
        while True:
            rounds += 1
            col, y_dem, y_sup = self.solve()
            rc = phase_cost - y_sup[:, None] - y_dem[None, :]
            rc[in_set] = np.inf
            viol = rc < -tol
            n = int(np.count_nonzero(viol))
            if n == 0:
                return col, y_dem, y_sup, rounds
            if rounds >= max_rounds:
                raise RuntimeError("column generation did not converge")
            w, s = np.nonzero(viol)
            if n > max_add:
                keep = np.argpartition(rc[w, s], max_add - 1)[:max_add]
                keep.sort()
                w, s = w[keep], s[keep]
            w64, s64 = w.astype(np.int64), s.astype(np.int64)
            in_set[w64, s64] = True
            cost = phase_cost[w64, s64]
            self.add_arcs(w64, s64, cost)


def _greedy_coverage_bounds(
    demand: FloatArray, priority: FloatArray, total_supply: float
) -> tuple[FloatArray, FloatArray, float]:
    """Phase 1 in closed form when every shelter can reach every warehouse.

    Coverage is then only limited by total supply T, so maximising sum p*covered subject to
    sum covered <= T, 0 <= covered <= d is a fractional knapsack with unit weights: shelters with
    priority above the cut-off priority p* are fully covered, those below get nothing, and the
    shelters tied at p* share what is left. Returns (unmet upper bound per shelter, coupling
    coefficient per shelter (1 for tied shelters, else 0), bound on sum of tied unmet).
    """
    n_s = demand.shape[0]
    unmet_upper = demand.copy()
    coupling = np.zeros(n_s)
    if total_supply >= float(demand.sum()):
        return np.zeros(n_s), coupling, 0.0
    order = np.argsort(-priority, kind="stable")
    cum = np.cumsum(demand[order])
    # first position in priority order where cumulative demand exceeds the supply
    cut = int(np.searchsorted(cum, total_supply, side="right"))
    p_star = float(priority[order[cut]])
    above = priority > p_star
    tied = priority == p_star
    unmet_upper[above] = 0.0
    coupling[tied] = 1.0
    left_for_tied = total_supply - float(demand[above].sum())
    tied_unmet = float(demand[tied].sum()) - left_for_tied
    return unmet_upper, coupling, tied_unmet


def _round_flows(
    x: FloatArray, arc_w: IntArray, arc_s: IntArray, hours: FloatArray,
    demand: IntArray, supply: IntArray,
) -> IntArray:
    """Round a (near-integral, see module doc) LP flow to whole units within every bound.

    Values within 1e-4 of an integer are rounded to it, others floored. If rounding up pushed a
    shelter or warehouse total over its bound, the excess is taken off its costliest arcs.
    """
    r = np.rint(x)
    q = np.where(np.abs(x - r) <= 1e-4, r, np.floor(x)).astype(np.int64)
    q = np.maximum(q, 0)
    for nodes, bound in ((arc_s, demand), (arc_w, supply)):
        total = np.bincount(nodes, weights=q, minlength=bound.shape[0]).astype(np.int64)
        over = np.nonzero(total > bound)[0]
        for node in over.tolist():
            excess = int(total[node] - bound[node])
            arcs = np.nonzero((nodes == node) & (q > 0))[0]
            costs = hours[arc_w[arcs], arc_s[arcs]]
            for a in arcs[np.lexsort((arcs, -costs))].tolist():
                take = min(excess, int(q[a]))
                q[a] -= take
                excess -= take
                if excess == 0:
                    break
    return q


def solve_item(
    demand: IntArray,
    priority: FloatArray,
    supply: IntArray,
    hours: FloatArray,
    k: int = 8,
    max_rounds: int = 200,
    force_lp_phase1: bool = False,
) -> ItemSolution:
    """Solve one item's lexicographic allocation exactly.

    Args:
        demand: shape (S,), whole units needed per shelter (> 0).
        priority: shape (S,), priority weight per shelter (> 0).
        supply: shape (W,), whole eligible units per warehouse (> 0).
        hours: shape (W, S), travel hours; ``inf`` marks an unreachable pair.
        k: cheapest warehouses per shelter in the initial candidate set.
        max_rounds: safety cap on pricing rounds per phase.
        force_lp_phase1: solve phase 1 as an LP even when the closed form applies (for tests).

    Raises:
        RuntimeError: if HiGHS fails or column generation does not converge in ``max_rounds``.
    """
    n_w, n_s = hours.shape
    d = demand.astype(np.float64)
    p = priority.astype(np.float64)
    sup = supply.astype(np.float64)
    reachable = np.isfinite(hours)
    fully_reachable = bool(reachable.all())
    in_set = _initial_arcs(hours, reachable, k)
    tol2 = 1e-7 * max(1.0, float(np.max(hours, where=reachable, initial=1.0)))
    rounds1 = 0
    if fully_reachable and not force_lp_phase1:
        # Phase 1 in closed form; phase 2 on the shelters that get anything at all.
        unmet_upper, coupling, tied_unmet = _greedy_coverage_bounds(d, p, float(sup.sum()))
        keep_idx = np.nonzero((unmet_upper < d) | (coupling > 0))[0].astype(np.int64)
        sub_hours = np.ascontiguousarray(hours[:, keep_idx])
        sub_in_set = np.ascontiguousarray(in_set[:, keep_idx])
        n_k = keep_idx.shape[0]
        # The phase-1 face is imposed softly so every restricted master stays feasible: unmet
        # need of a must-cover shelter, and excess unmet in the tied group, cost `penalty` per
        # unit. A flow whose penalty terms are zero at the full-LP optimum is optimal for the
        # hard-constrained phase 2 (any hard-feasible flow has zero penalty, so it cannot cost
        # less). Any exchange cycle moves coverage along at most 2W arcs, so a penalty above
        # 2 W max(hours) is enough; it is nevertheless checked and raised if ever violated.
        penalty = 2.0 * (n_w + 1) * max(1.0, float(np.max(hours)))
        must = unmet_upper[keep_idx] == 0.0
        lp = _RestrictedLp(
            d[keep_idx],
            np.where(must, penalty, 0.0),
            d[keep_idx],
            coupling[keep_idx],
            sup,
        )
        slack = 1e-7  # absolute; a larger slack lets phase 2 trade coverage for travel
        lp.highs.changeRowBounds(lp.n_s + n_w, -_INF, tied_unmet + slack)
        # excess-unmet column for the tied group: -1 on the coupling row, cost `penalty`
        lp.highs.addCols(
            1, np.array([penalty]), np.zeros(1), np.array([_INF]), 1,
            np.zeros(1, dtype=np.int32), np.array([lp.n_s + n_w], dtype=np.int32),
            np.array([-1.0]),
        )
        lp.n_extra = 1
        w0, s0 = np.nonzero(sub_in_set)
        lp.add_arcs(w0.astype(np.int64), s0.astype(np.int64), sub_hours[w0, s0])
        for _ in range(6):
            col, _, _, rounds2 = lp.column_generation(sub_hours, sub_in_set, tol2, max_rounds)
            violation = float(col[:n_k][must].sum()) + float(col[n_k])
            if violation <= 1e-6:
                break
            penalty *= 10.0
            lp.highs.changeColsCost(
                n_k + 1, np.arange(n_k + 1, dtype=np.int32),
                np.concatenate([np.where(must, penalty, 0.0), [penalty]]),
            )
        else:
            raise RuntimeError("soft phase-1 constraints still violated; this is a bug")
        shelter_map = keep_idx
    else:
        lp = _RestrictedLp(d, p, np.full(n_s, _INF), p, sup)
        w0, s0 = np.nonzero(in_set)
        lp.add_arcs(w0.astype(np.int64), s0.astype(np.int64), np.zeros(w0.shape[0]))
        # Phase 1: maximise priority-weighted coverage (arc cost 0, unreachable = +inf).
        zero_cost = np.where(reachable, 0.0, np.inf)
        tol1 = 1e-7 * max(1.0, float(p.max(initial=1.0)))
        col, y_dem, y_sup, rounds1 = lp.column_generation(zero_cost, in_set, tol1, max_rounds)
        del zero_cost
        # Phase 2 on the phase-1 optimal face, described exactly by complementary slackness
        # with the phase-1 duals: a flow is phase-1 optimal iff it uses no column with positive
        # reduced cost and fills every supply row with a non-zero dual. Fixing those keeps the
        # constraint matrix a transportation matrix (no coupling row), so the phase-2 vertex is
        # integral; a soft "coverage >= optimum - slack" row would not be (it allows fractional
        # trades between shelters of almost equal priority).
        tol_fix = 1e-7 * max(1.0, float(p.max(initial=1.0)))
        rc_u = p - y_dem
        lp.highs.changeColsBounds(
            n_s, np.arange(n_s, dtype=np.int32), np.zeros(n_s),
            np.where(rc_u > tol_fix, 0.0, _INF),
        )
        tight = np.nonzero(y_sup < -tol_fix)[0]
        for w in tight.tolist():
            lp.highs.changeRowBounds(n_s + w, float(sup[w]), float(sup[w]))
        rc1 = -y_sup[:, None] - y_dem[None, :]
        face_cost = np.where(reachable & (rc1 <= tol_fix), hours, np.inf)
        del rc1
        n_arcs = lp.arc_w.shape[0]
        arc_cols = np.arange(n_s, n_s + n_arcs, dtype=np.int32)
        lp.highs.changeColsCost(n_s, np.arange(n_s, dtype=np.int32), np.zeros(n_s))
        lp.highs.changeColsCost(n_arcs, arc_cols, hours[lp.arc_w, lp.arc_s])
        off_face = ~np.isfinite(face_cost[lp.arc_w, lp.arc_s])
        if off_face.any():
            idx = arc_cols[off_face]
            lp.highs.changeColsBounds(idx.shape[0], idx, np.zeros(idx.shape[0]),
                                      np.zeros(idx.shape[0]))
        col, _, _, rounds2 = lp.column_generation(face_cost, in_set, tol2, max_rounds)
        shelter_map = np.arange(n_s, dtype=np.int64)

    x = col[lp.n_s + lp.n_extra :]
    q = _round_flows(x, lp.arc_w, shelter_map[lp.arc_s], hours, demand, supply)
    nz = q > 0
    aw, as_, aq = lp.arc_w[nz], shelter_map[lp.arc_s[nz]], q[nz]
    order = np.lexsort((as_, aw))  # deterministic order: by warehouse, then shelter
    aw, as_, aq = aw[order], as_[order], aq[order]
    received = np.bincount(as_, weights=aq, minlength=n_s).astype(np.int64)
    unmet = demand.astype(np.int64) - received
    return ItemSolution(
        warehouse_index=aw,
        shelter_index=as_,
        quantity=aq,
        unmet=unmet,
        weighted_coverage=float(np.dot(p, received.astype(np.float64))),
        transport_cost=float(np.dot(hours[aw, as_], aq.astype(np.float64))),
        phase1_rounds=rounds1,
        phase2_rounds=rounds2,
        columns=int(lp.arc_w.shape[0]),
    )
