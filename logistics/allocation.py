"""Optimal supply allocation: needs x eligible stock x travel hours -> shipment proposals.

Two objectives, both solved exactly as integer min-cost flows (see :mod:`logistics._flow`):

* ``"fair"`` (default): minimise social cost, the deprivation of the people left without plus
  the relief lost to arrival time plus logistics cost (:mod:`logistics.deprivation`, after
  Holguín-Veras et al. 2013), with a versioned parameter set recorded in the plan;
* ``"lexicographic"``: first maximise priority-weighted coverage of need, then minimise travel
  hours x quantity.

Items are independent (no shared capacity), so each item is solved on its own. After the flow is
known, each (warehouse, item) flow is split over the warehouse's eligible batches earliest-expiry
first (first-expiry-first), the earliest batches going to the shelters reached first.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from functools import partial
from operator import attrgetter
from typing import Any, NamedTuple, TypeVar, cast

import numpy as np
import numpy.typing as npt

from logistics._flow import (
    ItemSolution,
    release_scratch,
    scratch_array,
    solve_item,
    solve_item_fair,
)
from logistics._serde import date_from_str, date_to_str, dt_from_str, dt_to_str, require_utc
from logistics.catalogue import Catalogue, default_catalogue
from logistics.deprivation import (
    FAIR,
    LEXICOGRAPHIC,
    DeprivationParams,
    ItemCost,
    Objective,
    item_cost,
    objective_id,
    person_days_per_unit,
    resolve_objective,
    social_cost,
)
from logistics.errors import InvalidInput, SolverError, UnknownWarehouse
from logistics.needs import Need
from logistics.stock import ReleaseRules, StockBatch, TravelHours, Warehouse, index_warehouses


@dataclass(frozen=True)
class BatchPick:
    """Units taken from one batch."""

    batch_id: str
    quantity: int
    expiry: date | None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {"batch_id": self.batch_id, "quantity": self.quantity,
                "expiry": date_to_str(self.expiry)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BatchPick:
        """Inverse of :meth:`to_dict`."""
        return cls(batch_id=str(d["batch_id"]), quantity=int(d["quantity"]),
                   expiry=date_from_str(d.get("expiry")))


class TradeOff(NamedTuple):
    """Why a shelter got this much from this warehouse under the fair objective (person-day
    equivalents per unit, see :mod:`logistics.deprivation`). Immutable; a named tuple rather
    than a frozen dataclass because a national plan builds hundreds of thousands of them and a
    frozen dataclass's ``__init__`` costs several times more.

    The plan is optimal because, at every shelter, the relief of the last unit delivered minus
    what getting it there costs (arrival-time delay + logistics) is at least what a unit of that
    warehouse's stock earns anywhere (``stock_value``), and the relief of the *next* unit minus
    the cost from any warehouse is at most that warehouse's ``stock_value``. ``alternative_*``
    names the best other source for this shelter by cost + stock value.
    """

    arrival_hours: float
    share_covered: float          # of this shelter's net need, by the whole plan
    unmet_share: float            # of its gross need (incl. on hand, in transit), after the plan
    relief_last_unit: float       # deprivation relieved by the last unit it gets
    relief_next_unit: float       # what one more unit would relieve (0 if fully covered)
    marginal_relief: float        # the optimum's price of relief at this shelter (dual)
    unit_cost: float              # delay + logistics cost per unit of this line
    delay_cost: float
    logistics_cost: float
    stock_value: float            # what one more unit of this warehouse's stock earns (dual)
    alternative_warehouse_id: str = ""
    alternative_hours: float = 0.0
    alternative_unit_cost: float = 0.0
    alternative_stock_value: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-safe)."""
        return self._asdict()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TradeOff:
        """Inverse of :meth:`to_dict`."""
        nums = {f: float(d[f]) for f in cls._fields
                if f in d and f != "alternative_warehouse_id"}
        return cls(alternative_warehouse_id=str(d.get("alternative_warehouse_id", "")),
                   **nums)


