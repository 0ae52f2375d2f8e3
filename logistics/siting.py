"""Where to open the next public kitchen: an exact capacitated maximal-coverage model.

Given the portions a day that nobody cooks for (per shelter, :class:`logistics.kitchens.KitchenPlan`
``unfed``), candidate sites (shelter and posko locations), travel hours from each site to each
shelter, a kitchen's capacity a day and how many kitchens can open (Dumlap units in stock and
teams free to run them), choose the sites that cook for the most unfed portions within reach:

    max   sum_ij y_ij                                   portions a day covered
    s.t.  sum_j y_ij <= d_i                  for each shelter i (its unfed portions)
          sum_i y_ij <= C x_j                for each site j (capacity only if opened)
          y_ij     <= d_i x_j                (strengthening; same integer optimum)
          sum_j x_j <= p,  x binary,  y >= 0,  y_ij only where hours_ij <= reach

This is the capacitated form of Church & ReVelle's maximal covering location problem (the
formulation pysal/spopt's ``MCLP`` states without capacities). It is solved exactly with
HiGHS through ``scipy.optimize.milp``, lexicographically: the most portions covered, then,
among the solutions that cover as many, the fewest portion-hours of travel (one MILP whose
travel term is weighted below one portion, see :func:`max_coverage`). Given the sites, each
opened kitchen gets a Dumlap unit from a warehouse holding ``field_kitchen`` stock and a team
with the ``public_kitchen`` skill, both by an exact assignment of least travel hours
(``scipy.optimize.linear_sum_assignment``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, milp
from scipy.sparse import coo_matrix

from logistics.errors import InvalidInput, SolverError


@dataclass(frozen=True)
class Candidate:
    """A place a kitchen could open: a shelter or a posko location (WGS84 degrees)."""

    site_id: str
    name: str
    kind: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Coverage:
    """The exact optimum: chosen site indices, portions a day covered, flows (site, shelter)."""

    sites: tuple[int, ...]
    covered: int
    portion_hours: float
    flows: Mapping[tuple[int, int], int]


def max_coverage(
    demand: NDArray[np.int64],
    hours: NDArray[np.float64],
    reach_hours: float,
    capacity: int,
    p: int,
) -> Coverage:
    """Solve the capacitated maximal-coverage model exactly (see the module docstring).

    Args:
        demand: (shelters,) unfed portions a day, integers >= 0.
        hours: (sites, shelters) travel hours; ``inf`` means unreachable.
        reach_hours: a site covers a shelter within this many hours.
        capacity: portions a day one opened kitchen cooks (> 0).
        p: at most this many sites open (>= 0).

    Raises:
        InvalidInput: on mismatched shapes, negative demand, capacity <= 0 or p < 0.
        SolverError: if HiGHS does not report an optimum.
    """
    demand = np.asarray(demand, dtype=np.int64)
    hours = np.asarray(hours, dtype=np.float64)
    n_sites = hours.shape[0] if hours.ndim == 2 else -1
    if hours.ndim != 2 or hours.shape[1] != demand.shape[0]:
        raise InvalidInput(f"hours shape {hours.shape} does not match demand {demand.shape}")
    if (demand < 0).any():
        raise InvalidInput("demand must be >= 0")
    if capacity <= 0:
        raise InvalidInput(f"capacity {capacity} must be > 0")
    if p < 0:
        raise InvalidInput(f"p {p} must be >= 0")
    js, is_ = np.nonzero((hours <= reach_hours) & (demand[None, :] > 0))
    if p == 0 or js.size == 0:
        return Coverage((), 0, 0.0, {})
    n_pairs = js.size
    n_var = n_sites + n_pairs
    pair = np.arange(n_pairs)
    rows: list[NDArray[Any]] = []
    cols: list[NDArray[Any]] = []
    vals: list[NDArray[Any]] = []
    lo: list[float] = []
    hi: list[float] = []
    r = 0
    n_sh = demand.shape[0]
    # shelters: sum_j y_ij <= d_i
    rows.append(r + is_)
    cols.append(n_sites + pair)
    vals.append(np.ones(n_pairs))
    lo += [-np.inf] * n_sh
    hi += demand.astype(float).tolist()
    r += n_sh
    # sites: sum_i y_ij - C x_j <= 0
    rows += [r + js, r + np.arange(n_sites)]
    cols += [n_sites + pair, np.arange(n_sites)]
    vals += [np.ones(n_pairs), np.full(n_sites, -float(capacity))]
    lo += [-np.inf] * n_sites
    hi += [0.0] * n_sites
    r += n_sites
    # strengthening: y_ij - d_i x_j <= 0
    rows += [r + pair, r + pair]
    cols += [n_sites + pair, js]
    vals += [np.ones(n_pairs), -demand[is_].astype(float)]
    lo += [-np.inf] * n_pairs
    hi += [0.0] * n_pairs
    r += n_pairs
    # at most p sites
    rows.append(np.full(n_sites, r))
    cols.append(np.arange(n_sites))
    vals.append(np.ones(n_sites))
    lo.append(-np.inf)
    hi.append(float(p))
    r += 1
    a = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                   shape=(r, n_var)).tocsr()
    integrality = np.concatenate([np.ones(n_sites), np.zeros(n_pairs)])
    bounds = Bounds(np.zeros(n_var), np.concatenate([np.ones(n_sites),
                                                     demand[is_].astype(float)]))
    cons = [LinearConstraint(a, np.array(lo), np.array(hi))]
    # One MILP, lexicographic by weights: for fixed sites the flows are a transportation
    # problem with integer data, so an optimal y is integral and coverage moves in whole
    # portions; the travel term is scaled below half a portion for any feasible solution,
    # so it only breaks ties between solutions that cover as many portions.
    pair_hours = hours[js, is_]
    most = float(min(int(demand.sum()), capacity * p))
    weight = 0.5 / (float(pair_hours.max()) * most + 1.0)
    cost = np.concatenate([np.zeros(n_sites), -1.0 + weight * pair_hours])
    result = milp(cost, constraints=cons, integrality=integrality, bounds=bounds,
                  options={"mip_rel_gap": 0.0})
    if result.status != 0 or result.x is None:
        raise SolverError(f"kitchen siting: HiGHS status {result.status}: {result.message}")
    x = result.x
    y = np.rint(x[n_sites:]).astype(np.int64)
    flows = {(int(js[k]), int(is_[k])): int(y[k]) for k in np.flatnonzero(y > 0)}
    # a site opened without any flow is not worth proposing (nothing penalises opening it)
    used = {j for j, _ in flows}
    sites = tuple(int(j) for j in np.flatnonzero(x[:n_sites] > 0.5) if int(j) in used)
    return Coverage(sites=sites, covered=int(y.sum()),
                    portion_hours=float(sum(pair_hours[k] * y[k] for k in range(n_pairs))),
                    flows=flows)


@dataclass(frozen=True)
class KitchenProposal:
    """Open a kitchen at ``site`` with a Dumlap unit from ``warehouse_id`` run by ``team_id``."""

    proposal_id: str
    site: Candidate
    warehouse_id: str | None
    team_id: str | None
    capacity_per_day: int
    portions_covered_per_day: int
    shelter_ids: tuple[str, ...]
    explanation: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-safe)."""
        return {
            "proposal_id": self.proposal_id,
            "site": {"site_id": self.site.site_id, "name": self.site.name,
                     "kind": self.site.kind,
                     "location": {"lat": self.site.lat, "lon": self.site.lon}},
            "warehouse_id": self.warehouse_id, "team_id": self.team_id,
            "capacity_per_day": self.capacity_per_day,
            "portions_covered_per_day": self.portions_covered_per_day,
            "shelter_ids": list(self.shelter_ids), "explanation": self.explanation,
        }


