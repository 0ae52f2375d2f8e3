"""The fair allocation objective: social cost = deprivation cost + logistics cost.

Holguín-Veras et al. (2013, J. Operations Management 31(5)) argue that post-disaster
allocation should minimise *social cost*, the logistics cost plus the *deprivation cost* of the
people who go without, the latter convex and increasing in how long and how badly they go
without. Siaga's version, per item and shelter (all costs in person-day equivalents, see the
parameter file ``logistics/data/deprivation/``):

* **Deprivation.** A shelter's need for the item covers ``days`` of cover; the unmet share u of
  its gross need (net need + on hand + in transit) costs ``weight x f(u)`` per unit of gross
  need, where f is convex, increasing and piecewise linear in u (marginal ``m_k`` on segment k,
  breakpoints rounded to whole units) with a curve per item family (water steeper than
  blankets). ``weight`` = the need's priority (1 + vulnerable share + 0.25 (severity - 1) + 0.5
  waiting / 72 h, see :func:`logistics.needs.priority`) x person-days one unit covers (item
  average).
* **Arrival time.** A unit arriving after h hours relieves less: it loses the share
  ``0.9 (1 - exp(-h / (0.9 H)))`` of the relief it gives at the lowest marginal deprivation
  (``m_1``), H the family's relief horizon: about h / H for short delays, rising ever more slowly
  towards 0.9. Strictly increasing, so a unit in 0.3 h is always worth more than one in 12.7 h
  (also far beyond H, where a hard cap would make all late arrivals equal, and the flow
  degenerate); bounded, so a unit that can arrive is never worth less than nothing.
* **Logistics.** ``logistics_cost_per_ton_hour`` x tons x hours.

Convex costs of a flow into a node are an exact min-cost flow: each shelter gets one arc to the
sink per segment, of capacity the segment's units and cost ``-weight x m_k`` (increasing in the
coverage order, so the most deprived units are always covered first). See
:func:`logistics._flow.solve_item_fair`.

The former rule, maximise priority-weighted coverage then minimise hours x units, is kept as the
objective named ``"lexicographic"``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import numpy.typing as npt

from logistics.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: name of the former priority-first, travel-second objective
LEXICOGRAPHIC = "lexicographic"
#: name that selects the default deprivation parameter set
FAIR = "fair"
DEFAULT_PARAMS_ID = "hv2013-exp-v1"


class UnknownObjective(InvalidInput):
    """No objective or packaged deprivation parameter set has this name."""


@dataclass(frozen=True)
class DeprivationCurve:
    """Convex piecewise-linear deprivation of the unmet share of need, for one item family.

    ``breakpoints`` run from 0 to 1 in unmet share; ``marginal[k]`` is the cost per unit of
    gross need on segment k (strictly increasing: convex).
    """

    family: str
    breakpoints: tuple[float, ...]
    marginal: tuple[float, ...]
    relief_horizon_hours: float
    sourced: bool
    source: str


@dataclass(frozen=True)
class DeprivationParams:
    """A versioned deprivation parameter set (one per operation), recorded in every plan."""

    id: str
    version: str
    title: str
    logistics_cost_per_ton_hour: float
    max_delay_share: float
    curves: Mapping[str, DeprivationCurve]
    sources: tuple[str, ...]

    @property
    def objective_id(self) -> str:
        """The id recorded in plans: ``<id>@<version>``."""
        return f"{self.id}@{self.version}"

    def curve(self, family: str) -> DeprivationCurve:
        """The family's curve, or the ``default`` one."""
        return self.curves.get(family) or self.curves["default"]


def available_deprivation_params() -> tuple[str, ...]:
    """Ids of the packaged deprivation parameter sets."""
    folder = resources.files("logistics").joinpath("data/deprivation")
    return tuple(sorted(p.name.removesuffix(".json") for p in folder.iterdir()
                        if p.name.endswith(".json")))


def _curve(params_id: str, family: str, raw: Mapping[str, object]) -> DeprivationCurve:
    bps = tuple(float(x) for x in raw["breakpoints"])  # type: ignore[attr-defined]
    marg = tuple(float(x) for x in raw["marginal"])  # type: ignore[attr-defined]
    horizon = float(raw["relief_horizon_hours"])  # type: ignore[arg-type]
    where = f"deprivation parameters {params_id}, family {family}"
    if len(bps) < 2 or bps[0] != 0.0 or bps[-1] != 1.0 or \
            any(a >= b for a, b in zip(bps, bps[1:], strict=False)):
        raise InvalidInput(f"{where}: breakpoints must rise strictly from 0 to 1, got {bps}")
    if len(marg) != len(bps) - 1:
        raise InvalidInput(f"{where}: {len(marg)} marginal costs for {len(bps) - 1} segments")
    if not (marg[0] > 0 and all(b > a for a, b in zip(marg, marg[1:], strict=False))):
        raise InvalidInput(f"{where}: marginal costs must be positive and strictly increasing "
                           f"(convex), got {marg}")
    if not (horizon > 0 and math.isfinite(horizon)):
        raise InvalidInput(f"{where}: relief_horizon_hours must be > 0, got {horizon}")
    return DeprivationCurve(family, bps, marg, horizon, bool(raw["sourced"]), str(raw["source"]))