@dataclass(frozen=True)
class Explanation:
    """Why a line of a plan is what it is: which need, which stock, which rules, what cost."""

    need_quantity: int
    need_gross: float
    headcount: int
    days: float
    on_hand: int
    in_transit: int
    profile_id: str
    profile_version: str
    priority: float
    vulnerable_share: float
    severity: int
    hours_since_delivery: float | None
    rules: tuple[str, ...]
    warehouse_id: str = ""
    warehouse_kind: str = ""
    batches: tuple[BatchPick, ...] = ()
    travel_hours: float = 0.0
    unit_hours: float = 0.0
    eligible_reachable_stock: int = 0
    blocked_stock: Mapping[str, int] = field(default_factory=dict)
    objective: str = LEXICOGRAPHIC
    tradeoff: TradeOff | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-safe)."""
        return {
            "need_quantity": self.need_quantity, "need_gross": self.need_gross,
            "headcount": self.headcount, "days": self.days, "on_hand": self.on_hand,
            "in_transit": self.in_transit, "profile_id": self.profile_id,
            "profile_version": self.profile_version, "priority": self.priority,
            "vulnerable_share": self.vulnerable_share, "severity": self.severity,
            "hours_since_delivery": self.hours_since_delivery, "rules": list(self.rules),
            "warehouse_id": self.warehouse_id, "warehouse_kind": self.warehouse_kind,
            "batches": [b.to_dict() for b in self.batches], "travel_hours": self.travel_hours,
            "unit_hours": self.unit_hours,
            "eligible_reachable_stock": self.eligible_reachable_stock,
            "blocked_stock": dict(sorted(self.blocked_stock.items())),
            "objective": self.objective,
            "tradeoff": None if self.tradeoff is None else self.tradeoff.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Explanation:
        """Inverse of :meth:`to_dict`."""
        hsd = d.get("hours_since_delivery")
        return cls(
            need_quantity=int(d["need_quantity"]), need_gross=float(d["need_gross"]),
            headcount=int(d["headcount"]), days=float(d["days"]), on_hand=int(d["on_hand"]),
            in_transit=int(d["in_transit"]), profile_id=str(d["profile_id"]),
            profile_version=str(d["profile_version"]), priority=float(d["priority"]),
            vulnerable_share=float(d["vulnerable_share"]), severity=int(d["severity"]),
            hours_since_delivery=None if hsd is None else float(hsd),
            rules=tuple(d["rules"]), warehouse_id=str(d.get("warehouse_id", "")),
            warehouse_kind=str(d.get("warehouse_kind", "")),
            batches=tuple(BatchPick.from_dict(b) for b in d.get("batches", ())),
            travel_hours=float(d.get("travel_hours", 0.0)),
            unit_hours=float(d.get("unit_hours", 0.0)),
            eligible_reachable_stock=int(d.get("eligible_reachable_stock", 0)),
            blocked_stock={str(k): int(v) for k, v in d.get("blocked_stock", {}).items()},
            objective=str(d.get("objective", LEXICOGRAPHIC)),
            tradeoff=None if d.get("tradeoff") is None else TradeOff.from_dict(d["tradeoff"]),
        )


def _tradeoff_text(t: TradeOff | None) -> str:
    if t is None:
        return ""
    alt = (f"; best other source {t.alternative_warehouse_id} ({t.alternative_hours:.1f} h, "
           f"cost {t.alternative_unit_cost:.2f}, its stock worth {t.alternative_stock_value:.2f})"
           if t.alternative_warehouse_id else "")
    return (f"; fair share: {t.share_covered:.0%} of need covered, next unit would relieve "
            f"{t.relief_next_unit:.2f}, arriving costs {t.unit_cost:.2f}{alt}")


def _need_text(e: Explanation, unit: str) -> str:
    parts = [f"{ln_people:,} people" for ln_people in (e.headcount,)]
    return (f"need {e.need_quantity:,} {unit} ({parts[0]}, {e.days:g} day(s) of cover, "
            f"{e.on_hand:,} on hand, {e.in_transit:,} in transit; profile {e.profile_id})")


@dataclass(frozen=True)
class ShipmentProposal:
    """Planned shipment of one item from a warehouse to a shelter, in whole units."""

    proposal_id: str
    plan_id: str
    warehouse_id: str
    shelter_id: str
    item_id: str
    unit: str
    quantity: int
    batches: tuple[BatchPick, ...]
    travel_hours: float
    eta: datetime
    explanation: Explanation

    @property
    def summary(self) -> str:
        """One human sentence explaining the line."""
        e = self.explanation
        b = ", ".join(f"batch {p.batch_id} ({p.quantity:,}"
                      + (f", expires {p.expiry.isoformat()})" if p.expiry else ")")
                      for p in self.batches)
        return (f"{self.quantity:,} {self.unit} {self.item_id} to {self.shelter_id}: "
                f"{_need_text(e, self.unit)}, from {self.warehouse_id} {b}, "
                f"{self.travel_hours:.1f} h travel, priority {e.priority:.2f} "
                f"({e.vulnerable_share:.0%} vulnerable, severity {e.severity})"
                + _tradeoff_text(e.tradeoff))

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-safe), including the human summary."""
        return {
            "proposal_id": self.proposal_id, "plan_id": self.plan_id,
            "warehouse_id": self.warehouse_id, "shelter_id": self.shelter_id,
            "item_id": self.item_id, "unit": self.unit, "quantity": self.quantity,
            "batches": [b.to_dict() for b in self.batches], "travel_hours": self.travel_hours,
            "eta": dt_to_str(self.eta), "explanation": self.explanation.to_dict(),
            "summary": self.summary,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ShipmentProposal:
        """Inverse of :meth:`to_dict` (the summary is recomputed)."""
        return cls(
            proposal_id=str(d["proposal_id"]), plan_id=str(d["plan_id"]),
            warehouse_id=str(d["warehouse_id"]), shelter_id=str(d["shelter_id"]),
            item_id=str(d["item_id"]), unit=str(d["unit"]), quantity=int(d["quantity"]),
            batches=tuple(BatchPick.from_dict(b) for b in d["batches"]),
            travel_hours=float(d["travel_hours"]), eta=dt_from_str(d["eta"]),
            explanation=Explanation.from_dict(d["explanation"]),
        )


@dataclass(frozen=True)
class Shortfall:
    """Need of a shelter for an item that this plan cannot cover (an outcome, not an error)."""

    shortfall_id: str
    plan_id: str
    shelter_id: str
    item_id: str
    unit: str
    need: int
    covered: int
    missing: int
    explanation: Explanation

    @property
    def reason(self) -> str:
        """Short machine-readable cause."""
        e = self.explanation
        if e.eligible_reachable_stock == 0:
            return "no_eligible_stock_reachable"
        if e.objective != LEXICOGRAPHIC:
            return "reachable_stock_shared_to_least_deprivation"
        return "stock_used_for_higher_priority_or_cheaper_needs"

    @property
    def summary(self) -> str:
        """One human sentence explaining the line."""
        e = self.explanation
        blocked = ", ".join(f"{v:,} {k.replace('_', ' ')}"
                            for k, v in sorted(e.blocked_stock.items()) if v > 0)
        return (f"{self.missing:,} {self.unit} {self.item_id} missing at {self.shelter_id}: "
                f"{_need_text(e, self.unit)}, {self.covered:,} planned; "
                f"{e.eligible_reachable_stock:,} eligible units reachable in total "
                f"({self.reason.replace('_', ' ')})"
                + (f"; blocked by rules: {blocked}" if blocked else "")
                + f"; priority {e.priority:.2f} ({e.vulnerable_share:.0%} vulnerable)"
                + _tradeoff_text(e.tradeoff))

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-safe), including reason and summary."""
        return {
            "shortfall_id": self.shortfall_id, "plan_id": self.plan_id,
            "shelter_id": self.shelter_id, "item_id": self.item_id, "unit": self.unit,
            "need": self.need, "covered": self.covered, "missing": self.missing,
            "explanation": self.explanation.to_dict(), "reason": self.reason,
            "summary": self.summary,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Shortfall:
        """Inverse of :meth:`to_dict`."""
        return cls(
            shortfall_id=str(d["shortfall_id"]), plan_id=str(d["plan_id"]),
            shelter_id=str(d["shelter_id"]), item_id=str(d["item_id"]), unit=str(d["unit"]),
            need=int(d["need"]), covered=int(d["covered"]), missing=int(d["missing"]),
            explanation=Explanation.from_dict(d["explanation"]),
        )


@dataclass(frozen=True)
class ItemStats:
    """Objective and solver figures of one item."""

    item_id: str
    need: int
    covered: int
    weighted_need: float
    weighted_coverage: float
    unit_hours: float
    eligible_stock: int
    blocked_stock: Mapping[str, int]
    phase1_rounds: int
    phase2_rounds: int
    columns: int
    #: fair objective only (0 under the lexicographic one): person-day equivalents
    deprivation_cost: float = 0.0     # deprivation left unrelieved
    delay_cost: float = 0.0           # relief lost to arrival time
    logistics_cost: float = 0.0
    full_deprivation: float = 0.0     # deprivation had nothing been delivered

    @property
    def social_cost(self) -> float:
        """deprivation + delay + logistics cost (the fair objective)."""
        return self.deprivation_cost + self.delay_cost + self.logistics_cost

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {"item_id": self.item_id, "need": self.need, "covered": self.covered,
                "weighted_need": self.weighted_need, "weighted_coverage": self.weighted_coverage,
                "unit_hours": self.unit_hours, "eligible_stock": self.eligible_stock,
                "blocked_stock": dict(sorted(self.blocked_stock.items())),
                "phase1_rounds": self.phase1_rounds, "phase2_rounds": self.phase2_rounds,
                "columns": self.columns, "deprivation_cost": self.deprivation_cost,
                "delay_cost": self.delay_cost, "logistics_cost": self.logistics_cost,
                "full_deprivation": self.full_deprivation}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ItemStats:
        """Inverse of :meth:`to_dict`."""
        return cls(item_id=str(d["item_id"]), need=int(d["need"]), covered=int(d["covered"]),
                   weighted_need=float(d["weighted_need"]),
                   weighted_coverage=float(d["weighted_coverage"]),
                   unit_hours=float(d["unit_hours"]), eligible_stock=int(d["eligible_stock"]),
                   blocked_stock={str(k): int(v) for k, v in d["blocked_stock"].items()},
                   phase1_rounds=int(d["phase1_rounds"]), phase2_rounds=int(d["phase2_rounds"]),
                   columns=int(d["columns"]),
                   deprivation_cost=float(d.get("deprivation_cost", 0.0)),
                   delay_cost=float(d.get("delay_cost", 0.0)),
                   logistics_cost=float(d.get("logistics_cost", 0.0)),
                   full_deprivation=float(d.get("full_deprivation", 0.0)))


def _line_dict(line: ShipmentProposal | Shortfall) -> dict[str, Any]:
    return line.to_dict()


@dataclass(frozen=True)
class Plan:
    """The result of one allocation: proposals, shortfalls, what stock is left, and figures.

    ``remaining`` lists every input batch with what is left after the proposals (planned + left
    = initial for every batch). ``profile_ids`` records the needs profile(s) used, ``objective``
    the objective: ``"lexicographic"`` or the deprivation parameter set ``<id>@<version>``.
    """

    plan_id: str
    planned_at: datetime
    profile_ids: tuple[str, ...]
    rules: ReleaseRules
    proposals: tuple[ShipmentProposal, ...]
    shortfalls: tuple[Shortfall, ...]
    remaining: tuple[StockBatch, ...]
    stats: tuple[ItemStats, ...]
    objective: str = LEXICOGRAPHIC

    @property
    def social_cost(self) -> float:
        """Sum over items of deprivation + delay + logistics cost (the fair objective)."""
        return sum(s.social_cost for s in self.stats)

    @property
    def weighted_coverage(self) -> float:
        """Sum over items of priority x units covered (the first objective)."""
        return sum(s.weighted_coverage for s in self.stats)

    @property
    def unit_hours(self) -> float:
        """Sum over items of travel hours x units (the second objective)."""
        return sum(s.unit_hours for s in self.stats)

    def to_dict(self, line_dict: Callable[[ShipmentProposal | Shortfall], dict[str, Any]]
                | None = None) -> dict[str, Any]:
        """Plain-dict form (JSON-safe). ``line_dict``: the dict form of a proposal or a
        shortfall (default its ``to_dict``; a caller may give one it kept from before)."""
        line_dict = line_dict or _line_dict
        return {
            "plan_id": self.plan_id, "planned_at": dt_to_str(self.planned_at),
            "profile_ids": list(self.profile_ids), "rules": self.rules.to_dict(),
            "proposals": [line_dict(p) for p in self.proposals],
            "shortfalls": [line_dict(s) for s in self.shortfalls],
            "remaining": [b.to_dict() for b in self.remaining],
            "stats": [s.to_dict() for s in self.stats], "objective": self.objective,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Plan:
        """Inverse of :meth:`to_dict`."""
        return cls(
            plan_id=str(d["plan_id"]), planned_at=dt_from_str(d["planned_at"]),
            profile_ids=tuple(d["profile_ids"]), rules=ReleaseRules.from_dict(d["rules"]),
            proposals=tuple(ShipmentProposal.from_dict(p) for p in d["proposals"]),
            shortfalls=tuple(Shortfall.from_dict(s) for s in d["shortfalls"]),
            remaining=tuple(StockBatch.from_dict(b) for b in d["remaining"]),
            stats=tuple(ItemStats.from_dict(s) for s in d["stats"]),
            objective=str(d.get("objective", LEXICOGRAPHIC)),
        )


# --------------------------------------------------------------------------- preparation


@dataclass
class ItemProblem:
    """One item's LP data after applying the release rules (arrays sorted by id).

    ``hours`` (W x S, inf = unreachable) is cut out of the travel matrix on first use.
    :func:`allocate` never builds it: the thread that solves the item cuts the block into a
    matrix it reuses from item to item (a national item's is 56 MB) and hands the plan only what
    its lines need (see :class:`_Solved`).
    """

    item_id: str
    needs: list[Need]                      # every need of the item (incl. zero)
    shelter_ids: list[str]                 # shelters with need > 0
    demand: npt.NDArray[np.int64]
    priority: npt.NDArray[np.float64]
    warehouse_ids: list[str]               # warehouses with eligible stock > 0
    supply: npt.NDArray[np.int64]
    eligible_batches: dict[str, list[StockBatch]]  # warehouse -> batches, expiry order
    blocked: dict[str, int]                # rule -> units blocked
    hours_source: Callable[[], npt.NDArray[np.float64]] = field(repr=False,
                                                                 compare=False)
    #: gross need per shelter with need (net + on hand + in transit, at least the net need)
    base: npt.NDArray[np.float64] | None = None
    person_days_per_unit: float = 1.0      # item average over shelters reporting headcount
    family: str = "default"
    unit_mass_kg: float = 0.0
    _hours: npt.NDArray[np.float64] | None = field(default=None, repr=False, compare=False)

    @property
    def hours(self) -> npt.NDArray[np.float64]:
        """Travel hours (W x S), inf where unreachable or beyond the travel cap."""
        if self._hours is None:
            self._hours = self.hours_source()
        return self._hours

    @property
    def pairs(self) -> int:
        """Warehouse x shelter pairs of the item (without building ``hours``)."""
        return len(self.warehouse_ids) * len(self.shelter_ids)


@dataclass(frozen=True)
class _HoursCut:
    """The (W, S) block of the travel matrix for these rows and columns, with pairs beyond the
    travel cap made unreachable: a fresh C-contiguous copy, or written into ``out``."""

    all_hours: npt.NDArray[np.float64] = field(repr=False)
    w_rows: npt.NDArray[np.int64]
    s_cols: npt.NDArray[np.int64]
    max_travel_hours: float | None

    def __call__(self, out: npt.NDArray[np.float64] | None = None) -> npt.NDArray[np.float64]:
        w_rows, s_cols = self.w_rows, self.s_cols
        shape = (w_rows.shape[0], s_cols.shape[0])
        if out is None:
            out = np.empty(shape, dtype=np.float64)
        if not (shape[0] and shape[1]):
            out[...] = 0.0
            return out
        lo, hi = int(s_cols[0]), int(s_cols[-1]) + 1
        if hi - lo == s_cols.shape[0] and np.array_equal(s_cols, np.arange(lo, hi)):
            # the shelters are one run of travel columns (typically all of them, in order): a
            # row gather of a column slice is ~3x faster than np.ix_, same values. The rows
            # are valid indices; mode="clip" keeps np.take from buffering ``out`` in a fresh
            # temporary (mode="raise" does: 13-33 ms instead of 3 ms per national item)
            np.take(self.all_hours[:, lo:hi], w_rows, axis=0, out=out, mode="clip")
        else:
            out[...] = self.all_hours[np.ix_(w_rows, s_cols)]
        if self.max_travel_hours is not None:
            out[out > self.max_travel_hours] = np.inf
        return out


def _expiry_key(b: StockBatch) -> tuple[int, date, str]:
    return (1, date.max, b.batch_id) if b.expiry is None else (0, b.expiry, b.batch_id)


def prepare(
    needs: Sequence[Need],
    stock: Sequence[StockBatch],
    warehouses: Sequence[Warehouse],
    travel: TravelHours,
    rules: ReleaseRules,
    catalogue: Catalogue | None = None,
) -> list[ItemProblem]:
    """Validate inputs and build one :class:`ItemProblem` per item (sorted by item id).

    Raises:
        UnknownWarehouse: stock at a warehouse not in ``warehouses`` or in the travel matrix.
        UnknownShelter: a need at a shelter not in the travel matrix.
        UnknownItem: an item not in the catalogue.
        InvalidInput: duplicate (shelter, item) needs or duplicate batch ids.
    """
    cat = catalogue or default_catalogue()
    wh = index_warehouses(warehouses)
    # Records are checked one by one in input order, each check in a fixed order, so the first
    # bad record raises the same error as it always did; but each distinct item, shelter and
    # warehouse is looked up only once. The id -> travel row/column maps double as the sets of
    # ids already checked.
    known_items: set[str] = set()
    shelter_col: dict[str, int] = {}
    by_item_needs: dict[str, dict[str, Need]] = {}
    for n in needs:
        item, s_id = n.item_id, n.shelter_id
        if item not in known_items:
            cat.get(item)
            known_items.add(item)
        if s_id not in shelter_col:
            shelter_col[s_id] = travel.shelter_index(s_id)
        d = by_item_needs.get(item)
        if d is None:
            d = by_item_needs[item] = {}
        if s_id in d:
            raise InvalidInput(f"duplicate need for shelter {s_id!r}, item {item!r}")
        d[s_id] = n
    warehouse_row: dict[str, int] = {}
    by_item_stock: dict[str, list[StockBatch]] = {}
    seen_batches: set[tuple[str, str, str]] = set()
    for b in stock:
        item, w_id = b.item_id, b.warehouse_id
        if item not in known_items:
            cat.get(item)
            known_items.add(item)
        if w_id not in warehouse_row:
            if w_id not in wh:
                raise UnknownWarehouse(f"stock batch {b.batch_id!r} at unknown warehouse "
                                       f"{w_id!r}")
            warehouse_row[w_id] = travel.warehouse_index(w_id)
        key = (w_id, item, b.batch_id)
        if key in seen_batches:
            raise InvalidInput(f"duplicate batch {key}")
        seen_batches.add(key)
        lst = by_item_stock.get(item)
        if lst is None:
            lst = by_item_stock[item] = []
        lst.append(b)

    problems: list[ItemProblem] = []
    for item in sorted(by_item_needs.keys() | by_item_stock.keys()):
        shelter_needs = by_item_needs.get(item, {})
        item_needs = [shelter_needs[s] for s in sorted(shelter_needs)]
        positive = [n for n in item_needs if n.quantity > 0]
        eligible: dict[str, list[StockBatch]] = {}
        blocked: dict[str, int] = {}
        for b in by_item_stock.get(item, []):
            if b.quantity == 0:
                continue
            reason = rules.batch_block_reason(b, wh[b.warehouse_id])
            if reason is None:
                eligible.setdefault(b.warehouse_id, []).append(b)
            else:
                blocked[reason] = blocked.get(reason, 0) + b.quantity
        for lst in eligible.values():
            lst.sort(key=_expiry_key)
        w_ids = sorted(eligible)
        s_ids = [n.shelter_id for n in positive]
        w_rows = np.array([warehouse_row[w] for w in w_ids], dtype=np.int64)
        s_cols = np.fromiter(map(shelter_col.__getitem__, s_ids), dtype=np.int64,
                             count=len(s_ids))
        base, ppu = fair_inputs(positive)
        it_cat = cat.get(item)
        problems.append(ItemProblem(
            item_id=item, needs=item_needs, shelter_ids=s_ids,
            demand=np.array([n.quantity for n in positive], dtype=np.int64),
            priority=np.array([n.priority for n in positive], dtype=np.float64),
            warehouse_ids=w_ids,
            supply=np.array([sum(b.quantity for b in eligible[w]) for w in w_ids],
                            dtype=np.int64),
            eligible_batches=eligible, blocked=blocked,
            hours_source=_HoursCut(travel.hours, w_rows, s_cols, rules.max_travel_hours),
            base=base, person_days_per_unit=ppu, family=it_cat.family,
            unit_mass_kg=it_cat.unit_mass_kg,
        ))
    return problems


def fair_inputs(positive: Sequence[Need]) -> tuple[npt.NDArray[np.float64], float]:
    """Gross need per need (net + on hand + in transit, or the computed gross if larger) and
    the item's person-days per unit, for needs with quantity > 0."""
    base = [max(float(n.quantity + n.on_hand + n.in_transit), n.gross) for n in positive]
    ppu = person_days_per_unit([n.headcount for n in positive], [n.days for n in positive],
                               base)
    return np.array(base, dtype=np.float64), ppu


def needs_cost(positive: Sequence[Need], params: DeprivationParams,
               catalogue: Catalogue | None = None) -> ItemCost:
    """The fair objective of one item's needs with quantity > 0 (all of the same item)."""
    if not positive:
        raise InvalidInput("needs_cost needs at least one need")
    it = (catalogue or default_catalogue()).get(positive[0].item_id)
    base, ppu = fair_inputs(positive)
    return item_cost(params, it.family, it.unit_mass_kg,
                     np.array([n.quantity for n in positive], dtype=np.int64), base,
                     np.array([n.priority for n in positive], dtype=np.float64), ppu)


def problem_cost(problem: ItemProblem, params: DeprivationParams) -> ItemCost:
    """The fair objective of a prepared item (see :func:`logistics.deprivation.item_cost`)."""
    base = problem.base if problem.base is not None else problem.demand.astype(np.float64)
    return item_cost(params, problem.family, problem.unit_mass_kg, problem.demand, base,
                     problem.priority, problem.person_days_per_unit)


#: initial candidate warehouses per shelter when ``k`` is not given: the fair flow prices its
#: candidates with warm-start warehouse prices and needs fewer (8: ~10 % less CPU than 16 on the
#: national bench, measured by process time; 4 and 6 no better)
_DEFAULT_K = {"lexicographic": 16, "fair": 8}


@dataclass(frozen=True)
class _Solved:
    """An item's optimal flows and what the plan's lines need from its travel hours, found in
    the solving thread: the (W x S) hours block is then dropped there (or reused for the next
    item, see :func:`_item_hours`) instead of being kept for the thread that assembles lines."""

    solution: ItemSolution
    line_hours: npt.NDArray[np.float64]     # per flow: travel hours
    reach: list[int]                        # per shelter: eligible units that can reach it
    cost: ItemCost | None = None            # fair objective: the item's cost (as problem_cost)
    #: fair objective: per shelter, hours from its best and second-best source (0 if none)
    best_hours: npt.NDArray[np.float64] | None = None
    second_hours: npt.NDArray[np.float64] | None = None


def _item_hours(problem: ItemProblem) -> npt.NDArray[np.float64]:
    """The item's travel hours; cut into this thread's reused matrix when nothing else holds
    them (a fresh 50 MB block per national item costs ~14,000 page faults)."""
    if problem._hours is None and isinstance(problem.hours_source, _HoursCut):
        out: npt.NDArray[np.float64] = problem.hours_source(
            scratch_array("hours", len(problem.warehouse_ids), len(problem.shelter_ids),
                          np.float64))
        return out
    return problem.hours


def _reachable_stock(supply: npt.NDArray[np.int64], hours: npt.NDArray[np.float64],
                     n_s: int) -> list[int]:
    """Per shelter, the eligible units at warehouses that can reach it."""
    if not hours.size:
        return [0] * n_s
    reachable = np.isfinite(hours)
    if reachable.all():  # common without a travel cap; skips a (W, S) temporary
        return [int(supply.sum())] * n_s
    reach: list[int] = np.where(reachable, supply[:, None], 0).sum(axis=0).tolist()
    return reach


def _solve(problem: ItemProblem, k: int | None,
           params: DeprivationParams | None = None) -> _Solved:
    if k is None:
        k = _DEFAULT_K["lexicographic" if params is None else "fair"]
    n_s, n_w = len(problem.shelter_ids), len(problem.warehouse_ids)
    hours = _item_hours(problem)
    reach = _reachable_stock(problem.supply, hours, n_s)
    if n_s == 0 or n_w == 0 or not np.isfinite(hours).any():
        empty = np.zeros(0, dtype=np.int64)
        return _Solved(ItemSolution(empty, empty, empty, problem.demand.copy(), 0.0, 0.0, 0, 0,
                                    0), np.zeros(0), reach)
    try:
        if params is None:
            sol = solve_item(problem.demand, problem.priority, problem.supply, hours, k=k)
            return _Solved(sol, hours[sol.warehouse_index, sol.shelter_index], reach)
        c = problem_cost(problem, params)
        sol = solve_item_fair(problem.demand, problem.priority, problem.supply, hours,
                              c.seg_cap, c.seg_value, c.per_hour, c.delay_weight, c.horizon,
                              c.max_delay_share, k=k, best_sources=True)
        line_hours = hours[sol.warehouse_index, sol.shelter_index]
        # the trade-off explanations' best other sources are found in the solving thread (a
        # W x S pass: on a national plan it would otherwise hold up the thread that assembles
        # the lines)
        best, second = sol.best_source, sol.second_source
        if best is None or second is None:
            return _Solved(sol, line_hours, reach, c)
        cols = np.arange(n_s)
        best_hours = np.where(best >= 0, hours[np.maximum(best, 0), cols], 0.0)
        second_hours = np.where(second >= 0, hours[np.maximum(second, 0), cols], 0.0)
        return _Solved(sol, line_hours, reach, c, best_hours, second_hours)
    except RuntimeError as exc:
        raise SolverError(f"item {problem.item_id}: {exc}") from None


# --------------------------------------------------------------------------- allocation


#: below this many warehouse x shelter pairs (all items together) items are solved in the
#: calling thread even when ``workers`` > 1 (Cianjur, 45k pairs: 0.04 s serial, 0.07 s in threads)
_PARALLEL_MIN_PAIRS = 500_000


def allocate(
    plan_id: str,
    planned_at: datetime,
    needs: Sequence[Need],
    stock: Sequence[StockBatch],
    warehouses: Sequence[Warehouse],
    travel: TravelHours,
    rules: ReleaseRules,
    *,
    catalogue: Catalogue | None = None,
    k: int | None = None,
    workers: int = 1,
    objective: Objective = FAIR,
) -> Plan:
    """Allocate eligible stock to needs optimally; explain every line.

    Objective per item (``objective``): ``"fair"`` (default) minimises social cost, the
    deprivation left unrelieved + the relief lost to arrival time + logistics cost, with the
    default deprivation parameters (:mod:`logistics.deprivation`; a parameter set id or a
    :class:`~logistics.deprivation.DeprivationParams` selects others); ``"lexicographic"``
    maximises sum(priority x units covered), then minimises sum(travel hours x units). The plan
    records which (``Plan.objective``). Quantities are whole catalogue units, travel in hours (from
    ``geo``). Pure and deterministic: same inputs give the same plan (inputs are sorted by id;
    ``workers`` > 1 solves items in threads but assembles results in item order).

    Args:
        plan_id: id of this plan (e.g. the id of the re-plan event); proposal and shortfall ids
            are derived from it.
        planned_at: UTC time the plan is made (ETAs are planned_at + loading + travel hours).
        needs: net needs (see :func:`logistics.needs.compute_needs`).
        stock: batches on hand (not yet reserved) per warehouse and item.
        warehouses: every warehouse that appears in ``stock``.
        travel: hours warehouse -> shelter.
        rules: release rules (Lumbung Sosial declarations, expiry, max travel hours).
        catalogue: item catalogue (default: packaged).
        k: initial candidate warehouses per shelter for column generation (any k is exact;
            default 16 for the lexicographic objective, 8 for the fair one).
        workers: threads used to solve items in parallel (used only when the items hold at
            least ``_PARALLEL_MIN_PAIRS`` warehouse x shelter pairs in all; below that, thread
            hand-offs cost more than they save).
        objective: ``"fair"``, ``"lexicographic"``, a deprivation parameter set id, or
            :class:`~logistics.deprivation.DeprivationParams`.

    Raises:
        UnknownWarehouse, UnknownShelter, UnknownItem, InvalidInput: on bad input
            (:class:`~logistics.deprivation.UnknownObjective` for an unknown objective).
        SolverError: if the min-cost-flow solver fails.
    """
    planned_at = require_utc(planned_at, "planned_at")
    params = resolve_objective(objective)
    cat = catalogue or default_catalogue()
    wh = index_warehouses(warehouses)
    problems = prepare(needs, stock, warehouses, travel, rules, cat)
    if workers > 1 and len(problems) > 1 and \
            sum(p.pairs for p in problems) >= _PARALLEL_MIN_PAIRS:
        # The solver runs compiled code without the GIL, so items solve in parallel threads
        # while this thread assembles the lines of the items already solved, in item order.
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="allocate")
        try:
            futures = [pool.submit(_solve, p, k, params) for p in problems]
            with gc_paused(), _short_switch_interval():
                return _assemble(plan_id, planned_at, stock, wh, rules, cat, problems,
                                 (f.result() for f in futures), params)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    try:
        with gc_paused():
            return _assemble(plan_id, planned_at, stock, wh, rules, cat, problems,
                             (_solve(p, k, params) for p in problems), params)
    finally:
        release_scratch()   # the solver's reused cost matrix: not kept between plans


