from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from logistics import DispatchPlan, InvalidInput, Task, Team, TeamTravelHours, dispatch

AT = datetime(2022, 11, 21, 7, 0, tzinfo=UTC)
EVAC = frozenset({"evacuation"})


def _run(teams: list[Team], tasks: list[Task], hours: list[list[float]],
         limit: float = 12.0) -> DispatchPlan:
    tr = TeamTravelHours(tuple(t.team_id for t in teams), tuple(t.task_id for t in tasks),
                         np.array(hours, dtype=float))
    return dispatch("d", AT, teams, tasks, tr, fatigue_limit_hours=limit)


def _task(tid: str = "T", kab: str = "32.03", prov: str = "32", n: int = 1,
          skills: frozenset[str] = EVAC) -> Task:
    return Task(tid, "evacuation", "incident-1", kab, prov, skills, teams_needed=n,
                expected_hours=4)


def test_assignment_minimises_total_travel() -> None:
    teams = [Team("A", "32.03", "32", EVAC), Team("B", "32.03", "32", EVAC)]
    tasks = [_task("T1"), _task("T2")]
    plan = _run(teams, tasks, [[1.0, 2.0], [1.5, 5.0]])
    assert {(a.team_id, a.task_id) for a in plan.assignments} == {("A", "T2"), ("B", "T1")}
    assert plan.total_travel_hours == pytest.approx(3.5)


def test_team_needs_all_required_skills_and_must_be_available_and_within_fatigue() -> None:
    need = frozenset({"evacuation", "first_aid"})
    teams = [Team("partial", "32.03", "32", EVAC),
             Team("off", "32.03", "32", need, available=False),
             Team("tired", "32.03", "32", need, hours_on_duty=7.5),
             Team("fresh", "32.03", "32", need, hours_on_duty=2)]
    plan = _run(teams, [_task(skills=need)], [[0.1], [0.1], [1.0], [3.0]])
    # tired: 7.5 + 1 + 4 = 12.5 h > 12 h limit; fresh: 2 + 3 + 4 = 9 h
    assert [a.team_id for a in plan.assignments] == ["fresh"]


def test_widens_from_kabupaten_to_province_to_national_and_says_which_tier() -> None:
    teams = [Team("local", "32.03", "32", EVAC), Team("prov", "32.04", "32", EVAC),
             Team("far", "73.71", "73", EVAC)]
    plan = _run(teams, [_task(n=3)], [[2.0], [1.0], [0.5]])
    tiers = {a.team_id: a.tier for a in plan.assignments}
    assert tiers == {"local": "kabupaten", "prov": "province", "far": "national"}
    assert plan.task_tiers == {"T": "national"}
    # only one slot: the local team goes even though others are closer
    one = _run(teams, [_task(n=1)], [[2.0], [1.0], [0.5]])
    assert [(a.team_id, a.tier) for a in one.assignments] == [("local", "kabupaten")]


def test_uncovered_task_is_reported_not_raised() -> None:
    plan = _run([Team("A", "32.03", "32", frozenset())], [_task()], [[1.0]])
    assert plan.assignments == ()
    assert plan.uncovered[0].reason.startswith("no eligible team")
    assert DispatchPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


def test_bad_input_raises() -> None:
    with pytest.raises(InvalidInput):
        Task("T", "karaoke", "x", "32.03", "32")
    with pytest.raises(InvalidInput):
        _run([Team("A", "32.03", "32", EVAC)], [_task()], [[1.0]], limit=0)


def test_an_assignment_explains_itself_as_the_team_assigned_rule_with_its_figures() -> None:
    teams = [Team("A", "32.03", "32", EVAC, rank="madya", hours_on_duty=2.5)]
    plan = _run(teams, [_task("T1")], [[0.75]], limit=12.0)
    (a,) = plan.assignments
    assert a.why is not None and a.why["rule"] == "team_assigned"
    assert a.why["figures"] == {
        "team_id": "A", "rank": "madya", "kabupaten_code": "32.03", "task_id": "T1",
        "task_kind": "evacuation", "target_id": "incident-1", "travel_hours": 0.75,
        "within_target": True, "on_site_target_hours": 1.0, "hours_on_duty": 2.5,
        "task_hours": 4, "fatigue_limit_hours": 12.0, "tier": "kabupaten"}
    # the English sentence stays for logs and older clients, the same as before
    assert a.explanation == a.why["text"] == (
        "team A (madya, kab 32.03) to evacuation T1 at incident-1: 0.8 h travel, 2.5 h on "
        "duty + 4.0 h task <= 12 h limit; kabupaten tier")
    again = DispatchPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again.assignments[0].why == a.why
