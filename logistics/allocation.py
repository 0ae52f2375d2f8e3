"""Optimal supply allocation: needs x eligible stock x travel hours -> shipment proposals.

Objective, lexicographic and exact (see :mod:`logistics._flow`): first maximise
priority-weighted coverage of need, then minimise travel hours x quantity. Items are independent
(no shared capacity), so each item is solved on its own. After the flow is known, each
(warehouse, item) flow is split over the warehouse's eligible batches earliest-expiry first
(first-expiry-first), the earliest batches going to the shelters reached first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from logistics._flow import solve_item
from logistics._serde import date_from_str, date_to_str, dt_from_str, dt_to_str, require_utc
from logistics._solver import ItemSolution
from logistics.catalogue import Catalogue, default_catalogue
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
        )


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
                f"({e.vulnerable_share:.0%} vulnerable, severity {e.severity})")

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
                + f"; priority {e.priority:.2f} ({e.vulnerable_share:.0%} vulnerable)")

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

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {"item_id": self.item_id, "need": self.need, "covered": self.covered,
                "weighted_need": self.weighted_need, "weighted_coverage": self.weighted_coverage,
                "unit_hours": self.unit_hours, "eligible_stock": self.eligible_stock,
                "blocked_stock": dict(sorted(self.blocked_stock.items())),
                "phase1_rounds": self.phase1_rounds, "phase2_rounds": self.phase2_rounds,
                "columns": self.columns}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ItemStats:
        """Inverse of :meth:`to_dict`."""
        return cls(item_id=str(d["item_id"]), need=int(d["need"]), covered=int(d["covered"]),
                   weighted_need=float(d["weighted_need"]),
                   weighted_coverage=float(d["weighted_coverage"]),
                   unit_hours=float(d["unit_hours"]), eligible_stock=int(d["eligible_stock"]),
                   blocked_stock={str(k): int(v) for k, v in d["blocked_stock"].items()},
                   phase1_rounds=int(d["phase1_rounds"]), phase2_rounds=int(d["phase2_rounds"]),
                   columns=int(d["columns"]))


@dataclass(frozen=True)
class Plan:
    """The result of one allocation: proposals, shortfalls, what stock is left, and figures.

    ``remaining`` lists every input batch with what is left after the proposals (planned + left
    = initial for every batch). ``profile_ids`` records the needs profile(s) used.
    """

    plan_id: str
    planned_at: datetime
    profile_ids: tuple[str, ...]
    rules: ReleaseRules
    proposals: tuple[ShipmentProposal, ...]
    shortfalls: tuple[Shortfall, ...]
    remaining: tuple[StockBatch, ...]
    stats: tuple[ItemStats, ...]

    @property
    def weighted_coverage(self) -> float:
        """Sum over items of priority x units covered (the first objective)."""
        return sum(s.weighted_coverage for s in self.stats)

    @property
    def unit_hours(self) -> float:
        """Sum over items of travel hours x units (the second objective)."""
        return sum(s.unit_hours for s in self.stats)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-safe)."""
        return {
            "plan_id": self.plan_id, "planned_at": dt_to_str(self.planned_at),
            "profile_ids": list(self.profile_ids), "rules": self.rules.to_dict(),
            "proposals": [p.to_dict() for p in self.proposals],
            "shortfalls": [s.to_dict() for s in self.shortfalls],
            "remaining": [b.to_dict() for b in self.remaining],
            "stats": [s.to_dict() for s in self.stats],
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
        )


# --------------------------------------------------------------------------- preparation