# --------------------------------------------------------------------------- plan assembly


# Set by a process that keeps objects frozen for its life (streams/planpool.py): then
# ``gc_paused`` need not ask, and asking costs — ``gc.get_freeze_count`` walks every frozen
# object (50 ms per plan in the planning process, twice per re-plan).
_heap_frozen = False


def heap_frozen() -> None:
    """Tell the allocation that this process has called ``gc.freeze()`` for good."""
    global _heap_frozen
    _heap_frozen = True


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector inside the block, then restore its state
    (also around a whole plan in the planning process: ``streams.planpool``).

    Plan assembly creates hundreds of thousands of long-lived, acyclic objects (proposals,
    shortfalls, explanations, batch picks). While they pile up, the collector keeps re-scanning
    them and, several times, the whole heap: about a third of assembly time on a national plan,
    for nothing to collect. Reference counting frees memory as usual; only cycle detection is
    deferred. (Global state: if another thread disables the collector meanwhile, this turns it
    back on at exit; it is only re-enabled if it was enabled on entry.)

    At exit the objects made meanwhile are all still in the youngest generation, and the first
    allocation after re-enabling would scan them (~0.3 s after a national plan, on the thread
    that returns the plan). Unless the process keeps objects frozen (``gc.freeze``, which this
    must not undo), they are moved straight to the oldest generation instead, where the ones
    that live on would end up anyway: ``gc.freeze()`` + ``gc.unfreeze()``, two list splices.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if not _heap_frozen and gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


