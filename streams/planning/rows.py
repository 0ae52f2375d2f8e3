"""The rows the planner reads and writes, typed: one name per concept.

These are the JSON shapes the worker's tables store (see ``streams/ingest.py`` and the other
input agents' reducers, :mod:`streams.store`) and the read models the planner emits. They are
``TypedDict``: a row stays the plain dict the table holds (nothing is converted, nothing
costs at run time), and the type checker knows its fields. :mod:`streams.store` turns the raw
table rows into these once, when it assembles a province.

Keys marked ``NotRequired`` are missing from some rows (older rows, or rows an event made
before another filled them in).
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from logistics.approval import Approval
from logistics.dispatch import Rank, Tier
from logistics.kitchens import KitchenStatus
from logistics.shipment import Status as ShipmentStatus
from logistics.stock import WarehouseKind

# ---------------------------------------------------------------- shared


class Location(TypedDict):
    lat: float
    lon: float


class Received(TypedDict):
    """A delivery kept on the shelter (or kitchen) that received it, by shipment id."""

    item: str
    quantity: int
    at: str | None


# ---------------------------------------------------------------- shelters


class Headcount(TypedDict):
    total: int
    infants: int
    children: int
    elderly: int
    pregnant_lactating: int  # the wire counts them together
    disabled: int
    counted_at: str


class Decision(TypedDict):
    """A coordinator's decision on a shelter's shortfall of one item."""

    decision: str
    note: str
    coordinator: str
    at: str
    version: str


class ShelterRow(TypedDict):
    """Table ``shelters``: one shelter (registration, headcount, what it received)."""

    shelter_id: str
    name: str
    location: Location | None
    province_code: str
    kabupaten_code: str | None
    incident_id: str | None
    capacity: int | None
    posko_id: str
    registration_version: str
    headcount: Headcount | None
    headcount_version: NotRequired[str]
    received: NotRequired[dict[str, Received]]
    decisions: NotRequired[dict[str, Decision]]
    updated_at: NotRequired[str]
    accepted_at: NotRequired[str]


# ---------------------------------------------------------------- warehouses and stock


class DepartureRow(TypedDict):
    """A shipment that left a batch, kept on the batch (it outlives the shipment)."""

    shipment_id: str
    quantity: int
    at: str


class BatchRow(TypedDict):
    """Table ``batches``: one stock batch ``<warehouse>/<batch>`` (its count, departures)."""

    batch_id: str
    warehouse_id: str
    item: str
    unit: str
    on_hand: float
    expires_on: str | None
    version: str
    counted_at: str
    departures: list[DepartureRow]
    applied: NotRequired[list[str]]
    last_movement: NotRequired[dict[str, Any]]
    accepted_at: NotRequired[str]


class WarehouseRow(TypedDict):
    """Table ``warehouses`` (one warehouse's registration) with its batches by batch id, as
    :func:`streams.store.assemble` puts them together. ``kind`` and ``location`` are None for
    stock counted before the warehouse was registered."""

    warehouse_id: str
    name: str
    kind: WarehouseKind | None
    location: Location | None
    province_code: str
    kabupaten_code: str | None
    registration_version: str
    batches: dict[str, BatchRow]
    updated_at: NotRequired[str]
    accepted_at: NotRequired[str]


# ---------------------------------------------------------------- shipments


class PickRow(TypedDict):
    """A batch picked for a shipment."""

    batch_id: str
    quantity: int
    expires_on: str | None


class ShipmentRow(TypedDict):
    """Table ``shipments``: one open shipment (the planner proposes it; warehouse staff and
    receiving posts move it along its lifecycle, :mod:`logistics.shipment`)."""

    shipment_id: str
    proposal_id: str
    warehouse_id: str
    shelter_id: str  # a shelter, or a public kitchen getting ingredients
    item_id: str
    unit: NotRequired[str | None]
    quantity: int
    batches: list[PickRow]
    status: ShipmentStatus
    held: NotRequired[bool]
    tier: NotRequired[str]  # "province" (missing on old rows) or "national"
    travel_hours: NotRequired[float]
    eta: NotRequired[str]
    summary: NotRequired[str]
    why: NotRequired[dict[str, Any] | None]
    origin: NotRequired[Location | None]
    warehouse_province: NotRequired[str]
    warehouse_name: NotRequired[str]
    updated_at: NotRequired[str]
    applied_events: NotRequired[list[str]]
    proposal: NotRequired[ProposalLine | None]  # the plan line behind a proposed shipment
    confirmed_at: NotRequired[str]
    dispatched_at: NotRequired[str]
    delivered_at: NotRequired[str]
    received_quantity: NotRequired[int]
    difference: NotRequired[int]
    reason: NotRequired[str | None]
    hold_reason: NotRequired[str]
    hold_version: NotRequired[str]
    # a national-tier shipment: the receiving province's approval (logistics.approval) and
    # the shelter's need of the item at the last plan (what a decline is measured against)
    approval: NotRequired[Approval]
    need: NotRequired[float]
    accepted_at: NotRequired[str]


# ---------------------------------------------------------------- teams and tasks


class ProgressRow(TypedDict, total=False):
    """A team's progress on one assignment (the task loop), with the time of each step."""

    task_id: str
    status: str
    reason: str | None
    acknowledged_at: str
    en_route_at: str
    arrived_at: str
    done_at: str
    declined_at: str


class TeamRow(TypedDict):
    """Table ``teams``: one TAGANA team. The phone loop's fields (registration, roster,
    progress, duty period) are there for a registered team only."""

    team_id: str
    name: str
    province_code: str
    kabupaten_code: str | None
    location: Location
    skills: list[str]
    members: int
    rank: Rank | None
    availability: str  # available, assigned, resting, off_duty
    hours_on_duty: float
    version: str
    updated_at: NotRequired[str]
    accepted_at: NotRequired[str]
    base: NotRequired[Location]
    roster: NotRequired[list[dict[str, Any]]]
    members_present: NotRequired[int | None]
    progress: NotRequired[dict[str, ProgressRow]]
    on_duty_since: NotRequired[str | None]
    registered_by: NotRequired[str]
    registration_version: NotRequired[str]


class TaskDict(TypedDict):
    """A task as :meth:`logistics.dispatch.Task.to_dict` gives it."""

    task_id: str
    kind: str
    concerns_id: str
    kabupaten_code: str
    province_code: str
    required_skills: list[str]
    teams_needed: int
    expected_hours: float
    min_rank: str


class OverrideRow(TypedDict):
    """Table ``overrides``: a coordinator's dispatch override ``<task>|<team>``."""

    task_id: str
    team_id: str
    action: str  # assign or release
    reason: str
    coordinator: str
    version: str


class GateRow(TypedDict):
    """Table ``overrides``, key ``gate|shipment|<shipment>`` or ``gate|team|<task>|<team>``: a
    coordinator's approval or decline of what the national tier sends the province
    (:mod:`streams.planning.gate`). ``need`` is the need when decided — units of the item at
    the shelter for a shipment, teams the task needs for a team — what a decline's "until
    the need changes materially" compares with."""

    gate: str  # "shipment" or "team"
    decision: str  # approved or declined
    reason: str | None
    coordinator: str
    at: str
    version: str
    need: float
    shipment_id: NotRequired[str]
    shelter_id: NotRequired[str]
    item: NotRequired[str]
    task_id: NotRequired[str]
    team_id: NotRequired[str]
    accepted_at: NotRequired[str]


# ---------------------------------------------------------------- incidents, declarations


class IncidentRow(TypedDict):
    """Table ``incidents`` (the newest report, :func:`streams.incidents.merge_incident`)."""

    incident_id: str
    incident_type: str
    location: Location
    province_code: str
    kabupaten_code: str | None
    severity: int
    affected: int
    displaced: int
    injured: int
    dead: int
    posko_id: str
    reported_at: str
    first_reported_at: str
    version: str
    observed_needs: NotRequired[list[dict[str, Any]]]
    description: NotRequired[str | None]
    source: NotRequired[str]
    last_event_id: NotRequired[str]
    accepted_at: NotRequired[str]


class DeclarationRow(TypedDict):
    """Table ``declarations``: an emergency declaration (releases Lumbung Sosial stock of its
    kabupaten, or of the whole province without one)."""

    declaration_id: str
    province_code: str
    kabupaten_code: str | None
    declared_by: str
    reference: str | None
    declared_at: str


# ---------------------------------------------------------------- kitchens


class ServedMeal(TypedDict):
    portions: int
    team_id: str
    version: str


class KitchenRow(TypedDict):
    """Table ``kitchens``: one public kitchen (dapur umum), ``streams/kitchens.py``."""

    kitchen_id: str
    name: str
    location: Location | None
    province_code: str
    kabupaten_code: str | None
    units: int
    portions_per_cooking: int
    cookings_per_day: int
    team_ids: list[str]
    assigned_shelter_ids: list[str]
    warehouse_id: str | None
    proposal_id: str | None
    status: KitchenStatus
    registered_by: NotRequired[str]
    registration_version: NotRequired[str]
    status_version: NotRequired[str]
    served: NotRequired[dict[str, dict[str, ServedMeal]]]  # local day → meal → served
    received: NotRequired[dict[str, Received]]
    updated_at: NotRequired[str]
    accepted_at: NotRequired[str]


# ---------------------------------------------------------------- plan lines


class PickLine(TypedDict):
    """A batch a plan line takes from (:meth:`logistics.allocation.BatchPick.to_dict`)."""

    batch_id: str
    quantity: int
    expiry: str | None


class ProposalLine(TypedDict):
    """A plan's proposal (:meth:`logistics.allocation.ShipmentProposal.to_dict`); the national
    tier's carry where they come from (``origin``, ``warehouse_province``)."""

    proposal_id: str
    plan_id: str
    warehouse_id: str
    shelter_id: str
    item_id: str
    unit: str
    quantity: int
    batches: list[PickLine]
    travel_hours: float
    eta: str
    explanation: dict[str, Any]
    summary: NotRequired[str]
    origin: NotRequired[Location | None]
    warehouse_province: NotRequired[str]
    warehouse_name: NotRequired[str | None]
    approval_required: NotRequired[bool]  # a national line: the receiving province approves


class ShortfallLine(TypedDict):
    """A plan's shortfall (:meth:`logistics.allocation.Shortfall.to_dict`)."""

    shortfall_id: str
    plan_id: str
    shelter_id: str
    item_id: str
    unit: str
    need: int
    covered: int
    missing: int
    explanation: dict[str, Any]
    reason: str
    summary: str


class PlanDict(TypedDict):
    """A supply plan (:meth:`logistics.allocation.Plan.to_dict`)."""

    plan_id: str
    planned_at: str
    profile_ids: list[str]
    rules: dict[str, Any]
    proposals: list[ProposalLine]
    shortfalls: list[ShortfallLine]
    remaining: list[dict[str, Any]]
    stats: list[dict[str, Any]]
    objective: NotRequired[Any]


# ---------------------------------------------------------------- the national tier's results


class CoveredTask(TypedDict):
    """A task of this province the national tier covers with another province's team: the
    team (name, home province), its travel, why it was chosen, whether the receiving
    province must approve it and how many teams the task needed when it was sent."""

    task_id: str
    team_id: str
    team_province: NotRequired[str]
    team_name: NotRequired[str | None]
    travel_hours: NotRequired[float | None]
    why: NotRequired[dict[str, Any] | None]
    approval_required: NotRequired[bool]
    teams_needed: NotRequired[int]


class MobilisedTeam(TypedDict):
    """A team of this province the national tier sent to a task (here or elsewhere), with
    the receiving province's approval (``awaiting``: not dispatched yet)."""

    team_id: str
    task_id: str
    task_province: NotRequired[str]
    kind: NotRequired[str]
    target_id: NotRequired[str]
    location: NotRequired[Location | None]
    travel_hours: NotRequired[float | None]
    why: NotRequired[dict[str, Any] | None]
    approval: NotRequired[Approval]


class NationalResults(TypedDict, total=False):
    """The national tier's results for a province (:func:`streams.store.national_view`)."""

    proposals: list[ProposalLine]
    tasks_covered: list[CoveredTask]
    mobilised_here: list[MobilisedTeam]


# ---------------------------------------------------------------- the team plan


class AssignmentDetail(TypedDict):
    """A team's standing assignment (:meth:`logistics.dispatch.Assignment.to_dict`) and
    when it was dispatched."""

    assignment_id: str
    dispatch_id: str
    task_id: str
    team_id: str
    tier: Tier
    travel_hours: float
    within_target: bool
    explanation: str
    why: dict[str, Any] | None
    dispatched_at: str


class UncoveredTask(TypedDict):
    """A task the province's teams cannot cover
    (:meth:`logistics.dispatch.UncoveredTask.to_dict`)."""

    task_id: str
    teams_needed: int
    teams_assigned: int
    eligible_teams: int
    reason: str


class TeamsPlan(TypedDict):
    """The province's team plan: standing assignments per task, each task's tier, what is
    uncovered, the assignments' details per team, the tasks, the task loop's progress
    (``"<task>|<team>"`` → step) and the teams that timed out per task."""

    assignments: dict[str, list[str]]
    tiers: dict[str, str]
    uncovered: list[UncoveredTask]
    details: dict[str, AssignmentDetail]
    tasks: dict[str, TaskDict]
    progress: dict[str, str]
    timed_out: dict[str, list[str]]


class PreviousTeams(TypedDict, total=False):
    """The previous team plan as the planner reads it back (``streams.store._teams_view``)."""

    assignments: dict[str, list[str]]
    tiers: dict[str, str]
    uncovered: list[UncoveredTask]
    details: dict[str, AssignmentDetail]
    tasks: dict[str, TaskDict]
    progress: dict[str, str]
    timed_out: dict[str, list[str]]


# ---------------------------------------------------------------- what a plan returns


class PlanRow(TypedDict):
    """What the planner keeps of a plan (``ProvinceOutcome.plan``): the supply plan, the team
    plan, the sequence, the hashes of the views it projected, and its time."""

    plan: PlanDict
    teams: TeamsPlan
    seq: int
    projected: dict[str, str]
    planned_at: str


class Previous(TypedDict, total=False):
    """The previous plan as the planner starts from it (:func:`streams.store.assemble`;
    empty for a province's first plan)."""

    seq: int
    planned_at: str
    digest: str | None
    plan: PlanDict
    teams: PreviousTeams
    projected: dict[str, str]


class EscalatedShortfall(TypedDict):
    shelter_id: str
    item_id: str
    unit: str
    missing: int
    priority: float
    headcount: int
    vulnerable_share: float
    severity: int
    days: float
    profile_id: str
    profile_version: str
    location: Location | None
    kabupaten_code: str | None


class EscalatedTask(TaskDict):
    """An uncovered task with how many teams it lacks and where it is, and the mobilised
    teams its coordinators approved or declined (:mod:`streams.planning.gate`)."""

    missing_teams: int
    location: Location | None
    approved_teams: NotRequired[list[str]]
    declined_teams: NotRequired[list[str]]


class SpareTeam(TypedDict):
    team_id: str
    name: NotRequired[str | None]
    kabupaten_code: str
    province_code: str
    skills: list[str]
    rank: str
    hours_on_duty: float
    location: Location
    refused: list[str]  # tasks it declined, let time out or finished


class RegionalBatch(TypedDict):
    batch_id: str
    item: str
    unit: str
    quantity: int
    expires_on: str | None


class RegionalStock(TypedDict):
    warehouse_id: str
    name: str | None
    location: Location | None
    batches: list[RegionalBatch]


class Escalation(TypedDict):
    """What goes up to the national tier (:mod:`streams.national`): shortfalls (gross of
    what it proposed), uncovered tasks, spare teams, regional stock, national shipments."""

    province_code: str
    seq: int
    planned_at: str
    shortfalls: list[EscalatedShortfall]
    uncovered_tasks: list[EscalatedTask]
    spare_teams: list[SpareTeam]
    regional_stock: list[RegionalStock]
    national_shipments: list[dict[str, Any]]


#: A read-model view (the projector stores it as JSON).
View = dict[str, Any]
#: An output event (``type`` and its fields; ``streams/outputs.py`` envelopes it).
OutputEvent = dict[str, Any]
#: (entity, id, view or None = deleted): a read-model change.
EntityChange = tuple[str, str, View | None]
