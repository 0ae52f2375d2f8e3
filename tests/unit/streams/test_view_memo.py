"""What a re-plan keeps from the province's last plan made in the same process: the view
memo (``ViewMemo`` in streams/planning/views.py: a view whose inputs are the ones it was made
from is neither built nor hashed again), the plan lines' dict forms (``plan_as_dict``) and
the shelters' needs (``needs_of``, both in streams/planning/supplies.py).

It must never hide a change: plans made with it equal, part for part, plans made with it
forgotten before every plan, over the golden cases (replayed disasters and a synthetic
province, planned, moved on — headcounts, shipments confirmed, dispatched, delivered, held,
decisions, national results — and re-planned). And it must be used: those re-plans reuse
views.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from streams.planning import PlanningOptions, plan_province, views
from streams.planning.views import Unchanged, ViewMemo, forget_views, only_what_changed
from streams.store import assemble_with_memory
from tests.unit.streams.golden_planning import CASES, Province, run_events


@pytest.mark.parametrize("case", sorted(CASES))
def test_plans_with_the_memo_equal_plans_without_it(case: str) -> None:
    events = CASES[case]()
    forget_views()
    reused: list[int] = []
    plan = Province.plan

    def plan_noting(self: Province, opts: Any) -> dict[str, str]:
        out = plan(self, opts)
        reused.append(views.view_memo(self.code).reused)
        return out

    with mock.patch.object(Province, "plan", plan_noting):
        with_memo = run_events(case, events)

    def plan_forgetting(self: Province, opts: Any) -> dict[str, str]:
        forget_views()
        return plan(self, opts)

    with mock.patch.object(Province, "plan", plan_forgetting):
        without = run_events(case, events)
    assert with_memo == without
    # the re-plans did reuse views (else this test would check nothing)
    assert sum(reused) > 0, reused


def test_same_inputs_give_the_last_hash_other_inputs_build() -> None:
    memo = ViewMemo()
    built: list[str] = []

    def build(name: str) -> dict[str, Any]:
        built.append(name)
        return {"name": name}

    memo.begin("ctx")
    first = memo.view(("shelter", "s1"), ("a",), lambda: build("a"))
    assert first == {"name": "a"}
    memo.hashed(("shelter", "s1"), "h-a")
    memo.end()
    memo.begin("ctx")
    again = memo.view(("shelter", "s1"), ("a",), lambda: build("a"))
    assert isinstance(again, Unchanged) and again.digest == "h-a"
    assert built == ["a"] and memo.reused == 1
    memo.end()
    memo.begin("ctx")
    other = memo.view(("shelter", "s1"), ("b",), lambda: build("b"))
    assert other == {"name": "b"} and built == ["a", "b"]
    memo.hashed(("shelter", "s1"), "h-b")
    memo.end()
    # another context (profile, province, ...) forgets every view
    memo.begin("other ctx")
    assert memo.view(("shelter", "s1"), ("b",), lambda: build("b")) == {"name": "b"}


def test_a_view_not_hashed_is_not_remembered() -> None:
    """A plan that failed between building and hashing leaves nothing half-known."""
    memo = ViewMemo()
    memo.begin("ctx")
    memo.view(("shelter", "s1"), ("a",), lambda: {"name": "a"})
    memo.end()  # never hashed
    memo.begin("ctx")
    assert memo.view(("shelter", "s1"), ("a",), lambda: {"name": "a"}) == {"name": "a"}


def test_an_unchanged_view_goes_out_when_its_hash_was_not_the_last_projected() -> None:
    """The plan's memory of what it projected was lost (or is another's): the view is built
    and sent again, though its inputs did not change."""
    view = {"name": "a"}
    events: list[Any] = []
    changed, hashes = only_what_changed(
        {("shelter", "s1"): Unchanged("h-a", lambda: view)}, {}, events)
    assert changed == [("shelter", "s1", view)]
    assert hashes == {"shelter:s1": "h-a"}
    changed, _ = only_what_changed(
        {("shelter", "s1"): Unchanged("h-a", lambda: view)}, {"shelter:s1": "h-a"}, events)
    assert changed == []


# ------------------------------------------------- one input changed, nothing else

def _planned_province() -> Province:
    from tests.unit.streams.golden_planning import (
        SYNTHETIC_PROVINCE,
        synthetic_events,
        worker_routes,
    )

    routes = worker_routes()
    p = Province(SYNTHETIC_PROVINCE)
    for event in synthetic_events(shelters_=60):
        p.fold(routes, event)
    forget_views()
    p.plan(PlanningOptions())
    return p


def _with_and_without(p: Province) -> tuple[Any, Any]:
    """What a re-plan of ``p`` gives (views, events, escalation, shipments, plan) with what
    its last plan left in this process, and with nothing: every view built, every need
    worked out, every line written out."""
    from logistics.needs import compute_needs

    loaded = assemble_with_memory(p.code, p.rows, dict(p.memory))

    def parts(outcome: Any) -> Any:
        return (outcome.entities, outcome.events, outcome.escalation, outcome.shipments,
                outcome.plan)

    with_memo = parts(plan_province(loaded.state, loaded.previous, PlanningOptions()))
    forget_views()
    with mock.patch("streams.planning.province.plan_as_dict",
                    lambda _province, plan: plan.to_dict()), \
            mock.patch("streams.planning.supplies.needs_of",
                       lambda _p, counts, profile, days, on_hand, in_transit: compute_needs(
                           counts, profile, days, on_hand=on_hand, in_transit=in_transit)):
        without = parts(plan_province(loaded.state, loaded.previous, PlanningOptions()))
    return with_memo, without


def _shortfall_shelter(p: Province) -> tuple[str, str]:
    """(shelter, item) of one of the last plan's shortfalls."""
    line = p.outcomes[-1].plan["plan"]["shortfalls"][0]
    return line["shelter_id"], line["item_id"]