#: GIL switch interval while items solve in threads and this thread assembles lines (s)
_THREADED_SWITCH_INTERVAL = 0.0005
_switch_lock = threading.Lock()
_switch_depth = 0
_switch_saved = 0.005


@contextmanager
def _short_switch_interval() -> Iterator[None]:
    """Shorten CPython's GIL switch interval inside the block (5 ms -> 0.5 ms), then restore
    it (after the last of several concurrent blocks).

    While solving threads run compiled code without the GIL, this thread assembles lines in
    pure Python and holds it. Each time a solving thread comes back from compiled code or a
    large NumPy operation (dozens of times per item) it must wait for the GIL, by default up
    to 5 ms: on a national fair plan the two solving threads spent 2.4-3.2 s blocked that way
    (measured from /proc schedstat: wall - on-CPU - run-queue time), 0.7-1.6 s with 0.5 ms.
    """
    global _switch_depth, _switch_saved
    with _switch_lock:
        if _switch_depth == 0:
            _switch_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_saved, _THREADED_SWITCH_INTERVAL))
        _switch_depth += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_depth -= 1
            if _switch_depth == 0:
                sys.setswitchinterval(_switch_saved)


def _assemble(plan_id: str, planned_at: datetime, stock: Sequence[StockBatch],
              wh: Mapping[str, Warehouse], rules: ReleaseRules, cat: Catalogue,
              problems: list[ItemProblem], solutions: Iterable[_Solved],
              params: DeprivationParams | None = None) -> Plan:
    """The plan from the items' optimal flows (consumed lazily, in item order): explained
    lines, remaining stock, figures."""
    first_rule = ("max priority-weighted coverage, then min travel hours x quantity"
                  if params is None else
                  f"min deprivation + arrival delay + logistics cost ({params.objective_id})")
    base_rules = [first_rule,
                  "first-expiry-first batches",
                  f"no batch within {rules.min_days_before_expiry} days of expiry"
                  + (" (coordinator override: allowed)" if rules.allow_near_expiry else ""),
                  "Lumbung Sosial only in declared emergency areas"]
    if rules.max_travel_hours is not None:
        base_rules.append(f"max travel {rules.max_travel_hours:g} h")
    lines = _LineBuilder(plan_id, planned_at, rules.loading_hours, tuple(base_rules), wh,
                         params)
    proposals: list[ShipmentProposal] = []
    shortfalls: list[Shortfall] = []
    stats: list[ItemStats] = []
    used: dict[tuple[str, str, str], int] = {}
    profile_ids: set[str] = set()
    for prob, solved in zip(problems, solutions, strict=True):
        sol = solved.solution
        profile_ids.update(n.profile_id for n in prob.needs if n.profile_id)
        # Problems (hence solutions) come in item id order and each item's lines come out sorted
        # by (warehouse, shelter) / shelter id, so the plan's lines need no global sort.
        item_proposals, item_shortfalls = lines.item(prob, solved, cat.get(prob.item_id).unit,
                                                     used)
        proposals += item_proposals
        shortfalls += item_shortfalls
        covered = int(prob.demand.sum() - sol.unmet.sum())
        sc = None
        if params is not None:
            sc = social_cost(solved.cost or problem_cost(prob, params), sol.shelter_index,
                             solved.line_hours, sol.quantity)
        stats.append(ItemStats(
            item_id=prob.item_id, need=int(prob.demand.sum()), covered=covered,
            weighted_need=float(np.dot(prob.priority, prob.demand)),
            weighted_coverage=sol.weighted_coverage, unit_hours=sol.transport_cost,
            eligible_stock=int(prob.supply.sum()), blocked_stock=dict(prob.blocked),
            phase1_rounds=sol.phase1_rounds, phase2_rounds=sol.phase2_rounds,
            columns=sol.columns,
            deprivation_cost=sc.deprivation if sc else 0.0, delay_cost=sc.delay if sc else 0.0,
            logistics_cost=sc.logistics if sc else 0.0,
            full_deprivation=sc.full_deprivation if sc else 0.0,
        ))

    # what is left of every input batch; built unchecked, as it derives from validated batches
    unchecked = StockBatch._unchecked
    remaining = []
    for b in sorted(stock, key=_batch_key):
        left = b.quantity - used.get((b.warehouse_id, b.item_id, b.batch_id), 0)
        remaining.append(unchecked(b.warehouse_id, b.item_id, b.batch_id, left, b.expiry))
    return Plan(plan_id=plan_id, planned_at=planned_at, profile_ids=tuple(sorted(profile_ids)),
                rules=rules, proposals=tuple(proposals), shortfalls=tuple(shortfalls),
                remaining=tuple(remaining), stats=tuple(stats), objective=objective_id(params))


