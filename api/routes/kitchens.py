"""Public kitchens (dapur umum): open one, report its status and the portions it served,
read kitchens and the planner's proposals to open the next, approve a proposal.

- ``POST /kitchens`` — a coordinator of the province (or national, or an admin) opens or
  corrects a kitchen: place, Dumlap units, portions per cooking and cookings a day (defaults
  one unit, 2,000 portions, three cookings: Mensos, detik.com 30 Sep 2018), the teams
  running it (registered teams of the province), shelters assigned to it.
- ``POST /kitchens/{kitchen_id}/reports`` — a team running it (its ``team`` token) or a
  coordinator: preparing, open or closed; after a meal, the portions served.
- ``GET /kitchens``, ``GET /kitchens/{kitchen_id}`` — the kitchen read model: capacity a
  day, portions needed a day by the shelters it serves, cooked, served.
- ``GET /kitchen-proposals`` and ``POST /kitchen-proposals/{site_id}/approve`` — where the
  planner proposes to open the next kitchen (an exact coverage model), and its approval,
  which opens the kitchen with the proposed Dumlap unit and team.

Every write is checked here against the caller's scope and again by the kitchens worker
(``streams/kitchens.py``), which dead-letters what it refuses (this read model lags).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from api.auth import authorize_province, authorize_team, forbidden
from api.deps import CoordinatorDep, PublisherDep, ReaderDep, RedisDep, TeamWriterDep
from api.locate import locate
from api.pagination import CursorQuery, listing, page
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

router = APIRouter(prefix="/api/v1", tags=["kitchens"])

KitchenIdPath = id_path("The kitchen's id")
SiteIdPath = id_path("The proposed site (a shelter id)")


class KitchenRequest(BaseModel):
    """A kitchen to open (or correct). Retries reuse ``event_id`` so they count once."""

    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    kitchen_id: ev.Identifier
    name: str = Field(min_length=1, max_length=200)
    location: ev.Location
    province_code: ev.ProvinceCode | None = None
    kabupaten_code: ev.KabupatenCode | None = None
    units: int = Field(default=1, ge=1, le=50, description="Field-kitchen (Dumlap) units")
    portions_per_cooking: int = Field(
        default=2000, ge=1, le=100_000,
        description="Portions one unit cooks per cooking (Kemensos: about 2,000)")
    cookings_per_day: int = Field(default=3, ge=1, le=6, description="Kemensos: three")
    team_ids: list[ev.Identifier] = Field(min_length=1, max_length=20)
    assigned_shelter_ids: list[ev.Identifier] = Field(default_factory=list, max_length=500)
    warehouse_id: ev.Identifier | None = None
    proposal_id: str | None = Field(default=None, max_length=200)
    status: ev.KitchenStatus = "open"


async def _check_teams(redis: Any, team_ids: list[str], province_code: str) -> None:
    for team_id in team_ids:
        team = await readmodel.get_entity(redis, "team", team_id, province_code)
        if team is None:
            raise unprocessable(
                "team_ids", f"no team {team_id!r} registered in province {province_code}")


async def _open_kitchen(
    principal: Principal, publisher: Any, redis: Any, body: KitchenRequest
) -> Accepted:
    province_code, kabupaten_code = locate(
        body.location.lat, body.location.lon, body.province_code, body.kabupaten_code)
    authorize_province(principal, province_code)
    request_fp = fingerprint("kitchen", body.kitchen_id, body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    await _check_teams(redis, body.team_ids, province_code)
    if await readmodel.get_entity(redis, "shelter", body.kitchen_id, province_code) is not None:
        raise unprocessable("kitchen_id", f"{body.kitchen_id!r} is a shelter's id; a kitchen "
                             "needs an id of its own")
    name = principal.label or principal.describe()
    event = build(
        ev.KitchenRegistered,
        event_id=body.event_id,
        occurred_at=ev.utcnow(),
        source=caller_source(principal),
        schema_version=ev.SCHEMA_VERSION,
        kitchen_id=body.kitchen_id,
        name=body.name,
        location=body.location,
        province_code=province_code,
        kabupaten_code=kabupaten_code,
        units=body.units,
        portions_per_cooking=body.portions_per_cooking,
        cookings_per_day=body.cookings_per_day,
        team_ids=body.team_ids,
        assigned_shelter_ids=body.assigned_shelter_ids,
        warehouse_id=body.warehouse_id,
        proposal_id=body.proposal_id,
        status=body.status,
        coordinator=name[:200],
    )
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)


@router.post("/kitchens", status_code=202, response_model=Accepted)
async def open_kitchen(
    body: KitchenRequest, principal: CoordinatorDep, publisher: PublisherDep, redis: RedisDep
) -> Accepted:
    """Open a public kitchen (or correct one) in the coordinator's province."""
    return await _open_kitchen(principal, publisher, redis, body)


class KitchenReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    team_id: ev.Identifier = Field(description="The reporting team (one of the kitchen's)")
    status: ev.KitchenStatus
    meal: ev.Meal | None = Field(default=None, description="pagi, siang or malam")
    portions_served: ev.Count | None = None
    note: str | None = Field(default=None, max_length=1000)
    occurred_at: ev.UtcDatetime | None = Field(
        default=None, description="When the meal was served (a phone sends it with a report "
        "it kept offline, so the portions count on the right day); default: when received")