def _a_shipment(p: Province) -> dict[str, Any]:
    return next(iter(p.rows["shipments"].values()))


def _rename_shelter(p: Province) -> None:
    sid, _ = _shortfall_shelter(p)
    p.rows["shelters"][sid] = dict(p.rows["shelters"][sid], name="Posko Baru")


def _decide(p: Province) -> None:
    sid, item = _shortfall_shelter(p)
    row = p.rows["shelters"][sid]
    p.rows["shelters"][sid] = dict(row, decisions={
        **(row.get("decisions") or {}),
        item: {"decision": "accepted", "coordinator": "koord", "reason": "cukup",
               "version": "9999"}})


def _rename_warehouse(p: Province) -> None:
    wid = _a_shipment(p)["warehouse_id"]
    p.rows["warehouses"][wid] = dict(p.rows["warehouses"][wid], name="Gudang Baru")


def _move_warehouse(p: Province) -> None:
    wid = _a_shipment(p)["warehouse_id"]
    where = p.rows["warehouses"][wid]["location"]
    p.rows["warehouses"][wid] = dict(p.rows["warehouses"][wid],
                                     location=dict(where, lat=where["lat"] + 0.0001))


def _shipment_field(field: str, value: Any) -> Any:
    def change(p: Province) -> None:
        row = _a_shipment(p)
        p.rows["shipments"][row["shipment_id"]] = dict(row, **{field: value})
    return change


def _delivered(p: Province, earlier: bool) -> None:
    """A delivery to a shelter with a shortfall an hour before the last plan (and, with
    ``earlier``, another one before it: what the shelter has changes, the time since its last
    delivery does not)."""
    sid, item = _shortfall_shelter(p)
    at = datetime.fromisoformat(p.outcomes[-1].plan["planned_at"])
    received = {"d1": {"item": item, "quantity": 10,
                       "at": (at - timedelta(hours=1)).isoformat()}}
    if earlier:
        received["d0"] = {"item": item, "quantity": 7,
                          "at": (at - timedelta(hours=2)).isoformat()}
    p.rows["shelters"][sid] = dict(p.rows["shelters"][sid], received=received)


