"""The planner's hash rows (streams/store.py): a shelter's shortfall and shipment hashes share
one row, so a headcount writes one row where it wrote one per item; nothing the planner
decides or sends changes with the layout."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from siaga import synthetic
from streams.planning import PlanningOptions, plan_province
from streams.store import (
    assemble_with_memory,
    grouped_hash_rows,
    hashes_of_rows,
    province_writes,
)
from tests.unit.streams.golden_planning import Province, _apply, worker_routes

NOW = datetime(2024, 2, 14, 6, 0, tzinfo=UTC)


def test_grouped_rows_give_back_every_hash() -> None:
    hashes = {
        "shortfall:sh-1:rice": "a", "shortfall:sh-1:blanket": "b", "shortfall:sh-2:rice": "c",
        "shortfall:sh-1|rice": "d", "shipment:s-9": "e", "shipment:s-8": "f",
        "task:psychosocial_support:sh-1": "g", "task:public_kitchen:sh-1": "j",
        "task:t-1": "k", "plan:32": "h", "shortfall:odd": "i",
    }
    rows = grouped_hash_rows(hashes, {"s-9": "sh-1"})
    assert hashes_of_rows(rows) == hashes
    # one row per shelter and kind; a view and an escalation id of one shelter share it
    assert rows["shortfall@sh-1"]["hashes"] == {
        "shortfall:sh-1:rice": "a", "shortfall:sh-1:blanket": "b", "shortfall:sh-1|rice": "d"}
    assert rows["shipment@sh-1"] == {"hashes": {"shipment:s-9": "e"}}
    # the tasks at one place (``task:<kind>:<place>``) share a row
    assert rows["task@sh-1"]["hashes"] == {
        "task:psychosocial_support:sh-1": "g", "task:public_kitchen:sh-1": "j"}
    # a shipment whose shelter is not known, and ids of another form, keep a row each
    assert rows["shipment:s-8"] == {"hash": "f"}
    assert rows["task:t-1"] == {"hash": "k"} and rows["shortfall:odd"] == {"hash": "i"}
    assert rows["plan:32"] == {"hash": "h"}
    assert len(rows) == 8


def test_rows_of_the_old_layout_are_read_and_replaced() -> None:
    """Rows written before the grouping (one per entity) are read as they are; the next plan
    removes them and writes the group."""
    old = {"shortfall:sh-1:rice": {"hash": "a"}, "shortfall:sh-1:blanket": {"hash": "b"}}
    assert hashes_of_rows(old) == {"shortfall:sh-1:rice": "a", "shortfall:sh-1:blanket": "b"}


def _province(shelters: int) -> tuple[Province, list[object]]:
    disaster = synthetic.province_disaster("32", shelters, updates=shelters, now=NOW,
                                           tag="hashrows")
    p = Province("32")
    routes = worker_routes()
    for event in disaster.setup:
        p.fold(routes, event)
    return p, list(disaster.headcounts)


def test_a_headcount_writes_one_hash_row_per_shelter_not_one_per_item() -> None:
    p, headcounts = _province(60)
    routes = worker_routes()
    opts = PlanningOptions()
    p.plan(opts)
    changed = {e.shelter_id for e in headcounts[:10]}  # type: ignore[attr-defined]
    for event in headcounts[:10]:
        p.fold(routes, event)
    loaded = assemble_with_memory("32", p.rows, dict(p.memory))
    outcome = plan_province(loaded.state, loaded.previous, opts)
    writes = province_writes(loaded, outcome)
    shortfall_views = [k for k in outcome.plan["projected"] if k.startswith("shortfall:")
                       and k.split(":")[1] in changed]
    written = [k for k in writes.planner["projected"] if k.startswith("shortfall")]
    # the changed shelters have several shortfalls each, and one row each is written
    assert len(shortfall_views) > 2 * len(changed)
    assert written and all(k.startswith("shortfall@") for k in written)
    assert {k.split("@", 1)[1] for k in written} <= changed
    # every escalation that changed is still sent up, one record per entity
    sent = {(r["kind"], r["id"]) for r in writes.escalation}
    assert any(kind == "shortfall" for kind, _ in sent)
    escalated = [k for k in writes.planner["escalated"] if k.startswith("shortfall")]
    assert len(escalated) <= len(changed) < len([s for s in sent if s[0] == "shortfall"])


def test_the_plan_after_a_layout_change_sends_nothing_again() -> None:
    """Rows in the old layout (one per entity) give the same plan as the grouped ones: the
    same views and escalations are found unchanged, and the old rows are removed."""
    p, headcounts = _province(40)
    opts = PlanningOptions()
    p.plan(opts)
    grouped = copy.deepcopy(p.rows)
    flat = copy.deepcopy(p.rows)
    for table in ("projected", "escalated"):
        flat[table] = {k: {"hash": v} for k, v in hashes_of_rows(grouped[table]).items()}
    assert len(flat["projected"]) > len(grouped["projected"])
    results = []
    for rows in (grouped, flat):
        loaded = assemble_with_memory("32", rows, dict(p.memory))
        outcome = plan_province(loaded.state, loaded.previous, opts)
        writes = province_writes(loaded, outcome)
        results.append((outcome, writes, rows))
    (o1, w1, r1), (o2, w2, r2) = results
    assert o1.entities == o2.entities and o1.events == o2.events
    assert w1.escalation == w2.escalation == []
    for table in ("projected", "escalated"):
        _apply(r2[table], w2.planner[table])
        _apply(r1[table], w1.planner[table])
        assert r2[table] == r1[table]
