"""Re-planning one province: table state in, plan and projections out. Pure (no I/O).

The planner agent (``streams/planner.py``) reads a province's tables, calls
:func:`plan_province`, writes the result back and emits what changed. Everything
here is deterministic: the plan time is the newest event time in the state (not
the wall clock), ids derive from the province and the plan sequence, so
replaying the same events gives the same plans.

Tiers: the province plans from its own provincial, kabupaten and Lumbung Sosial
stores and its own TAGANA teams. What it cannot cover (shortfalls, uncovered
tasks) it reports upward; the national tier (``streams/national.py``) plans those
from the regional warehouses (``kind = regional``) and spare teams of other
provinces, and its results come back as national allocations.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

import geo
from logistics.allocation import BatchPick, Plan
from logistics.dispatch import (
    Task,
    Team,
    TeamTravelHours,
    assignment_status,
    dispatch,
    hours_on_duty,
)
from logistics.explain import explain_proposal, explain_shortfall
from logistics.needs import ShelterHeadcount, compute_needs, load_profile
from logistics.replan import replan
from logistics.shipment import Shipment
from logistics.stock import ReleaseRules, StockBatch, TravelHours, Warehouse
from logistics.tasks import incident_tasks, shelter_tasks
from streams import kitchen_planning
from streams.changes import content_hash

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
REGIONAL = "regional"

@dataclass(frozen=True)
class PlanningOptions:
    profile_id: str = "bnpb-perka-7-2008"
    days_of_cover: float = 3.0
    replan_threshold: float = 0.05
    fatigue_limit_hours: float = 12.0
    allow_near_expiry: bool = False


@dataclass
class ProvinceState:
    """A province's tables, as plain dicts (see ``streams/ingest.py``)."""

    province_code: str
    shelters: dict[str, Any] = field(default_factory=dict)
    warehouses: dict[str, Any] = field(default_factory=dict)
    teams: dict[str, Any] = field(default_factory=dict)
    shipments: dict[str, Any] = field(default_factory=dict)
    incidents: dict[str, Any] = field(default_factory=dict)
    declarations: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    national: dict[str, Any] = field(default_factory=dict)  # allocations from the national tier
    kitchens: dict[str, Any] = field(default_factory=dict)  # public kitchens (dapur umum)

    def digest(self) -> str:
        """Fingerprint of every input; equal digests plan identically."""
        payload = json.dumps(
            [
                self.shelters,
                self.warehouses,
                self.teams,
                self.shipments,
                self.incidents,
                self.declarations,
                self.overrides,
                self.national,
            ] + ([self.kitchens] if self.kitchens else []),
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class ProvinceOutcome:
    plan: dict[str, Any]  # logistics Plan.to_dict()
    shipments: dict[str, Any]  # the new shipments table value
    entities: list[tuple[str, str, dict[str, Any] | None]]  # (entity, id, data or None=deleted)
    escalation: dict[str, Any]  # what goes up to the national tier
    events: list[dict[str, Any]]  # output events (proposals, cancellations, dispatches, …)


def _dt(text: str | None) -> datetime:
    return datetime.fromisoformat(text) if text else EPOCH


def _accepted(row: dict[str, Any], field: str) -> datetime:
    """The row's time for the plan clock: its newest event's own time, but never later than
    when the receiving side accepted that event (``accepted_at``, kept with the row)."""
    at = _dt(row.get(field))
    accepted = row.get("accepted_at")
    return min(at, _dt(accepted)) if accepted else at


def plan_time(state: ProvinceState) -> datetime:
    """The plan's deterministic 'now': the newest input time, each bounded by when the
    receiving side accepted it.

    Accepted times come from the receiving side (the Kafka record's timestamp, never later
    than the worker's clock), so one report stamped in the future by a phone with a wrong
    clock cannot move the province's clock; a replay of a past disaster keeps its own
    timeline (its events are older than when they were accepted).
    """
    times = [EPOCH]
    for shelter in state.shelters.values():
        times.append(_accepted(shelter, "updated_at"))
    for warehouse in state.warehouses.values():
        times.append(_accepted(warehouse, "updated_at"))
        for batch in warehouse.get("batches", {}).values():
            times.append(_accepted(batch, "counted_at"))
    for team in state.teams.values():
        times.append(_accepted(team, "updated_at"))
    for shipment in state.shipments.values():
        times.append(_accepted(shipment, "updated_at"))
    for incident in state.incidents.values():
        times.append(_accepted(incident, "reported_at"))
    for kitchen in state.kitchens.values():
        times.append(_accepted(kitchen, "updated_at"))
    return max(times)


def _short_hash(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:12]


# ---------------------------------------------------------------- stock accounting


def _shipments_by_warehouse(state: ProvinceState) -> dict[str, list[dict[str, Any]]]:
    by: dict[str, list[dict[str, Any]]] = {}
    for shipment in state.shipments.values():
        by.setdefault(shipment["warehouse_id"], []).append(shipment)
    return by


def effective_on_hand(
    state: ProvinceState,
    warehouse: dict[str, Any],
    shipments: list[dict[str, Any]] | None = None,
) -> dict[str, int]:
    """Whole units physically in each batch: the last count minus what left after it.

    A stock count is a snapshot; shipments dispatched after the count have left the
    building, shipments dispatched before it are already excluded from it. What left is
    kept on the batch (``departures``, recorded when a shipment is dispatched, so it
    outlives the shipment in the working state); a dispatched shipment still in the state
    counts once either way. ``shipments`` are this warehouse's (all of the state's when
    omitted).
    """
    if shipments is None:
        shipments = [
            s for s in state.shipments.values() if s["warehouse_id"] == warehouse["warehouse_id"]
        ]
    picks: dict[str, dict[str, tuple[datetime, int]]] = {}
    for shipment in shipments:
        dispatched_at = shipment.get("dispatched_at")
        if dispatched_at is None:
            continue
        at = _dt(dispatched_at)
        for pick in shipment.get("batches", []):
            per = picks.setdefault(pick["batch_id"], {})
            per[shipment["shipment_id"]] = (at, int(pick["quantity"]))
    out: dict[str, int] = {}
    for batch_id, batch in warehouse.get("batches", {}).items():
        counted_at = _dt(batch.get("counted_at"))
        left_by = dict(picks.get(batch_id, {}))
        for departure in batch.get("departures", ()):
            left_by[departure["shipment_id"]] = (_dt(departure["at"]), int(departure["quantity"]))
        left = sum(q for at, q in left_by.values() if at > counted_at)
        out[batch_id] = max(0, int(math.floor(batch["on_hand"])) - left)
    return out


def stock_view(
    state: ProvinceState,
    warehouse: dict[str, Any],
    shipments: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Per item: on hand, reserved (confirmed), in transit (dispatched, not yet delivered)."""
    if shipments is None:
        shipments = [
            s for s in state.shipments.values() if s["warehouse_id"] == warehouse["warehouse_id"]
        ]
    on_hand = effective_on_hand(state, warehouse, shipments)
    items: dict[str, dict[str, Any]] = {}
    for batch_id, batch in sorted(warehouse.get("batches", {}).items()):
        row = items.setdefault(
            batch["item"],
            {
                "item": batch["item"],
                "unit": batch["unit"],
                "on_hand": 0,
                "reserved": 0,
                "in_transit": 0,
                "batches": [],
            },
        )
        row["on_hand"] += on_hand[batch_id]
        row["batches"].append(
            {"batch_id": batch_id, "quantity": on_hand[batch_id], "expires_on": batch["expires_on"]}
        )
    for shipment in shipments:
        entry = items.get(shipment["item_id"])
        if entry is None:
            continue
        if shipment["status"] == "confirmed":
            entry["reserved"] += shipment["quantity"]
        elif shipment["status"] == "dispatched":
            entry["in_transit"] += shipment["quantity"]
    return [items[k] for k in sorted(items)]


# ---------------------------------------------------------------- supplies


def _severity_for(state: ProvinceState, shelter: dict[str, Any]) -> int:
    incident = state.incidents.get(shelter.get("incident_id") or "")
    if incident is not None:
        return int(incident["severity"])
    severities = [int(i["severity"]) for i in state.incidents.values()]
    return max(severities) if severities else 3


def deliveries(state: ProvinceState) -> dict[str, dict[str, dict[str, Any]]]:
    """Per shelter, what was delivered to it: ``{shipment_id: {item, quantity, at}}``.

    Kept on the shelter (``received``) when the delivery is recorded, so it outlives the
    closed shipment; a delivered shipment still in the working state counts once either way.
    """
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for shelter_id, shelter in [*state.shelters.items(), *state.kitchens.items()]:
        received = shelter.get("received") or {}
        if received:
            out[shelter_id] = dict(received)
    for shipment in state.shipments.values():
        if shipment["status"] != "delivered":
            continue
        out.setdefault(shipment["shelter_id"], {})[shipment["shipment_id"]] = {
            "item": shipment["item_id"],
            "quantity": int(shipment.get("received_quantity") or 0),
            "at": shipment.get("delivered_at"),
        }
    return out


def _headcounts(state: ProvinceState, now: datetime) -> list[ShelterHeadcount]:
    out = []
    delivered_to = deliveries(state)
    for shelter_id, shelter in sorted(state.shelters.items()):
        count = shelter.get("headcount")
        if not count or shelter.get("location") is None or count["total"] <= 0:
            continue
        delivered = [_dt(d.get("at")) for d in delivered_to.get(shelter_id, {}).values()]
        since = (now - max(delivered)).total_seconds() / 3600 if delivered else None
        # The wire counts pregnant and lactating women together; split them evenly (an
        # assumption: the standards add different rations for each).
        pregnant = count["pregnant_lactating"] // 2
        out.append(
            ShelterHeadcount(
                shelter_id=shelter_id,
                total=count["total"],
                infants=count["infants"],
                children=count["children"],
                elderly=count["elderly"],
                pregnant=pregnant,
                lactating=count["pregnant_lactating"] - pregnant,
                disabled=count["disabled"],
                kabupaten_code=shelter.get("kabupaten_code") or "",
                province_code=state.province_code,
                severity=_severity_for(state, shelter),
                hours_since_delivery=None if since is None else max(0.0, since),
                reported_at=_dt(count.get("counted_at")),
            )
        )
    return out


def _received_recently(
    state: ProvinceState, now: datetime, days: float
) -> dict[tuple[str, str], int]:
    """Units delivered within the days-of-cover window count as on hand at the shelter."""
    window_start = now - timedelta(days=days)
    out: dict[tuple[str, str], int] = {}
    for shelter_id, received in deliveries(state).items():
        for delivery in received.values():
            if _dt(delivery.get("at")) < window_start:
                continue
            key = (shelter_id, delivery["item"])
            out[key] = out.get(key, 0) + int(delivery["quantity"])
    return out


def _national_in_transit(state: ProvinceState) -> dict[tuple[str, str], int]:
    """Units the national tier has proposed for this province's shelters."""
    out: dict[tuple[str, str], int] = {}
    for allocation in state.national.get("proposals", []):
        key = (allocation["shelter_id"], allocation["item_id"])
        out[key] = out.get(key, 0) + int(allocation["quantity"])
    return out


def _declared_areas(state: ProvinceState) -> frozenset[str]:
    areas: set[str] = set()
    for declaration in state.declarations.values():
        if declaration.get("kabupaten_code"):
            areas.add(declaration["kabupaten_code"])
        else:
            areas.update(
                w.get("kabupaten_code") or ""
                for w in state.warehouses.values()
                if (w.get("kabupaten_code") or "").startswith(state.province_code + ".")
            )
    return frozenset(a for a in areas if a)


def _local_warehouses(state: ProvinceState) -> list[dict[str, Any]]:
    return [
        w
        for _, w in sorted(state.warehouses.items())
        if w.get("kind") and w["kind"] != REGIONAL and w.get("location") is not None
    ]


def shipment_of(row: dict[str, Any]) -> Shipment:
    """The logistics shipment behind a shipments-table row."""
    return Shipment(
        shipment_id=row["shipment_id"],
        proposal_id=row["proposal_id"],
        warehouse_id=row["warehouse_id"],
        shelter_id=row["shelter_id"],
        item_id=row["item_id"],
        quantity=int(row["quantity"]),
        status=row["status"],
        batches=tuple(
            BatchPick(b["batch_id"], int(b["quantity"]), None) for b in row.get("batches", [])
        ),
    )


def _committed(state: ProvinceState) -> list[Shipment]:
    return [shipment_of(s) for s in state.shipments.values() if s.get("tier") != "national"]


def _travel(
    origins: list[dict[str, Any]], destinations: list[dict[str, Any]]
) -> np.ndarray[Any, np.dtype[np.float64]]:
    if not origins or not destinations:
        return np.zeros((len(origins), len(destinations)))
    o = np.array([[x["location"]["lat"], x["location"]["lon"]] for x in origins])
    d = np.array([[x["location"]["lat"], x["location"]["lon"]] for x in destinations])
    return np.asarray(geo.cost_matrix(o, d).hours, dtype=np.float64)


def plan_supplies(
    state: ProvinceState, previous: Plan | None, plan_id: str, now: datetime, opts: PlanningOptions,
    kitchens_out: list[Any] | None = None,
) -> tuple[Plan, list[Any]]:
    """The province's supply plan; served shelters' meals go to their kitchens as ingredients
    (``kitchens_out`` receives the :class:`logistics.kitchens.KitchenPlan`)."""
    profile = load_profile(opts.profile_id)
    headcounts = _headcounts(state, now)
    on_hand = _received_recently(state, now, opts.days_of_cover)
    # National proposals are not subtracted here: the shortfalls sent up must stay gross of
    # them, or the national plan would shrink its own need and oscillate. Only committed
    # national shipments (confirmed or on the road) count as in transit.
    in_transit: dict[tuple[str, str], int] = {}
    for shipment in state.shipments.values():
        # national-tier shipments in flight count as in transit too
        if shipment.get("tier") == "national" and shipment["status"] in ("confirmed", "dispatched"):
            key = (shipment["shelter_id"], shipment["item_id"])
            in_transit[key] = in_transit.get(key, 0) + int(shipment["quantity"])
    needs = compute_needs(
        headcounts, profile, opts.days_of_cover, on_hand=on_hand, in_transit=in_transit
    )
    meals = kitchen_planning.plan_meals(
        state, needs, headcounts, profile, opts.days_of_cover, on_hand, in_transit)
    needs = list(meals.needs)
    if kitchens_out is not None:
        kitchens_out.append(meals)
    warehouses = _local_warehouses(state)
    shelters = [state.shelters[h.shelter_id] for h in headcounts]
    shelters += kitchen_planning.destinations(state, needs)
    hours = _travel(warehouses, shelters)
    # A coordinator's hold blocks the pair it was put on.
    row_of = {w["warehouse_id"]: i for i, w in enumerate(warehouses)}
    col_of = {s["shelter_id"]: j for j, s in enumerate(shelters)}
    for shipment in state.shipments.values():
        if shipment.get("held") and shipment["status"] == "proposed":
            i = row_of.get(shipment["warehouse_id"])
            j = col_of.get(shipment["shelter_id"])
            if i is not None and j is not None:
                hours[i, j] = np.inf
    travel = TravelHours(
        tuple(w["warehouse_id"] for w in warehouses),
        tuple(s["shelter_id"] for s in shelters),
        hours,
    )
    stock = []
    by_warehouse = _shipments_by_warehouse(state)
    for w in warehouses:
        on_hand_units = effective_on_hand(state, w, by_warehouse.get(w["warehouse_id"], []))
        for batch_id, batch in sorted(w.get("batches", {}).items()):
            stock.append(
                StockBatch(
                    warehouse_id=w["warehouse_id"],
                    item_id=batch["item"],
                    batch_id=batch_id,
                    quantity=on_hand_units[batch_id],
                    expiry=date.fromisoformat(batch["expires_on"]) if batch["expires_on"] else None,
                )
            )
    logistic_warehouses = [
        Warehouse(
            id=w["warehouse_id"],
            kind=w["kind"],
            area_code=w.get("kabupaten_code") or "",
            name=w.get("name", ""),
        )
        for w in warehouses
    ]
    rules = ReleaseRules(
        plan_date=now.date(),
        declared_areas=_declared_areas(state),
        allow_near_expiry=opts.allow_near_expiry,
    )
    prev = previous or Plan(plan_id, now, (profile.id,), rules, (), (), (), ())
    result = replan(
        prev,
        plan_id,
        now,
        needs,
        stock,
        logistic_warehouses,
        travel,
        rules,
        committed=_committed(state),
        threshold=opts.replan_threshold,
    )
    return result.plan, needs


# ---------------------------------------------------------------- teams


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


def _task_location(state: ProvinceState, task: Task) -> dict[str, Any] | None:
    if task.kind == "evacuation":
        incident = state.incidents.get(task.concerns_id)
        return incident["location"] if incident else None
    shelter = state.shelters.get(task.concerns_id)
    return shelter["location"] if shelter else None


def plan_teams(
    state: ProvinceState, previous: dict[str, Any], dispatch_id: str, now: datetime,
    opts: PlanningOptions, fed: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Assign this province's teams; keep standing assignments (no churn), honour overrides.

    Returns ``{"assignments": {task_id: [team_id…]}, "tiers": {...}, "uncovered": [...],
    "details": {team_id: assignment dict}}``.
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
    national_pins = {
        a["team_id"]: a["task_id"] for a in state.national.get("mobilised_here", [])
    }
    # Standing assignments stay while task and team are still valid.
    standing: dict[str, list[str]] = {}
    for task_id, team_ids in previous.get("assignments", {}).items():
        if task_id not in task_by_id:
            continue
        keep = [tid for tid in team_ids if tid in teams and tid not in national_pins]
        standing[task_id] = keep
    released = {
        (o["task_id"], o["team_id"]) for o in state.overrides.values() if o["action"] == "release"
    }
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
    for o in sorted(state.overrides.values(), key=lambda o: o["version"]):
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
    new_details: dict[str, Any] = {}
    tiers: dict[str, str] = dict(previous.get("tiers", {}))
    uncovered: list[dict[str, Any]] = []
    if open_tasks and free:
        located = [t for t in open_tasks if _task_location(state, t) is not None]
        hours = _travel(free, [{"location": _task_location(state, t)} for t in located])
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
            new_details[a.team_id] = dict(a.to_dict(), dispatched_at=now.isoformat())
        tiers.update(result.task_tiers)
        uncovered = [u.to_dict() for u in result.uncovered]
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
        "tasks": {t.task_id: t.to_dict() for t in tasks},
        "progress": {f"{task}|{team}": status for (task, team), status in
                     sorted(progress.items())},
        "timed_out": {task: sorted(t for (k, t), st in progress.items()
                                   if k == task and st == "timed_out")
                      for task in sorted({k for (k, _), st in progress.items()
                                          if st == "timed_out" and k in task_by_id})},
    }


def duty_hours(team: dict[str, Any], now: datetime) -> float:
    """A team row's hours on duty at ``now`` (logistics' hours_on_duty: from the task loop)."""
    since = team.get("on_duty_since")
    return hours_on_duty(float(team.get("hours_on_duty") or 0.0), _dt(since) if since else None,
                         now)


LOOP_ORDER = ("dispatched", "acknowledged", "en_route", "arrived", "done")


def _loop_view(team: dict[str, Any], task_id: str, detail: dict[str, Any]) -> dict[str, Any]:
    """A standing assignment's place in the task loop, with the time of each step."""
    entry = (team.get("progress") or {}).get(task_id) or {}
    times = {"dispatched": detail.get("dispatched_at")}
    times.update({k[: -len("_at")]: v for k, v in entry.items() if k.endswith("_at")})
    return {"status": entry.get("status") or "dispatched", "times": times}


def _progress_by_task(teams_plan: dict[str, Any]) -> dict[str, dict[str, str]]:
    """task → {team: its step} of the plan's progress (grouped once, not per task)."""
    out: dict[str, dict[str, str]] = {}
    for pair, status in teams_plan.get("progress", {}).items():
        task, team_id = pair.split("|", 1)
        out.setdefault(task, {})[team_id] = status
    return out


def _task_loop_view(
    state: ProvinceState, teams_plan: dict[str, Any], task_id: str, assigned: list[str],
    progress: dict[str, str],
) -> dict[str, Any]:
    """The task's status for the dashboard: each team's step (``teams``), and the task's —
    ``done`` when every slot is done, else the furthest step of a team on it, ``dispatched``,
    or ``unassigned``. ``progress``: this task's {team: step}."""
    details = teams_plan["details"]
    teams = []
    for team_id, status in sorted(progress.items()):
        if team_id in assigned:
            continue
        team = state.teams.get(team_id) or {}
        entry = (team.get("progress") or {}).get(task_id) or {}
        teams.append({"team_id": team_id, "name": team.get("name"), "status": status,
                      "reason": entry.get("reason") if status == "declined"
                      else ("not acknowledged in time" if status == "timed_out" else None),
                      "times": {k[: -len("_at")]: v for k, v in entry.items()
                                if k.endswith("_at")}})
    for team_id in assigned:
        team = state.teams.get(team_id) or {}
        view = _loop_view(team, task_id, details.get(team_id, {}))
        teams.append({"team_id": team_id, "name": team.get("name"), "reason": None, **view})
    needed = int(teams_plan["tasks"][task_id]["teams_needed"])
    done = sum(1 for t in teams if t["status"] == "done")
    active = [t["status"] for t in teams if t["team_id"] in assigned]
    overall: str = "unassigned"
    if done >= needed:
        overall = "done"
    elif active:
        overall = str(max(active, key=LOOP_ORDER.index))
    return {"status": overall, "teams": teams}


def assignment_progress(
    state: ProvinceState, details: dict[str, Any], now: datetime,
    timed_out: dict[str, list[str]] | None = None,
) -> dict[tuple[str, str], str]:
    """(task, team) → where the team's assignment stands (logistics' assignment_status):
    every step a team reported, and ``timed_out`` for a standing dispatch not acknowledged
    in time (``details``: the standing assignments, with when each was dispatched;
    ``timed_out``: task → teams that timed out before, kept while the task lasts)."""
    timed_out = timed_out or {}
    out: dict[tuple[str, str], str] = {}
    for team_id, team in state.teams.items():
        for task_id, entry in (team.get("progress") or {}).items():
            out[(task_id, team_id)] = str(entry.get("status"))
    for task_id, team_ids in timed_out.items():
        for team_id in team_ids:
            out.setdefault((task_id, team_id), "timed_out")
    for team_id, detail in details.items():
        pair = (str(detail.get("task_id")), team_id)
        # only teams on the phone loop (registered) acknowledge; Siaga alone dispatches others
        registered = (state.teams.get(team_id) or {}).get("registration_version")
        if pair in out or not detail.get("dispatched_at") or not registered:
            continue
        status = assignment_status(None, _dt(detail["dispatched_at"]), now)
        if status != "dispatched":
            out[pair] = status
    return out


def _kitchen_views(
    state: ProvinceState, meals: Any, needs: list[Any], planned: dict[tuple[str, str], int],
    by_wh: dict[str, list[dict[str, Any]]], now: datetime, opts: PlanningOptions,
) -> dict[tuple[str, str], dict[str, Any]]:
    """Kitchens, proposals to open one, and kitchen capacity shortfalls (read models)."""
    profile = load_profile(opts.profile_id)

    def units(warehouse: dict[str, Any]) -> int:
        on_hand = effective_on_hand(state, warehouse, by_wh.get(warehouse["warehouse_id"], []))
        return kitchen_planning.dumlap_units(on_hand, warehouse)

    proposals, blocked = kitchen_planning.propose(state, meals, profile, units)
    return kitchen_planning.views(state, meals, proposals, blocked, planned, needs,
                                  now.isoformat())


# ---------------------------------------------------------------- the whole province


def _shipment_entity(
    state: ProvinceState, shipment: dict[str, Any]
) -> dict[str, Any]:
    warehouse = state.warehouses.get(shipment["warehouse_id"]) or {}
    shelter = (state.shelters.get(shipment["shelter_id"])
               or state.kitchens.get(shipment["shelter_id"]) or {})
    origin = shipment.get("origin") or warehouse.get("location")
    return {
        "shipment_id": shipment["shipment_id"],
        "status": shipment["status"],
        "held": bool(shipment.get("held")),
        "tier": shipment.get("tier", "province"),
        "warehouse_id": shipment["warehouse_id"],
        "warehouse_name": shipment.get("warehouse_name") or warehouse.get("name"),
        "shelter_id": shipment["shelter_id"],
        "shelter_name": shelter.get("name"),
        "item": shipment["item_id"],
        "unit": shipment.get("unit"),
        "quantity": shipment["quantity"],
        "batches": shipment.get("batches", []),
        "eta_hours": shipment.get("travel_hours"),
        "eta": shipment.get("eta"),
        "province_code": state.province_code,
        "origin": origin,
        "location": shelter.get("location"),
        "explanation": shipment.get("summary", ""),
        "why": shipment.get("why"),  # the rule and figures, rendered in the page's language
        "quantity_received": shipment.get("received_quantity"),
        "difference": shipment.get("difference"),
        "reason": shipment.get("reason"),
        "updated_at": shipment.get("updated_at"),
    }


def _new_shipment(
    proposal: dict[str, Any], province: str, now: datetime, tier: str = "province",
    origin: dict[str, Any] | None = None,
) -> dict[str, Any]:
    shipment_id = "shp-" + _short_hash(
        province, proposal["proposal_id"], proposal["item_id"], proposal["warehouse_id"],
        proposal["shelter_id"],
    )
    return {
        "shipment_id": shipment_id,
        "proposal_id": proposal["proposal_id"],
        "warehouse_id": proposal["warehouse_id"],
        "shelter_id": proposal["shelter_id"],
        "item_id": proposal["item_id"],
        "unit": proposal["unit"],
        "quantity": proposal["quantity"],
        "batches": [
            {"batch_id": b["batch_id"], "quantity": b["quantity"], "expires_on": b["expiry"]}
            for b in proposal["batches"]
        ],
        "status": "proposed",
        "held": False,
        "tier": tier,
        "travel_hours": proposal["travel_hours"],
        "eta": proposal["eta"],
        "summary": proposal.get("summary", ""),
        "why": explain_proposal(proposal),
        "origin": origin,
        "warehouse_province": proposal.get("warehouse_province") or province,
        "updated_at": now.isoformat(),
        "applied_events": [],
    }


def _sync_proposals(
    state: ProvinceState,
    proposals: list[dict[str, Any]],
    tier: str,
    now: datetime,
    events: list[dict[str, Any]],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Make the proposed shipments of a tier match the plan's proposals.

    A proposal for a (item, warehouse, shelter) that already has an open proposed
    shipment updates it in place (same shipment id: warehouse staff see it change, not
    vanish); a new pair gets a new shipment; a proposed shipment the plan no longer
    wants is withdrawn (unless a coordinator holds it). Returns the new table value and
    the withdrawn shipments (for the read model).
    """
    shipments = {k: dict(v) for k, v in state.shipments.items()}
    open_by_key = {
        (s["item_id"], s["warehouse_id"], s["shelter_id"]): s
        for s in shipments.values()
        if s["status"] == "proposed" and s.get("tier", "province") == tier
    }
    wanted = set()
    for proposal in proposals:
        key = (proposal["item_id"], proposal["warehouse_id"], proposal["shelter_id"])
        wanted.add(key)
        current = open_by_key.get(key)
        if current is None:
            shipment = _new_shipment(
                proposal, state.province_code, now, tier, proposal.get("origin")
            )
            if shipment["shipment_id"] in shipments:
                # This very proposal was already taken up (confirmed, dispatched…) and the
                # plan that proposed it has not caught up yet: never overwrite a commitment.
                continue
            shipments[shipment["shipment_id"]] = shipment
            events.append({"type": "shipment.proposed", **_public(shipment)})
            continue
        batches = [
            {"batch_id": b["batch_id"], "quantity": b["quantity"], "expires_on": b["expiry"]}
            for b in proposal["batches"]
        ]
        if current["quantity"] != proposal["quantity"] or current["batches"] != batches:
            current.update(
                quantity=proposal["quantity"],
                batches=batches,
                proposal_id=proposal["proposal_id"],
                travel_hours=proposal["travel_hours"],
                eta=proposal["eta"],
                summary=proposal.get("summary", ""),
                why=explain_proposal(proposal),
                updated_at=now.isoformat(),
            )
            shipments[current["shipment_id"]] = current
            events.append({"type": "shipment.proposal_changed", **_public(current)})
        elif current["proposal_id"] != proposal["proposal_id"]:
            current["proposal_id"] = proposal["proposal_id"]
            shipments[current["shipment_id"]] = current
    withdrawn = []
    for key, shipment in open_by_key.items():
        if key in wanted or shipment.get("held"):
            continue
        gone = dict(shipment, status="cancelled", reason="withdrawn by re-plan",
                    updated_at=now.isoformat())
        withdrawn.append(gone)
        del shipments[shipment["shipment_id"]]
        events.append({"type": "shipment.proposal_withdrawn", **_public(gone)})
    return shipments, withdrawn


def _public(shipment: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in shipment.items()
            if k not in ("applied_events", "proposal", "accepted_at")}


# The last plan made per province in this process. The planning process makes a
# province's plans one after the other, so the next re-plan finds its previous plan here
# instead of parsing it back from the table row (thousands of proposals: most of a second
# at 2,000 shelters). Plans are immutable; the mark checks it is the very plan in the row.
_PLANS_MADE: dict[str, tuple[tuple[Any, ...], Plan]] = {}


def _plan_mark(plan: dict[str, Any]) -> tuple[Any, ...]:
    return (plan.get("plan_id"), plan.get("planned_at"), len(plan.get("proposals") or ()),
            len(plan.get("shortfalls") or ()), len(plan.get("remaining") or ()))


def _previous_plan(province: str, row: dict[str, Any] | None) -> Plan | None:
    if not row:
        return None
    made = _PLANS_MADE.get(province)
    if made is not None and made[0] == _plan_mark(row):
        return made[1]
    return Plan.from_dict(row)


def plan_province(
    state: ProvinceState, previous: dict[str, Any], opts: PlanningOptions
) -> ProvinceOutcome:
    """Re-plan a province: supplies, teams, what to project and what to escalate."""
    now = plan_time(state)
    seq = int(previous.get("seq", 0)) + 1
    plan_id = f"plan-{state.province_code}-{seq}"
    events: list[dict[str, Any]] = []

    previous_plan = _previous_plan(state.province_code, previous.get("plan"))
    meals_out: list[Any] = []
    plan, needs = plan_supplies(state, previous_plan, plan_id, now, opts, meals_out)
    plan_dict = plan.to_dict()
    _PLANS_MADE[state.province_code] = (_plan_mark(plan_dict), plan)
    state_after = ProvinceState(**{**state.__dict__})
    shipments, withdrawn = _sync_proposals(state, plan_dict["proposals"], "province", now, events)
    state_after.shipments = shipments
    national_props = [
        dict(p, origin=p.get("origin")) for p in state.national.get("proposals", [])
    ]
    shipments, withdrawn_n = _sync_proposals(state_after, national_props, "national", now, events)
    state_after.shipments = shipments
    withdrawn += withdrawn_n

    teams_plan = plan_teams(state, previous.get("teams", {}), f"dispatch-{plan_id}", now, opts,
                            frozenset(meals_out[0].served_by))
    for task_id, team_ids in teams_plan["assignments"].items():
        before = set(previous.get("teams", {}).get("assignments", {}).get(task_id, []))
        for team_id in sorted(set(team_ids) - before):
            events.append({"type": "team.dispatched", "task_id": task_id, "team_id": team_id,
                           "tier": teams_plan["tiers"].get(task_id, "province")})
    for task_id, team_ids in previous.get("teams", {}).get("assignments", {}).items():
        now_ids = set(teams_plan["assignments"].get(task_id, []))
        for team_id in sorted(set(team_ids) - now_ids):
            events.append({"type": "team.released", "task_id": task_id, "team_id": team_id})

    # ---- read models
    entities: dict[tuple[str, str], dict[str, Any] | None] = {}
    need_rows: dict[str, list[dict[str, Any]]] = {}
    for need in needs:
        need_rows.setdefault(need.shelter_id, []).append(need.to_dict())
    planned: dict[tuple[str, str], int] = {}
    for shipment in shipments.values():
        if shipment["status"] in ("proposed", "confirmed", "dispatched"):
            pair = (shipment["shelter_id"], shipment["item_id"])
            planned[pair] = planned.get(pair, 0) + int(shipment["quantity"])
    shortfall_by = {(s["shelter_id"], s["item_id"]): s for s in plan_dict["shortfalls"]}
    by_wh = _shipments_by_warehouse(state)
    national_cover = _national_in_transit(state)
    catalogue_units = {p["item_id"]: p["unit"] for p in plan_dict["proposals"]}
    for shelter_id, shelter in state.shelters.items():
        rows = []
        total_need = 0.0
        total_unmet = 0.0
        for need in need_rows.get(shelter_id, []):
            pair = (shelter_id, need["item_id"])
            gross = max(need["gross"], 0.0)
            shortfall = shortfall_by.get(pair)
            missing = max(0, int(shortfall["missing"])) if shortfall else 0
            if shortfall and state.national:
                missing = max(0, missing - national_cover.get(pair, 0))
            rows.append({
                "item": need["item_id"],
                "unit": shortfall["unit"] if shortfall else catalogue_units.get(need["item_id"]),
                "need": round(gross, 3),
                "planned": planned.get(pair, 0),
                "in_transit": need["in_transit"],
                "delivered": need["on_hand"],
                "shortfall": missing,
            })
            if gross > 0:
                total_need += 1.0
                total_unmet += min(1.0, missing / gross)
        data = {
            k: shelter.get(k)
            for k in ("shelter_id", "name", "location", "province_code", "kabupaten_code",
                      "incident_id", "capacity", "posko_id", "headcount", "updated_at",
                      # when its newest report was received: orders this view against the
                      # quick view the shelters agent writes (streams.changes.shelter_version)
                      "accepted_at")
        }
        data["needs"] = rows
        data["unmet_share"] = round(total_unmet / total_need, 4) if total_need else 0.0
        if shelter_id in meals_out[0].served_by:
            data["kitchen_id"] = meals_out[0].served_by[shelter_id]
        entities[("shelter", shelter_id)] = data
    entities.update(_kitchen_views(state, meals_out[0], needs, planned, by_wh, now, opts))
    declared = _declared_areas(state)
    after_by_warehouse = _shipments_by_warehouse(state_after)
    for warehouse_id, warehouse in state.warehouses.items():
        data = {
            k: warehouse.get(k)
            for k in ("warehouse_id", "name", "kind", "location", "province_code",
                      "kabupaten_code", "updated_at")
        }
        data["released"] = (
            warehouse.get("kind") != "lumbung_sosial"
            or (warehouse.get("kabupaten_code") or "") in declared
        )
        data["stock"] = stock_view(
            state_after, warehouse, after_by_warehouse.get(warehouse_id, []))
        entities[("warehouse", warehouse_id)] = data
    assignment_of = {
        team_id: task_id
        for task_id, team_ids in teams_plan["assignments"].items()
        for team_id in team_ids
    }
    tasks = {t["task_id"]: t for t in teams_plan["tasks"].values()}
    pinned = {a["team_id"]: a for a in state.national.get("mobilised_here", [])}
    for team_id, team in state.teams.items():
        data = {
            k: team.get(k)
            for k in ("team_id", "name", "location", "province_code", "kabupaten_code",
                      "skills", "members", "rank", "availability", "hours_on_duty")
        }
        task_id = assignment_of.get(team_id)
        if task_id is not None:
            detail = teams_plan["details"].get(team_id, {})
            task = tasks[task_id]
            location = _task_location(state, Task.from_dict(task))
            data["assignment"] = {
                "task_id": task_id,
                "kind": task["kind"],
                "target_id": task["concerns_id"],
                "location": location,
                "tier": teams_plan["tiers"].get(task_id, "province"),
                "eta_hours": detail.get("travel_hours"),
                "why": detail.get("why"),  # rule team_assigned and its figures
                **_loop_view(team, task_id, detail),
            }
            data["availability"] = "assigned"
        elif team_id in pinned:
            data["assignment"] = {
                "task_id": pinned[team_id]["task_id"],
                "kind": pinned[team_id].get("kind"),
                "target_id": pinned[team_id].get("target_id"),
                "location": pinned[team_id].get("location"),
                "tier": "national",
                "eta_hours": pinned[team_id].get("travel_hours"),
                **_loop_view(team, pinned[team_id]["task_id"], {}),
            }
            data["availability"] = "assigned"
        else:
            data["assignment"] = None
        if team.get("registration_version"):  # a team on the phone loop
            data.update({k: team.get(k) for k in (
                "base", "roster", "members_present", "on_duty_since", "registered_by")})
            data["hours_on_duty"] = round(duty_hours(team, now), 2)
        entities[("team", team_id)] = data
    covered_nationally = {
        c["task_id"]: c for c in state.national.get("tasks_covered", [])
    }
    national_teams_of: dict[str, list[str]] = {}
    progress_of = _progress_by_task(teams_plan)
    for c in state.national.get("tasks_covered", []):
        national_teams_of.setdefault(c["task_id"], []).append(c["team_id"])
    for task_id, task in tasks.items():
        assigned = teams_plan["assignments"].get(task_id, [])
        national_teams = national_teams_of.get(task_id, [])
        entities[("task", task_id)] = {
            "task_id": task_id,
            "kind": task["kind"],
            "target_id": task["concerns_id"],
            "location": _task_location(state, Task.from_dict(task)),
            "province_code": state.province_code,
            "teams_required": task["teams_needed"],
            "assigned_team_ids": sorted(assigned + national_teams),
            "tier": "national" if task_id in covered_nationally and not assigned
            else teams_plan["tiers"].get(task_id),
            "uncovered": max(0, task["teams_needed"] - len(assigned) - len(national_teams)),
            **_task_loop_view(state, teams_plan, task_id, assigned,
                              progress_of.get(task_id, {})),
        }
    for shipment in list(shipments.values()) + withdrawn:
        entities[("shipment", shipment["shipment_id"])] = _shipment_entity(state_after, shipment)
    for (shelter_id, item), shortfall in shortfall_by.items():
        missing = int(shortfall["missing"]) - national_cover.get((shelter_id, item), 0)
        shortfall_id = f"{shelter_id}:{item}"
        if missing <= 0:
            continue
        shelter = state.shelters.get(shelter_id) or state.kitchens.get(shelter_id, {})
        entities[("shortfall", shortfall_id)] = {
            "shortfall_id": shortfall_id,
            "shelter_id": shelter_id,
            "shelter_name": shelter.get("name"),
            "item": item,
            "unit": shortfall["unit"],
            "missing": missing,
            "need": shortfall["need"],
            "province_code": state.province_code,
            "location": shelter.get("location"),
            "escalated": True,
            "explanation": shortfall.get("summary", ""),
            "why": explain_shortfall(shortfall),
            "decision": (shelter.get("decisions") or {}).get(item),
        }

    entities[("plan", state.province_code)] = {
        "province_code": state.province_code,
        "plan_id": plan_id,
        "planned_at": now.isoformat(),
        "profile_ids": plan_dict["profile_ids"],
        "items": [
            {k: st[k] for k in ("item_id", "need", "covered", "weighted_need",
                                "weighted_coverage", "unit_hours", "eligible_stock")}
            for st in plan_dict["stats"]
        ],
        "proposals": len(plan_dict["proposals"]),
        "shortfalls": len(plan_dict["shortfalls"]),
        "tasks_uncovered": len(teams_plan["uncovered"]),
    }

    # ---- only what changed
    old_hashes: dict[str, str] = dict(previous.get("projected", {}))
    new_hashes: dict[str, str] = {}
    changed: list[tuple[str, str, dict[str, Any] | None]] = []
    for (entity, entity_id), view in sorted(entities.items()):
        key = f"{entity}:{entity_id}"
        digest = content_hash(view)
        new_hashes[key] = digest
        if old_hashes.get(key) != digest:
            changed.append((entity, entity_id, view))
    for key in sorted(set(old_hashes) - set(new_hashes)):
        entity, entity_id = key.split(":", 1)
        changed.append((entity, entity_id, None))
        if entity == "shortfall":
            events.append({"type": "supply_shortfall.resolved", "shortfall_id": entity_id})
    for entity, entity_id, view in changed:
        # detected once, when the shortfall appears (its size moves in the read model);
        # resolved once, when it is gone
        if entity == "shortfall" and view is not None and f"shortfall:{entity_id}" not in \
                old_hashes:
            events.append({"type": "supply_shortfall.detected", **view})

    refused_by: dict[str, list[str]] = {}
    for pair, status in sorted(teams_plan.get("progress", {}).items()):
        task_of, team_of = pair.split("|", 1)
        if status in ("declined", "timed_out", "done"):
            refused_by.setdefault(team_of, []).append(task_of)
    regional_on_hand = {
        w["warehouse_id"]: effective_on_hand(state, w, by_wh.get(w["warehouse_id"], []))
        for w in state.warehouses.values()
        if w.get("kind") == REGIONAL and w.get("location") is not None
    }
    escalation = {
        "province_code": state.province_code,
        "seq": seq,
        "planned_at": now.isoformat(),
        # Gross of what the national tier already proposed, so its own proposals do not
        # shrink the need it plans for (that would oscillate).
        "shortfalls": [
            {
                "shelter_id": s["shelter_id"],
                "item_id": s["item_id"],
                "unit": s["unit"],
                "missing": int(s["missing"]),
                "priority": s["explanation"]["priority"],
                "headcount": s["explanation"]["headcount"],
                "vulnerable_share": s["explanation"]["vulnerable_share"],
                "severity": s["explanation"]["severity"],
                "days": s["explanation"]["days"],
                "profile_id": s["explanation"]["profile_id"],
                "profile_version": s["explanation"]["profile_version"],
                "location": (state.shelters.get(s["shelter_id"])
                             or state.kitchens.get(s["shelter_id"], {})).get("location"),
                "kabupaten_code": (state.shelters.get(s["shelter_id"])
                                   or state.kitchens.get(s["shelter_id"], {})
                                   ).get("kabupaten_code"),
            }
            for s in plan_dict["shortfalls"]
            if int(s["missing"]) > 0
        ],
        "uncovered_tasks": [
            dict(tasks[u["task_id"]], missing_teams=u["teams_needed"] - u["teams_assigned"],
                 location=_task_location(state, Task.from_dict(tasks[u["task_id"]])))
            for u in teams_plan["uncovered"]
            if u["task_id"] in tasks
        ],
        "spare_teams": [
            {
                "team_id": t["team_id"],
                "kabupaten_code": t.get("kabupaten_code") or "",
                "province_code": state.province_code,
                "skills": t["skills"],
                "rank": t.get("rank") or "muda",
                # real hours from the task loop (the national tier applies the same limit)
                "hours_on_duty": duty_hours(t, now),
                "location": t["location"],
                # tasks this team declined, let time out or finished: not sent to them again
                "refused": refused_by.get(tid, []),
            }
            for tid, t in sorted(state.teams.items())
            if t["availability"] in ("available", "assigned") and tid not in assignment_of
        ],
        "regional_stock": [
            {
                "warehouse_id": w["warehouse_id"],
                "name": w.get("name"),
                "location": w.get("location"),
                "batches": [
                    {"batch_id": b, "item": batch["item"], "unit": batch["unit"],
                     "quantity": regional_on_hand[w["warehouse_id"]][b],
                     "expires_on": batch["expires_on"]}
                    for b, batch in sorted(w.get("batches", {}).items())
                ],
            }
            for _, w in sorted(state.warehouses.items())
            if w.get("kind") == REGIONAL and w.get("location") is not None
        ],
        "national_shipments": [
            {k: s.get(k) for k in ("shipment_id", "proposal_id", "warehouse_id", "item_id",
                                   "quantity", "status", "batches", "dispatched_at")}
            for s in sorted(shipments.values(), key=lambda s: s["shipment_id"])
            if s.get("tier") == "national" and s["status"] != "proposed"
        ],
    }
    return ProvinceOutcome(
        plan={"plan": plan_dict, "teams": teams_plan, "seq": seq, "projected": new_hashes,
              "planned_at": now.isoformat()},
        shipments=shipments,
        entities=changed,
        escalation=escalation,
        events=events,
    )
