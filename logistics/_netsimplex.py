"""Primal network simplex for integer min-cost flow, warm-startable by adding arcs (numba).

Why not a library solver: allocation prices a W x S matrix of candidate arcs in rounds (column
generation, see :mod:`logistics._flow`) and each round adds a few thousand arcs to a problem
that is already optimal on the others. A network simplex keeps its spanning-tree basis, flows
and node potentials across rounds: a new arc enters the basis at zero flow (still a strongly
feasible tree), so a round costs only the pivots the new arcs cause, and the potentials of the
final tree are the optimal duals that the pricing needs. OR-Tools' cost-scaling solver
restarts from scratch each round (0.7 s per solve on the national instance); this one re-plans
an item in a fraction of that, and releases the GIL, so items solve on several cores in threads.

The algorithm follows LEMON's ``NetworkSimplex`` (Kovacs, "Minimum-cost flow algorithms: an
experimental evaluation", Optimization Methods and Software 30, 2015): an artificial root node
joined to every node (cost 0 from supply nodes, a big cost ``art_cost`` to demand nodes) gives
the first strongly feasible tree; block-search pivoting over the real arcs; the tree kept as
parent / thread / reverse-thread / subtree-size / last-successor arrays; the leaving arc chosen
by the strongly-feasible rule (no cycling). Arithmetic is int64 throughout: exact.

Conventions: reduced cost of arc e is ``cost[e] + pi[source[e]] - pi[target[e]]``; tree arcs
have reduced cost 0, arcs at their lower bound >= 0 and at their upper bound <= 0 at the
optimum. Artificial arc of node u has index u; real arcs start at index n (the node count), so
appending arcs never moves an index.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

IntArray = npt.NDArray[np.int64]

#: capacity standing for "unbounded" (flows stay far below it; reduced costs never reach it)
INF_CAP = np.int64(2**62)
_LOWER, _TREE, _UPPER = 1, 0, -1
_UP, _DOWN = 1, -1

OPTIMAL, UNBOUNDED, INFEASIBLE = 0, 1, 2
#: the root's potential is reset to 0 once it drifts past this (potentials otherwise stay
#: within the artificial cost, < 2^61, so reduced costs never overflow int64)
_PI_DRIFT = np.int64(2**59)
#: block size of the pivot search = BLOCK_FACTOR x sqrt(arcs) (LEMON's default is 1.0)
BLOCK_FACTOR = 1.0


@njit(cache=True, nogil=True, inline="always")
def _search(lo: int, hi: int, mn: int, in_arc: int, cnt: int, block: int, source: IntArray,
            target: IntArray, cost: IntArray, state: IntArray,
            pi: IntArray) -> tuple[int, int, int, bool, int]:  # pragma: no cover - compiled
    """Block search over arcs lo..hi-1: the arc of most negative signed reduced cost seen so
    far (``mn``, ``in_arc``), stopping at the end of the first block that has one. Returns
    (mn, in_arc, cnt, found, stop position)."""
    e = lo
    while e < hi:
        c = state[e] * (cost[e] + pi[source[e]] - pi[target[e]])
        if c < mn:
            mn = c
            in_arc = e
        cnt -= 1
        if cnt == 0:
            if mn < 0:
                return mn, in_arc, cnt, True, e
            cnt = block
        e += 1
    return mn, in_arc, cnt, False, e


@njit(cache=True, nogil=True)
def _pivots(n: int, m_end: int, source: IntArray, target: IntArray, cap: IntArray,
            cost: IntArray, flow: IntArray, state: IntArray, pi: IntArray, parent: IntArray,
            pred: IntArray, pred_dir: IntArray, thread: IntArray, rev_thread: IntArray,
            succ_num: IntArray, last_succ: IntArray, dirty: IntArray,
            cursor: IntArray, block_factor: float) -> tuple[int, int]:  # pragma: no cover
    """Pivot until optimal. Returns (status, pivots); ``cursor[0]`` keeps the block position."""
    first = n
    m_real = m_end - first
    if m_real <= 0:
        return 0, 0
    block = max(10, int(block_factor * np.sqrt(float(m_real))))
    next_arc = cursor[0]
    if next_arc < first or next_arc >= m_end:
        next_arc = first
    n_piv = 0
    while True:
        # ---- entering arc: block search over the real arcs, from the cursor round to it
        mn, in_arc, cnt, found, e = _search(next_arc, m_end, 0, -1, block, block, source,
                                            target, cost, state, pi)
        if not found:
            mn, in_arc, cnt, found, e = _search(first, next_arc, mn, in_arc, cnt, block,
                                                source, target, cost, state, pi)
        if mn >= 0:
            cursor[0] = next_arc
            return 0, n_piv
        next_arc = e if e < m_end else first
        n_piv += 1

        # ---- join node: the apex of the cycle the entering arc closes
        u = source[in_arc]
        v = target[in_arc]
        while u != v:
            if succ_num[u] < succ_num[v]:
                u = parent[u]
            else:
                v = parent[v]
        join = u

        # ---- leaving arc (strongly feasible rule)
        if state[in_arc] == _LOWER:
            first_n = source[in_arc]
            second_n = target[in_arc]
        else:
            first_n = target[in_arc]
            second_n = source[in_arc]
        delta = cap[in_arc]
        result = 0
        u_out = -1
        u = first_n
        while u != join:
            a = pred[u]
            d = flow[a]
            if pred_dir[u] == _DOWN:
                d = cap[a] - d
            if d < delta:
                delta = d
                u_out = u
                result = 1
            u = parent[u]
        u = second_n
        while u != join:
            a = pred[u]
            d = flow[a]
            if pred_dir[u] == _UP:
                d = cap[a] - d
            if d <= delta:
                delta = d
                u_out = u
                result = 2
            u = parent[u]
        if result == 1:
            u_in = first_n
            v_in = second_n
        else:
            u_in = second_n
            v_in = first_n
        if delta >= INF_CAP:
            cursor[0] = next_arc
            return 1, n_piv

        # ---- augment along the cycle
        if delta > 0:
            val = state[in_arc] * delta
            flow[in_arc] += val
            u = source[in_arc]
            while u != join:
                flow[pred[u]] -= pred_dir[u] * val
                u = parent[u]
            u = target[in_arc]
            while u != join:
                flow[pred[u]] += pred_dir[u] * val
                u = parent[u]
        if result == 0:
            # the entering arc itself is the bottleneck: it moves to its other bound
            state[in_arc] = -state[in_arc]
            continue
        state[in_arc] = _TREE
        state[pred[u_out]] = _LOWER if flow[pred[u_out]] == 0 else _UPPER

        # ---- update the tree (LEMON's updateTreeStructure)
        old_rev_thread = rev_thread[u_out]
        old_succ_num = succ_num[u_out]
        old_last_succ = last_succ[u_out]
        v_out = parent[u_out]
        if u_in == u_out:
            parent[u_in] = v_in
            pred[u_in] = in_arc
            pred_dir[u_in] = _UP if u_in == source[in_arc] else _DOWN
            if thread[v_in] != u_out:
                after = thread[old_last_succ]
                thread[old_rev_thread] = after
                rev_thread[after] = old_rev_thread
                after = thread[v_in]
                thread[v_in] = u_out
                rev_thread[u_out] = v_in
                thread[old_last_succ] = after
                rev_thread[after] = old_last_succ
        else:
            thread_continue = thread[old_last_succ] if old_rev_thread == v_in \
                else thread[v_in]
            stem = u_in
            par_stem = v_in
            last = last_succ[u_in]
            after = thread[last]
            thread[v_in] = u_in
            n_dirty = 0
            dirty[n_dirty] = v_in
            n_dirty += 1
            while stem != u_out:
                next_stem = parent[stem]
                thread[last] = next_stem
                dirty[n_dirty] = last
                n_dirty += 1
                before = rev_thread[stem]
                thread[before] = after
                rev_thread[after] = before
                parent[stem] = par_stem
                par_stem = stem
                stem = next_stem
                last = rev_thread[par_stem] if last_succ[stem] == last_succ[par_stem] \
                    else last_succ[stem]
                after = thread[last]
            parent[u_out] = par_stem
            thread[last] = thread_continue
            rev_thread[thread_continue] = last
            last_succ[u_out] = last
            if old_rev_thread != v_in:
                thread[old_rev_thread] = after
                rev_thread[after] = old_rev_thread
            for i in range(n_dirty):
                w = dirty[i]
                rev_thread[thread[w]] = w
            tmp_sc = 0
            tmp_ls = last_succ[u_out]
            u = u_out
            p = parent[u]
            while u != u_in:
                pred[u] = pred[p]
                pred_dir[u] = -pred_dir[p]
                tmp_sc += succ_num[u] - succ_num[p]
                succ_num[u] = tmp_sc
                last_succ[p] = tmp_ls
                u = p
                p = parent[u]
            pred[u_in] = in_arc
            pred_dir[u_in] = _UP if u_in == source[in_arc] else _DOWN
            succ_num[u_in] = old_succ_num

        up_limit_out = join if last_succ[join] == v_in else -1
        last_succ_out = last_succ[u_out]
        u = v_in
        while u != -1 and last_succ[u] == v_in:
            last_succ[u] = last_succ_out
            u = parent[u]
        if join != old_rev_thread and v_in != old_rev_thread:
            u = v_out
            while u != up_limit_out and last_succ[u] == old_last_succ:
                last_succ[u] = old_rev_thread
                u = parent[u]
        elif last_succ_out != old_last_succ:
            u = v_out
            while u != up_limit_out and last_succ[u] == old_last_succ:
                last_succ[u] = last_succ_out
                u = parent[u]
        u = v_in
        while u != join:
            succ_num[u] += old_succ_num
            u = parent[u]
        u = v_out
        while u != join:
            succ_num[u] -= old_succ_num
            u = parent[u]

        # ---- potentials of the moved subtree, or of the rest of the tree if that is smaller:
        # potentials matter only up to a constant, so shifting the rest by -sigma gives the
        # same reduced costs (the subtree under u_in is most of the tree when it holds the
        # sink and its shelters, in the fair flow on ~7 % of pivots)
        sigma = pi[v_in] - pi[u_in] - pred_dir[u_in] * cost[in_arc]
        end = thread[last_succ[u_in]]
        if 2 * succ_num[u_in] <= n + 1:
            u = u_in
            while u != end:
                pi[u] += sigma
                u = thread[u]
        else:
            u = end
            while u != u_in:
                pi[u] -= sigma
                u = thread[u]
            if abs(pi[n]) > _PI_DRIFT:   # the root's potential drifts: back to 0
                shift = pi[n]
                for i in range(n + 1):
                    pi[i] -= shift


@njit(cache=True, nogil=True)
def _build_tree(n: int, parent: IntArray, pred: IntArray, source: IntArray, cost: IntArray,
                pred_dir: IntArray, thread: IntArray, rev_thread: IntArray, succ_num: IntArray,
                last_succ: IntArray, pi: IntArray) -> bool:  # pragma: no cover - compiled
    """Thread order, subtree sizes, last successors, arc directions and potentials of the
    spanning tree given by ``parent`` / ``pred`` (root = n). False if it is not a tree."""
    root = n
    n_all = n + 1
    child_cnt = np.zeros(n_all + 1, dtype=np.int64)
    for u in range(n):
        child_cnt[parent[u] + 1] += 1
    start = np.cumsum(child_cnt)
    fill = start[:-1].copy()
    children = np.empty(n, dtype=np.int64)
    for u in range(n):
        p = parent[u]
        children[fill[p]] = u
        fill[p] += 1
    order = np.empty(n_all, dtype=np.int64)
    stack = np.empty(n_all, dtype=np.int64)
    top = 0
    stack[0] = root
    top = 1
    k = 0
    while top > 0:
        top -= 1
        u = stack[top]
        order[k] = u
        k += 1
        for i in range(start[u + 1] - 1, start[u] - 1, -1):
            stack[top] = children[i]
            top += 1
    if k != n_all:
        return False
    pi[root] = 0
    pred_dir[root] = 0
    for i in range(n_all):
        u = order[i]
        thread[u] = order[(i + 1) % n_all]
        rev_thread[order[(i + 1) % n_all]] = u
        if u != root:
            a = pred[u]
            if source[a] == u:
                pred_dir[u] = _UP
                pi[u] = pi[parent[u]] - cost[a]
            else:
                pred_dir[u] = _DOWN
                pi[u] = pi[parent[u]] + cost[a]
    for u in range(n_all):
        succ_num[u] = 1
        last_succ[u] = u
    for i in range(n_all - 1, 0, -1):
        u = order[i]
        p = parent[u]
        succ_num[p] += succ_num[u]
    # last successor: the last node of the subtree in preorder = order[pos + size - 1]
    for i in range(n_all):
        u = order[i]
        last_succ[u] = order[i + succ_num[u] - 1]
    return True


class NetworkSimplex:
    """An integer min-cost flow problem solved by primal network simplex, to which arcs can be
    added after a solve (the next solve continues from the optimal basis).

    Args:
        supply: node supplies (> 0 source, < 0 sink), summing to 0.
        cost_bound: an upper bound on |cost| of every arc that will ever be added; sets the
            artificial cost. The caller keeps ``(cost_bound + 1) * (n + 1) * 4 < 2**63``.
    """

    def __init__(self, supply: IntArray, cost_bound: int, arc_capacity: int = 1024) -> None:
        sup = np.asarray(supply, dtype=np.int64)
        n = int(sup.shape[0])
        if int(sup.sum()) != 0:
            raise ValueError("node supplies must sum to 0")
        art = (int(cost_bound) + 1) * (n + 1)
        if art >= 2**61:
            raise ValueError("costs too large for exact int64 arithmetic")
        self.n = n
        self.m_end = n
        size = n + max(arc_capacity, 16)
        self.source = np.zeros(size, dtype=np.int64)
        self.target = np.zeros(size, dtype=np.int64)
        self.cap = np.zeros(size, dtype=np.int64)
        self.cost = np.zeros(size, dtype=np.int64)
        self.flow = np.zeros(size, dtype=np.int64)
        self.state = np.zeros(size, dtype=np.int64)
        root = n
        nodes = np.arange(n, dtype=np.int64)
        pos = sup >= 0
        # artificial arc u: u -> root (cost 0) from supply nodes, root -> u (art) to demand nodes
        self.source[:n] = np.where(pos, nodes, root)
        self.target[:n] = np.where(pos, root, nodes)
        self.cap[:n] = INF_CAP
        self.cost[:n] = np.where(pos, 0, art)
        self.flow[:n] = np.abs(sup)
        self.supply = sup.copy()
        self.state[:n] = _TREE
        self.pi = np.zeros(n + 1, dtype=np.int64)
        self.pi[:n] = np.where(pos, 0, art)
        self.parent = np.full(n + 1, root, dtype=np.int64)
        self.parent[root] = -1
        self.pred = np.append(nodes, -1).astype(np.int64)
        self.pred_dir = np.append(np.where(pos, _UP, _DOWN), 0).astype(np.int64)
        self.thread = np.append(nodes + 1, 0).astype(np.int64)  # root -> 0 -> 1 ... -> root
        self.rev_thread = np.append(root, nodes).astype(np.int64)
        self.succ_num = np.append(np.ones(n, dtype=np.int64), n + 1).astype(np.int64)
        self.last_succ = np.append(nodes, root - 1 if n else root).astype(np.int64)
        self.dirty = np.zeros(n + 2, dtype=np.int64)
        self.cursor = np.zeros(1, dtype=np.int64)
        self.pivots = 0

    def add_arcs(self, tail: IntArray, head: IntArray, cap: IntArray, cost: IntArray) -> int:
        """Append arcs at zero flow; returns the index of the first one."""
        k = int(np.asarray(tail).shape[0])
        start = self.m_end
        need = start + k
        if need > self.source.shape[0]:
            size = max(need, int(self.source.shape[0] * 1.5))
            for name in ("source", "target", "cap", "cost", "flow", "state"):
                old = getattr(self, name)
                new = np.zeros(size, dtype=np.int64)
                new[:start] = old[:start]
                setattr(self, name, new)
        self.source[start:need] = tail
        self.target[start:need] = head
        self.cap[start:need] = cap
        self.cost[start:need] = cost
        self.flow[start:need] = 0
        self.state[start:need] = _LOWER
        self.m_end = need
        return start

    def crash(self, parent: IntArray, pred_arc: IntArray, real_flow: IntArray) -> None:
        """Start from a given strongly feasible spanning tree instead of the artificial one.

        Args:
            parent: per node, its parent node in the tree (``n`` = the artificial root).
            pred_arc: per node, the real arc (index from 0 = first added) joining it to its
                parent, or -1 for the node's artificial arc (then ``parent`` must be the root).
            real_flow: flow on every real arc added so far (non-tree arcs at 0 or capacity).

        Raises:
            ValueError: if this is not a spanning tree with a feasible, strongly feasible flow.
        """
        n = self.n
        m = self.m_end - n
        par = np.asarray(parent, dtype=np.int64)
        arc = np.asarray(pred_arc, dtype=np.int64)
        fl = np.asarray(real_flow, dtype=np.int64)
        if par.shape[0] != n or arc.shape[0] != n or fl.shape[0] != m:
            raise ValueError("crash basis has the wrong shape")
        if np.any((fl < 0) | (fl > self.cap[n : self.m_end])):
            raise ValueError("crash flow outside the arc bounds")
        art = arc < 0
        if np.any(arc >= m) or np.any((par < 0) | (par > n)):
            raise ValueError("crash basis names an arc or node that does not exist")
        if np.any(par[art] != n):
            raise ValueError("a node on its artificial arc must hang from the root")
        pred = np.where(art, np.arange(n, dtype=np.int64), arc + n)
        src, tgt = self.source[n : self.m_end], self.target[n : self.m_end]
        ends_ok = np.where(art, True, ((self.source[pred] == np.arange(n))
                                       & (self.target[pred] == par))
                           | ((self.target[pred] == np.arange(n)) & (self.source[pred] == par)))
        if not bool(np.all(ends_ok)):
            raise ValueError("a tree arc does not join a node to its parent")
        # artificial arcs point to the root from supply nodes, from it to demand nodes
        init_up = self.supply >= 0
        excess = self.supply.copy()
        np.add.at(excess, src, -fl)
        np.add.at(excess, tgt, fl)
        if np.any(excess[~art] != 0):
            raise ValueError("crash flow is not balanced at a node without artificial arc")
        art_flow = np.where(init_up, excess, -excess)
        if np.any(art_flow[art] < 0):
            raise ValueError("crash flow needs a negative artificial flow")
        state = np.where(fl == 0, _LOWER, _UPPER)
        tree_real = arc[~art]
        state[tree_real] = _TREE
        off_bounds = (state != _TREE) & (fl != 0) & (fl != self.cap[n : self.m_end])
        if np.any(off_bounds):
            raise ValueError("a non-tree arc of the crash flow is strictly between its bounds")
        dirs_up = np.where(art, init_up, self.source[pred] == np.arange(n))
        tree_flow = art_flow.copy()
        tree_flow[~art] = fl[arc[~art]]
        tree_cap = self.cap[pred]
        if np.any(np.where(dirs_up, tree_flow >= tree_cap, tree_flow <= 0)):
            raise ValueError("crash tree is not strongly feasible")
        parent_all = np.append(par, -1).astype(np.int64)
        # built into fresh arrays, so a rejected basis leaves this problem as it was
        tree = [np.empty(n + 1, dtype=np.int64) for _ in range(6)]
        if not _build_tree(n, parent_all, np.append(pred, -1).astype(np.int64), self.source,
                           self.cost, *tree):
            raise ValueError("crash basis is not a spanning tree")
        (self.pred_dir, self.thread, self.rev_thread, self.succ_num, self.last_succ,
         self.pi) = tree
        self.parent[:] = parent_all
        self.pred[:] = np.append(pred, -1)
        self.flow[n : self.m_end] = fl
        self.flow[:n] = np.where(art, art_flow, 0)
        self.state[n : self.m_end] = state
        self.state[:n] = np.where(art, _TREE, _LOWER)

    def solve(self) -> int:
        """Pivot to optimality on the arcs present; returns OPTIMAL, UNBOUNDED or INFEASIBLE."""
        status, piv = _pivots(self.n, self.m_end, self.source, self.target, self.cap,
                              self.cost, self.flow, self.state, self.pi, self.parent,
                              self.pred, self.pred_dir, self.thread, self.rev_thread,
                              self.succ_num, self.last_succ, self.dirty, self.cursor,
                              BLOCK_FACTOR)
        self.pivots += int(piv)
        if status != OPTIMAL:
            return int(status)
        if np.any(self.flow[: self.n] != 0):
            return INFEASIBLE
        return OPTIMAL

    def flows(self, start: int = 0, stop: int | None = None) -> IntArray:
        """Flows of real arcs, indexed from 0 = the first arc added."""
        stop = self.m_end - self.n if stop is None else stop
        out: IntArray = self.flow[self.n + start : self.n + stop].copy()
        return out

    def potentials(self) -> IntArray:
        """Node potentials of the current basis (optimal duals after an OPTIMAL solve), the
        artificial root's taken as 0."""
        out: IntArray = self.pi[: self.n] - self.pi[self.n]
        return out
