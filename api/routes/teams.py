"""TAGANA teams: registration (coordinators), and the task loop from the team's phone.

- ``POST /teams`` — a coordinator of the province (or national, or an admin) registers or
  corrects a team: name, base, members, skills, rank.
- ``POST /teams/{team_id}/status`` — the team (its ``team`` token) or its coordinator:
  available, resting or off duty; where it is; members present.
- ``GET /teams/{team_id}`` — the team with its current assignment and the task it is on
  (shelter or incident name included), and the public kitchens it runs in any province
  (their shifts, the shelters each cooks for, and the ingredient shipments on their way to
  it, which the team confirms on arrival), readable with the team's own token.
- ``POST /tasks/{task_id}/progress`` — the team moves its assignment along: acknowledged →
  en_route → arrived → done, or declined with a reason (Siaga dispatches it again).

Every write is checked here against the caller's scope (a team token: only its own team)
and again by the teams worker (``streams/teams.py``), which dead-letters what it refuses.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from api.auth import authorize_province, authorize_team
from api.deps import CoordinatorDep, PublisherDep, RedisDep, TeamReaderDep, TeamWriterDep
from api.locate import locate
from api.publish import fingerprint
from api.schemas import (
    Accepted,
    EventIdField,
    build,
    caller_source,
    id_path,
    unprocessable,
)
from siaga import events as ev
from siaga import readmodel
from siaga.tokens import Principal

router = APIRouter(prefix="/api/v1", tags=["teams"])

TeamIdPath = id_path("The TAGANA team's id")
TaskIdPath = id_path("The task's id, e.g. public_kitchen:<shelter id>")


async def _team(redis: Any, principal: Principal, team_id: str) -> dict[str, Any]:
    """The team's read model, checked against the caller's scope (404 when unknown)."""
    province = principal.province_code if principal.role == "team" else None
    if principal.role == "team" and principal.team_id != team_id:
        authorize_team(principal, team_id, None)  # 403 naming team_id
    team = await readmodel.get_entity(redis, "team", team_id, province,
                                      prefer=principal.province_code)
    if team is None:
        raise HTTPException(status_code=404, detail=f"team_id: no team {team_id!r}")
    authorize_team(principal, team_id, team.get("province_code"))
    return team


class TeamMemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=100, description="e.g. ketua (leader)")
    phone: str | None = Field(default=None, max_length=32)


class TeamRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    team_id: ev.Identifier
    name: str = Field(min_length=1, max_length=200)
    province_code: ev.ProvinceCode
    kabupaten_code: ev.KabupatenCode = Field(description="The team's home kabupaten/kota")
    base: ev.Location = Field(description="Where the team is based")
    members: list[TeamMemberIn] = Field(min_length=1, max_length=500)
    skills: list[ev.TeamSkill] = Field(min_length=1, max_length=10)
    rank: Literal["muda", "madya", "utama"]


@router.post("/teams", status_code=202, response_model=Accepted,
             summary="Register or correct a TAGANA team")
async def register_team(
    body: TeamRegistration, principal: CoordinatorDep, publisher: PublisherDep
) -> Accepted:
    authorize_province(principal, body.province_code)
    if not body.kabupaten_code.startswith(body.province_code + "."):
        raise unprocessable(
            "kabupaten_code", f"{body.kabupaten_code} is not in province {body.province_code}")
    locate(body.base.lat, body.base.lon, body.province_code, None)  # 422: base, province
    request_fp = fingerprint("team-registration", body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    event = build(
        ev.TeamRegistered,
        event_id=body.event_id,
        occurred_at=ev.utcnow(),
        source=caller_source(principal),
        schema_version=ev.SCHEMA_VERSION,
        team_id=body.team_id,
        name=body.name,
        province_code=body.province_code,
        kabupaten_code=body.kabupaten_code,
        base=body.base,
        members=[m.model_dump() for m in body.members],
        skills=body.skills,
        rank=body.rank,
        coordinator=(principal.label or principal.describe())[:200],
    )
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)


class TeamStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    availability: Literal["available", "resting", "off_duty"] = Field(
        description="available (siap), resting (istirahat), off_duty (lepas tugas)")
    location: ev.Location | None = Field(default=None, description="Where the team is now")
    members_present: int = Field(ge=0, le=500, description="Members with the team now")
    occurred_at: ev.UtcDatetime | None = Field(
        default=None, description="When it happened (a phone sends it with a report it kept "
        "offline); default: when the server received it")


@router.post("/teams/{team_id}/status", status_code=202, response_model=Accepted,
             summary="The team reports availability, position, members present")
async def report_team_status(
    body: TeamStatus, principal: TeamWriterDep, publisher: PublisherDep, redis: RedisDep,
    team_id: str = TeamIdPath,
) -> Accepted:
    team = await _team(redis, principal, team_id)
    if team.get("members") is not None and body.members_present > int(team["members"]):
        raise unprocessable(
            "members_present", f"the team has {team['members']} members, not "
            f"{body.members_present}")
    if body.location is not None:
        locate(body.location.lat, body.location.lon, None, None)  # 422 naming location
    request_fp = fingerprint("team-status", team_id, body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    event = build(
        ev.TeamAvailabilityReported,
        event_id=body.event_id,
        occurred_at=body.occurred_at or ev.utcnow(),
        source=caller_source(principal),
        schema_version=ev.SCHEMA_VERSION,
        team_id=team_id,
        province_code=team["province_code"],
        availability=body.availability,
        location=body.location,
        members_present=body.members_present,
    )
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)


@router.get("/teams/{team_id}", summary="A team, its current assignment and that task")
async def get_team(
    principal: TeamReaderDep, redis: RedisDep, team_id: str = TeamIdPath
) -> dict[str, Any]:
    team = await _team(redis, principal, team_id)
    assignment = team.get("assignment")
    task = None
    target = None
    if assignment:
        # a team the national tier mobilised works on a task of another province (ids are
        # unique only within a province): look the task and its place up there
        province = assignment.get("task_province") or team.get("province_code")
        task = await readmodel.get_entity(redis, "task", assignment["task_id"], province)
        kind = "incident" if assignment.get("kind") == "evacuation" else "shelter"
        found = await readmodel.get_entity(redis, kind, assignment["target_id"], province)
        if found is not None:
            target = {"kind": kind, "id": assignment["target_id"], "name": found.get("name")
                      or found.get("incident_type"), "location": found.get("location")}
    kitchens = await _kitchens_run_by(redis, team_id, team.get("province_code"))
    return {"team": team, "assignment": assignment, "task": task, "target": target,
            "kitchens": kitchens}


#: Fields of a kitchen the team's page shows (its shifts, load and cooking list).
KITCHEN_FIELDS = (
    "kitchen_id", "name", "status", "location", "province_code", "units",
    "portions_per_cooking", "cookings_per_day", "team_ids", "capacity_per_day",
    "portions_needed_per_day", "portions_cooked_per_day", "people_served", "shelters_served",
    "shelters", "served", "served_last_day", "shortfall", "updated_at")
#: Fields of a shipment on its way to a kitchen that the team's page shows.
INCOMING_FIELDS = (
    "shipment_id", "status", "item", "unit", "quantity", "warehouse_id", "warehouse_name",
    "eta_hours", "eta", "updated_at")
#: Bounds: a team runs few kitchens, a kitchen has few shipments on the road at once.
MAX_KITCHENS = 20
MAX_INCOMING = 50


async def team_runs_kitchen(
    redis: Any, team_id: str, team_province: str | None, kitchen: dict[str, Any]
) -> bool:
    """Whether the team ``team_id`` of ``team_province`` runs ``kitchen``: the kitchen's
    ``team_ids`` name it. A kitchen may be run by a team of another province (Palu 2018: a
    Makassar crew), but ids are unique only within a province, so a kitchen's team id means
    the team of the kitchen's own province when one is registered there, and another
    province's team of that id only when none is."""
    if team_id not in (kitchen.get("team_ids") or []):
        return False
    home = kitchen.get("province_code")
    if home == team_province:
        return True
    return home not in await readmodel.provinces_of(redis, "team", team_id)