_batch_key = attrgetter("warehouse_id", "item_id", "batch_id")
_T = TypeVar("_T")

#: The first fields of :class:`Explanation` copy these attributes of the :class:`Need`, in this
#: order, so they can be passed positionally as ``*_need_part(need)`` (one C-level call).
_EXPLANATION_FROM_NEED = {
    "need_quantity": "quantity", "need_gross": "gross", "headcount": "headcount",
    "days": "days", "on_hand": "on_hand", "in_transit": "in_transit",
    "profile_id": "profile_id", "profile_version": "profile_version", "priority": "priority",
    "vulnerable_share": "vulnerable_share", "severity": "severity",
    "hours_since_delivery": "hours_since_delivery",
}
_NeedPart = tuple[int, float, int, float, int, int, str, str, float, float, int, float | None]
_need_part = cast(Callable[[Need], _NeedPart], attrgetter(*_EXPLANATION_FROM_NEED.values()))
assert tuple(f.name for f in fields(Explanation))[:len(_EXPLANATION_FROM_NEED) + 1] == \
    (*_EXPLANATION_FROM_NEED, "rules"), "Explanation field order changed"


def _fast_constructor(cls: type[_T]) -> Callable[..., _T]:
    """A constructor of the frozen dataclass ``cls`` from every field, positionally, that
    stores the fields straight into the instance's ``__dict__`` instead of one
    ``object.__setattr__`` call per field (a frozen dataclass's ``__init__``): ~4x faster for
    :class:`Explanation`'s 22 fields, which a national plan builds 400,000 times. Generated
    like the dataclass's own ``__init__``. Only for classes without ``__post_init__`` and only
    from values of the right types; the result is indistinguishable from ``cls(*args)``."""
    assert "__post_init__" not in vars(cls), f"{cls.__name__} validates in __post_init__"
    names = [f.name for f in fields(cls)]   # type: ignore[arg-type]
    body = "".join(f"    d[{n!r}] = {n}\n" for n in names)
    source = (f"def make({', '.join(names)}):\n    obj = new(cls)\n    d = obj.__dict__\n"
              f"{body}    return obj\n")
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls}
    exec(source, scope)   # noqa: S102 - field names of our own dataclasses, nothing external
    make: Callable[..., _T] = scope["make"]
    make.__qualname__ = f"_new_{cls.__name__}"
    return make


