from __future__ import annotations

import json
from dataclasses import replace

from conftest import PLANNED_AT, random_instance

from logistics import Plan, Shipment, allocate, replan
from logistics.replan import PlanDiff


def test_small_headcount_change_does_not_churn_the_plan() -> None:
    needs, stock, whs, travel, rules = random_instance(7, 25, 5, supply_ratio=1.5)
    first = allocate("p1", PLANNED_AT, needs, stock, whs, travel, rules)
    bumped = [replace(n, quantity=n.quantity + 1) if n.shelter_id == "S003" else n
              for n in needs]
    r = replan(first, "p2", PLANNED_AT, bumped, stock, whs, travel, rules, threshold=0.05)
    assert r.stable_items == ("rice",)
    changed = set(r.diff.changed) | set(r.diff.added) | set(r.diff.cancelled)
    assert all(k[2] == "S003" for k in changed)
    kept_ids = {p.proposal_id for p in first.proposals}
    assert sum(p.proposal_id in kept_ids for p in r.plan.proposals) >= len(first.proposals) - 1
    assert PlanDiff.from_dict(json.loads(json.dumps(r.diff.to_dict()))) == r.diff
    assert Plan.from_dict(json.loads(json.dumps(r.plan.to_dict()))) == r.plan


def test_threshold_zero_takes_the_fresh_optimum() -> None:
    needs, stock, whs, travel, rules = random_instance(8, 25, 5, supply_ratio=0.6)
    first = allocate("p1", PLANNED_AT, needs, stock, whs, travel, rules)
    changed = [replace(n, priority=4.0 - n.priority) for n in needs]  # priorities flip
    fresh = allocate("p2", PLANNED_AT, changed, stock, whs, travel, rules)
    r = replan(first, "p2", PLANNED_AT, changed, stock, whs, travel, rules, threshold=0.0)
    assert r.plan.weighted_coverage >= fresh.weighted_coverage - 1e-6
    assert r.reoptimised_items == ("rice",)


def test_confirmed_and_dispatched_shipments_stay_fixed() -> None:
    needs, stock, whs, travel, rules = random_instance(9, 20, 4, supply_ratio=0.8)
    first = allocate("p1", PLANNED_AT, needs, stock, whs, travel, rules)
    a, b = first.proposals[0], first.proposals[1]
    conf, _ = Shipment.from_proposal(a).confirm(a.batches, PLANNED_AT, "e1")
    disp, _ = Shipment.from_proposal(b).confirm(b.batches, PLANNED_AT, "e2")
    disp, _ = disp.dispatch(PLANNED_AT, "e3")
    # the dispatched batches have left the warehouse
    left = {(b.warehouse_id, bp.batch_id): bp.quantity for bp in b.batches}
    stock2 = [replace(s, quantity=s.quantity - left.get((s.warehouse_id, s.batch_id), 0))
              for s in stock]
    r = replan(first, "p2", PLANNED_AT, needs, stock2, whs, travel, rules,
               committed=[conf, disp], threshold=0.0)
    ids = {p.proposal_id for p in r.plan.proposals}
    assert a.proposal_id not in ids and b.proposal_id not in ids
    for key in ((a.item_id, a.warehouse_id, a.shelter_id), (b.item_id, b.warehouse_id,
                                                           b.shelter_id)):
        assert key not in r.diff.cancelled
    for n in needs:
        fixed = sum(s.quantity for s in (conf, disp) if s.shelter_id == n.shelter_id)
        planned = sum(p.quantity for p in r.plan.proposals if p.shelter_id == n.shelter_id)
        assert planned + fixed <= n.quantity
    for s in r.plan.remaining:
        assert s.quantity >= 0