def _assign(hours: NDArray[np.float64], copies: Sequence[int]) -> dict[int, int]:
    """Exact least-hours assignment of chosen sites (columns) to resources (rows, each with
    ``copies[r]`` units): ``{column: row}``; a column left without a resource is absent."""
    rows = [r for r, n in enumerate(copies) for _ in range(max(0, n))]
    if not rows or hours.shape[1] == 0:
        return {}
    cost = hours[rows]
    big = 1e9
    finite = np.where(np.isfinite(cost), cost, big)
    r_idx, c_idx = linear_sum_assignment(finite)
    return {int(c): rows[int(r)] for r, c in zip(r_idx, c_idx, strict=True)
            if finite[r, c] < big}


def propose_kitchens(
    unfed: Mapping[str, int],
    shelter_ids: Sequence[str],
    candidates: Sequence[Candidate],
    site_hours: NDArray[np.float64],
    reach_hours: float,
    capacity_per_kitchen: int,
    max_new: int,
    dumlap_units: Sequence[tuple[str, int]],
    warehouse_hours: NDArray[np.float64],
    team_ids: Sequence[str],
    team_hours: NDArray[np.float64],
    proposal_prefix: str = "kitchen-proposal",
    *,
    meals_per_person_per_day: float,
) -> list[KitchenProposal]:
    """Which kitchens to open next, exactly, with a Dumlap unit and a team for each.

    Args:
        unfed: unfed portions a day per shelter id.
        shelter_ids: column order of ``site_hours``.
        candidates: rows of ``site_hours``.
        site_hours: (candidates x shelters) travel hours.
        reach_hours, capacity_per_kitchen: as in :func:`max_coverage`.
        max_new: at most this many proposals; also bounded by the Dumlap units in stock and
            the teams free to run a kitchen.
        dumlap_units: (warehouse_id, field_kitchen units available) rows of ``warehouse_hours``.
        warehouse_hours: (warehouses x candidates) travel hours for the unit.
        team_ids: teams with the public_kitchen skill free now, rows of ``team_hours``.
        team_hours: (teams x candidates) travel hours.
        meals_per_person_per_day: portions a person eats a day (the needs profile's
            ``meals``, :attr:`logistics.needs.Profile.meals`): how many people the portions
            a proposal covers feed (``people_covered_about`` in its explanation).

    Returns one proposal per opened site, best coverage first; none when nobody is unfed,
    no site reaches them, or no Dumlap unit or team is free (the explanation of
    :func:`siting_blocked` says which).

    Raises:
        InvalidInput: on mismatched shapes, or meals per person per day not > 0.
    """
    if not (meals_per_person_per_day > 0 and math.isfinite(meals_per_person_per_day)):
        raise InvalidInput(f"meals_per_person_per_day must be > 0, got "
                           f"{meals_per_person_per_day!r}")
    n_c = len(candidates)
    if site_hours.shape != (n_c, len(shelter_ids)):
        raise InvalidInput(f"site_hours shape {site_hours.shape} != ({n_c}, {len(shelter_ids)})")
    if warehouse_hours.shape != (len(dumlap_units), n_c):
        raise InvalidInput(f"warehouse_hours shape {warehouse_hours.shape} "
                           f"!= ({len(dumlap_units)}, {n_c})")
    if team_hours.shape != (len(team_ids), n_c):
        raise InvalidInput(f"team_hours shape {team_hours.shape} != ({len(team_ids)}, {n_c})")
    units = sum(max(0, n) for _, n in dumlap_units)
    p = min(max_new, units, len(team_ids))
    demand = np.array([max(0, int(unfed.get(s, 0))) for s in shelter_ids], dtype=np.int64)
    if p <= 0 or demand.sum() == 0 or n_c == 0:
        return []
    cov = max_coverage(demand, site_hours, reach_hours, capacity_per_kitchen, p)
    if not cov.sites:
        return []
    within = (site_hours <= reach_hours) & (demand[None, :] > 0)
    alone = np.minimum(capacity_per_kitchen, (within * demand[None, :]).sum(axis=1))
    chosen = list(cov.sites)
    unit_of = _assign(warehouse_hours[:, chosen], [n for _, n in dumlap_units])
    team_of = _assign(team_hours[:, chosen], [1] * len(team_ids))
    out: list[KitchenProposal] = []
    per_site = {j: sum(q for (s, _), q in cov.flows.items() if s == j) for j in chosen}
    for col, j in sorted(enumerate(chosen), key=lambda cj: (-per_site[cj[1]],
                                                             candidates[cj[1]].site_id)):
        site = candidates[j]
        served = tuple(sorted(shelter_ids[i] for (s, i), q in cov.flows.items()
                              if s == j and q > 0))
        others = [k for k in np.argsort(-alone, kind="stable") if k != j]
        runner = int(others[0]) if others else None
        w = unit_of.get(col)
        t = team_of.get(col)
        explanation = {
            "rule": "open_kitchen_max_coverage",
            "figures": {
                "portions_unfed_per_day": int(demand.sum()),
                "portions_covered_per_day": per_site[j],
                "portions_covered_by_all_proposals": cov.covered,
                "people_covered_about": math.floor(per_site[j] / meals_per_person_per_day),
                "meals_per_person_per_day": meals_per_person_per_day,
                "capacity_per_day": capacity_per_kitchen,
                "reach_hours": reach_hours,
                "sites_considered": n_c,
                "kitchens_openable": p,
                "shelters_covered": len(served),
                "runner_up_site_id": None if runner is None else candidates[runner].site_id,
                "runner_up_portions_alone": None if runner is None else int(alone[runner]),
                "unit_travel_hours": None if w is None else round(
                    float(warehouse_hours[w, j]), 2),
                "team_travel_hours": None if t is None else round(float(team_hours[t, j]), 2),
            },
        }
        out.append(KitchenProposal(
            proposal_id=f"{proposal_prefix}:{site.site_id}", site=site,
            warehouse_id=None if w is None else dumlap_units[w][0],
            team_id=None if t is None else team_ids[t],
            capacity_per_day=capacity_per_kitchen,
            portions_covered_per_day=per_site[j], shelter_ids=served,
            explanation=explanation,
        ))
    return out


def siting_blocked(unfed_total: int, units: int, teams: int) -> dict[str, Any] | None:
    """Why no kitchen can be proposed although people are unfed (None when it can)."""
    if unfed_total <= 0 or (units > 0 and teams > 0):
        return None
    return {"rule": "no_kitchen_can_open",
            "figures": {"portions_unfed_per_day": unfed_total, "dumlap_units_in_stock": units,
                        "kitchen_teams_free": teams}}
