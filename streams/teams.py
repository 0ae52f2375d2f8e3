"""Topic ``siaga.teams``: TAGANA teams (one row per team) and coordinators' dispatch
overrides (one row per task and team).

A team row is what its registration, its availability reports and its progress on
assignments say (the task loop, ``task.progress_reported``):

- ``team.registered`` (a coordinator): name, base, roster, skills, rank. A new team is
  ``off_duty`` until it reports itself available.
- ``team.availability_reported`` (the team's phone, or a coordinator): available, resting
  or off duty; where it is; how many members are present. Resting or off duty ends the
  duty period (``on_duty_since``).
- ``task.progress_reported``: acknowledged → en_route → arrived → done, or declined with a
  reason; kept per task on the team (``progress``). The first step of a duty period starts
  it, so the planner's fatigue limit counts real hours on duty.

The worker checks the scope again: a report from a team's phone (``source`` ``team:<id>``)
may only concern that team; a report for a team not registered in the province, or a step
after the assignment was closed (done/declined), is dead-lettered with the reason.
The legacy whole-status snapshot ``team.status_reported`` still folds as before.
"""

from __future__ import annotations

from typing import Any

from siaga.events import (
    DispatchOverridden,
    InvalidRecord,
    TaskProgressReported,
    TeamAvailabilityReported,
    TeamRegistered,
    TeamStatusReported,
)
from streams.changes import version_of
from streams.ingest import apply_dispatch_override, apply_team_status, check_location
from streams.plumbing import Route, register_ingest

State = dict[str, Any]

#: The steps of an assignment, in order; ``declined`` may come before ``done``.
STEPS: tuple[str, ...] = ("acknowledged", "en_route", "arrived", "done")
CLOSED = frozenset({"done", "declined"})
#: Progress entries kept per team (closed ones go first): a row stays small.
MAX_PROGRESS = 20


def _version(event: Any) -> str:
    return version_of(event.occurred_at, str(event.event_id))


def _latest(current: str | None, at: str) -> str:
    return at if current is None or current < at else current


def check_reporter(event: TeamAvailabilityReported | TaskProgressReported) -> None:
    """A team's phone reports only for its own team (the API checks it first)."""
    source = event.source
    if source.startswith("team:") and source != f"team:{event.team_id}":
        raise InvalidRecord(
            f"team_id: {source} may only report for its own team, not {event.team_id}"
        )


def check_in_indonesia(location: Any) -> None:
    """Where a team is now: anywhere in Indonesia (a team mobilised nationally reports from
    another province than its own)."""
    import geo

    try:
        geo.resolve(location.lat, location.lon)
    except geo.GeoError as exc:
        raise InvalidRecord(f"location: {exc}") from None


def _registered(state: State, event: Any) -> dict[str, Any]:
    team = state.get(event.team_id)
    if team is None:
        raise InvalidRecord(
            f"team_id: no team {event.team_id!r} registered in province {event.province_code}"
        )
    return dict(team)


def apply_team_registered(state: State, event: TeamRegistered) -> dict[str, Any] | None:
    check_location(event)
    current = state.get(event.team_id)
    version = _version(event)
    if current is not None and str(current.get("registration_version", "")) >= version:
        return None
    team = dict(current or {
        "availability": "off_duty",
        "hours_on_duty": 0.0,
        "members_present": None,
        "progress": {},
        "on_duty_since": None,
        "version": "",
    })
    base = event.base.model_dump()
    team.update(
        team_id=event.team_id,
        name=event.name,
        province_code=event.province_code,
        kabupaten_code=event.kabupaten_code,
        base=base,
        location=team.get("location") or base,
        roster=[m.model_dump(exclude_none=True) for m in event.members],
        members=len(event.members),
        skills=sorted(set(event.skills)),
        rank=event.rank,
        registered_by=event.coordinator,
        registration_version=version,
        updated_at=_latest(team.get("updated_at"), event.occurred_at.isoformat()),
    )
    state[event.team_id] = team
    return team


def apply_team_availability(
    state: State, event: TeamAvailabilityReported
) -> dict[str, Any] | None:
    check_reporter(event)
    team = _registered(state, event)
    version = _version(event)
    if str(team.get("version", "")) >= version:
        return None
    if event.location is not None:
        check_in_indonesia(event.location)
        team["location"] = event.location.model_dump()
    team["availability"] = event.availability
    team["members_present"] = event.members_present
    if event.availability != "available":
        # a rest ends the duty period: the next assignment starts a new one
        team["on_duty_since"] = None
        team["hours_on_duty"] = 0.0
    team["version"] = version
    team["updated_at"] = _latest(team.get("updated_at"), event.occurred_at.isoformat())
    state[event.team_id] = team
    return team


def progress_step(
    entry: dict[str, Any] | None, status: str, at: str, reason: str | None
) -> dict[str, Any] | None:
    """The assignment's progress after one report (None: nothing changes — a repeat, or
    an earlier step arriving late). Raises :class:`InvalidRecord` for a step after the
    assignment was closed the other way (done then declined, declined then a step)."""
    current = (entry or {}).get("status")
    if current in CLOSED:
        if status == current or (current == "done" and status in STEPS):
            return None
        raise InvalidRecord(f"status: this assignment is already {current}; {status} refused")
    if status != "declined" and current is not None and \
            STEPS.index(status) <= STEPS.index(current):
        return None
    updated = dict(entry or {})
    updated["status"] = status
    updated[f"{status}_at"] = at
    if status == "declined":
        updated["reason"] = reason
    return updated


def apply_task_progress(state: State, event: TaskProgressReported) -> dict[str, Any] | None:
    check_reporter(event)
    team = _registered(state, event)
    at = event.occurred_at.isoformat()
    progress = dict(team.get("progress") or {})
    entry = progress_step(progress.get(event.task_id), event.status, at, event.reason)
    if entry is None:
        return None
    entry["task_id"] = event.task_id
    progress[event.task_id] = entry
    if len(progress) > MAX_PROGRESS:
        oldest = sorted(
            progress,
            key=lambda t: (progress[t]["status"] not in CLOSED, max(
                str(v) for k, v in progress[t].items() if k.endswith("_at"))),
        )
        for task_id in oldest[: len(progress) - MAX_PROGRESS]:
            progress.pop(task_id)
    team["progress"] = progress
    if event.status != "declined" and not team.get("on_duty_since"):
        team["on_duty_since"] = at
    if event.location is not None:
        check_in_indonesia(event.location)
        team["location"] = event.location.model_dump()
    team["updated_at"] = _latest(team.get("updated_at"), at)
    state[event.team_id] = team
    return team


def register(ctx: Any) -> None:
    def team_of(event: Any) -> str:
        return str(event.team_id)

    def kind(model: type[Any]) -> str:
        return str(model.model_fields["type"].default)

    register_ingest(
        ctx,
        "teams",
        {
            kind(TeamStatusReported): Route("teams", team_of, apply_team_status),
            kind(TeamRegistered): Route("teams", team_of, apply_team_registered),
            kind(TeamAvailabilityReported): Route("teams", team_of, apply_team_availability),
            kind(TaskProgressReported): Route("teams", team_of, apply_task_progress),
            kind(DispatchOverridden): Route(
                "overrides", lambda e: f"{e.task_id}|{e.team_id}", apply_dispatch_override),
        },
    )
