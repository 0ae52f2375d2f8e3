"""Where to open the next kitchen: the exact model against brute force, and its explanation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from logistics import InvalidInput
from logistics.siting import Candidate, max_coverage, propose_kitchens, siting_blocked


def _brute_force(demand: np.ndarray, hours: np.ndarray, reach: float, cap: int, p: int) -> int:
    """Best coverage over every set of at most p sites, each set scored by an integer max
    flow source -> shelter (demand) -> site (within reach) -> sink (capacity)."""
    n_s, n_sh = hours.shape
    best = 0
    for k in range(0, p + 1):
        for sites in itertools.combinations(range(n_s), k):
            n = 2 + n_sh + len(sites)
            g = np.zeros((n, n), dtype=np.int32)
            for i in range(n_sh):
                g[0, 2 + i] = demand[i]
            for c, j in enumerate(sites):
                for i in range(n_sh):
                    if hours[j, i] <= reach:
                        g[2 + i, 2 + n_sh + c] = int(demand.sum()) + 1
                g[2 + n_sh + c, 1] = cap
            flow = maximum_flow(csr_matrix(g), 0, 1).flow_value if k else 0
            best = max(best, int(flow))
    return best


def _least_travel(demand: np.ndarray, hours: np.ndarray, reach: float, cap: int, p: int,
                  covered: int) -> float:
    """Fewest portion-hours over every set of at most p sites covering ``covered``: one
    transportation LP per set (no binaries), by enumeration."""
    n_s, n_sh = hours.shape
    best = np.inf
    for k in range(1, p + 1):
        for sites in itertools.combinations(range(n_s), k):
            pairs = [(c, i) for c, j in enumerate(sites) for i in range(n_sh)
                     if hours[j, i] <= reach and demand[i] > 0]
            if not pairs:
                continue
            cost = [hours[sites[c], i] for c, i in pairs]
            a_ub = np.zeros((n_sh + k, len(pairs)))
            for col, (c, i) in enumerate(pairs):
                a_ub[i, col] = 1
                a_ub[n_sh + c, col] = 1
            b_ub = np.concatenate([demand, np.full(k, cap)])
            r = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=np.ones((1, len(pairs))),
                        b_eq=[covered], bounds=(0, None), method="highs")
            if r.status == 0:
                best = min(best, float(r.fun))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_max_coverage_equals_brute_force_on_random_instances(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_sites, n_sh = int(rng.integers(2, 8)), int(rng.integers(1, 10))
    demand = rng.integers(0, 4000, n_sh)
    hours = rng.uniform(0.1, 2.5, (n_sites, n_sh))
    hours[rng.random((n_sites, n_sh)) < 0.15] = np.inf
    cap = int(rng.choice([1500, 3000, 6000]))
    p = int(rng.integers(0, 4))
    cov = max_coverage(demand, hours, 1.0, cap, p)
    assert cov.covered == _brute_force(demand, hours, 1.0, cap, p)
    if cov.covered:  # among the sets that cover as many, the least travel
        assert cov.portion_hours == pytest.approx(
            _least_travel(demand, hours, 1.0, cap, p, cov.covered), rel=1e-6, abs=1e-6)
    # the flows are a feasible solution with that value
    assert len(cov.sites) <= p
    assert sum(cov.flows.values()) == cov.covered
    for (j, i), q in cov.flows.items():
        assert j in cov.sites and hours[j, i] <= 1.0 and q > 0
    for i in range(n_sh):
        assert sum(q for (_, ii), q in cov.flows.items() if ii == i) <= demand[i]
    for j in cov.sites:
        assert sum(q for (jj, _), q in cov.flows.items() if jj == j) <= cap


def test_capacity_makes_two_small_clusters_beat_one_big_reach() -> None:
    # site 0 reaches all three shelters (9,000 unfed) but cooks only 6,000; sites 1 and 2
    # each reach one shelter. With p = 2 the best is {0, x} covering 9,000, not {1, 2}.
    demand = np.array([3000, 3000, 3000])
    hours = np.array([[0.5, 0.5, 0.5], [0.2, 9, 9], [9, 9, 0.2]])
    cov = max_coverage(demand, hours, 1.0, 6000, 2)
    assert cov.covered == 9000 and 0 in cov.sites
    one = max_coverage(demand, hours, 1.0, 6000, 1)
    assert one.covered == 6000 and one.sites == (0,)


def test_ties_in_coverage_go_to_the_least_travel() -> None:
    demand = np.array([1000])
    hours = np.array([[0.9], [0.3], [0.6]])
    cov = max_coverage(demand, hours, 1.0, 6000, 1)
    assert cov.sites == (1,) and cov.portion_hours == pytest.approx(300.0)


def test_proposal_picks_site_nearest_dumlap_unit_and_team_and_explains() -> None:
    shelters = ["s0", "s1", "s2"]
    unfed = {"s0": 3000, "s1": 1500, "s2": 600}
    cands = [Candidate("s0", "Lapangan A", "shelter", -0.9, 119.8),
             Candidate("posko-1", "Posko B", "posko", -0.9, 119.9)]
    site_hours = np.array([[0.1, 0.5, 3.0], [0.8, 0.8, 0.8]])
    units = [("gudang-jauh", 1), ("gudang-dekat", 2), ("gudang-kosong", 0)]
    wh = np.array([[10.0, 10.0], [2.0, 2.5], [0.1, 0.1]])
    teams = ["tagana-1", "tagana-2"]
    th = np.array([[0.5, 0.4], [0.2, 3.0]])
    (prop,) = propose_kitchens(unfed, shelters, cands, site_hours, 1.0, 6000, 1, units, wh,
                               teams, th, meals_per_person_per_day=3)
    # posko-1 reaches all three (5,100 portions); s0 reaches two (4,500)
    assert prop.site.site_id == "posko-1"
    assert prop.portions_covered_per_day == 5100
    assert prop.shelter_ids == ("s0", "s1", "s2")
    assert prop.warehouse_id == "gudang-dekat"  # the empty store is nearer but has none
    assert prop.team_id == "tagana-1"
    f = prop.explanation["figures"]
    assert prop.explanation["rule"] == "open_kitchen_max_coverage"
    assert f["portions_unfed_per_day"] == 5100 and f["runner_up_site_id"] == "s0"
    assert f["runner_up_portions_alone"] == 4500
    assert prop.to_dict()["site"]["location"] == {"lat": -0.9, "lon": 119.9}


def test_no_proposal_without_a_unit_or_a_team_and_it_says_why() -> None:
    cands = [Candidate("s0", "A", "shelter", 0, 0)]
    args = ({"s0": 100}, ["s0"], cands, np.array([[0.1]]), 1.0, 6000, 3)
    assert propose_kitchens(*args, [("w", 0)], np.array([[1.0]]), ["t"],
                            np.array([[1.0]]), meals_per_person_per_day=3) == []
    assert propose_kitchens(*args, [("w", 1)], np.array([[1.0]]), [],
                            np.zeros((0, 1)), meals_per_person_per_day=3) == []
    assert siting_blocked(100, 0, 2) == {
        "rule": "no_kitchen_can_open",
        "figures": {"portions_unfed_per_day": 100, "dumlap_units_in_stock": 0,
                    "kitchen_teams_free": 2}}
    assert siting_blocked(100, 1, 1) is None and siting_blocked(0, 0, 0) is None


def test_bad_siting_input_is_refused() -> None:
    with pytest.raises(InvalidInput, match="capacity"):
        max_coverage(np.array([1]), np.array([[0.1]]), 1.0, 0, 1)
    with pytest.raises(InvalidInput, match="shape"):
        max_coverage(np.array([1, 2]), np.array([[0.1]]), 1.0, 10, 1)
    with pytest.raises(InvalidInput, match="demand"):
        max_coverage(np.array([-1]), np.array([[0.1]]), 1.0, 10, 1)


def test_people_covered_come_from_the_profiles_meals_a_day_not_a_constant() -> None:
    """``people_covered_about`` = portions a day covered / the needs profile's meals per
    person per day (it divided by 3 whatever the profile said)."""
    shelters = ["s0", "s1"]
    cands = [Candidate("s0", "Lapangan A", "shelter", -0.9, 119.8)]
    args = ({"s0": 2000, "s1": 1000}, shelters, cands, np.array([[0.1, 0.2]]), 1.0, 6000, 1,
            [("w", 1)], np.array([[1.0]]), ["t"], np.array([[1.0]]))
    for meals, people in ((3, 1000), (2.5, 1200), (2, 1500)):
        (prop,) = propose_kitchens(*args, meals_per_person_per_day=meals)
        assert prop.portions_covered_per_day == 3000
        f = prop.explanation["figures"]
        assert f["people_covered_about"] == people and f["meals_per_person_per_day"] == meals
    with pytest.raises(InvalidInput, match="meals_per_person_per_day"):
        propose_kitchens(*args, meals_per_person_per_day=0)
