"""Command posts (posko): incidents, shelters, headcounts, delivery receipts; CAP alerts.

Writes need a ``command_post`` token for the posko named in the body (it defaults to the
token's posko) and inside the token's territory, or a coordinator's for that province,
or an admin's. A shelter or an incident belongs to the posko that registered it: another
posko's registration, update or headcount of it is refused (403; a coordinator can
transfer it, see ``/transfer`` in coordinators.py). The stream worker enforces the same
rule (such an event goes to the dead-letter topic), because the read model this check
uses lags behind a just-registered entity. A delivery to a public kitchen (which has no
posko) is confirmed by a team running it, a coordinator or an admin. Official CAP alerts
come only from an ``alert_feed`` token (or an admin's), from an allowed sender. Every write
carries a client-generated ``event_id``; a retry with the same id counts once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from api import cap
from api.auth import authorize_posko, authorize_province, authorize_team, forbidden
from api.deps import (
    AlertFeedDep,
    CommandPostDep,
    PublisherDep,
    ReceiverDep,
    RedisDep,
    SettingsDep,
)
from api.locate import locate, resolved_kabupaten
from api.publish import fingerprint
from api.routes.teams import team_runs_kitchen
from api.schemas import Accepted, EventIdField, build, caller_source, id_path
from api.shipments import check_transition, load_shipment
from siaga import events as ev
from siaga import readmodel
from siaga.tokens import Principal

router = APIRouter(prefix="/api/v1", tags=["command posts"])

PoskoField: Any = Field(
    default=None, description="The reporting posko; defaults to the command post token's own"
)


def posko_for(principal: Principal, given: str | None, owner: str | None) -> str:
    """The posko a write is for: as given, else the token's posko, else the entity's owner."""
    posko_id = given or principal.posko_id or owner
    if not posko_id:
        raise HTTPException(
            status_code=422,
            detail=[
                {
                    "loc": ["body", "posko_id"],
                    "msg": "posko_id is required with a coordinator or admin token",
                    "type": "missing",
                }
            ],
        )
    return posko_id


def check_owner(field: str, kind: str, entity_id: str, owner: str | None, posko_id: str) -> None:
    """403 when an entity registered by one posko is written for another."""
    if owner and owner != posko_id:
        raise forbidden(
            field,
            f"{kind} {entity_id} belongs to posko {owner}, not {posko_id}; a coordinator can "
            f"transfer it (POST /api/v1/{kind}s/{entity_id}/transfer)",
        )


class CapAccepted(Accepted):
    incident_id: str
    province_code: str
    severity: int
    incident_type: str


def _envelope(event_id: uuid.UUID, posko_id: str, occurred_at: datetime | None) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "occurred_at": occurred_at or ev.utcnow(),
        "source": f"posko:{posko_id}",
        "schema_version": ev.SCHEMA_VERSION,
    }


class IncidentReport(BaseModel):
    """What a command post sends. Retries reuse ``event_id`` so they count once."""

    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    incident_id: ev.Identifier | None = Field(
        default=None, description="Id of the incident this updates; defaults to event_id"
    )
    incident_type: ev.IncidentType
    location: ev.Location
    province_code: ev.ProvinceCode | None = Field(
        default=None, description="Checked against the location; filled in when absent"
    )
    kabupaten_code: ev.KabupatenCode | None = None
    severity: int = Field(ge=1, le=5)
    affected: ev.Count = 0
    displaced: ev.Count = 0
    injured: ev.Count = 0
    dead: ev.Count = 0
    observed_needs: list[ev.ObservedNeed] = Field(default_factory=list, max_length=100)
    posko_id: ev.Identifier | None = PoskoField
    description: str | None = Field(default=None, max_length=2000)
    occurred_at: ev.UtcDatetime | None = Field(
        default=None, description="When observed (with timezone); defaults to now"
    )


@router.post("/incidents", status_code=202, response_model=Accepted)
async def report_incident(
    body: IncidentReport, principal: CommandPostDep, publisher: PublisherDep, redis: RedisDep
) -> Accepted:
    """Report an incident or an update to one (with the needs seen on site)."""
    province_code, kabupaten_code = locate(
        body.location.lat, body.location.lon, body.province_code, body.kabupaten_code
    )
    incident_id = body.incident_id or str(body.event_id)
    current = await readmodel.get_entity(redis, "incident", incident_id, province_code)
    owner = (current or {}).get("posko_id")
    posko_id = posko_for(principal, body.posko_id, owner)
    authorize_posko(
        principal, posko_id, province_code, resolved_kabupaten(body.location.lat,
                                                              body.location.lon)
    )
    check_owner("incident_id", "incident", incident_id, owner, posko_id)
    request_fp = fingerprint("incident", posko_id, body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    event = build(
        ev.IncidentReported,
        **_envelope(body.event_id, posko_id, body.occurred_at),
        incident_id=incident_id,
        incident_type=body.incident_type,
        location=body.location,
        province_code=province_code,
        kabupaten_code=kabupaten_code,
        severity=body.severity,
        affected=body.affected,
        displaced=body.displaced,
        injured=body.injured,
        dead=body.dead,
        observed_needs=body.observed_needs,
        posko_id=posko_id,
        description=body.description,
    )
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)


class ShelterRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    shelter_id: ev.Identifier = Field(description="Client id of the shelter (pengungsian)")
    name: str = Field(min_length=1, max_length=200)
    location: ev.Location
    province_code: ev.ProvinceCode | None = Field(
        default=None, description="Checked against the location; filled in when absent"
    )
    kabupaten_code: ev.KabupatenCode | None = None
    incident_id: ev.Identifier | None = None
    capacity: ev.Count | None = None
    posko_id: ev.Identifier | None = PoskoField
    occurred_at: ev.UtcDatetime | None = None


@router.post("/shelters", status_code=202, response_model=Accepted)
async def register_shelter(
    body: ShelterRegistration, principal: CommandPostDep, publisher: PublisherDep, redis: RedisDep
) -> Accepted:
    """Register a shelter site (or correct its details: only its own posko may)."""
    province_code, kabupaten_code = locate(
        body.location.lat, body.location.lon, body.province_code, body.kabupaten_code
    )
    current = await readmodel.get_entity(redis, "shelter", body.shelter_id, province_code)
    owner = (current or {}).get("posko_id")
    posko_id = posko_for(principal, body.posko_id, owner)
    authorize_posko(
        principal, posko_id, province_code, resolved_kabupaten(body.location.lat,
                                                              body.location.lon)
    )
    check_owner("shelter_id", "shelter", body.shelter_id, owner, posko_id)
    request_fp = fingerprint("shelter", posko_id, body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    event = build(
        ev.ShelterRegistered,
        **_envelope(body.event_id, posko_id, body.occurred_at),
        shelter_id=body.shelter_id,
        name=body.name,
        location=body.location,
        province_code=province_code,
        kabupaten_code=kabupaten_code,
        incident_id=body.incident_id,
        capacity=body.capacity,
        posko_id=posko_id,
    )
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)


class HeadcountReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    province_code: ev.ProvinceCode | None = Field(
        default=None,
        description="Needed only when the shelter is not known to the API yet "
        "(just registered, still on its way)",
    )
    total: ev.Count
    infants: ev.Count = Field(default=0, description="Under 2 years")
    children: ev.Count = Field(default=0, description="2 to 17 years")
    elderly: ev.Count = Field(default=0, description="60 years and over")
    pregnant_lactating: ev.Count = 0
    disabled: ev.Count = Field(default=0, description="People with disabilities")
    posko_id: ev.Identifier | None = PoskoField
    occurred_at: ev.UtcDatetime | None = None


ShelterIdPath = id_path("The shelter")


@router.post("/shelters/{shelter_id}/headcounts", status_code=202, response_model=Accepted)
async def report_headcount(
    body: HeadcountReport,
    principal: CommandPostDep,
    publisher: PublisherDep,
    redis: RedisDep,
    shelter_id: str = ShelterIdPath,
) -> Accepted:
    """People in a shelter now, with the vulnerable groups among them."""
    # ids are unique per province: the post's own territory names it
    shelter = await readmodel.get_entity(
        redis, "shelter", shelter_id, body.province_code, prefer=principal.province_code)
    province_code = body.province_code
    owner = (shelter or {}).get("posko_id")
    posko_id = posko_for(principal, body.posko_id, owner)
    if shelter is not None:
        known = shelter.get("province_code")
        if province_code is not None and province_code != known:
            raise HTTPException(
                status_code=422,
                detail=[
                    {
                        "loc": ["body", "province_code"],
                        "msg": f"shelter {shelter_id} is in province {known}",
                        "type": "value_error",
                    }
                ],
            )
        province_code = known
        check_owner("shelter_id", "shelter", shelter_id, owner, posko_id)
    if province_code is None:
        raise HTTPException(
            status_code=404,
            detail=f"shelter_id: no shelter {shelter_id!r} yet; send province_code to report "
            "a headcount for a shelter still on its way",
        )
    authorize_posko(principal, posko_id, province_code, (shelter or {}).get("kabupaten_code"))
    request_fp = fingerprint("headcount", shelter_id, posko_id, body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    event = build(
        ev.ShelterHeadcountReported,
        **_envelope(body.event_id, posko_id, body.occurred_at),
        shelter_id=shelter_id,
        province_code=province_code,
        total=body.total,
        infants=body.infants,
        children=body.children,
        elderly=body.elderly,
        pregnant_lactating=body.pregnant_lactating,
        disabled=body.disabled,
        posko_id=posko_id,
    )
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)


class DeliveryReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    posko_id: ev.Identifier | None = Field(
        default=None, description="The receiving command post; defaults to the token's posko"
    )
    quantity_received: float = Field(
        ge=0, le=1e9, allow_inf_nan=False, description="What actually arrived, in item units"
    )
    note: str | None = Field(default=None, max_length=1000)
    occurred_at: ev.UtcDatetime | None = None


ShipmentIdPath = id_path("The shipment")


@router.post("/shipments/{shipment_id}/receipt", status_code=202, response_model=Accepted)
async def confirm_delivery(
    body: DeliveryReceipt,
    principal: ReceiverDep,
    publisher: PublisherDep,
    redis: RedisDep,
    shipment_id: str = ShipmentIdPath,
) -> Accepted:
    """Where the shipment arrives confirms its delivery with the quantity actually received:
    a shelter's posko, or for a public kitchen the team(s) running it (a kitchen has no
    posko); coordinators of the province and admins for either."""
    shipment = await load_shipment(redis, shipment_id)
    province_code = shipment["province_code"]
    shelter_id = shipment.get("shelter_id")
    shelter = (await readmodel.get_entity(redis, "shelter", shelter_id, province_code)
               if shelter_id else None)
    kitchen = (await readmodel.get_entity(redis, "kitchen", shelter_id, province_code)
               if shelter_id and shelter is None else None)
    if kitchen is not None:
        return await _confirm_kitchen_delivery(body, principal, publisher, redis, shipment,
                                               kitchen)
    if principal.role == "team":
        raise forbidden("shipment_id", f"shipment {shipment_id} goes to shelter {shelter_id}, "
                        "not to a kitchen: its posko confirms the delivery")
    owner = (shelter or {}).get("posko_id")
    posko_id = posko_for(principal, body.posko_id, owner)
    authorize_posko(principal, posko_id, province_code)
    if principal.role == "command_post" and owner and owner != principal.posko_id:
        raise forbidden("shipment_id", f"shipment {shipment_id} goes to posko {owner}")
    request_fp = fingerprint("receipt", shipment_id, posko_id, body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    check_transition(shipment, "delivered")
    event = build(
        ev.ShipmentStatusChanged,
        **_envelope(body.event_id, posko_id, body.occurred_at),
        shipment_id=shipment_id,
        province_code=province_code,
        warehouse_id=shipment["warehouse_id"],
        status="delivered",
        quantity_received=body.quantity_received,
        reason=body.note,
    )
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)


async def _confirm_kitchen_delivery(
    body: DeliveryReceipt,
    principal: Principal,
    publisher: Any,
    redis: Any,
    shipment: dict[str, Any],
    kitchen: dict[str, Any],
) -> Accepted:
    """Ingredients delivered to a public kitchen: a team running it (its own phone; it may be
    a team of another province, see :func:`api.routes.teams.team_runs_kitchen`), a
    coordinator of the kitchen's province, or an admin confirms them; the worker checks the
    event's source again (``streams/shipments.py``)."""
    shipment_id, kitchen_id = shipment["shipment_id"], kitchen["kitchen_id"]
    province_code = shipment["province_code"]
    runners = list(kitchen.get("team_ids") or [])
    if principal.role == "command_post":
        raise forbidden("shipment_id", f"shipment {shipment_id} goes to kitchen {kitchen_id}: "
                        f"the team running it ({', '.join(runners) or 'none'}) confirms it")
    if principal.role == "team":
        team_id = str(principal.team_id)
        if team_id not in runners:
            raise forbidden("team_id", f"team {team_id} does not run kitchen "
                            f"{kitchen_id} (run by {', '.join(runners) or 'no team'})")
        if not await team_runs_kitchen(redis, team_id, principal.province_code, kitchen):
            # the kitchen's team of this id is its own province's, not this token's
            authorize_team(principal, team_id, province_code)
    elif principal.role != "admin":
        authorize_province(principal, province_code)
    request_fp = fingerprint("receipt", shipment_id, kitchen_id, body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    check_transition(shipment, "delivered")
    event = build(
        ev.ShipmentStatusChanged,
        event_id=body.event_id,
        occurred_at=body.occurred_at or ev.utcnow(),
        source=caller_source(principal),
        schema_version=ev.SCHEMA_VERSION,
        shipment_id=shipment_id,
        province_code=province_code,
        warehouse_id=shipment["warehouse_id"],
        status="delivered",
        quantity_received=body.quantity_received,
        reason=body.note,
    )
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)