@router.post("/kitchens/{kitchen_id}/reports", status_code=202, response_model=Accepted)
async def report_kitchen(
    body: KitchenReport,
    principal: TeamWriterDep,
    publisher: PublisherDep,
    redis: RedisDep,
    kitchen_id: str = KitchenIdPath,
) -> Accepted:
    """The kitchen's status and, after a meal, the portions served (its team or a
    coordinator)."""
    if (body.meal is None) != (body.portions_served is None):
        raise unprocessable("meal", "portions_served and meal go together")
    if principal.role == "team":
        authorize_team(principal, body.team_id, None)
    kitchen = await readmodel.get_entity(
        redis, "kitchen", kitchen_id, prefer=principal.province_code)
    if kitchen is None:
        raise HTTPException(status_code=404, detail=f"kitchen_id: no kitchen {kitchen_id!r}")
    if principal.role != "team":
        authorize_team(principal, body.team_id, kitchen["province_code"])
    if body.team_id not in (kitchen.get("team_ids") or []):
        raise unprocessable("team_id", f"team {body.team_id} does not run kitchen {kitchen_id}")
    if principal.role == "team":
        # a team may run a kitchen of another province (Palu 2018: a Makassar crew); ids are
        # unique per province, so the kitchen's own province's team of that id comes first
        from api.routes.teams import team_runs_kitchen

        if not await team_runs_kitchen(redis, body.team_id, principal.province_code, kitchen):
            raise forbidden("province_code", f"kitchen {kitchen_id} is run by the team "
                            f"{body.team_id} of its own province {kitchen['province_code']}, "
                            f"not by this token's (province {principal.province_code})")
    request_fp = fingerprint("kitchen-report", kitchen_id, body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    event = build(
        ev.KitchenStatusReported,
        event_id=body.event_id,
        occurred_at=body.occurred_at or ev.utcnow(),
        source=caller_source(principal),
        schema_version=ev.SCHEMA_VERSION,
        kitchen_id=kitchen_id,
        province_code=kitchen["province_code"],
        team_id=body.team_id,
        status=body.status,
        meal=body.meal,
        portions_served=body.portions_served,
        note=body.note,
    )
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)


@router.get("/kitchens", summary="Public kitchens: capacity, portions needed, served")
async def list_kitchens(
    principal: ReaderDep,
    redis: RedisDep,
    province_code: ev.ProvinceCode | None = Query(default=None),
    limit: int = Query(default=500, ge=1, le=5000),
    cursor: str | None = CursorQuery,
) -> dict[str, Any]:
    return listing(*await page(redis, "kitchen", province_code, limit, cursor))


@router.get("/kitchens/{kitchen_id}", summary="One public kitchen")
async def get_kitchen(
    principal: ReaderDep,
    redis: RedisDep,
    kitchen_id: str = KitchenIdPath,
    province_code: ev.ProvinceCode | None = Query(default=None),
) -> dict[str, Any]:
    item = await readmodel.get_entity(
        redis, "kitchen", kitchen_id, province_code, prefer=principal.province_code)
    if item is None:
        raise HTTPException(status_code=404, detail=f"kitchen_id: no kitchen {kitchen_id!r}")
    return item


@router.get("/kitchen-proposals", summary="Where the planner proposes to open a kitchen")
async def list_kitchen_proposals(
    principal: ReaderDep,
    redis: RedisDep,
    province_code: ev.ProvinceCode | None = Query(default=None),
    limit: int = Query(default=500, ge=1, le=5000),
    cursor: str | None = CursorQuery,
) -> dict[str, Any]:
    return listing(*await page(redis, "kitchen_proposal", province_code, limit, cursor))


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    kitchen_id: ev.Identifier | None = Field(
        default=None, description="Id of the new kitchen (default: dapur-<site id>)")
    name: str | None = Field(default=None, max_length=200,
                             description="Its name (default: Dapur Umum <site name>)")
    team_ids: list[ev.Identifier] | None = Field(
        default=None, max_length=20, description="Teams to run it (default: the proposed one)")


@router.post("/kitchen-proposals/{site_id}/approve", status_code=202, response_model=Accepted)
async def approve_kitchen_proposal(
    body: Approval,
    principal: CoordinatorDep,
    publisher: PublisherDep,
    redis: RedisDep,
    site_id: str = SiteIdPath,
    province_code: ev.ProvinceCode | None = Query(default=None),
) -> Accepted:
    """Open the kitchen the planner proposed at this site: its Dumlap unit(s) and rhythm,
    the team (or the teams named here), the store the unit comes from, and the shelters it
    covers, assigned to it."""
    proposal = await readmodel.get_entity(
        redis, "kitchen_proposal", site_id, province_code, prefer=principal.province_code)
    if proposal is None or proposal.get("site") is None:
        raise HTTPException(status_code=404,
                            detail=f"site_id: no proposal to open a kitchen at {site_id!r}")
    authorize_province(principal, proposal["province_code"])
    team_ids = body.team_ids or ([proposal["team_id"]] if proposal.get("team_id") else [])
    if not team_ids:
        raise unprocessable("team_ids", "the proposal has no team: name the teams to run it")
    site = proposal["site"]
    # the proposal as the planner made it: its Dumlap unit(s) and rhythm, the shelters it
    # covers (assigned to the new kitchen), the team and the store the unit comes from
    rhythm = {f: int(proposal[f]) for f in ("units", "portions_per_cooking", "cookings_per_day")
              if proposal.get(f)}
    request = KitchenRequest(
        event_id=body.event_id,
        kitchen_id=body.kitchen_id or f"dapur-{site_id}"[:128],
        name=body.name or f"Dapur Umum {site['name']}"[:200],
        location=ev.Location(**site["location"]),
        province_code=proposal["province_code"],
        team_ids=team_ids,
        assigned_shelter_ids=sorted(set(proposal.get("shelter_ids") or []))[:500],
        warehouse_id=proposal.get("warehouse_id"),
        proposal_id=proposal.get("proposal_id"),
        **rhythm,
    )
    return await _open_kitchen(principal, publisher, redis, request)
