"""The event catalogue on the wire (schema version 1).

Wire records are not domain types: these pydantic models define exactly what a
producer (the API, a CAP gateway, or a client in any language writing straight
to Kafka) must put in a record. Every event carries ``event_id`` (a
client-generated UUID, the idempotency key), ``occurred_at`` (UTC),
``source`` and ``schema_version``; ``type`` says which event it is.

Records are JSON objects encoded as UTF-8. The record key is the province code
(two digits, Kemendagri, e.g. ``"32"``) so that a province's events stay on one
partition and in order.

When a schema changes, bump its version, keep the old model, and add an
upcaster in :data:`UPCASTERS`: Kafka keeps old events for replay.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

SCHEMA_VERSION = 1

ProvinceCode = Annotated[
    str, Field(pattern=r"^\d{2}$", description="Kemendagri province code, e.g. '32'")
]
KabupatenCode = Annotated[
    str,
    Field(pattern=r"^\d{2}\.\d{2}$", description="Kemendagri kabupaten/kota code, e.g. '32.03'"),
]
Identifier = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$",
        description="Stable identifier: letters, digits, '_', '.', ':', '-'",
    ),
]
ItemCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9_]+$",
        description="Item code from the catalogue, e.g. 'rice', 'drinking_water'",
    ),
]
Count = Annotated[int, Field(ge=0, le=50_000_000)]


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must include a timezone (UTC), e.g. 2022-11-21T06:21:10Z")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_require_utc)]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Location(WireModel):
    """WGS84 coordinates in decimal degrees."""

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)


class Envelope(WireModel):
    """Fields every event carries."""

    event_id: uuid.UUID = Field(description="Client-generated UUID; a retry reuses it")
    occurred_at: UtcDatetime = Field(description="When it happened, ISO 8601 with timezone")
    source: str = Field(
        min_length=1, max_length=200, description="Who produced it, e.g. 'posko:cugenang-01'"
    )
    schema_version: Literal[1] = Field(description="Version of this event's schema")


IncidentType = Literal[
    "earthquake",
    "tsunami",
    "flood",
    "flash_flood",
    "lahar_flood",
    "landslide",
    "eruption",
    "tornado",
    "forest_fire",
    "drought",
    "other",
]


class ObservedNeed(WireModel):
    item: ItemCode
    quantity: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    unit: str | None = Field(default=None, max_length=32)
    note: str | None = Field(default=None, max_length=500)


class IncidentReported(Envelope):
    """A command post (or an official alert) reports an incident or an update to one."""

    type: Literal["incident.reported"] = "incident.reported"
    incident_id: Identifier = Field(description="Client id of the incident; updates reuse it")
    incident_type: IncidentType
    location: Location
    province_code: ProvinceCode
    kabupaten_code: KabupatenCode | None = None
    severity: int = Field(ge=1, le=5, description="1 minor … 5 catastrophic")
    affected: Count = 0
    displaced: Count = 0
    injured: Count = 0
    dead: Count = 0
    observed_needs: list[ObservedNeed] = Field(default_factory=list, max_length=100)
    posko_id: Identifier = Field(description="Reporting command post")
    description: str | None = Field(default=None, max_length=2000)


class ShelterRegistered(Envelope):
    type: Literal["shelter.registered"] = "shelter.registered"
    shelter_id: Identifier
    name: str = Field(min_length=1, max_length=200)
    location: Location
    province_code: ProvinceCode
    kabupaten_code: KabupatenCode | None = None
    incident_id: Identifier | None = None
    capacity: Count | None = None
    posko_id: Identifier


class ShelterHeadcountReported(Envelope):
    """People in a shelter now, with the vulnerable groups among them."""

    type: Literal["shelter.headcount_reported"] = "shelter.headcount_reported"
    shelter_id: Identifier
    province_code: ProvinceCode
    total: Count
    infants: Count = Field(default=0, description="Under 2 years")
    children: Count = Field(default=0, description="2 to 17 years")
    elderly: Count = Field(default=0, description="60 years and over")
    pregnant_lactating: Count = 0
    disabled: Count = Field(default=0, description="People with disabilities")
    posko_id: Identifier

    @model_validator(mode="after")
    def _groups_within_total(self) -> ShelterHeadcountReported:
        for group in ("infants", "children", "elderly", "pregnant_lactating", "disabled"):
            if getattr(self, group) > self.total:
                raise ValueError(f"{group} ({getattr(self, group)}) exceeds total ({self.total})")
        if self.infants + self.children + self.elderly > self.total:
            raise ValueError("infants + children + elderly exceeds total")
        return self


WarehouseKind = Literal["regional", "provincial", "kabupaten", "lumbung_sosial"]


class WarehouseRegistered(Envelope):
    type: Literal["warehouse.registered"] = "warehouse.registered"
    warehouse_id: Identifier
    name: str = Field(min_length=1, max_length=200)
    kind: WarehouseKind
    location: Location
    province_code: ProvinceCode
    kabupaten_code: KabupatenCode | None = None


class StockLevelReported(Envelope):
    """The quantity on hand of one batch of one item at a warehouse (a count, not a delta)."""

    type: Literal["warehouse.stock_level_reported"] = "warehouse.stock_level_reported"
    warehouse_id: Identifier
    province_code: ProvinceCode
    item: ItemCode
    batch_id: Identifier
    quantity: float = Field(ge=0, allow_inf_nan=False)
    unit: str = Field(min_length=1, max_length=32)
    expires_on: date | None = None


ReceiptSource = Literal["procurement", "donation", "transfer", "return"]


class GoodsReceived(Envelope):
    """Warehouse staff receive goods into a batch (a new batch, or more of one): stock on
    hand grows by the quantity. A donation names its donor."""

    type: Literal["warehouse.goods_received"] = "warehouse.goods_received"
    warehouse_id: Identifier
    province_code: ProvinceCode
    item: ItemCode
    batch_id: Identifier
    quantity: float = Field(gt=0, le=1e9, allow_inf_nan=False)
    unit: str = Field(min_length=1, max_length=32, description="The catalogue unit of the item")
    expires_on: date | None = None
    origin: ReceiptSource = Field(description="Where the goods come from")
    donor: str | None = Field(
        default=None, max_length=200, description="Who donated them (required for a donation)"
    )
    document_number: str = Field(
        min_length=1, max_length=100, description="Delivery note, purchase order or letter"
    )
    received_by: str = Field(min_length=1, max_length=200, description="Who took them in")
    note: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _donor_for_donation(self) -> GoodsReceived:
        if self.origin == "donation" and not (self.donor or "").strip():
            raise ValueError("donor: a donation names its donor")
        return self


class StockCounted(Envelope):
    """Warehouse staff count one batch: the count becomes the quantity on hand, and the
    difference from what Siaga expected is recorded as an adjustment with the reason."""

    type: Literal["warehouse.stock_counted"] = "warehouse.stock_counted"
    warehouse_id: Identifier
    province_code: ProvinceCode
    item: ItemCode
    batch_id: Identifier
    counted: float = Field(ge=0, le=1e9, allow_inf_nan=False, description="Units counted")
    unit: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1, max_length=1000, description="Why it was counted")
    counted_by: str = Field(min_length=1, max_length=200)


WriteOffReason = Literal["expired", "damaged", "lost", "other"]


class StockWrittenOff(Envelope):
    """Warehouse staff write off expired, damaged or lost stock of one batch: stock on hand
    shrinks by the quantity."""

    type: Literal["warehouse.stock_written_off"] = "warehouse.stock_written_off"
    warehouse_id: Identifier
    province_code: ProvinceCode
    item: ItemCode
    batch_id: Identifier
    quantity: float = Field(gt=0, le=1e9, allow_inf_nan=False)
    unit: str = Field(min_length=1, max_length=32)
    reason_code: WriteOffReason
    reason: str = Field(min_length=1, max_length=1000, description="What happened")
    written_off_by: str = Field(min_length=1, max_length=200)
    document_number: str | None = Field(default=None, max_length=100)


TeamAvailability = Literal["available", "assigned", "resting", "off_duty"]


class TeamStatusReported(Envelope):
    """Where a TAGANA team is and whether it can be dispatched."""

    type: Literal["team.status_reported"] = "team.status_reported"
    team_id: Identifier
    name: str | None = Field(default=None, max_length=200)
    province_code: ProvinceCode
    kabupaten_code: KabupatenCode | None = None
    location: Location
    skills: list[
        Literal["evacuation", "public_kitchen", "shelter_setup", "psychosocial", "logistics"]
    ] = Field(default_factory=list, max_length=10)
    members: int = Field(ge=1, le=500)
    rank: Literal["muda", "madya", "utama"] | None = None
    availability: TeamAvailability
    hours_on_duty: float = Field(default=0, ge=0, le=168, allow_inf_nan=False)


TeamSkill = Literal["evacuation", "public_kitchen", "shelter_setup", "psychosocial", "logistics"]


class TeamMember(WireModel):
    name: str = Field(min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=100, description="e.g. 'ketua' (leader)")
    phone: str | None = Field(default=None, max_length=32, description="Leader's phone")


class TeamRegistered(Envelope):
    """A coordinator registers (or corrects) a TAGANA team: its base, members, skills, rank."""

    type: Literal["team.registered"] = "team.registered"
    team_id: Identifier
    name: str = Field(min_length=1, max_length=200)
    province_code: ProvinceCode
    kabupaten_code: KabupatenCode = Field(description="The team's home kabupaten/kota")
    base: Location = Field(description="Where the team is based (its home post)")
    members: list[TeamMember] = Field(min_length=1, max_length=500)
    skills: list[TeamSkill] = Field(min_length=1, max_length=10)
    rank: Literal["muda", "madya", "utama"]
    coordinator: str = Field(min_length=1, max_length=200, description="Who registered it")

    @property
    def location(self) -> Location:
        return self.base


class TeamAvailabilityReported(Envelope):
    """A registered team (its leader's phone) says whether it can be sent, where it is, and
    how many of its members are present. ``assigned`` is Siaga's word, not the team's."""

    type: Literal["team.availability_reported"] = "team.availability_reported"
    team_id: Identifier
    province_code: ProvinceCode
    availability: Literal["available", "resting", "off_duty"]
    location: Location | None = Field(default=None, description="Where the team is now")
    members_present: int = Field(ge=0, le=500)


TaskProgress = Literal["acknowledged", "en_route", "arrived", "done", "declined"]


class TaskProgressReported(Envelope):
    """A team moves its assignment along: acknowledged → en_route → arrived → done, or
    declines it with a reason (then the task is dispatched to another team)."""

    type: Literal["task.progress_reported"] = "task.progress_reported"
    task_id: Identifier
    team_id: Identifier
    province_code: ProvinceCode
    status: TaskProgress
    reason: str | None = Field(default=None, max_length=1000, description="Why it declined")
    location: Location | None = Field(default=None, description="Where the team reported from")

    @model_validator(mode="after")
    def _reason_for_decline(self) -> TaskProgressReported:
        if self.status == "declined" and not self.reason:
            raise ValueError("reason: a declined assignment needs a reason")
        return self


class BatchQuantity(WireModel):
    batch_id: Identifier
    quantity: float = Field(gt=0, allow_inf_nan=False)


class ShipmentStatusChanged(Envelope):
    """Warehouse staff or the receiving post move a shipment along its lifecycle."""

    type: Literal["shipment.status_changed"] = "shipment.status_changed"
    shipment_id: Identifier
    province_code: ProvinceCode
    warehouse_id: Identifier
    status: Literal["confirmed", "dispatched", "delivered", "cancelled", "rejected"]
    batches: list[BatchQuantity] = Field(
        default_factory=list, max_length=100, description="Picked batches (confirmed)"
    )
    quantity_received: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="Delivered: what actually arrived"
    )
    reason: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _fields_for_status(self) -> ShipmentStatusChanged:
        if self.status == "confirmed" and not self.batches:
            raise ValueError("batches: a confirmed shipment names the picked batches")
        if self.status == "delivered" and self.quantity_received is None:
            raise ValueError("quantity_received: a delivery states the quantity received")
        if self.status in ("cancelled", "rejected") and not self.reason:
            raise ValueError(f"reason: a {self.status} shipment needs a reason")
        return self


class EmergencyDeclared(Envelope):
    """The bupati/walikota (or governor) declares an emergency: Lumbung Sosial stock there
    may be released. Without ``kabupaten_code`` it covers the whole province."""

    type: Literal["emergency.declared"] = "emergency.declared"
    declaration_id: Identifier
    province_code: ProvinceCode
    kabupaten_code: KabupatenCode | None = None
    declared_by: str = Field(min_length=1, max_length=200, description="Who declared it")
    reference: str | None = Field(default=None, max_length=200, description="Decree number")


class ShipmentHoldChanged(Envelope):
    """A coordinator holds a proposed shipment (it is not re-proposed) or releases the hold."""

    type: Literal["shipment.hold_changed"] = "shipment.hold_changed"
    shipment_id: Identifier
    province_code: ProvinceCode
    held: bool
    reason: str = Field(min_length=1, max_length=1000)
    coordinator: str = Field(min_length=1, max_length=200)


class DispatchOverridden(Envelope):
    """A coordinator overrides a dispatch: pins a team to a task, or releases a team from it."""

    type: Literal["dispatch.overridden"] = "dispatch.overridden"
    task_id: Identifier
    province_code: ProvinceCode
    team_id: Identifier
    action: Literal["assign", "release"]
    reason: str = Field(min_length=1, max_length=1000)
    coordinator: str = Field(min_length=1, max_length=200)


KitchenStatus = Literal["preparing", "open", "closed"]
Meal = Literal["pagi", "siang", "malam"]


class ShortfallDecisionRecorded(Envelope):
    """A coordinator decides on a shelter's shortfall of one item: request procurement or donors, or accept the risk (with a note)."""  # noqa: E501

    type: Literal["shortfall.decision_recorded"] = "shortfall.decision_recorded"
    shelter_id: Identifier
    province_code: ProvinceCode
    item: ItemCode
    decision: Literal["procurement_request", "donor_request", "risk_accepted"]
    note: str = Field(min_length=1, max_length=1000)
    coordinator: str = Field(min_length=1, max_length=200)


class EscalationDecisionRecorded(Envelope):
    """A coordinator of the receiving province approves or declines what the national tier sends it: a national-tier shipment, or a team mobilised from another province to one of its tasks. Until approved neither is confirmed or dispatched; declined, the national tier proposes nothing more for that need until it changes materially (docs/planning.md, "Tiers")."""  # noqa: E501

    type: Literal["escalation.decision_recorded"] = "escalation.decision_recorded"
    province_code: ProvinceCode = Field(description="The receiving province")
    shipment_id: Identifier | None = Field(
        default=None, description="A national-tier shipment to this province")
    task_id: Identifier | None = Field(
        default=None, description="A task of this province a team was mobilised to")
    team_id: Identifier | None = Field(
        default=None, description="The team mobilised to it from another province")
    decision: Literal["approved", "declined"]
    reason: str | None = Field(default=None, min_length=1, max_length=1000,
                               description="Why (required to decline)")
    coordinator: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_target(self) -> EscalationDecisionRecorded:
        shipment = self.shipment_id is not None
        team = self.task_id is not None or self.team_id is not None
        if shipment == team:
            raise ValueError("shipment_id: name either a shipment_id, or a task_id and a "
                             "team_id (a mobilised team)")
        if team and (self.task_id is None or self.team_id is None):
            raise ValueError("team_id: a mobilised team is named by task_id and team_id")
        if self.decision == "declined" and not self.reason:
            raise ValueError("reason: a decline needs a reason")
        return self


class KitchenRegistered(Envelope):
    """A coordinator opens (or corrects) a public kitchen (dapur umum): where it cooks, how
    many field-kitchen (Dumlap) units, its rhythm, the TAGANA teams running it, and shelters
    assigned to it whatever the travel time. Defaults: one Dumlap cooks about 2,000 portions
    per cooking, three cookings a day (Mensos, detik.com 30 Sep 2018)."""

    type: Literal["kitchen.registered"] = "kitchen.registered"
    kitchen_id: Identifier
    name: str = Field(min_length=1, max_length=200)
    location: Location
    province_code: ProvinceCode
    kabupaten_code: KabupatenCode | None = None
    units: int = Field(default=1, ge=1, le=50, description="Field-kitchen (Dumlap) units")
    portions_per_cooking: int = Field(
        default=2000, ge=1, le=100_000, description="Portions one unit cooks per cooking")
    cookings_per_day: int = Field(default=3, ge=1, le=6)
    team_ids: list[Identifier] = Field(
        min_length=1, max_length=20, description="TAGANA teams running the kitchen")
    assigned_shelter_ids: list[Identifier] = Field(
        default_factory=list, max_length=500,
        description="Shelters the coordinator assigns to it, whatever the travel time")
    warehouse_id: Identifier | None = Field(
        default=None, description="Where its Dumlap unit(s) came from")
    proposal_id: str | None = Field(
        default=None, max_length=200, description="The siting proposal it approves, if any")
    status: KitchenStatus = "open"
    coordinator: str = Field(min_length=1, max_length=200, description="Who registered it")


class KitchenStatusReported(Envelope):
    """The team running a kitchen (or a coordinator) reports its status and, after a meal,
    the portions it served."""

    type: Literal["kitchen.status_reported"] = "kitchen.status_reported"
    kitchen_id: Identifier
    province_code: ProvinceCode
    team_id: Identifier = Field(description="The reporting team (one of the kitchen's)")
    status: KitchenStatus
    meal: Meal | None = Field(default=None, description="Which meal the portions were for")
    portions_served: Count | None = None
    note: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _meal_with_portions(self) -> KitchenStatusReported:
        if (self.meal is None) != (self.portions_served is None):
            raise ValueError("meal: portions_served and meal go together")
        return self


AnyEvent = Annotated[
    IncidentReported
    | EmergencyDeclared
    | ShelterRegistered
    | ShelterHeadcountReported
    | WarehouseRegistered
    | StockLevelReported
    | GoodsReceived
    | StockCounted
    | StockWrittenOff
    | TeamStatusReported
    | TeamRegistered
    | TeamAvailabilityReported
    | TaskProgressReported
    | DispatchOverridden
    | ShipmentStatusChanged
    | ShipmentHoldChanged
    | ShortfallDecisionRecorded
    | EscalationDecisionRecorded
    | KitchenRegistered
    | KitchenStatusReported,
    Field(discriminator="type"),
]

EVENT_TYPES: dict[str, type[Envelope]] = {
    model.model_fields["type"].default: model
    for model in (
        IncidentReported,
        EmergencyDeclared,
        ShelterRegistered,
        ShelterHeadcountReported,
        WarehouseRegistered,
        StockLevelReported,
        GoodsReceived,
        StockCounted,
        StockWrittenOff,
        TeamStatusReported,
        TeamRegistered,
        TeamAvailabilityReported,
        TaskProgressReported,
        DispatchOverridden,
        ShipmentStatusChanged,
        ShipmentHoldChanged,
        ShortfallDecisionRecorded,
        EscalationDecisionRecorded,
        KitchenRegistered,
        KitchenStatusReported,
    )
}

# (type, old version) -> function turning an old payload into the next version's.
UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}