@lru_cache(maxsize=8)
def load_deprivation_params(params_id: str = DEFAULT_PARAMS_ID) -> DeprivationParams:
    """Load a packaged deprivation parameter set by id.

    Raises:
        UnknownObjective: if no packaged set has this id.
        InvalidInput: if a curve is not convex and increasing or a value is out of range.
    """
    if params_id not in available_deprivation_params():
        raise UnknownObjective(f"unknown deprivation parameters {params_id!r}; available: "
                               f"{', '.join(available_deprivation_params())}")
    path = resources.files("logistics").joinpath(f"data/deprivation/{params_id}.json")
    raw = json.loads(path.read_text("utf-8"))
    curves = {f: _curve(params_id, f, c) for f, c in raw["curves"].items()}
    if "default" not in curves:
        raise InvalidInput(f"deprivation parameters {params_id}: no 'default' curve")
    lam = float(raw["logistics_cost_per_ton_hour"])
    cap = float(raw["max_delay_share"])
    if not (lam >= 0 and math.isfinite(lam)):
        raise InvalidInput(f"deprivation parameters {params_id}: logistics cost {lam} < 0")
    if not 0 <= cap < 1:
        raise InvalidInput(f"deprivation parameters {params_id}: max_delay_share {cap} "
                           "outside [0, 1)")
    return DeprivationParams(id=str(raw["id"]), version=str(raw["version"]),
                             title=str(raw["title"]), logistics_cost_per_ton_hour=lam,
                             max_delay_share=cap, curves=curves,
                             sources=tuple(str(s) for s in raw["sources"]))


Objective = str | DeprivationParams


def resolve_objective(objective: Objective) -> DeprivationParams | None:
    """The deprivation parameters an ``objective`` argument names, or None for lexicographic.

    ``"fair"`` is the default parameter set, ``"lexicographic"`` the former rule, any other
    string a packaged parameter set id.

    Raises:
        UnknownObjective: for an unknown name.
    """
    if isinstance(objective, DeprivationParams):
        return objective
    if objective == LEXICOGRAPHIC:
        return None
    if objective == FAIR:
        return load_deprivation_params(DEFAULT_PARAMS_ID)
    return load_deprivation_params(objective)


def objective_id(params: DeprivationParams | None) -> str:
    """What a plan records as its objective."""
    return LEXICOGRAPHIC if params is None else params.objective_id


@dataclass(frozen=True)
class ItemCost:
    """The fair objective of one item over its shelters with need (person-day equivalents).

    Per shelter s (aligned with the item's shelters with need > 0): ``seg_cap[s, k]`` whole
    units of the need on segment k (from the least deprived, k = 0, up; they sum to the net
    need) and ``seg_value[s, k]`` the deprivation one of them costs while unmet. A unit from a
    warehouse h hours away costs ``per_hour x h + delay_weight[s] x delay_share(h)`` (see
    :meth:`delay_cost`).
    """

    seg_cap: IntArray
    seg_value: FloatArray
    delay_weight: FloatArray
    per_hour: float
    horizon: float
    max_delay_share: float

    def arc_cost(self, hours: FloatArray) -> FloatArray:
        """Per-unit delay + logistics cost, (W x S) hours -> (W x S); inf stays inf."""
        return self.logistics_cost(hours) + self.delay_cost(hours)

    def logistics_cost(self, hours: FloatArray) -> FloatArray:
        """Per-unit logistics cost of the given (W x S) hours."""
        out: FloatArray = self.per_hour * np.asarray(hours, dtype=np.float64)
        return out

    def delay_cost(self, hours: FloatArray, shelters: IntArray | None = None) -> FloatArray:
        """Per-unit delay cost of (W x S) hours, or of 1-D hours for the given shelters:
        ``delay_weight x m (1 - exp(-h / (m horizon)))``, m = ``max_delay_share`` (slope
        1 / horizon at 0, strictly increasing, below m)."""
        h = np.asarray(hours, dtype=np.float64)
        dw = self.delay_weight if shelters is None else self.delay_weight[shelters]
        m = self.max_delay_share
        share = m * -np.expm1(-h / (m * self.horizon)) if m > 0 else np.zeros_like(h)
        out: FloatArray = dw * share
        return out

    def full_deprivation(self) -> float:
        """Deprivation if nothing is delivered."""
        return float((self.seg_cap * self.seg_value).sum())

    def remaining_deprivation(self, received: IntArray) -> FloatArray:
        """Per shelter, the deprivation left when it receives ``received`` units."""
        unmet = self.seg_cap.sum(axis=1) - np.asarray(received, dtype=np.int64)
        lower = np.cumsum(self.seg_cap, axis=1) - self.seg_cap   # unmet units below segment k
        in_seg = np.clip(unmet[:, None] - lower, 0, self.seg_cap)
        out: FloatArray = (in_seg * self.seg_value).sum(axis=1)
        return out

    def relief_of_unit(self, received: IntArray, nth: int) -> FloatArray:
        """Per shelter, the deprivation relieved by unit number ``received + nth`` (nth = 1:
        the next unit, 0: the last one delivered); 0 where there is no such unit."""
        unmet = self.seg_cap.sum(axis=1) - np.asarray(received, dtype=np.int64) - nth + 1
        upper = np.cumsum(self.seg_cap, axis=1)
        n_seg = self.seg_cap.shape[1]
        k = np.minimum((unmet[:, None] > upper).sum(axis=1), n_seg - 1)
        value = self.seg_value[np.arange(unmet.shape[0]), k] if n_seg else np.zeros(0)
        total = self.seg_cap.sum(axis=1)
        ok = (unmet >= 1) & (unmet <= total)
        out: FloatArray = np.where(ok, value, 0.0)
        return out