def _delivered_before(p: Province) -> None:
    _delivered(p, earlier=False)
    p.plan(PlanningOptions())
    _delivered(p, earlier=True)


CHANGES = {
    "delivered before the last delivery": _delivered_before,
    "shelter renamed": _rename_shelter,
    "shortfall decided": _decide,
    "warehouse renamed": _rename_warehouse,
    "warehouse moved": _move_warehouse,
    **{f"shipment {f}": _shipment_field(f, v) for f, v in (
        ("eta", "2099-01-01T00:00:00+00:00"), ("summary", "diubah"), ("held", True),
        ("reason", "alasan"), ("difference", 3), ("received_quantity", 5),
        ("updated_at", "2099-01-01T00:00:00+00:00"), ("warehouse_name", "Gudang Lain"))},
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_view_reads_every_input_it_is_made_from(change: str) -> None:
    """One input changed in the rows and nothing else: the re-plan with the memo emits what
    the re-plan without it emits (an input the memo does not compare would be missed)."""
    p = _planned_province()
    CHANGES[change](p)
    with_memo, without = _with_and_without(p)
    assert with_memo == without
    assert without[0], "the change changed no view: the test would check nothing"


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_plan_written_out_with_its_kept_lines_is_the_plan(case: str) -> None:
    """``plan_as_dict`` reuses the dict form of the lines a re-plan kept: it equals
    ``plan.to_dict()``, and it did reuse some."""
    from streams.planning import province, supplies

    reused = []

    def checked(code: str, plan: Any) -> Any:
        # (a reused line is a copy under the new plan's ids: its explanation is the same)
        before = {id(d["explanation"]) for _, d in supplies._SHORTFALLS.get(code, {}).values()}
        out = supplies.plan_as_dict(code, plan)
        assert out == plan.to_dict()
        reused.append(sum(id(d["explanation"]) in before for d in out["shortfalls"]))
        return out

    with mock.patch.object(province, "plan_as_dict", checked):
        _run_and_replan(case)
    if case == "synthetic":
        # the re-plans after one shelter's headcount reused the other shelters' lines
        assert reused[-1] > 0, reused


def _run_and_replan(case: str) -> None:
    """The golden case; for the synthetic one, then two re-plans after one shelter's
    headcount changed (the second re-plan is the one that can reuse)."""
    run_events(case, CASES[case]())
    if case == "synthetic":
        p = _planned_province()
        for total in (500, 501):
            _one_more_person(p, total)
            p.plan(PlanningOptions())


def _one_more_person(p: Province, total: int) -> None:
    sid, _ = _shortfall_shelter(p)
    row = p.rows["shelters"][sid]
    p.rows["shelters"][sid] = dict(row, headcount=dict(row["headcount"], total=total))


@pytest.mark.parametrize("case", sorted(CASES))
def test_needs_worked_out_again_only_where_they_changed_are_the_needs(case: str) -> None:
    """``needs_of`` works out again only the shelters whose headcount or stock changed: it
    equals ``compute_needs`` of every shelter, and re-plans after one shelter's headcount
    keep the other shelters' very need lines."""
    from logistics.needs import compute_needs
    from streams.planning import supplies

    kept: list[int] = []
    needs_of = supplies.needs_of

    def checked(code: str, counts: Any, profile: Any, days: float, on_hand: Any,
                in_transit: Any) -> Any:
        before = {id(n) for _, lines in supplies._NEEDS.get(code, (None, {}))[1].values()
                  for n in lines}
        out = needs_of(code, counts, profile, days, on_hand, in_transit)
        assert out == compute_needs(counts, profile, days, on_hand=on_hand,
                                    in_transit=in_transit)
        kept.append(sum(id(n) in before for n in out))
        return out

    with mock.patch.object(supplies, "needs_of", checked):
        _run_and_replan(case)
    if case == "synthetic":
        assert kept[-1] > 0, kept
