"""Re-planning without churn.

Given the previous plan and new inputs:

1. Shipments already confirmed or dispatched stay fixed: their quantity is subtracted from the
   shelter's need (it is on its way), and a confirmed shipment's picked batches are subtracted
   from the warehouse stock (reserved; a dispatched shipment has already left the stock).
2. A *fresh* optimal plan is solved on what remains.
3. A *stable* plan keeps every previous proposal that still fits (clipped to the remaining need
   and to its batches' remaining eligible stock) and tops it up with an optimal plan for what
   is left over (new shelters, grown headcounts, new stock).
4. Per item, the fresh plan replaces the stable one only if it is better by more than
   ``threshold`` (relative). Under the fair objective: its relief (deprivation avoided net of
   arrival delay and logistics cost, :class:`logistics.deprivation.SocialCost`) higher by more
   than threshold x the stable plan's relief. Under the lexicographic objective: weighted
   coverage higher by more than threshold x stable coverage, or equal coverage and travel
   hours x units lower by more than threshold x stable cost.

The result carries a diff against the previous plan (added / changed / cancelled / unchanged).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

import numpy as np

from logistics.allocation import (
    BatchPick,
    Explanation,
    ItemStats,
    Plan,
    ShipmentProposal,
    Shortfall,
    allocate,
    needs_cost,
)
from logistics.catalogue import Catalogue
from logistics.deprivation import (
    FAIR,
    DeprivationParams,
    ItemCost,
    Objective,
    SocialCost,
    resolve_objective,
    social_cost,
)
from logistics.errors import InvalidInput
from logistics.needs import Need
from logistics.shipment import Shipment
from logistics.stock import ReleaseRules, StockBatch, TravelHours, Warehouse, index_warehouses

_T = TypeVar("_T")

_Key = tuple[str, str, str]  # (item, warehouse, shelter)


@dataclass(frozen=True)
class PlanDiff:
    """Proposal keys (item, warehouse, shelter) that changed between two plans."""

    added: tuple[_Key, ...]
    changed: tuple[_Key, ...]
    cancelled: tuple[_Key, ...]
    unchanged: tuple[_Key, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {k: [list(x) for x in getattr(self, k)]
                for k in ("added", "changed", "cancelled", "unchanged")}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PlanDiff:
        """Inverse of :meth:`to_dict`."""
        def keys(name: str) -> tuple[_Key, ...]:
            return tuple((str(a), str(b), str(c)) for a, b, c in d[name])
        return cls(keys("added"), keys("changed"), keys("cancelled"), keys("unchanged"))


@dataclass(frozen=True)
class Replan:
    """A re-plan: the plan to publish, the diff, and which items took the fresh optimum."""

    plan: Plan
    diff: PlanDiff
    reoptimised_items: tuple[str, ...]
    stable_items: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {"plan": self.plan.to_dict(), "diff": self.diff.to_dict(),
                "reoptimised_items": list(self.reoptimised_items),
                "stable_items": list(self.stable_items)}


def _key(p: ShipmentProposal) -> _Key:
    return (p.item_id, p.warehouse_id, p.shelter_id)


def diff_plans(previous: Plan, new: Plan, fixed_proposal_ids: frozenset[str] = frozenset()
               ) -> PlanDiff:
    """Compare proposals of two plans by (item, warehouse, shelter) and quantity; previous
    proposals that became fixed shipments are not reported as cancelled."""
    old = {_key(p): p.quantity for p in previous.proposals
           if p.proposal_id not in fixed_proposal_ids}
    cur = {_key(p): p.quantity for p in new.proposals}
    return PlanDiff(
        added=tuple(sorted(k for k in cur if k not in old)),
        changed=tuple(sorted(k for k in cur if k in old and old[k] != cur[k])),
        cancelled=tuple(sorted(k for k in old if k not in cur)),
        unchanged=tuple(sorted(k for k in cur if k in old and old[k] == cur[k])),
    )


def replan(
    previous: Plan,
    plan_id: str,
    planned_at: datetime,
    needs: Sequence[Need],
    stock: Sequence[StockBatch],
    warehouses: Sequence[Warehouse],
    travel: TravelHours,
    rules: ReleaseRules,
    committed: Sequence[Shipment] = (),
    threshold: float = 0.05,
    *,
    catalogue: Catalogue | None = None,
    k: int | None = None,
    workers: int = 1,
    objective: Objective = FAIR,
) -> Replan:
    """Re-plan after a change, keeping committed shipments fixed and avoiding churn.

    Args:
        previous: the plan currently shown to warehouse staff.
        plan_id, planned_at: id and UTC time of the new plan.
        needs: current net needs, *not* counting the ``committed`` shipments as in transit.
        stock: current on-hand stock (confirmed shipments are still in it, dispatched are not).
        warehouses, travel, rules: as for :func:`logistics.allocation.allocate`.
        committed: shipments; those confirmed or dispatched are kept fixed, others ignored.
        threshold: relative improvement the fresh optimum needs to replace the stable plan
            (0.05 = 5 %); 0 always takes the fresh optimum when it is strictly better.
        objective: as for :func:`logistics.allocation.allocate` (default ``"fair"``); also
            decides what "better" means.

    Raises:
        InvalidInput: if threshold < 0; plus everything :func:`allocate` raises.
    """
    if threshold < 0:
        raise InvalidInput(f"threshold {threshold} < 0")
    params = resolve_objective(objective)
    wh = index_warehouses(warehouses)
    fixed = [sh for sh in committed if sh.status in ("confirmed", "dispatched")]
    fixed_ids = frozenset(sh.proposal_id for sh in fixed)
    on_way: dict[tuple[str, str], int] = {}
    reserved: dict[tuple[str, str, str], int] = {}
    for sh in fixed:
        on_way[(sh.shelter_id, sh.item_id)] = (on_way.get((sh.shelter_id, sh.item_id), 0)
                                               + sh.quantity)
        if sh.status == "confirmed":
            for b in sh.batches:
                kk = (sh.warehouse_id, sh.item_id, b.batch_id)
                reserved[kk] = reserved.get(kk, 0) + b.quantity
    # (a line nothing changes is kept as it is, here and below: a re-plan of 2,000 shelters
    # copied ~50,000 frozen lines per plan, most of them to equal values)
    res_needs = [n if (w := on_way.get((n.shelter_id, n.item_id), 0)) == 0
                 else _evolve(n, quantity=max(0, n.quantity - w), in_transit=n.in_transit + w)
                 for n in needs]
    res_stock = [b if (r := reserved.get((b.warehouse_id, b.item_id, b.batch_id), 0)) == 0
                 and b.quantity >= 0 else replace(b, quantity=max(0, b.quantity - r))
                 for b in stock]

    fresh = allocate(plan_id, planned_at, res_needs, res_stock, warehouses, travel, rules,
                     catalogue=catalogue, k=k, workers=workers, objective=params or objective)

    # Stable candidate: clip previous proposals to what is still needed and still eligible.
    need_left = {(n.shelter_id, n.item_id): n.quantity for n in res_needs}
    batch_left: dict[tuple[str, str, str], int] = {}
    for sb in res_stock:
        ok = sb.warehouse_id in wh and rules.batch_block_reason(sb, wh[sb.warehouse_id]) is None
        batch_left[(sb.warehouse_id, sb.item_id, sb.batch_id)] = sb.quantity if ok else 0
    # eligible units of each item per warehouse (before the kept proposals take theirs): what
    # a kept plan's shortfall says is within reach
    eligible: dict[str, dict[str, int]] = {}
    for (w_id, i_id, _b), q in batch_left.items():
        if q > 0:
            per_w = eligible.setdefault(i_id, {})
            per_w[w_id] = per_w.get(w_id, 0) + q
    kept: list[ShipmentProposal] = []
    for p in previous.proposals:
        if p.proposal_id in fixed_ids:
            continue
        try:
            h = travel.get(p.warehouse_id, p.shelter_id)
        except KeyError:
            continue
        if rules.max_travel_hours is not None and h > rules.max_travel_hours:
            continue
        room = need_left.get((p.shelter_id, p.item_id), 0)
        picks: list[BatchPick] = []
        for bp in p.batches:
            kk = (p.warehouse_id, p.item_id, bp.batch_id)
            take = min(bp.quantity, batch_left.get(kk, 0), room)
            if take > 0:
                picks.append(BatchPick(bp.batch_id, take, bp.expiry))
                batch_left[kk] -= take
                room -= take
        q = sum(bp.quantity for bp in picks)
        if q > 0:
            need_left[(p.shelter_id, p.item_id)] -= q
            kept.append(_kept_line(p, q, tuple(picks), h))
    top_needs = [n if (left := need_left[(n.shelter_id, n.item_id)]) == n.quantity
                 else _evolve(n, quantity=left) for n in res_needs]
    top_stock = [b if (q_b := batch_left.get((b.warehouse_id, b.item_id, b.batch_id),
                                              b.quantity)
                       if rules.batch_block_reason(b, wh[b.warehouse_id]) is None
                       else b.quantity) == b.quantity
                 else replace(b, quantity=q_b) for b in res_stock]
    top = allocate(plan_id, planned_at, top_needs, top_stock, warehouses, travel, rules,
                   catalogue=catalogue, k=k, workers=workers, objective=params or objective)

    prio = {(n.shelter_id, n.item_id): n.priority for n in res_needs}
    items = sorted({st.item_id for st in fresh.stats} | {p.item_id for p in kept})
    fresh_stats = {st.item_id: st for st in fresh.stats}
    top_stats = {st.item_id: st for st in top.stats}
    proposals: list[ShipmentProposal] = []
    shortfalls: list[Shortfall] = []
    stats: list[ItemStats] = []
    reopt: list[str] = []
    stable: list[str] = []
    res_need_q = {(n.shelter_id, n.item_id): n.quantity for n in res_needs}
    fresh_reach = {(sf.shelter_id, sf.item_id): sf.explanation.eligible_reachable_stock
                   for sf in fresh.shortfalls}
    # each list by item once (in its order), not filtered again for every item: a re-plan of
    # 2,000 shelters walked its 14,000 needs and lines some thirty times
    kept_of, fresh_of, top_of = _by_item(kept), _by_item(fresh.proposals), _by_item(top.proposals)
    fresh_sf_of, top_sf_of = _by_item(fresh.shortfalls), _by_item(top.shortfalls)
    costs = _ItemCosts(res_needs, params, catalogue) if params is not None else None
    for item in items:
        k_item = kept_of.get(item, [])
        kept_wc = sum(prio.get((p.shelter_id, item), 0.0) * p.quantity for p in k_item)
        kept_uh = sum(p.travel_hours * p.quantity for p in k_item)
        fs, ts = fresh_stats.get(item), top_stats.get(item)
        f_wc, f_uh = (fs.weighted_coverage, fs.unit_hours) if fs else (0.0, 0.0)
        s_wc = kept_wc + (ts.weighted_coverage if ts else 0.0)
        s_uh = kept_uh + (ts.unit_hours if ts else 0.0)
        stable_sc: SocialCost | None = None
        if params is None:
            eps = 1e-9 * max(1.0, abs(s_wc))
            better = (f_wc > s_wc * (1 + threshold) + eps) or (
                f_wc >= s_wc - eps and f_uh < s_uh * (1 - threshold) - 1e-9)
        else:
            assert costs is not None
            stable_props = k_item + top_of.get(item, [])
            stable_sc = costs.social_cost(item, stable_props)
            f_relief = costs.social_cost(item, fresh_of.get(item, [])).relief
            s_relief = stable_sc.relief
            eps = 1e-9 * max(1.0, abs(s_relief))
            better = f_relief > s_relief + threshold * max(s_relief, 0.0) + eps
        if better or not k_item:
            reopt.append(item)
            proposals += fresh_of.get(item, [])
            shortfalls += fresh_sf_of.get(item, [])
            if fs:
                stats.append(fs)
            continue
        stable.append(item)
        merged: dict[_Key, ShipmentProposal] = {_key(p): p for p in k_item}
        for p in top_of.get(item, []):
            if _key(p) in merged:
                old = merged[_key(p)]
                q = old.quantity + p.quantity
                picks_t = old.batches + p.batches
                merged[_key(p)] = replace(old, quantity=q, batches=picks_t, explanation=replace(
                    old.explanation, batches=picks_t, unit_hours=old.travel_hours * q))
            else:
                merged[_key(p)] = p
        proposals += list(merged.values())
        for sf in top_sf_of.get(item, []):
            need_q = res_need_q[(sf.shelter_id, item)]
            e = _kept_shortfall_explanation(sf, need_q, fresh_reach, eligible, travel, rules)
            shortfalls.append(
                sf if sf.need == need_q and sf.covered == need_q - sf.missing
                and e is sf.explanation
                else _evolve(sf, need=need_q, covered=need_q - sf.missing, explanation=e))
        covered = sum(p.quantity for p in merged.values())
        base = fs or ts
        if base is not None:
            st = replace(base, covered=covered, weighted_coverage=s_wc, unit_hours=s_uh)
            if stable_sc is not None:
                st = replace(st, deprivation_cost=stable_sc.deprivation,
                             delay_cost=stable_sc.delay, logistics_cost=stable_sc.logistics,
                             full_deprivation=stable_sc.full_deprivation)
            stats.append(st)

    used: dict[tuple[str, str, str], int] = {}
    for p in proposals:
        for bp in p.batches:
            kk = (p.warehouse_id, p.item_id, bp.batch_id)
            used[kk] = used.get(kk, 0) + bp.quantity
    remaining = tuple(
        b if (u := used.get((b.warehouse_id, b.item_id, b.batch_id), 0)) == 0
        else replace(b, quantity=b.quantity - u)
        for b in sorted(res_stock, key=lambda b: (b.warehouse_id, b.item_id, b.batch_id)))
    proposals.sort(key=lambda p: (p.item_id, p.warehouse_id, p.shelter_id))
    shortfalls.sort(key=lambda s: (s.item_id, s.shelter_id))
    plan = replace(fresh, proposals=tuple(proposals), shortfalls=tuple(shortfalls),
                   remaining=remaining, stats=tuple(stats))
    return Replan(plan=plan, diff=diff_plans(previous, plan, fixed_ids),
                  reoptimised_items=tuple(reopt), stable_items=tuple(stable))


def _evolve(obj: _T, **changes: Any) -> _T:
    """``dataclasses.replace(obj, **changes)`` for the frozen, slot-less dataclasses of a plan
    (needs, shortfalls, explanations), without running ``__init__`` and ``__post_init__``
    again: a copy of the instance's ``__dict__`` with ``changes`` over it. Only for values
    worked out here from an object already validated, that keep its invariants (a need's
    quantity stays >= 0). A re-plan of 2,000 shelters made some 14,000 such copies, and
    ``replace`` (field lookup, keyword call, validation) cost about 0.2 s of it."""
    new = object.__new__(type(obj))
    fields_ = new.__dict__
    fields_.update(obj.__dict__)
    fields_.update(changes)
    return new


def _kept_line(p: ShipmentProposal, q: int, picks: tuple[BatchPick, ...], h: float
               ) -> ShipmentProposal:
    """A previous proposal kept with ``q`` units from ``picks`` at ``h`` hours: the line
    itself when that is what it already says."""
    e = p.explanation
    if (q == p.quantity and picks == p.batches and h == p.travel_hours
            and e.batches == picks and e.travel_hours == h and e.unit_hours == h * q):
        return p
    return replace(p, quantity=q, batches=picks, travel_hours=h,
                   explanation=replace(e, batches=picks, travel_hours=h, unit_hours=h * q))


def _kept_shortfall_explanation(
    sf: Shortfall, need: int, fresh_reach: Mapping[tuple[str, str], int],
    eligible: Mapping[str, Mapping[str, int]], travel: TravelHours, rules: ReleaseRules,
) -> Explanation:
    """The explanation of a shortfall left by a kept (stable) plan.

    The top-up allocation that found it saw only the stock the kept proposals left over, so
    its figures describe the leftovers: "0 eligible units within reach" when every unit went
    to other shelters, and a trade-off priced on the leftovers alone. Both were wrong to show,
    and they flipped with every unit freed or taken elsewhere, so every shortfall of the item
    changed with every re-plan (3,800 of 5,900 shortfall views in one re-plan of a
    2,000-shelter province). The kept plan's shortfall states instead the item's eligible
    stock within the shelter's reach (as a fresh plan would: the whole stock, not the
    leftovers) and no trade-off: a kept plan has no prices of its own.

    Its need is the shelter's whole need (``need``), as the shortfall's own ``need`` and a
    fresh plan state it, not what the top-up saw after the kept proposals: a coordinator
    read "need 784, 196 planned, 784 missing" where the need was 980.
    """
    e = sf.explanation
    reach = fresh_reach.get((sf.shelter_id, sf.item_id))
    if reach is None:
        reach = 0
        for w_id, q in eligible.get(sf.item_id, {}).items():
            try:
                h = travel.get(w_id, sf.shelter_id)
            except KeyError:
                continue
            if math.isfinite(h) and (rules.max_travel_hours is None
                                     or h <= rules.max_travel_hours):
                reach += q
    if reach == e.eligible_reachable_stock and e.tradeoff is None and e.need_quantity == need:
        return e
    return _evolve(e, eligible_reachable_stock=reach, tradeoff=None, need_quantity=need)


_Line = TypeVar("_Line", ShipmentProposal, Shortfall)


def _by_item(lines: Sequence[_Line]) -> dict[str, list[_Line]]:
    """``lines`` grouped by item, each group in the order of ``lines``."""
    out: dict[str, list[_Line]] = {}
    for line in lines:
        out.setdefault(line.item_id, []).append(line)
    return out


class _ItemCosts:
    """The fair objective's social cost of an item's proposals against the item's needs, with
    each item's needs (quantity > 0, by shelter) and their cost worked out once per re-plan
    (the stable and the fresh candidate are priced against the same needs)."""

    def __init__(self, needs: Sequence[Need], params: DeprivationParams,
                 catalogue: Catalogue | None) -> None:
        self.params = params
        self.catalogue = catalogue
        self._positive: dict[str, list[Need]] = {}
        for n in needs:
            if n.quantity > 0:
                self._positive.setdefault(n.item_id, []).append(n)
        self._made: dict[str, tuple[dict[str, int], ItemCost]] = {}

    def social_cost(self, item: str, proposals: Sequence[ShipmentProposal]) -> SocialCost:
        made = self._made.get(item)
        if made is None:
            positive = sorted(self._positive.get(item, ()), key=lambda n: n.shelter_id)
            if not positive:
                return SocialCost(0.0, 0.0, 0.0, 0.0)
            made = self._made[item] = ({n.shelter_id: i for i, n in enumerate(positive)},
                                       needs_cost(positive, self.params, self.catalogue))
        index, cost = made
        lines = [p for p in proposals if p.shelter_id in index]
        return social_cost(cost,
                           np.array([index[p.shelter_id] for p in lines], dtype=np.int64),
                           np.array([p.travel_hours for p in lines], dtype=np.float64),
                           np.array([p.quantity for p in lines], dtype=np.int64))