@dataclass
class ItemProblem:
    """One item's LP data after applying the release rules (arrays sorted by id)."""

    item_id: str
    needs: list[Need]                      # every need of the item (incl. zero)
    shelter_ids: list[str]                 # shelters with need > 0
    demand: npt.NDArray[np.int64]
    priority: npt.NDArray[np.float64]
    warehouse_ids: list[str]               # warehouses with eligible stock > 0
    supply: npt.NDArray[np.int64]
    hours: npt.NDArray[np.float64]         # (W, S), inf = unreachable
    eligible_batches: dict[str, list[StockBatch]]  # warehouse -> batches, expiry order
    blocked: dict[str, int]                # rule -> units blocked


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
    by_item_needs: dict[str, dict[str, Need]] = {}
    for n in needs:
        cat.get(n.item_id)
        travel.shelter_index(n.shelter_id)
        d = by_item_needs.setdefault(n.item_id, {})
        if n.shelter_id in d:
            raise InvalidInput(f"duplicate need for shelter {n.shelter_id!r}, item {n.item_id!r}")
        d[n.shelter_id] = n
    by_item_stock: dict[str, list[StockBatch]] = {}
    seen_batches: set[tuple[str, str, str]] = set()
    for b in stock:
        cat.get(b.item_id)
        if b.warehouse_id not in wh:
            raise UnknownWarehouse(f"stock batch {b.batch_id!r} at unknown warehouse "
                                   f"{b.warehouse_id!r}")
        travel.warehouse_index(b.warehouse_id)
        key = (b.warehouse_id, b.item_id, b.batch_id)
        if key in seen_batches:
            raise InvalidInput(f"duplicate batch {key}")
        seen_batches.add(key)
        by_item_stock.setdefault(b.item_id, []).append(b)

    problems: list[ItemProblem] = []
    for item in sorted(set(by_item_needs) | set(by_item_stock)):
        item_needs = [by_item_needs.get(item, {})[s] for s in sorted(by_item_needs.get(item, {}))]
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
        w_rows = np.array([travel.warehouse_index(w) for w in w_ids], dtype=np.int64)
        s_cols = np.array([travel.shelter_index(s) for s in s_ids], dtype=np.int64)
        hours = travel.hours[np.ix_(w_rows, s_cols)] if w_ids and s_ids else \
            np.zeros((len(w_ids), len(s_ids)))
        if rules.max_travel_hours is not None:
            hours = np.where(hours > rules.max_travel_hours, np.inf, hours)
        problems.append(ItemProblem(
            item_id=item, needs=item_needs, shelter_ids=s_ids,
            demand=np.array([n.quantity for n in positive], dtype=np.int64),
            priority=np.array([n.priority for n in positive], dtype=np.float64),
            warehouse_ids=w_ids,
            supply=np.array([sum(b.quantity for b in eligible[w]) for w in w_ids],
                            dtype=np.int64),
            hours=np.ascontiguousarray(hours, dtype=np.float64),
            eligible_batches=eligible, blocked=blocked,
        ))
    return problems


def _solve(problem: ItemProblem, k: int) -> ItemSolution:
    n_s, n_w = len(problem.shelter_ids), len(problem.warehouse_ids)
    if n_s == 0 or n_w == 0 or not np.isfinite(problem.hours).any():
        empty = np.zeros(0, dtype=np.int64)
        return ItemSolution(empty, empty, empty, problem.demand.copy(), 0.0, 0.0, 0, 0, 0)
    try:
        return solve_item(problem.demand, problem.priority, problem.supply, problem.hours, k=k)
    except RuntimeError as exc:
        raise SolverError(f"item {problem.item_id}: {exc}") from None


