"""Coordinators: the live picture (read from Redis projections only), holds and overrides.

Reads need any valid token of a person's role (the picture is shared by every role;
lists paginate with ``limit`` and ``cursor``; the situation snapshot of a provincial
coordinator covers its province); holds, dispatch overrides, decisions on shortfalls and on
what the national tier sends (the approval gate), emergency declarations and transfers of a
shelter or incident to another posko need a coordinator token for the province (or
national), or an admin's.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api import hxl
from api.auth import authorize_province, too_many
from api.deps import (
    AnyPrincipalDep,
    CoordinatorDep,
    PublisherDep,
    ReaderDep,
    RedisDep,
    SettingsDep,
)
from api.live import TIMELINE_KINDS, FeedHub, last_id, parse_id
from api.live import timeline as read_timeline
from api.pagination import CursorQuery, listing, page
from api.publish import ACCEPTED_PREFIX, ACCEPTED_TTL_SECONDS, fingerprint
from api.schemas import Accepted, EventIdField, build, id_path
from api.shipments import load_shipment
from siaga import events as ev
from siaga import readmodel
from siaga.tokens import Principal

router = APIRouter(prefix="/api/v1", tags=["coordinators"])

ENTITIES = (
    "incident", "shelter", "warehouse", "team", "shipment", "shortfall", "task", "kitchen",
    "kitchen_proposal",
)
IN_FLIGHT = ("confirmed", "dispatched")


@router.get("/incidents", summary="Incidents, newest report first")
async def list_incidents(
    principal: ReaderDep,
    redis: RedisDep,
    province_code: ev.ProvinceCode | None = Query(default=None),
    limit: int = Query(default=500, ge=1, le=5000),
    cursor: str | None = CursorQuery,
) -> dict[str, Any]:
    return listing(*await page(redis, "incident", province_code, limit, cursor))


@router.get("/incidents/{incident_id}", summary="One incident")
async def get_incident(
    incident_id: str,
    principal: ReaderDep,
    redis: RedisDep,
    province_code: ev.ProvinceCode | None = Query(
        default=None, description="The incident's province, when its id is used in several"),
) -> dict[str, Any]:
    item = await readmodel.get_entity(
        redis, "incident", incident_id, province_code, prefer=principal.province_code)
    if item is None:
        raise HTTPException(status_code=404, detail=f"incident_id: no incident {incident_id!r}")
    return item


@router.get("/me", summary="The calling token's role and scope")
async def whoami(principal: AnyPrincipalDep) -> dict[str, Any]:
    return {"role": principal.role, "scope": principal.scope, "label": principal.label}


SituationEntity = Literal[
    "incident", "shelter", "warehouse", "team", "shipment", "shortfall", "task", "kitchen",
    "kitchen_proposal",
]
assert set(SituationEntity.__args__) == set(ENTITIES)  # type: ignore[attr-defined]


@router.get("/situation", summary="Situation snapshot: every read model, with a live cursor")
async def situation(
    principal: ReaderDep,
    redis: RedisDep,
    province_code: ev.ProvinceCode | None = Query(default=None),
    limit: int = Query(default=5000, ge=1, le=20000),
    include: list[SituationEntity] | None = Query(
        default=None, description="Only these read models (repeat the parameter; default "
        "all): the dashboard asks for the map's own picture first and the shipments next"),
) -> dict[str, Any]:
    """``cursor`` is the feed position read *before* the entities: resume the live stream
    from it (``/api/v1/live?after=cursor``) and no change is missed. A provincial
    coordinator's snapshot covers its own province (another province: 403). With
    ``include``, only those lists are read and ``summary`` counts only what they hold."""
    if principal.role == "coordinator" and principal.province_code is not None:
        if province_code is not None:
            authorize_province(principal, province_code)
        province_code = principal.province_code
    wanted = [e for e in ENTITIES if include is None or e in include]
    cursor = await last_id(redis)
    lists = await asyncio.gather(
        *(readmodel.list_entities(redis, e, province_code, limit) for e in wanted)
    )
    snapshot: dict[str, Any] = {"cursor": cursor, "generated_at": ev.utcnow().isoformat()}
    for entity, items in zip(wanted, lists, strict=True):
        snapshot[f"{entity}s"] = items
    shipments: list[dict[str, Any]] = snapshot.get("shipments", [])
    shortfalls: list[dict[str, Any]] = snapshot.get("shortfalls", [])
    shelters: list[dict[str, Any]] = snapshot.get("shelters", [])
    kitchens: list[dict[str, Any]] = snapshot.get("kitchens", [])
    snapshot["summary"] = {
        "incidents": len(snapshot.get("incidents", [])),
        "shelters": len(shelters),
        "displaced_in_shelters": sum(
            (s.get("headcount") or {}).get("total") or 0 for s in shelters
        ),
        "shortfalls": len(shortfalls),
        "shortfalls_escalated": sum(1 for s in shortfalls if s.get("escalated")),
        "shipments_in_flight": sum(1 for s in shipments if s.get("status") in IN_FLIGHT),
        "teams": len(snapshot.get("teams", [])),
        "kitchens": len(kitchens),
        "kitchen_capacity_per_day": sum(k.get("capacity_per_day") or 0 for k in kitchens),
        "kitchen_portions_needed_per_day": sum(
            k.get("portions_needed_per_day") or 0 for k in kitchens),
    }
    return snapshot


@router.get(
    "/live",
    summary="Live changes as server-sent events (text/event-stream)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def live(
    request: Request,
    principal: ReaderDep,
    redis: RedisDep,
    settings: SettingsDep,
    after: str | None = Query(
        default=None,
        pattern=r"^\d{1,20}-\d{1,20}$",
        description="Resume after this feed id (the snapshot's cursor); "
        "EventSource sends Last-Event-ID itself on reconnect",
    ),
    last_event_id: str | None = Header(default=None, alias="Last-Event-ID"),
) -> StreamingResponse:
    """Each message: ``id`` = feed id, ``event: change``, data ``{entity, id, seq, deleted,
    data}``. An ``event: reset`` means the feed no longer reaches back to your position:
    reload the snapshot."""
    resume = last_event_id or after
    if resume is not None:
        try:
            parse_id(resume)
        except ValueError:
            raise HTTPException(
                status_code=422, detail=f"Last-Event-ID: {resume!r} is not a feed id"
            ) from None
    hub: FeedHub = request.app.state.feed_hub
    limit = settings.live_connections_per_token
    if not hub.acquire(principal.subject, limit):
        raise too_many(
            f"live: this token already holds {limit} live connections; close one", 15
        )
    return StreamingResponse(
        hub.stream(redis, resume, release=principal.subject),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


TimelineKind = Literal[
    "incident", "shelter", "warehouse", "team", "shipment", "shortfall", "decision", "task",
    "kitchen", "kitchen_proposal",
]
assert set(TimelineKind.__args__) == set(TIMELINE_KINDS)  # type: ignore[attr-defined]


def _ms(value: datetime) -> int:
    return int((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp() * 1000)


def _query_error(field: str, message: str) -> HTTPException:
    return HTTPException(status_code=422, detail=[
        {"loc": ["query", field], "msg": message, "type": "value_error"}])


@router.get("/timeline", summary="Timeline of changes (from the live feed), newest first")
async def timeline(
    principal: ReaderDep,
    redis: RedisDep,
    kind: list[TimelineKind] | None = Query(
        default=None, description="Only these kinds (repeat the parameter); "
        "decision = a shortfall change that records a coordinator's decision"),
    province_code: ev.ProvinceCode | None = Query(default=None),
    kabupaten_code: ev.KabupatenCode | None = Query(
        default=None, description="Changes of this kabupaten/kota (a shipment's or "
        "shortfall's is its shelter's or kitchen's)"),
    since: datetime | None = Query(default=None, description="From this time (UTC if no zone)"),
    until: datetime | None = Query(default=None, description="Up to this time"),
    limit: int = Query(default=100, ge=1, le=500),
    cursor: str | None = Query(
        default=None, pattern=r"^\d{1,20}-\d{1,20}$",
        description="Where the previous page ended (its next_cursor); omit for the newest"),
) -> dict[str, Any]:
    """Every change the projector applied (the feed keeps the last ~100,000: see
    ``reaches_back_to``), newest first, with a summary of the entity after the change and
    before it. A provincial coordinator's timeline covers its own province (another: 403).
    At most 10,000 feed entries are examined per page: with narrow filters a page may hold
    fewer than ``limit`` rows, and ``next_cursor`` goes on (None at the end)."""
    if kabupaten_code is not None:
        if province_code is not None and not kabupaten_code.startswith(province_code + "."):
            raise _query_error("kabupaten_code",
                               f"{kabupaten_code} is not in province {province_code}")
        province_code = kabupaten_code[:2]
    if principal.role == "coordinator" and principal.province_code is not None:
        if province_code is not None:
            authorize_province(principal, province_code)
        province_code = principal.province_code
    if since is not None and until is not None and since > until:
        raise _query_error("since", "since is after until")
    if cursor is not None:
        ms, _, seq = cursor.partition("-")
        if int(ms) >= 2**64 or int(seq) >= 2**64:
            raise _query_error("cursor", f"{cursor} is not a feed id")
        if int(ms) == 0 and int(seq) == 0:  # nothing is older than the first id
            return {"count": 0, "items": [], "next_cursor": None, "scanned": 0,
                    "reaches_back_to": None}
    since_ms = None if since is None else max(0, _ms(since))  # the feed begins at 1970
    until_ms = None if until is None else _ms(until)
    if until_ms is not None and until_ms < 0:
        return {"count": 0, "items": [], "next_cursor": None, "scanned": 0,
                "reaches_back_to": None}
    return await read_timeline(
        redis, kinds=set(kind) if kind else None, province_code=province_code,
        kabupaten_code=kabupaten_code, since_ms=since_ms, until_ms=until_ms, limit=limit,
        cursor=cursor)


@router.get("/shortfalls", summary="Shortfalls that need a decision (largest first)")
async def list_shortfalls(
    principal: ReaderDep,
    redis: RedisDep,
    province_code: ev.ProvinceCode | None = Query(default=None),
    limit: int = Query(default=1000, ge=1, le=5000),
    cursor: str | None = CursorQuery,
) -> dict[str, Any]:
    """Newest first page by page; within a page, largest shortfall first."""
    items, next_cursor = await page(redis, "shortfall", province_code, limit, cursor)
    items.sort(key=lambda s: -(s.get("missing") or 0))
    return listing(items, next_cursor)


@router.get("/shipments", summary="Shipments, optionally only those in flight")
async def list_shipments(
    principal: ReaderDep,
    redis: RedisDep,
    province_code: ev.ProvinceCode | None = Query(default=None),
    in_flight: bool = Query(default=False, description="Only confirmed or dispatched"),
    limit: int = Query(default=1000, ge=1, le=5000),
    cursor: str | None = CursorQuery,
) -> dict[str, Any]:
    """``limit`` bounds the shipments examined per page; the filters (in flight, a warehouse
    staff token's own warehouse) apply within it, so a page may hold fewer."""
    items, next_cursor = await page(redis, "shipment", province_code, limit, cursor)
    if principal.role == "warehouse_staff":
        items = [s for s in items if s.get("warehouse_id") == principal.warehouse_id]
    if in_flight:
        items = [s for s in items if s.get("status") in IN_FLIGHT]
    return listing(items, next_cursor)


class HoldRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    held: bool = Field(default=True, description="true to hold, false to release the hold")
    reason: str = Field(min_length=1, max_length=1000)


def _coordinator_name(principal: Principal) -> str:
    return principal.label or principal.describe()


@router.post("/shipments/{shipment_id}/hold", status_code=202, response_model=Accepted)
async def hold_shipment(
    body: HoldRequest,
    principal: CoordinatorDep,
    publisher: PublisherDep,
    redis: RedisDep,
    shipment_id: str = id_path("The shipment"),
) -> Accepted:
    """Hold a proposed shipment (it is not re-proposed) or release the hold."""
    shipment = await load_shipment(redis, shipment_id)
    authorize_province(principal, shipment["province_code"])
    request_fp = fingerprint("hold", shipment_id, body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    if body.held and shipment.get("status", "proposed") != "proposed":
        raise HTTPException(
            status_code=409,
            detail=f"status: shipment {shipment_id} is {shipment.get('status')}; "
            "only a proposed shipment can be held",
        )
    name = _coordinator_name(principal)
    event = build(
        ev.ShipmentHoldChanged,
        event_id=body.event_id,
        occurred_at=ev.utcnow(),
        source=f"coordinator:{name}"[:200],
        schema_version=ev.SCHEMA_VERSION,
        shipment_id=shipment_id,
        province_code=shipment["province_code"],
        held=body.held,
        reason=body.reason,
        coordinator=name[:200],
    )
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)


class DispatchOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    task_id: ev.Identifier
    team_id: ev.Identifier
    action: str = Field(pattern="^(assign|release)$", description="assign or release")
    reason: str = Field(min_length=1, max_length=1000)


@router.post("/dispatch/overrides", status_code=202, response_model=Accepted)
async def override_dispatch(
    body: DispatchOverride, principal: CoordinatorDep, publisher: PublisherDep, redis: RedisDep
) -> Accepted:
    """Pin a TAGANA team to a task, or release it from one."""
    task = await readmodel.get_entity(redis, "task", body.task_id, prefer=principal.province_code)
    if task is None:
        raise HTTPException(status_code=404, detail=f"task_id: no task {body.task_id!r}")
    if await readmodel.get_entity(redis, "team", body.team_id) is None:
        raise HTTPException(status_code=404, detail=f"team_id: no team {body.team_id!r}")
    authorize_province(principal, task["province_code"])
    request_fp = fingerprint("override", body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    name = _coordinator_name(principal)
    event = build(
        ev.DispatchOverridden,
        event_id=body.event_id,
        occurred_at=ev.utcnow(),
        source=f"coordinator:{name}"[:200],
        schema_version=ev.SCHEMA_VERSION,
        task_id=body.task_id,
        province_code=task["province_code"],
        team_id=body.team_id,
        action=body.action,
        reason=body.reason,
        coordinator=name[:200],
    )
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)


class ShortfallDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    province_code: ev.ProvinceCode
    item: ev.ItemCode
    shelter_ids: list[ev.Identifier] = Field(
        min_length=1, max_length=500, description="The shelters short of this item"
    )
    decision: Literal["procurement_request", "donor_request", "risk_accepted"] = Field(
        description="Record a request to procurement or to donors, or accept the risk"
    )
    note: str = Field(min_length=1, max_length=1000, description="What was asked, or why")


@router.post("/shortfalls/decisions", status_code=202, response_model=Accepted)
async def decide_shortfalls(
    body: ShortfallDecision, principal: CoordinatorDep, publisher: PublisherDep, redis: RedisDep
) -> Accepted:
    """Record a decision on the shortfalls of one item at some shelters of a province: one
    ``shortfall.decision_recorded`` event per shelter (event ids derived from ``event_id``,
    so a retried request publishes the same events). Each shelter must have a shortfall of
    that item in that province (404/409 naming ``shelter_ids``)."""
    authorize_province(principal, body.province_code)
    request_fp = fingerprint("shortfall-decision", body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    for n, shelter_id in enumerate(body.shelter_ids):
        shortfall = await readmodel.get_entity(
            redis, "shortfall", f"{shelter_id}:{body.item}", body.province_code
        )
        if shortfall is None:
            raise HTTPException(
                status_code=404,
                detail=[{"loc": ["body", "shelter_ids", n], "type": "not_found",
                         "msg": f"no shortfall of {body.item} at shelter {shelter_id} in "
                         f"province {body.province_code}"}],
            )
    name = _coordinator_name(principal)
    for shelter_id in dict.fromkeys(body.shelter_ids):
        event = build(
            ev.ShortfallDecisionRecorded,
            event_id=uuid.uuid5(body.event_id, shelter_id),
            occurred_at=ev.utcnow(),
            source=f"coordinator:{name}"[:200],
            schema_version=ev.SCHEMA_VERSION,
            shelter_id=shelter_id,
            province_code=body.province_code,
            item=body.item,
            decision=body.decision,
            note=body.note,
            coordinator=name[:200],
        )
        await publisher.publish(event, request_fp)
    # the request's own id marks it accepted (a retry answers 202 without publishing again)
    await redis.set(f"{ACCEPTED_PREFIX}{body.event_id}", request_fp, ex=ACCEPTED_TTL_SECONDS)
    return Accepted(event_id=body.event_id)


class Mobilisation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_id: ev.Identifier = Field(description="A task of the province")
    team_id: ev.Identifier = Field(description="The team mobilised to it from another province")


class EscalationDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    province_code: ev.ProvinceCode = Field(description="The receiving province")
    decision: Literal["approved", "declined"] = Field(
        description="approved: may be confirmed (a shipment) or dispatched (a team); declined: "
        "withdrawn, and the national tier proposes nothing more for that need until it "
        "grows by a quarter")
    reason: str | None = Field(default=None, min_length=1, max_length=1000,
                               description="Why (required to decline)")
    shipment_ids: list[ev.Identifier] = Field(
        default_factory=list, max_length=500,
        description="National-tier shipments proposed to the province")
    mobilisations: list[Mobilisation] = Field(
        default_factory=list, max_length=500,
        description="Teams the national tier mobilised to the province's tasks")


def _unprocessable(loc: list[Any], msg: str) -> HTTPException:
    return HTTPException(status_code=422, detail=[
        {"loc": ["body", *loc], "msg": msg, "type": "value_error"}])


def _conflict(loc: list[Any], msg: str) -> HTTPException:
    return HTTPException(status_code=409, detail=[
        {"loc": ["body", *loc], "msg": msg, "type": "conflict"}])


def _not_found(loc: list[Any], msg: str) -> HTTPException:
    return HTTPException(status_code=404, detail=[
        {"loc": ["body", *loc], "msg": msg, "type": "not_found"}])


@router.post("/escalations/decisions", status_code=202, response_model=Accepted)
async def decide_escalations(
    body: EscalationDecision, principal: CoordinatorDep, publisher: PublisherDep,
    redis: RedisDep,
) -> Accepted:
    """Approve or decline what the national tier sends a province — its shipments and the
    teams it mobilised from other provinces (per shortfall group, per item or one by one):
    one ``escalation.decision_recorded`` event per shipment or team (event ids derived from
    ``event_id``, so a retried request publishes the same events). A coordinator of the
    province (or a national one, or an admin) decides (403 naming ``province_code``); each
    shipment must be a national-tier shipment proposed to that province and each team one
    mobilised to one of its tasks (404), whose approval is required (409), both naming the
    entry. The worker checks the same again."""
    authorize_province(principal, body.province_code)
    total = len(body.shipment_ids) + len(body.mobilisations)
    if total == 0:
        raise _unprocessable(["shipment_ids"], "name at least one shipment or mobilised team")
    if total > 500:
        raise _unprocessable(["shipment_ids"], f"at most 500 shipments and teams, got {total}")
    if body.decision == "declined" and not body.reason:
        raise _unprocessable(["reason"], "a decline needs a reason")
    request_fp = fingerprint("escalation-decision", body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    province = body.province_code
    shipments = await readmodel.get_entities(
        redis, "shipment", list(dict.fromkeys(body.shipment_ids)), province)
    for n, shipment_id in enumerate(body.shipment_ids):
        shipment = shipments.get(shipment_id)
        if shipment is None or shipment.get("tier") != "national":
            raise _not_found(["shipment_ids", n], f"no national-tier shipment {shipment_id} "
                             f"to province {province}")
        if shipment.get("status") != "proposed":
            raise _conflict(["shipment_ids", n], f"shipment {shipment_id} is "
                            f"{shipment.get('status')}; only a proposed one is decided on")
        if shipment.get("approval") not in ("awaiting", "approved"):
            raise _conflict(["shipment_ids", n], f"shipment {shipment_id} needs no approval "
                            "(the approval gate is off, or it was declined)")
    for n, pair in enumerate(body.mobilisations):
        task = await readmodel.get_entity(redis, "task", pair.task_id, province)
        if task is None:
            raise _not_found(["mobilisations", n, "task_id"],
                             f"no task {pair.task_id} in province {province}")
        team = next((t for t in task.get("national_teams") or ()
                     if t.get("team_id") == pair.team_id), None)
        if team is None:
            raise _not_found(["mobilisations", n, "team_id"], f"the national tier mobilised "
                             f"no team {pair.team_id} to task {pair.task_id}")
        if team.get("approval") not in ("awaiting", "approved"):
            raise _conflict(["mobilisations", n, "team_id"], f"team {pair.team_id} needs no "
                            "approval (the approval gate is off, or it was declined)")
    name = _coordinator_name(principal)
    # the worker accepts a coordinator's or an admin's (a national coordinator is one too)
    source = f"{'admin' if principal.role == 'admin' else 'coordinator'}:{name}"[:200]
    targets: list[dict[str, Any]] = [{"shipment_id": s} for s in dict.fromkeys(body.shipment_ids)]
    targets += [{"task_id": m.task_id, "team_id": m.team_id}
                for m in {(m.task_id, m.team_id): m for m in body.mobilisations}.values()]
    for target in targets:
        event = build(
            ev.EscalationDecisionRecorded,
            event_id=uuid.uuid5(body.event_id, "|".join(target.values())),
            occurred_at=ev.utcnow(),
            source=source,
            schema_version=ev.SCHEMA_VERSION,
            province_code=province,
            decision=body.decision,
            reason=body.reason,
            coordinator=name[:200],
            **target,
        )
        await publisher.publish(event, request_fp)
    # the request's own id marks it accepted (a retry answers 202 without publishing again)
    await redis.set(f"{ACCEPTED_PREFIX}{body.event_id}", request_fp, ex=ACCEPTED_TTL_SECONDS)
    return Accepted(event_id=body.event_id)


class EmergencyDeclaration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    declaration_id: ev.Identifier
    province_code: ev.ProvinceCode
    kabupaten_code: ev.KabupatenCode | None = Field(
        default=None, description="Omit for a province-wide declaration"
    )
    declared_by: str = Field(min_length=1, max_length=200, description="e.g. Bupati Cianjur")
    reference: str | None = Field(default=None, max_length=200, description="Decree number")


@router.post("/emergencies", status_code=202, response_model=Accepted)
async def declare_emergency(
    body: EmergencyDeclaration, principal: CoordinatorDep, publisher: PublisherDep
) -> Accepted:
    """Record an emergency declaration: Lumbung Sosial stock there may be released."""
    if body.kabupaten_code and not body.kabupaten_code.startswith(body.province_code + "."):
        raise HTTPException(
            status_code=422,
            detail=[
                {
                    "loc": ["body", "kabupaten_code"],
                    "msg": f"{body.kabupaten_code} is not in province {body.province_code}",
                    "type": "value_error",
                }
            ],
        )
    authorize_province(principal, body.province_code)
    request_fp = fingerprint("emergency", body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    event = build(
        ev.EmergencyDeclared,
        event_id=body.event_id,
        occurred_at=ev.utcnow(),
        source=f"coordinator:{_coordinator_name(principal)}"[:200],
        schema_version=ev.SCHEMA_VERSION,
        declaration_id=body.declaration_id,
        province_code=body.province_code,
        kabupaten_code=body.kabupaten_code,
        declared_by=body.declared_by,
        reference=body.reference,
    )
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    posko_id: ev.Identifier = Field(description="The posko that takes it over")


def _transfer_source(principal: Principal) -> str:
    # "transfer:" marks the one kind of event the stream worker lets change an owner
    return f"transfer:{principal.role}:{_coordinator_name(principal)}"[:200]


@router.post("/shelters/{shelter_id}/transfer", status_code=202, response_model=Accepted)
async def transfer_shelter(
    body: Transfer,
    principal: CoordinatorDep,
    publisher: PublisherDep,
    redis: RedisDep,
    shelter_id: str = id_path("The shelter"),
) -> Accepted:
    """Hand a shelter over to another posko (its registration, re-issued for the new one)."""
    shelter = await readmodel.get_entity(
        redis, "shelter", shelter_id, prefer=principal.province_code)
    if shelter is None:
        raise HTTPException(status_code=404, detail=f"shelter_id: no shelter {shelter_id!r}")
    authorize_province(principal, shelter["province_code"])
    if not shelter.get("location"):
        raise HTTPException(
            status_code=409,
            detail=f"location: shelter {shelter_id} has headcounts but no registration yet",
        )
    request_fp = fingerprint("transfer-shelter", shelter_id, body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    event = build(
        ev.ShelterRegistered,
        event_id=body.event_id,
        occurred_at=ev.utcnow(),
        source=_transfer_source(principal),
        schema_version=ev.SCHEMA_VERSION,
        shelter_id=shelter_id,
        name=shelter.get("name") or shelter_id,
        location=shelter["location"],
        province_code=shelter["province_code"],
        kabupaten_code=shelter.get("kabupaten_code"),
        incident_id=shelter.get("incident_id"),
        capacity=shelter.get("capacity"),
        posko_id=body.posko_id,
    )
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)


INCIDENT_FIELDS = (
    "incident_type", "location", "province_code", "kabupaten_code", "severity", "affected",
    "displaced", "injured", "dead", "observed_needs", "description",
)


@router.post("/incidents/{incident_id}/transfer", status_code=202, response_model=Accepted)
async def transfer_incident(
    body: Transfer,
    principal: CoordinatorDep,
    publisher: PublisherDep,
    redis: RedisDep,
    incident_id: str = id_path("The incident"),
) -> Accepted:
    """Hand an incident over to another posko (its latest report, re-issued for the new one)."""
    incident = await readmodel.get_entity(
        redis, "incident", incident_id, prefer=principal.province_code)
    if incident is None:
        raise HTTPException(status_code=404, detail=f"incident_id: no incident {incident_id!r}")
    authorize_province(principal, incident["province_code"])
    request_fp = fingerprint("transfer-incident", incident_id, body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    event = build(
        ev.IncidentReported,
        event_id=body.event_id,
        occurred_at=ev.utcnow(),
        source=_transfer_source(principal),
        schema_version=ev.SCHEMA_VERSION,
        incident_id=incident_id,
        posko_id=body.posko_id,
        **{k: incident[k] for k in INCIDENT_FIELDS if incident.get(k) is not None},
    )
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)


@lru_cache(maxsize=1)
def _province_names() -> dict[str, str]:
    try:
        import geo

        features = geo.provinces_geojson()["features"]
    except Exception:  # noqa: BLE001 - names are a courtesy in the export
        return {}
    return {f["properties"]["code"]: f["properties"]["name"] for f in features}


def _csv(text: str, name: str) -> PlainTextResponse:
    return PlainTextResponse(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/export/shelters.csv",
    summary="Shelters and headcounts as HXL-tagged CSV (OCHA/HDX)",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_shelters(
    principal: ReaderDep,
    redis: RedisDep,
    province_code: ev.ProvinceCode | None = Query(default=None),
) -> PlainTextResponse:
    names = _province_names()
    shelters = await readmodel.list_entities(redis, "shelter", province_code, 20000)
    rows = [{**s, "province_name": names.get(s.get("province_code", ""))} for s in shelters]
    return _csv(hxl.to_csv(hxl.SHELTER_COLUMNS, rows), "siaga-shelters.csv")


@router.get(
    "/export/needs.csv",
    summary="Needs per shelter and item as HXL-tagged CSV",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_needs(
    principal: ReaderDep,
    redis: RedisDep,
    province_code: ev.ProvinceCode | None = Query(default=None),
) -> PlainTextResponse:
    shelters = await readmodel.list_entities(redis, "shelter", province_code, 20000)
    return _csv(hxl.to_csv(hxl.NEED_COLUMNS, hxl.need_rows(shelters)), "siaga-needs.csv")


@router.get(
    "/export/stock.csv",
    summary="Warehouse stock per item as HXL-tagged CSV",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_stock(
    principal: ReaderDep,
    redis: RedisDep,
    province_code: ev.ProvinceCode | None = Query(default=None),
) -> PlainTextResponse:
    warehouses = await readmodel.list_entities(redis, "warehouse", province_code, 20000)
    return _csv(hxl.to_csv(hxl.STOCK_COLUMNS, hxl.stock_rows(warehouses)), "siaga-stock.csv")