@dataclass(frozen=True)
class SocialCost:
    """Social cost of one item's plan (person-day equivalents)."""

    deprivation: float   # deprivation left unrelieved (unmet need)
    delay: float         # relief lost to arrival time
    logistics: float     # ton-hours x cost per ton-hour
    full_deprivation: float  # deprivation had nothing been delivered

    @property
    def total(self) -> float:
        """deprivation + delay + logistics."""
        return self.deprivation + self.delay + self.logistics

    @property
    def relief(self) -> float:
        """Deprivation avoided, net of delay and logistics (full deprivation - total)."""
        return self.full_deprivation - self.total


def person_days_per_unit(headcount: Sequence[int], days: Sequence[float],
                         base: Sequence[float]) -> float:
    """Person-days one unit of the item covers, averaged over the shelters that report a
    headcount (1.0 if none does)."""
    pd = sum(h * d for h, d, b in zip(headcount, days, base, strict=True) if h > 0 and b > 0)
    units = sum(b for h, b in zip(headcount, base, strict=True) if h > 0 and b > 0)
    return pd / units if pd > 0 and units > 0 else 1.0


def item_cost(params: DeprivationParams, family: str, unit_mass_kg: float,
              demand: IntArray, base: FloatArray, priority: FloatArray,
              person_days_per_unit: float) -> ItemCost:
    """The fair objective of one item for shelters with net need ``demand`` (> 0) out of a
    gross need ``base`` (>= demand) and need priority ``priority``.

    Segment k holds the units whose unmet share of ``base`` lies in [b_k, b_(k+1)), breakpoints
    rounded to whole units and cut at the net need (a shelter with much on hand starts on a low
    segment).
    """
    curve = params.curve(family)
    bps = np.asarray(curve.breakpoints, dtype=np.float64)
    marg = np.asarray(curve.marginal, dtype=np.float64)
    d = np.asarray(demand, dtype=np.int64)
    b = np.maximum(np.asarray(base, dtype=np.float64), d)
    upper = np.minimum(np.rint(b[:, None] * bps[None, 1:]).astype(np.int64), d[:, None])
    upper[:, -1] = d
    lower = np.concatenate([np.zeros((d.shape[0], 1), dtype=np.int64), upper[:, :-1]], axis=1)
    seg_cap = np.maximum(upper - lower, 0)
    weight = np.asarray(priority, dtype=np.float64) * person_days_per_unit
    seg_value = weight[:, None] * marg[None, :]
    return ItemCost(seg_cap=seg_cap, seg_value=seg_value, delay_weight=weight * marg[0],
                    per_hour=params.logistics_cost_per_ton_hour * unit_mass_kg / 1000.0,
                    horizon=curve.relief_horizon_hours,
                    max_delay_share=params.max_delay_share)


def social_cost(cost: ItemCost, shelter_index: IntArray, hours: FloatArray,
                quantity: IntArray) -> SocialCost:
    """Social cost of flows (one entry per line: shelter index, travel hours, units)."""
    si = np.asarray(shelter_index, dtype=np.int64)
    q = np.asarray(quantity, dtype=np.int64)
    h = np.asarray(hours, dtype=np.float64)
    received = np.bincount(si, weights=q, minlength=cost.seg_cap.shape[0]).astype(np.int64)
    qf = q.astype(np.float64)
    return SocialCost(
        deprivation=float(cost.remaining_deprivation(received).sum()),
        delay=float(np.dot(cost.delay_cost(h, si), qf)),
        logistics=float(np.dot(cost.logistics_cost(h), qf)),
        full_deprivation=cost.full_deprivation(),
    )