CAP_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/xml": {"schema": {"type": "string"}},
            "application/cap+xml": {"schema": {"type": "string"}},
        },
    }
}


@router.post(
    "/alerts/cap",
    status_code=202,
    response_model=CapAccepted,
    openapi_extra=CAP_BODY,
    summary="Ingest an official CAP 1.2 alert (BMKG InaTEWS earthquakes) as an incident",
)
async def ingest_cap_alert(
    request: Request, principal: AlertFeedDep, publisher: PublisherDep, settings: SettingsDep
) -> CapAccepted:
    """Official alerts only: an ``alert_feed`` token (the BMKG feed integration) or an
    admin's, and a ``<sender>`` on the allow-list (``SIAGA_CAP_ALLOWED_SENDERS``). The same
    alert (same sender and identifier) posted twice counts once; an Update
    (``<references>``) updates the incident of the alert it references."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/xml", "text/xml", "application/cap+xml"):
        raise HTTPException(
            status_code=415,
            detail=f"content-type: {content_type or '(none)'}; send the CAP alert as "
            "application/xml",
        )
    try:
        alert = cap.parse_cap(await request.body())
    except cap.CapError as exc:
        raise HTTPException(
            status_code=422,
            detail=[{"loc": ["body", *exc.field.split(".")], "msg": exc.message, "type": "cap"}],
        ) from None
    allowed = {s.strip().lower() for s in settings.cap_allowed_senders.split(",") if s.strip()}
    if alert.sender.lower() not in allowed:
        raise forbidden(
            "sender",
            f"{alert.sender!r} is not an allowed CAP sender (SIAGA_CAP_ALLOWED_SENDERS)",
        )
    try:
        province_code, kabupaten_code = locate(alert.lat, alert.lon, None, None)
    except HTTPException as exc:
        detail: Any = exc.detail
        detail[0]["loc"] = ["body", "info", "area"]
        raise
    event = build(
        ev.IncidentReported,
        event_id=alert.event_id,
        occurred_at=alert.occurred_at,
        source=f"cap:{alert.sender}"[:200],
        schema_version=ev.SCHEMA_VERSION,
        incident_id=alert.incident_id,
        incident_type=alert.incident_type,
        location=ev.Location(lat=alert.lat, lon=alert.lon),
        province_code=province_code,
        kabupaten_code=kabupaten_code,
        severity=alert.severity,
        posko_id=alert.posko_id,
        description=alert.description(),
    )
    request_fp = fingerprint("cap", event.model_dump_json())
    if not await publisher.already_accepted(event.event_id, request_fp):
        await publisher.publish(event, request_fp)
    return CapAccepted(
        event_id=event.event_id,
        incident_id=event.incident_id,
        province_code=province_code,
        severity=event.severity,
        incident_type=event.incident_type,
    )