_new_explanation = _fast_constructor(Explanation)
_new_proposal = _fast_constructor(ShipmentProposal)
_new_shortfall = _fast_constructor(Shortfall)
_new_batch_pick = _fast_constructor(BatchPick)


class _LineBuilder:
    """Builds the proposals and shortfalls of a plan, item by item.

    Plans run to hundreds of thousands of lines, so this is written for speed: dataclasses are
    built with positional arguments (in field order), per-plan and per-item constants are
    computed once, and one ``blocked_stock`` dict is shared by all lines of an item (the lines
    are frozen and nothing mutates it).
    """

    def __init__(self, plan_id: str, planned_at: datetime, loading_hours: float,
                 rules: tuple[str, ...], warehouses: Mapping[str, Warehouse],
                 params: DeprivationParams | None = None) -> None:
        self.params = params
        self.objective = objective_id(params)
        self.plan_id = plan_id
        self.planned_at = planned_at
        self.loading_hours = loading_hours
        self.rules = rules
        self.warehouses = warehouses
        self._eta: dict[float, datetime] = {}   # travel hours -> ETA (few distinct values)

    def item(self, prob: ItemProblem, solved: _Solved, unit: str,
             used: dict[tuple[str, str, str], int],
             ) -> tuple[list[ShipmentProposal], list[Shortfall]]:
        """One item's proposals (sorted by warehouse, shelter id) and shortfalls (by shelter id).

        Adds the units taken from each batch to ``used`` (keyed by warehouse, item, batch id).
        """
        positive = [n for n in prob.needs if n.quantity > 0]   # aligned with shelter_ids
        sol, reach = solved.solution, solved.reach
        blocked = dict(prob.blocked)
        trade = None if self.params is None or sol.warehouse_value is None \
            else _TradeOffs(prob, solved, self.params)
        return (self._proposals(prob, solved, unit, used, positive, reach, blocked, trade),
                self._shortfalls(prob, sol, unit, positive, reach, blocked, trade))

    def _proposals(self, prob: ItemProblem, solved: _Solved, unit: str,
                   used: dict[tuple[str, str, str], int], positive: list[Need],
                   reach: list[int], blocked: dict[str, int],
                   trade: _TradeOffs | None = None) -> list[ShipmentProposal]:
        """Proposals: each warehouse's flow is split over its eligible batches
        first-expiry-first, the earliest batches going to the shelters reached first (ties:
        shelter id, then quantity)."""
        sol = solved.solution
        n_flows = len(sol.quantity)
        if n_flows == 0:
            return []
        item_id = prob.item_id
        wi_a, si_a, q_a = sol.warehouse_index, sol.shelter_index, sol.quantity
        h_a = solved.line_hours
        # Shelter ids are sorted, so shelter index order is shelter id order: sorting by
        # (warehouse, hours, shelter index, quantity) is the first-expiry-first service order.
        fefo = np.lexsort((q_a, si_a, h_a, wi_a))
        wi_a, si_a, q_a, h_a = wi_a[fefo], si_a[fefo], q_a[fefo], h_a[fefo]

        new_pick, new_expl, new_proposal = _new_batch_pick, _new_explanation, _new_proposal
        picks_of: list[tuple[BatchPick, ...]] = []   # per flow, in service order
        batches: list[StockBatch] = []
        left: list[int] = []
        bi = 0
        cur_w = -1
        for wi, rest in zip(wi_a.tolist(), q_a.tolist(), strict=True):
            if wi != cur_w:
                self._count_used(used, item_id, batches, left)
                cur_w = wi
                batches = prob.eligible_batches[prob.warehouse_ids[wi]]
                left = [b.quantity for b in batches]
                bi = 0
            if 0 < rest < left[bi]:  # fast path: the current batch covers the whole flow
                b = batches[bi]
                left[bi] -= rest
                picks_of.append((new_pick(b.batch_id, rest, b.expiry),))
                continue
            picks: list[BatchPick] = []
            while rest > 0:
                take = min(rest, left[bi])
                if take > 0:
                    b = batches[bi]
                    picks.append(new_pick(b.batch_id, take, b.expiry))
                    left[bi] -= take
                    rest -= take
                if left[bi] == 0:
                    bi += 1
            picks_of.append(tuple(picks))
        self._count_used(used, item_id, batches, left)

        # emit in (warehouse, shelter) order; equal keys keep service order
        emit = np.lexsort((np.arange(n_flows), si_a, wi_a))
        plan_id, rules, warehouses = self.plan_id, self.rules, self.warehouses
        shelter_ids, warehouse_ids = prob.shelter_ids, prob.warehouse_ids
        planned_at, loading, eta_at = self.planned_at, self.loading_hours, self._eta
        objective = self.objective
        out: list[ShipmentProposal] = []
        cur_w = -1
        w_id = kind = id_prefix = ""
        trades: list[TradeOff | None] = [None] * n_flows if trade is None else \
            trade.lines(wi_a[emit], si_a[emit], h_a[emit])
        for wi, si, q, h, picks_t, t_off in zip(wi_a[emit].tolist(), si_a[emit].tolist(),
                                                q_a[emit].tolist(), h_a[emit].tolist(),
                                                [picks_of[i] for i in emit.tolist()], trades,
                                                strict=True):
            if wi != cur_w:
                cur_w = wi
                w_id = warehouse_ids[wi]
                kind = warehouses[w_id].kind
                id_prefix = f"{plan_id}:{item_id}:{w_id}:"
            eta = eta_at.get(h)  # ETAs memoised per distinct travel time
            if eta is None:
                eta = eta_at[h] = planned_at + timedelta(hours=h + loading)
            s_id = shelter_ids[si]
            expl = new_expl(*_need_part(positive[si]), rules, w_id, kind, picks_t, h, h * q,
                            reach[si], blocked, objective, t_off)
            out.append(new_proposal(f"{id_prefix}{s_id}", plan_id, w_id, s_id, item_id,
                                    unit, q, picks_t, h, eta, expl))
        return out

    @staticmethod
    def _count_used(used: dict[tuple[str, str, str], int], item_id: str,
                    batches: list[StockBatch], left: list[int]) -> None:
        for b, b_left in zip(batches, left, strict=True):
            if b_left != b.quantity:
                key = (b.warehouse_id, item_id, b.batch_id)
                used[key] = used.get(key, 0) + b.quantity - b_left

    def _shortfalls(self, prob: ItemProblem, sol: ItemSolution, unit: str,
                    positive: list[Need], reach: list[int], blocked: dict[str, int],
                    trade: _TradeOffs | None = None) -> list[Shortfall]:
        """Shortfalls: shelters with unmet need."""
        plan_id, rules, item_id = self.plan_id, self.rules, prob.item_id
        new_expl, new_shortfall = _new_explanation, _new_shortfall
        objective = self.objective
        shelter_ids = prob.shelter_ids
        unmet = sol.unmet[:len(shelter_ids)]
        short = np.flatnonzero(unmet > 0).tolist()
        if not short:
            return []
        unmet_l = unmet.tolist()
        id_prefix = f"{plan_id}:shortfall:{item_id}:"
        out: list[Shortfall] = []
        short_a = np.array(short, dtype=np.int64)
        trades: list[TradeOff | None] = [None] * len(short) if trade is None else trade.lines(
            np.full(len(short), -1, dtype=np.int64), short_a, np.zeros(len(short)))
        for si, t_off in zip(short, trades, strict=True):
            n, s_id, miss = positive[si], shelter_ids[si], unmet_l[si]
            # no warehouse, batches or travel: those fields get their default values
            expl = new_expl(*_need_part(n), rules, "", "", (), 0.0, 0.0, reach[si], blocked,
                            objective, t_off)
            out.append(new_shortfall(f"{id_prefix}{s_id}", plan_id, s_id, item_id, unit,
                                     n.quantity, n.quantity - miss, miss, expl))
        return out


