"""The province's TAGANA teams and tasks: which tasks, which team on which, the task loop.

Tasks follow logistics' task rules (:mod:`logistics.tasks`); teams are assigned by
:func:`logistics.dispatch.dispatch`. Standing assignments stay while task and team are still
valid (no churn); coordinators' overrides pin or release a team; a declined, timed-out or
done assignment leaves the task (and that team is not sent to it again).
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

import numpy as np

from logistics.dispatch import (
    Task,
    Team,
    TeamTravelHours,
    assignment_status,
    dispatch,
    hours_on_duty,
)
from logistics.tasks import incident_tasks, shelter_tasks
from streams.planning.gate import dispatch_overrides, mobilised
from streams.planning.rows import (
    AssignmentDetail,
    Location,
    OutputEvent,
    PreviousTeams,
    TaskDict,
    TeamRow,
    TeamsPlan,
    UncoveredTask,
)
from streams.planning.state import PlanningOptions, ProvinceState, parse_time
from streams.planning.supplies import travel_hours

Pair = tuple[str, str]  # (task id, team id)


def make_tasks(state: ProvinceState, fed: frozenset[str] = frozenset()) -> list[Task]:
    """The province's tasks, by logistics' task rules (:mod:`logistics.tasks`); a shelter a
    public kitchen cooks for (``fed``) needs no kitchen team of its own."""
    tasks = []
    for incident_id, incident in sorted(state.incidents.items()):
        tasks += incident_tasks(
            incident_id, int(incident["severity"]), int(incident["displaced"]),
            int(incident["affected"]), incident.get("kabupaten_code") or "", state.province_code)
    for shelter_id, shelter in sorted(state.shelters.items()):
        count = shelter.get("headcount")
        if not count or shelter.get("location") is None:
            continue
        vulnerable = (
            count["infants"] + count["elderly"] + count["pregnant_lactating"] + count["disabled"]
        )
        tasks += [t for t in shelter_tasks(shelter_id, int(count["total"]), vulnerable,
                                           shelter.get("kabupaten_code") or "",
                                           state.province_code)
                  if not (t.kind == "public_kitchen" and shelter_id in fed)]
    return tasks


def task_location(state: ProvinceState, task: Task | TaskDict) -> Location | None:
    """Where a task is: its incident's place for an evacuation, else its shelter's."""
    kind, concerns = ((task.kind, task.concerns_id) if isinstance(task, Task)
                      else (task["kind"], task["concerns_id"]))
    if kind == "evacuation":
        incident = state.incidents.get(concerns)
        return incident["location"] if incident else None
    shelter = state.shelters.get(concerns)
    return shelter["location"] if shelter else None


def duty_hours(team: TeamRow, now: datetime) -> float:
    """A team row's hours on duty at ``now`` (logistics' hours_on_duty: from the task loop)."""
    since = team.get("on_duty_since")
    return hours_on_duty(float(team.get("hours_on_duty") or 0.0),
                         parse_time(since) if since else None, now)


def assignment_progress(
    state: ProvinceState, details: dict[str, AssignmentDetail], now: datetime,
    timed_out: dict[str, list[str]] | None = None,
) -> dict[Pair, str]:
    """(task, team) → where the team's assignment stands (logistics' assignment_status):
    every step a team reported, and ``timed_out`` for a standing dispatch not acknowledged
    in time (``details``: the standing assignments, with when each was dispatched;
    ``timed_out``: task → teams that timed out before, kept while the task lasts)."""
    timed_out = timed_out or {}
    out: dict[Pair, str] = {}
    for team_id, team in state.teams.items():
        for task_id, entry in (team.get("progress") or {}).items():
            out[(task_id, team_id)] = str(entry.get("status"))
    for task_id, team_ids in timed_out.items():
        for team_id in team_ids:
            out.setdefault((task_id, team_id), "timed_out")
    for team_id, detail in details.items():
        pair = (str(detail.get("task_id")), team_id)
        # only teams on the phone loop (registered) acknowledge; Siaga alone dispatches others
        row = state.teams.get(team_id)
        registered = row.get("registration_version") if row else None
        if pair in out or not detail.get("dispatched_at") or not registered:
            continue
        status = assignment_status(None, parse_time(detail["dispatched_at"]), now)
        if status != "dispatched":
            out[pair] = status
    return out


def plan_teams(
    state: ProvinceState, previous: PreviousTeams, dispatch_id: str, now: datetime,
    opts: PlanningOptions, fed: frozenset[str] = frozenset(),
) -> TeamsPlan:
    """Assign this province's teams; keep standing assignments (no churn), honour overrides.

    Returns the team plan (:class:`streams.planning.rows.TeamsPlan`): assignments per task,
    tiers, what is uncovered, the assignments' details per team, the tasks, the loop's
    progress and the teams that timed out.
    """
    tasks = make_tasks(state, fed)
    task_by_id = {t.task_id: t for t in tasks}
    # a team running a public kitchen cooks there: it is not dispatched elsewhere
    cooks = {tid for k in state.kitchens.values() if k.get("status") != "closed"
             for tid in k.get("team_ids") or ()}
    teams = {
        tid: t for tid, t in sorted(state.teams.items()) if t["availability"] in (
            "available", "assigned") and tid not in cooks
    }
    # teams the national tier mobilised elsewhere, once the receiving province approved them
    # (one awaiting approval stays free for this province's own tasks meanwhile)
    national_pins = {team_id: a["task_id"] for team_id, a in mobilised(state)[0].items()}
    # Standing assignments stay while task and team are still valid.
    standing: dict[str, list[str]] = {}
    for task_id, team_ids in previous.get("assignments", {}).items():
        if task_id not in task_by_id:
            continue
        keep = [tid for tid in team_ids if tid in teams and tid not in national_pins]
        standing[task_id] = keep
    overrides = dispatch_overrides(state.overrides)
    released = {(o["task_id"], o["team_id"]) for o in overrides if o["action"] == "release"}
    # The task loop: a declined, timed-out or done assignment leaves the task (and that team
    # is not sent to it again); a done one fills its slot.
    progress = assignment_progress(state, previous.get("details", {}), now,
                                   previous.get("timed_out", {}))
    done: dict[str, int] = {}
    for (task_id, _), status in progress.items():
        if status == "done":
            done[task_id] = done.get(task_id, 0) + 1
    released |= {pair for pair, status in progress.items()
                 if status in ("done", "declined", "timed_out")}
    for o in sorted(overrides, key=lambda o: o["version"]):
        if o["action"] == "assign" and o["task_id"] in task_by_id and o["team_id"] in teams:
            for ids in standing.values():
                if o["team_id"] in ids:
                    ids.remove(o["team_id"])
            standing.setdefault(o["task_id"], [])
            if o["team_id"] not in standing[o["task_id"]]:
                standing[o["task_id"]].append(o["team_id"])
    for task_id, ids in standing.items():
        standing[task_id] = [t for t in ids if (task_id, t) not in released]
    busy = {tid for ids in standing.values() for tid in ids} | set(national_pins)
    open_tasks = []
    for task in tasks:
        have = len(standing.get(task.task_id, [])) + done.get(task.task_id, 0)
        if have < task.teams_needed:
            open_tasks.append(
                Task(
                    task_id=task.task_id,
                    kind=task.kind,
                    concerns_id=task.concerns_id,
                    kabupaten_code=task.kabupaten_code,
                    province_code=task.province_code,
                    required_skills=task.required_skills,
                    teams_needed=task.teams_needed - have,
                )
            )
    # A team reporting "assigned" is deployed in this operation: Siaga is the dispatcher, so
    # it keeps or changes the team's task. "resting" and "off_duty" teams are never sent.
    free = [t for tid, t in teams.items() if tid not in busy]
    new_details: dict[str, AssignmentDetail] = {}
    tiers: dict[str, str] = dict(previous.get("tiers", {}))
    uncovered: list[UncoveredTask] = []
    if open_tasks and free:
        located = [t for t in open_tasks if task_location(state, t) is not None]
        hours = travel_hours(free, [{"location": task_location(state, t)} for t in located])
        for i, team in enumerate(free):
            for j, task in enumerate(located):
                if (task.task_id, team["team_id"]) in released:
                    hours[i, j] = np.inf
        result = dispatch(
            dispatch_id,
            now,
            [
                Team(
                    team_id=t["team_id"],
                    kabupaten_code=t.get("kabupaten_code") or "",
                    province_code=state.province_code,
                    skills=frozenset(t["skills"]),
                    rank=t.get("rank") or "muda",
                    available=True,
                    hours_on_duty=duty_hours(t, now),
                    position=(t["location"]["lon"], t["location"]["lat"]),
                )
                for t in free
            ],
            located,
            TeamTravelHours(
                tuple(t["team_id"] for t in free), tuple(t.task_id for t in located), hours
            ),
            fatigue_limit_hours=opts.fatigue_limit_hours,
        )
        for a in result.assignments:
            standing.setdefault(a.task_id, []).append(a.team_id)
            new_details[a.team_id] = cast(
                AssignmentDetail, dict(a.to_dict(), dispatched_at=now.isoformat()))
        tiers.update(result.task_tiers)
        uncovered = [cast(UncoveredTask, u.to_dict()) for u in result.uncovered]
    elif open_tasks:
        uncovered = [
            {
                "task_id": t.task_id,
                "teams_needed": t.teams_needed,
                "teams_assigned": 0,
                "eligible_teams": 0,
                "reason": "no_available_team_in_province",
            }
            for t in open_tasks
        ]
    standing_teams = {tid for ids in standing.values() for tid in ids}
    details = {
        tid: d for tid, d in previous.get("details", {}).items() if tid in standing_teams
    }
    details.update(new_details)
    return {
        "assignments": {k: sorted(v) for k, v in sorted(standing.items()) if v},
        "tiers": {k: v for k, v in sorted(tiers.items()) if k in task_by_id},
        "uncovered": uncovered,
        "details": details,
        "tasks": {t.task_id: cast(TaskDict, t.to_dict()) for t in tasks},
        "progress": {f"{task}|{team}": status for (task, team), status in
                     sorted(progress.items())},
        "timed_out": {task: sorted(t for (k, t), st in progress.items()
                                   if k == task and st == "timed_out")
                      for task in sorted({k for (k, _), st in progress.items()
                                          if st == "timed_out" and k in task_by_id})},
    }


def team_events(previous: PreviousTeams, teams_plan: TeamsPlan) -> list[OutputEvent]:
    """``team.dispatched`` for each team newly on a task, ``team.released`` for each team
    no longer on one (by task, then team)."""
    events: list[OutputEvent] = []
    before_of = previous.get("assignments", {})
    for task_id, team_ids in teams_plan["assignments"].items():
        before = set(before_of.get(task_id, []))
        for team_id in sorted(set(team_ids) - before):
            events.append({"type": "team.dispatched", "task_id": task_id, "team_id": team_id,
                           "tier": teams_plan["tiers"].get(task_id, "province")})
    for task_id, team_ids in before_of.items():
        now_ids = set(teams_plan["assignments"].get(task_id, []))
        for team_id in sorted(set(team_ids) - now_ids):
            events.append({"type": "team.released", "task_id": task_id, "team_id": team_id})
    return events
