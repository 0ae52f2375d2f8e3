"""Hypothesis properties of allocation."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from conftest import PLAN_DATE, PLANNED_AT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logistics import Need, ReleaseRules, StockBatch, TravelHours, Warehouse, allocate

KINDS = ("regional", "lumbung_sosial")


@st.composite
def instances(draw: st.DrawFn) -> tuple[list[Need], list[StockBatch], list[Warehouse],
                                        TravelHours, ReleaseRules]:
    n_s = draw(st.integers(1, 6))
    n_w = draw(st.integers(1, 4))
    whs = [Warehouse(f"W{i}", draw(st.sampled_from(KINDS)), area_code=f"32.0{i}")
           for i in range(n_w)]
    shelters = [f"S{j}" for j in range(n_s)]
    hours = np.array([[draw(st.one_of(st.just(np.inf), st.floats(0.1, 50)))
                       for _ in shelters] for _ in whs])
    needs = [Need(s, "rice", draw(st.integers(0, 60)), draw(st.floats(1, 3))) for s in shelters]
    stock = []
    for w in whs:
        for b in range(draw(st.integers(0, 3))):
            days = draw(st.one_of(st.none(), st.integers(-10, 400)))
            stock.append(StockBatch(w.id, "rice", f"{w.id}-{b}", draw(st.integers(0, 80)),
                                    None if days is None else PLAN_DATE + timedelta(days=days)))
    declared = frozenset(draw(st.sets(st.sampled_from([w.area_code for w in whs]))))
    rules = ReleaseRules(PLAN_DATE, declared_areas=declared,
                         allow_near_expiry=draw(st.booleans()))
    return needs, stock, whs, TravelHours(tuple(w.id for w in whs), tuple(shelters), hours), rules


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_stock_is_conserved_never_negative_and_nothing_blocked_is_planned(inst) -> None:  # type: ignore[no-untyped-def]
    needs, stock, whs, travel, rules = inst
    plan = allocate("p", PLANNED_AT, needs, stock, whs, travel, rules)
    wh = {w.id: w for w in whs}
    initial = {(b.warehouse_id, b.batch_id): b for b in stock}
    planned: dict[tuple[str, str], int] = {}
    for p in plan.proposals:
        assert p.quantity == sum(b.quantity for b in p.batches) > 0
        assert np.isfinite(p.travel_hours)
        for b in p.batches:
            planned[(p.warehouse_id, b.batch_id)] = planned.get((p.warehouse_id, b.batch_id),
                                                                0) + b.quantity
            src = initial[(p.warehouse_id, b.batch_id)]
            assert rules.batch_block_reason(src, wh[p.warehouse_id]) is None
            assert src.expiry is None or src.expiry > rules.plan_date
    for r in plan.remaining:
        assert r.quantity >= 0
        key = (r.warehouse_id, r.batch_id)
        assert r.quantity + planned.get(key, 0) == initial[key].quantity
    for n in needs:
        got = sum(p.quantity for p in plan.proposals if p.shelter_id == n.shelter_id)
        miss = sum(s.missing for s in plan.shortfalls if s.shelter_id == n.shelter_id)
        assert got + miss == n.quantity


@settings(max_examples=80, deadline=None)
@given(need=st.integers(1, 200), extra_vulnerable=st.floats(0.01, 1.0),
       base=st.floats(1.0, 2.0), supply=st.integers(0, 400), h=st.floats(0.1, 40),
       others=st.lists(st.tuples(st.integers(0, 100), st.floats(1.0, 3.0)), max_size=3))
def test_vulnerable_shelter_is_never_worse_served_than_an_identical_one(
        need: int, extra_vulnerable: float, base: float, supply: int, h: float,
        others: list[tuple[int, float]]) -> None:
    # Same need, same travel, same everything; one has a higher vulnerable share -> priority.
    needs = [Need("plain", "rice", need, base),
             Need("vulnerable", "rice", need, base + extra_vulnerable)]
    needs += [Need(f"o{i}", "rice", q, p) for i, (q, p) in enumerate(others)]
    ids = tuple(n.shelter_id for n in needs)
    travel = TravelHours(("W",), ids, np.full((1, len(ids)), h))
    stock = [StockBatch("W", "rice", "b", supply, date(2030, 1, 1))] if supply else []
    plan = allocate("p", PLANNED_AT, needs, stock, [Warehouse("W", "regional")], travel,
                    ReleaseRules(PLAN_DATE))
    got = {p.shelter_id: p.quantity for p in plan.proposals}
    assert got.get("vulnerable", 0) >= got.get("plain", 0)