# --------------------------------------------------------------------------- allocation


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
    k: int = 8,
    workers: int = 1,
) -> Plan:
    """Allocate eligible stock to needs optimally; explain every line.

    Lexicographic objective per item: maximise sum(priority x units covered), then minimise
    sum(travel hours x units). Quantities are whole catalogue units, travel in hours (from
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
        k: initial candidate warehouses per shelter for column generation (any k is exact).
        workers: threads used to solve items in parallel.

    Raises:
        UnknownWarehouse, UnknownShelter, UnknownItem, InvalidInput: on bad input.
        SolverError: if the min-cost-flow solver fails.
    """
    planned_at = require_utc(planned_at, "planned_at")
    cat = catalogue or default_catalogue()
    wh = index_warehouses(warehouses)
    problems = prepare(needs, stock, warehouses, travel, rules, cat)
    if workers > 1 and len(problems) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            solutions = list(pool.map(lambda p: _solve(p, k), problems))
    else:
        solutions = [_solve(p, k) for p in problems]

    proposals: list[ShipmentProposal] = []
    shortfalls: list[Shortfall] = []
    stats: list[ItemStats] = []
    used: dict[tuple[str, str, str], int] = {}
    profile_ids: set[str] = set()
    base_rules = ["max priority-weighted coverage, then min travel hours x quantity",
                  "first-expiry-first batches",
                  f"no batch within {rules.min_days_before_expiry} days of expiry"
                  + (" (coordinator override: allowed)" if rules.allow_near_expiry else ""),
                  "Lumbung Sosial only in declared emergency areas"]
    if rules.max_travel_hours is not None:
        base_rules.append(f"max travel {rules.max_travel_hours:g} h")
    rules_t = tuple(base_rules)
    for prob, sol in zip(problems, solutions, strict=True):
        item = cat.get(prob.item_id)
        need_by_shelter = {n.shelter_id: n for n in prob.needs}
        profile_ids.update(n.profile_id for n in prob.needs if n.profile_id)
        reach = np.where(np.isfinite(prob.hours), prob.supply[:, None], 0).sum(axis=0) \
            if prob.hours.size else np.zeros(len(prob.shelter_ids), dtype=np.int64)

        def explanation(n: Need, **extra: Any) -> Explanation:
            return Explanation(
                need_quantity=n.quantity, need_gross=n.gross, headcount=n.headcount,
                days=n.days, on_hand=n.on_hand, in_transit=n.in_transit,
                profile_id=n.profile_id, profile_version=n.profile_version,
                priority=n.priority, vulnerable_share=n.vulnerable_share, severity=n.severity,
                hours_since_delivery=n.hours_since_delivery, rules=rules_t, **extra)

        # first-expiry-first: per warehouse, earliest batches to the shelters reached first
        flows_by_w: dict[int, list[tuple[float, str, int, int]]] = {}
        for wi, si, q in zip(sol.warehouse_index.tolist(), sol.shelter_index.tolist(),
                             sol.quantity.tolist(), strict=True):
            h = float(prob.hours[wi, si])
            flows_by_w.setdefault(wi, []).append((h, prob.shelter_ids[si], si, q))
        for wi in sorted(flows_by_w):
            w_id = prob.warehouse_ids[wi]
            batches = prob.eligible_batches[w_id]
            left = [b.quantity for b in batches]
            bi = 0
            for h, s_id, si, q in sorted(flows_by_w[wi]):
                picks: list[BatchPick] = []
                rest = q
                while rest > 0:
                    take = min(rest, left[bi])
                    if take > 0:
                        picks.append(BatchPick(batches[bi].batch_id, take, batches[bi].expiry))
                        left[bi] -= take
                        rest -= take
                    if left[bi] == 0:
                        bi += 1
                for p in picks:
                    key = (w_id, prob.item_id, p.batch_id)
                    used[key] = used.get(key, 0) + p.quantity
                n = need_by_shelter[s_id]
                proposals.append(ShipmentProposal(
                    proposal_id=f"{plan_id}:{prob.item_id}:{w_id}:{s_id}", plan_id=plan_id,
                    warehouse_id=w_id, shelter_id=s_id, item_id=prob.item_id, unit=item.unit,
                    quantity=q, batches=tuple(picks), travel_hours=h,
                    eta=planned_at + timedelta(hours=h + rules.loading_hours),
                    explanation=explanation(
                        n, warehouse_id=w_id, warehouse_kind=wh[w_id].kind,
                        batches=tuple(picks), travel_hours=h, unit_hours=h * q,
                        eligible_reachable_stock=int(reach[si]),
                        blocked_stock=dict(prob.blocked)),
                ))
        for si, s_id in enumerate(prob.shelter_ids):
            miss = int(sol.unmet[si])
            if miss > 0:
                n = need_by_shelter[s_id]
                shortfalls.append(Shortfall(
                    shortfall_id=f"{plan_id}:shortfall:{prob.item_id}:{s_id}", plan_id=plan_id,
                    shelter_id=s_id, item_id=prob.item_id, unit=item.unit, need=n.quantity,
                    covered=n.quantity - miss, missing=miss,
                    explanation=explanation(n, eligible_reachable_stock=int(reach[si]),
                                            blocked_stock=dict(prob.blocked)),
                ))
        covered = int(prob.demand.sum() - sol.unmet.sum())
        stats.append(ItemStats(
            item_id=prob.item_id, need=int(prob.demand.sum()), covered=covered,
            weighted_need=float(np.dot(prob.priority, prob.demand)),
            weighted_coverage=sol.weighted_coverage, unit_hours=sol.transport_cost,
            eligible_stock=int(prob.supply.sum()), blocked_stock=dict(prob.blocked),
            phase1_rounds=sol.phase1_rounds, phase2_rounds=sol.phase2_rounds,
            columns=sol.columns,
        ))

    remaining = tuple(
        StockBatch(b.warehouse_id, b.item_id, b.batch_id,
                   b.quantity - used.get((b.warehouse_id, b.item_id, b.batch_id), 0), b.expiry)
        for b in sorted(stock, key=lambda b: (b.warehouse_id, b.item_id, b.batch_id))
    )
    proposals.sort(key=lambda p: (p.item_id, p.warehouse_id, p.shelter_id))
    shortfalls.sort(key=lambda s: (s.item_id, s.shelter_id))
    return Plan(plan_id=plan_id, planned_at=planned_at, profile_ids=tuple(sorted(profile_ids)),
                rules=rules, proposals=tuple(proposals), shortfalls=tuple(shortfalls),
                remaining=remaining, stats=tuple(stats))


def plan_objective(plan: Plan) -> tuple[float, float]:
    """(priority-weighted coverage, travel hours x units) of a plan."""
    return plan.weighted_coverage, plan.unit_hours