class _TradeOffs:
    """The fair objective's trade-off figures of one item's lines (see :class:`TradeOff`)."""

    def __init__(self, prob: ItemProblem, solved: _Solved, params: DeprivationParams) -> None:
        sol = solved.solution
        assert sol.warehouse_value is not None and sol.shelter_value is not None
        assert sol.best_source is not None and sol.second_source is not None
        assert solved.best_hours is not None and solved.second_hours is not None
        c = solved.cost or problem_cost(prob, params)
        self.cost = c
        received = prob.demand - sol.unmet[: prob.demand.shape[0]]
        base = prob.base if prob.base is not None else prob.demand.astype(np.float64)
        self.share = received / np.maximum(prob.demand, 1)
        self.unmet_share = sol.unmet[: prob.demand.shape[0]] / np.maximum(base, 1.0)
        self.last = c.relief_of_unit(received, 0)
        self.next = c.relief_of_unit(received, 1)
        self.marginal = sol.shelter_value
        self.best_a, self.second_a = sol.best_source, sol.second_source
        self.best_hours, self.second_hours = solved.best_hours, solved.second_hours
        self.value_a = sol.warehouse_value
        self.warehouse_ids = prob.warehouse_ids

    def lines(self, wi: npt.NDArray[np.int64], si: npt.NDArray[np.int64],
              h: npt.NDArray[np.float64]) -> list[TradeOff | None]:
        """Trade-offs of the lines warehouse ``wi[i]`` -> shelter ``si[i]`` (vectorised);
        ``wi[i]`` = -1 for a shortfall (no line: its best source is the alternative)."""
        c = self.cost
        line = wi >= 0
        best, second = self.best_a[si], self.second_a[si]
        use_second = best == wi
        alt = np.where(use_second, second, best)
        delay = np.where(line, c.delay_cost(h, si), 0.0)
        logistics = np.where(line, c.per_hour * h, 0.0)
        value = np.where(line, self.value_a[np.maximum(wi, 0)], 0.0)
        has_alt = alt >= 0
        alt_h = np.where(has_alt, np.where(use_second, self.second_hours[si],
                                           self.best_hours[si]), 0.0)
        alt_cost = np.where(has_alt, c.per_hour * alt_h + c.delay_cost(alt_h, si), 0.0)
        alt_value = np.where(has_alt, self.value_a[np.maximum(alt, 0)], 0.0)
        ids = self.warehouse_ids
        alt_ids = [ids[a] if a >= 0 else "" for a in alt.tolist()]
        # one column per field, in field order; tuples built by C calls (TradeOff's own
        # __new__ is Python code: ~0.5 s more on a national plan's 400,000 lines)
        return list(map(_new_tradeoff, zip(
            h.tolist(), self.share[si].tolist(), self.unmet_share[si].tolist(),
            self.last[si].tolist(), self.next[si].tolist(), self.marginal[si].tolist(),
            (delay + logistics).tolist(), delay.tolist(), logistics.tolist(), value.tolist(),
            alt_ids, alt_h.tolist(), alt_cost.tolist(), alt_value.tolist(), strict=True)))


_new_tradeoff = cast(Callable[[Iterable[object]], TradeOff], partial(tuple.__new__, TradeOff))


def plan_objective(plan: Plan) -> tuple[float, float]:
    """(priority-weighted coverage, travel hours x units) of a plan."""
    return plan.weighted_coverage, plan.unit_hours