any_event_adapter: TypeAdapter[Any] = TypeAdapter(AnyEvent)


class InvalidRecord(ValueError):
    """A record that cannot be decoded or violates its schema; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False)[:5]:
        loc = ".".join(str(p) for p in item["loc"])
        parts.append(f"{loc or '(record)'}: {item['msg']}")
    return "; ".join(parts)


def decode_event(raw: bytes | str | None, allowed: tuple[str, ...] | None = None) -> Envelope:
    """Parse one wire record into its event model.

    Raises :class:`InvalidRecord` with a human-readable reason when the bytes are
    not UTF-8 JSON, the type or schema version is unknown, or a field is invalid.
    ``allowed`` restricts the event types expected on the topic being read.
    """
    if raw is None:
        raise InvalidRecord("empty record (no value)")
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRecord(f"not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise InvalidRecord(f"expected a JSON object, got {type(payload).__name__}")
    event_type = payload.get("type")
    if event_type not in EVENT_TYPES:
        raise InvalidRecord(f"type: unknown event type {event_type!r}")
    if allowed is not None and event_type not in allowed:
        raise InvalidRecord(f"type: {event_type!r} does not belong on this topic")
    version = payload.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidRecord("schema_version: missing or not an integer")
    while version < SCHEMA_VERSION and (event_type, version) in UPCASTERS:
        payload = UPCASTERS[(event_type, version)](payload)
        version += 1
        payload["schema_version"] = version
    if version != SCHEMA_VERSION:
        raise InvalidRecord(
            f"schema_version: unknown version {version} for {event_type} "
            f"(this worker understands {SCHEMA_VERSION})"
        )
    try:
        event: Envelope = EVENT_TYPES[event_type].model_validate(payload)
    except ValidationError as exc:
        raise InvalidRecord(_describe(exc)) from None
    return event


def encode_event(event: Envelope) -> bytes:
    """The event as UTF-8 JSON bytes, as it travels on Kafka."""
    return event.model_dump_json().encode()


def new_event_id() -> uuid.UUID:
    return uuid.uuid4()


def utcnow() -> datetime:
    return datetime.now(UTC)


#: How far ahead of the receiving clock an ``occurred_at`` may be (clock drift of a phone,
#: a gateway's rounding). Beyond it the event is refused: a future time would outrank every
#: correct report of the same entity until the clock catches up.
MAX_CLOCK_SKEW = timedelta(minutes=5)


def check_not_future(occurred_at: datetime, now: datetime | None = None) -> None:
    """Raise :class:`InvalidRecord` when ``occurred_at`` is more than :data:`MAX_CLOCK_SKEW`
    ahead of ``now`` (the receiving clock, UTC; default the current time).

    A naive ``occurred_at`` or ``now`` is read as UTC.
    """
    receiving = utcnow() if now is None else now
    if receiving.tzinfo is None:
        receiving = receiving.replace(tzinfo=UTC)
    when = occurred_at if occurred_at.tzinfo is not None else occurred_at.replace(tzinfo=UTC)
    ahead = when - receiving
    if ahead > MAX_CLOCK_SKEW:
        raise InvalidRecord(
            f"occurred_at: {when.astimezone(UTC).isoformat()} is {_duration(ahead)} ahead of "
            f"the receiving clock ({receiving.astimezone(UTC).isoformat()}); at most "
            f"{_duration(MAX_CLOCK_SKEW)} ahead is accepted - check the device's clock"
        )


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes else []
    parts += [f"{seconds} s"] if seconds or not parts else []
    return " ".join(parts)