async def _kitchens_run_by(
    redis: Any, team_id: str, province_code: str | None
) -> list[dict[str, Any]]:
    """The kitchens the team runs, in any province (:func:`team_runs_kitchen`), open ones
    first by name, each with the shipments in flight to it (dispatched first)."""
    if not province_code:
        return []
    found = await readmodel.kitchens_of_team(redis, team_id, limit=MAX_KITCHENS * 5)
    mine = [k for k in found if await team_runs_kitchen(redis, team_id, province_code, k)]
    mine.sort(key=lambda k: (k.get("status") == "closed", str(k.get("name") or ""),
                             str(k.get("province_code"))))
    out = []
    for kitchen in mine[:MAX_KITCHENS]:
        row = {f: kitchen.get(f) for f in KITCHEN_FIELDS}
        shipments = await readmodel.shipments_to(
            redis, str(kitchen["province_code"]), str(kitchen["kitchen_id"]),
            limit=MAX_INCOMING)
        shipments.sort(key=lambda x: (x.get("status") != "dispatched",
                                      str(x.get("updated_at") or ""), str(x["shipment_id"])))
        row["incoming"] = [{f: x.get(f) for f in INCOMING_FIELDS} for x in shipments]
        out.append(row)
    return out


class TaskProgress(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    team_id: ev.Identifier
    status: ev.TaskProgress = Field(
        description="acknowledged, en_route, arrived, done; or declined (with a reason)")
    reason: str | None = Field(default=None, max_length=1000)
    location: ev.Location | None = None
    occurred_at: ev.UtcDatetime | None = Field(
        default=None, description="When it happened (a phone sends it with a report it kept "
        "offline); default: when the server received it")


@router.post("/tasks/{task_id}/progress", status_code=202, response_model=Accepted,
             summary="A team moves its assignment along (or declines it)")
async def report_task_progress(
    body: TaskProgress, principal: TeamWriterDep, publisher: PublisherDep, redis: RedisDep,
    task_id: str = TaskIdPath,
) -> Accepted:
    team = await _team(redis, principal, body.team_id)
    if body.status == "declined" and not (body.reason or "").strip():
        raise unprocessable("reason", "a declined assignment needs a reason")
    if body.location is not None:
        locate(body.location.lat, body.location.lon, None, None)  # 422 naming location
    request_fp = fingerprint("task-progress", task_id, body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    assignment = team.get("assignment") or {}
    if assignment.get("task_id") != task_id:
        current = assignment.get("task_id")
        raise HTTPException(
            status_code=409,
            detail=f"task_id: team {body.team_id} is not on task {task_id} "
            f"({'its assignment is ' + current if current else 'it has no assignment'})",
        )
    event = build(
        ev.TaskProgressReported,
        event_id=body.event_id,
        occurred_at=body.occurred_at or ev.utcnow(),
        source=caller_source(principal),
        schema_version=ev.SCHEMA_VERSION,
        task_id=task_id,
        team_id=body.team_id,
        province_code=team["province_code"],
        status=body.status,
        reason=body.reason,
        location=body.location,
    )
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)
