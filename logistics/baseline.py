"""Nearest-warehouse-first: the phone-and-spreadsheet rule the optimiser must beat.

Shelters are served in the order their needs were reported (here: by shelter id); each takes
from its nearest reachable warehouse with eligible stock, then the next nearest, until its need
is met or nothing reachable is left. Same release rules as the optimiser. Used by the benchmark
and the tests only as a reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from logistics.allocation import ItemProblem


@dataclass(frozen=True)
class BaselineResult:
    """Figures of the greedy rule for one item."""

    item_id: str
    covered: int
    weighted_coverage: float
    unit_hours: float
    unmet_by_shelter: dict[str, int]


def nearest_warehouse_first(problem: ItemProblem) -> BaselineResult:
    """Greedy nearest-warehouse-first for one prepared item (whole units, hours)."""
    left = problem.supply.astype(np.int64).copy()
    covered = 0
    wc = 0.0
    uh = 0.0
    unmet: dict[str, int] = {}
    for j, s_id in enumerate(problem.shelter_ids):
        need = int(problem.demand[j])
        if need == 0 or not problem.hours.size:
            unmet[s_id] = need
            continue
        col = problem.hours[:, j]
        order = np.argsort(col, kind="stable")
        order = order[np.isfinite(col[order])]
        avail = left[order]
        # take from each warehouse in order what is still needed after the nearer ones
        before = np.cumsum(avail) - avail
        take = np.clip(need - before, 0, avail)
        got = int(take.sum())
        left[order] -= take
        covered += got
        wc += float(problem.priority[j]) * got
        uh += float(np.dot(col[order], take))
        unmet[s_id] = need - got
    return BaselineResult(problem.item_id, covered, wc, uh, unmet)
