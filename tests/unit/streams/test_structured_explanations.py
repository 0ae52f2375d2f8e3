"""Plan lines carry their explanation as data (which rule, which figures), so pages can say
it in the reader's language; the figures are the plan's own."""

from __future__ import annotations

from typing import Any

from siaga import scenarios
from streams import ingest
from streams.planning import PlanningOptions, ProvinceState, plan_province

REDUCERS = {
    "shelter.registered": ("shelters", ingest.apply_shelter_registered),
    "shelter.headcount_reported": ("shelters", ingest.apply_headcount),
    "warehouse.registered": ("warehouses", ingest.apply_warehouse_registered),
    "warehouse.stock_level_reported": ("warehouses", ingest.apply_stock_level),
}


def _planned() -> Any:
    state = ProvinceState("35")
    for t in scenarios.build_events(scenarios.load("semeru-2021")):
        if t.event.type in REDUCERS:
            table, reducer = REDUCERS[t.event.type]
            reducer(getattr(state, table), t.event)
    return plan_province(state, {}, PlanningOptions())


def test_every_shipment_and_shortfall_names_its_rule_and_the_plans_figures() -> None:
    outcome = _planned()
    shipments = [d for e, _, d in outcome.entities if e == "shipment" and d]
    shortfalls = [d for e, _, d in outcome.entities if e == "shortfall" and d]
    assert shipments, "the scenario plans shipments"
    for shipment in shipments:
        why = shipment["why"]
        assert why["rule"] == "shipment_planned"
        figures = why["figures"]
        assert figures["quantity"] == shipment["quantity"]
        assert figures["item"] == shipment["item"]
        assert sum(b["quantity"] for b in figures["batches"]) == shipment["quantity"]
        assert figures["need"] >= 0 and figures["headcount"] > 0
        # the English sentence stays, once: as the view's explanation, not again in why
        assert shipment["explanation"].startswith(f"{shipment['quantity']:,} ")
        assert "text" not in why
    for shortfall in shortfalls:
        why = shortfall["why"]
        assert why["rule"] in ("no_eligible_stock_reachable",
                               "reachable_stock_shared_to_least_deprivation",
                               "stock_used_for_higher_priority_or_cheaper_needs")
        assert why["figures"]["missing"] >= shortfall["missing"]
        assert shortfall["explanation"] and "text" not in why


def test_every_need_row_says_how_it_was_worked_out() -> None:
    """rate × people × days of cover, line by line, with the profile's source: the need's own
    lines reach the shelter's view (they were dropped there)."""
    from logistics.needs import load_profile

    outcome = _planned()
    shelters = [d for e, _, d in outcome.entities if e == "shelter" and d]
    rates = {(r.item, r.group): r for r in load_profile("bnpb-perka-7-2008").rates}
    rows = [(s, n) for s in shelters for n in s["needs"]]
    assert rows, "the scenario's shelters have needs"
    for shelter, row in rows:
        why = row["why"]
        assert why["rule"] == "need_from_headcount"
        f = why["figures"]
        assert f["item"] == row["item"] and f["need"] == row["need"]
        assert f["in_transit"] == row["in_transit"] and f["on_hand"] == row["delivered"]
        assert f["unit"] and f["profile_id"] == "bnpb-perka-7-2008" and f["days"] == 3.0
        assert abs(sum(ln["amount"] for ln in f["lines"]) - f["need"]) < 1e-6 * max(1, f["need"])
        for ln in f["lines"]:
            rate = rates[(row["item"], ln["group"])]
            days = f["days"] if ln["per"] == "person_day" else 1
            assert ln["rate"] == rate.quantity and ln["per"] == rate.per
            assert abs(ln["amount"] - ln["people"] * ln["rate"] * days) < 1e-3
            assert ln["source"] == rate.source and ln["sourced"] is rate.sourced
            if ln["group"] == "all":
                assert ln["people"] == shelter["headcount"]["total"]
    rice = [n for _, n in rows if n["item"] == "rice"]
    assert rice and all(any(ln["group"] == "all" and ln["rate"] == 0.4
                            for ln in n["why"]["figures"]["lines"]) for n in rice)


def test_a_kitchens_capacity_shortfall_names_its_rule_under_why_like_every_shortfall() -> None:
    from streams.kitchens import apply_kitchen_registered
    from tests.unit.streams.test_kitchen_planning import _kitchen, _state

    state = _state()
    apply_kitchen_registered(state.kitchens, _kitchen(60, assigned_shelter_ids=["sh-poso-1"]))
    outcome = plan_province(state, {}, PlanningOptions())
    shortfalls = {i: d for e, i, d in outcome.entities if e == "shortfall" and d}
    short = shortfalls["dapur-dinsos:portions"]
    assert "reason" not in short
    assert short["why"]["rule"] == "kitchen_capacity_below_portions_needed"
    assert short["why"]["figures"]["portions_missing_per_day"] == short["missing"] == 7500
    assert all("why" in s and "rule" in s["why"] for s in shortfalls.values())
