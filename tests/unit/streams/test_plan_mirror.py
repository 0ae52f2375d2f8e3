"""The planning process's copy of a province's rows (streams/planpool.py).

The worker sends the child every row once, then only the rows written or removed since its
last plan. That is right only if (1) a plan never changes the rows it is given — the child
keeps them for the next plan — (2) a plan from the copy brought up to date by a change set
is the plan from every row, and (3) the child applies its plan's own writes to its copy as
the worker writes them back (the worker leaves them out of the next change set). All three
are checked here over the golden cases (the replayed disasters and the synthetic province,
planned, moved on and re-planned like the worker does: shipments confirmed, dispatched,
delivered, headcounts, team progress, national results...), with change sets made from the
rows as they changed.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from streams import planpool
from streams.planning import PlanningOptions
from streams.planpool import MirrorMissing, delta_of, plan_mirrored, plan_slim
from streams.store import ALL_TABLES
from tests.unit.streams import golden_planning
from tests.unit.streams.golden_planning import CASES, Province, _apply, run_events

TOKENS = itertools.count(1)
SLIM_FIELDS = ("changes", "events", "plan_id", "planned_at", "memory", "entities", "writes")


def changed_ids(before: dict[str, dict[str, Any]], now: dict[str, dict[str, Any]]
                ) -> dict[str, set[str]]:
    """Per table, the ids whose row differs (written, added or removed)."""
    out: dict[str, set[str]] = {}
    for name in now.keys() | before.keys():
        old, new = before.get(name, {}), now.get(name, {})
        out[name] = {i for i in old.keys() | new.keys() if old.get(i) != new.get(i)}
    return out


class MirroredProvince(Province):
    """Each plan made three ways: from the child's copy (every row the first time, then a
    change set), from a fresh copy of every row, and the golden way (which moves on)."""

    checked: list[tuple[str, int, int]] = []

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.token: int | None = None
        self.sent: dict[str, dict[str, Any]] = {}

    def plan(self, opts: PlanningOptions) -> dict[str, str]:
        rows_before = copy.deepcopy(self.rows)
        token = next(TOKENS)
        if self.token is None:
            mirrored = plan_mirrored(self.code, None, token, copy.deepcopy(self.rows), None,
                                     dict(self.memory), opts)
            sent = sum(len(t) for t in self.rows.values())
        else:
            delta = copy.deepcopy(delta_of(self.rows, changed_ids(self.sent, self.rows)))
            mirrored = plan_mirrored(self.code, self.token, token, None, delta,
                                     dict(self.memory), opts)
            sent = sum(len(w) + len(r) for w, r in delta.values())
        fresh = plan_slim(self.code, copy.deepcopy(self.rows), dict(self.memory), opts)
        for name in SLIM_FIELDS:
            assert getattr(mirrored, name) == getattr(fresh, name), (self.code, name)
        # the copy the child keeps is the rows the plan was made from, unchanged by it, with
        # the plan's own writes applied as the worker writes them back
        expected = copy.deepcopy(rows_before)
        for name, written in fresh.writes.planner.items():
            _apply(expected[name], written)
        _apply(expected["shipments"], fresh.writes.shipments)
        held_token, held_rows = planpool._MIRRORS[self.code]
        assert held_token == token
        assert held_rows == expected
        self.checked.append((self.code, sent, sum(len(t) for t in self.rows.values())))
        hashes = super().plan(opts)
        assert self.rows == held_rows  # the golden loop wrote back the same
        # what the worker's tables will call changed next time: everything but these writes
        self.token, self.sent = token, copy.deepcopy(self.rows)
        return hashes


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_plan_from_the_kept_copy_and_a_change_set_is_the_plan_from_every_row(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(golden_planning, "Province", MirroredProvince)
    monkeypatch.setattr(planpool, "_MIRRORS", {})
    MirroredProvince.checked = []
    run_events(case, CASES[case]())
    checked = MirroredProvince.checked
    provinces = {code for code, _, _ in checked}
    # every province re-planned from a change set at least once
    assert len(checked) >= 2 * len(provinces)
    replans = [(sent, total) for n, (code, sent, total) in enumerate(checked)
               if any(c == code for c, _, _ in checked[:n])]
    assert replans and all(sent < total for sent, total in replans)


def test_a_change_set_against_another_copy_is_refused_and_the_copy_dropped(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(planpool, "_MIRRORS", {})
    rows: dict[str, dict[str, Any]] = {name: {} for name in ALL_TABLES}
    opts = PlanningOptions()
    with pytest.raises(MirrorMissing):  # nothing held yet
        plan_mirrored("32", 1, 2, None, {}, {}, opts)
    plan_mirrored("32", None, 5, copy.deepcopy(rows), None, {}, opts)
    assert planpool._MIRRORS["32"][0] == 5
    with pytest.raises(MirrorMissing):
        plan_mirrored("32", 4, 6, None, {}, {}, opts)
    assert "32" not in planpool._MIRRORS  # the next call must send every row


def test_a_change_set_carries_written_rows_and_removed_ids() -> None:
    rows = {"shelters": {"a": {"n": 1}, "b": {"n": 2}}, "tasks": {}}
    delta = delta_of(rows, {"shelters": {"a", "gone"}, "tasks": set()})
    assert delta == {"shelters": ({"a": {"n": 1}}, ["gone"])}


def test_a_plan_in_the_planning_process_runs_with_the_collector_paused_and_restores_it(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    monkeypatch.setattr(planpool, "_MIRRORS", {})
    seen: list[bool] = []
    real = planpool.plan_slim

    def spy(*args: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args)

    monkeypatch.setattr(planpool, "plan_slim", spy)
    rows: dict[str, dict[str, Any]] = {name: {} for name in ALL_TABLES}
    assert gc.isenabled()
    plan_mirrored("32", None, 5, copy.deepcopy(rows), None, {}, PlanningOptions())
    assert seen == [False] and gc.isenabled()
    with pytest.raises(MirrorMissing):  # a plan that raises gives the collector back too
        plan_mirrored("32", 1, 2, None, {}, {}, PlanningOptions())
    assert gc.isenabled()
    gc.disable()  # paused by someone else: left paused
    try:
        with planpool.collections_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
