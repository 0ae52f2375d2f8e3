"""What a province sends up to the national tier (:mod:`streams.national`).

Its shortfalls (gross of what the national tier already proposed, so that its own proposals
do not shrink the need it plans for — that would oscillate), its uncovered tasks, the teams
it can spare, the regional warehouses' stock it holds, and the national-tier shipments taken
up here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from streams.planning.gate import Gates, read_gates
from streams.planning.rows import (
    EscalatedShortfall,
    EscalatedTask,
    Escalation,
    PlanDict,
    RegionalStock,
    ShipmentRow,
    SpareTeam,
    TeamsPlan,
)
from streams.planning.state import REGIONAL, ProvinceState, place_of
from streams.planning.stock import effective_on_hand, shipments_by_warehouse
from streams.planning.teams import duty_hours, task_location
from streams.planning.views import assignment_of

Pair = tuple[str, str]  # (shelter, item)
NATIONAL_SHIPMENT_FIELDS = ("shipment_id", "proposal_id", "warehouse_id", "item_id", "quantity",
                            "status", "batches", "dispatched_at")


def escalate(
    state: ProvinceState, seq: int, now: datetime, plan: PlanDict, teams_plan: TeamsPlan,
    shipments: Mapping[str, ShipmentRow], gates: Gates | None = None,
    need_of: Mapping[Pair, float] | None = None,
) -> Escalation:
    """The province's escalation snapshot after plan ``seq`` (``gates``: its coordinators'
    decisions on what the national tier sent; ``need_of``: each shelter's need of an item)."""
    gates = read_gates(state) if gates is None else gates
    return {
        "province_code": state.province_code,
        "seq": seq,
        "planned_at": now.isoformat(),
        "shortfalls": shortfalls(state, plan, gates, need_of or {}, shipments),
        "uncovered_tasks": uncovered_tasks(state, teams_plan, gates),
        "spare_teams": spare_teams(state, teams_plan, now),
        "regional_stock": regional_stock(state),
        "national_shipments": [
            {k: s.get(k) for k in NATIONAL_SHIPMENT_FIELDS}
            for s in sorted(shipments.values(), key=lambda s: s["shipment_id"])
            if s.get("tier") == "national" and s["status"] != "proposed"
        ],
    }


def shortfalls(
    state: ProvinceState, plan: PlanDict, gates: Gates | None = None,
    need_of: Mapping[Pair, float] | None = None,
    shipments: Mapping[str, ShipmentRow] | None = None,
) -> list[EscalatedShortfall]:
    """The plan's shortfalls with what the national tier weighs them by, and where.

    Where a coordinator's decline of the national tier's help stands (the need has not grown
    by a quarter since), only what they approved goes up: the national tier then proposes
    nothing more for it (and withdraws what awaited approval)."""
    gates = gates or Gates()
    approved: dict[Pair, int] = {}
    if gates.needs:
        for row in (shipments or {}).values():
            if row.get("tier") == "national" and row["status"] == "proposed" and \
                    row.get("approval") == "approved":
                pair = (row["shelter_id"], row["item_id"])
                approved[pair] = approved.get(pair, 0) + int(row["quantity"])
    out: list[EscalatedShortfall] = []
    for s in plan["shortfalls"]:
        missing = int(s["missing"])
        pair = (s["shelter_id"], s["item_id"])
        if gates.needs and gates.need_decline(pair, (need_of or {}).get(pair, 0.0)):
            missing = min(missing, approved.get(pair, 0))
        if missing <= 0:
            continue
        place: Mapping[str, Any] = place_of(state, s["shelter_id"]) or {}
        explanation = s["explanation"]
        out.append({
            "shelter_id": s["shelter_id"],
            "item_id": s["item_id"],
            "unit": s["unit"],
            "missing": missing,
            "priority": explanation["priority"],
            "headcount": explanation["headcount"],
            "vulnerable_share": explanation["vulnerable_share"],
            "severity": explanation["severity"],
            "days": explanation["days"],
            "profile_id": explanation["profile_id"],
            "profile_version": explanation["profile_version"],
            "location": place.get("location"),
            "kabupaten_code": place.get("kabupaten_code"),
        })
    return out


def uncovered_tasks(
    state: ProvinceState, teams_plan: TeamsPlan, gates: Gates | None = None,
) -> list[EscalatedTask]:
    """The tasks the province's teams cannot cover, with how many teams they lack and the
    mobilised teams its coordinators approved (kept first by the national tier, and
    dispatched) or declined (not sent again while the decline stands). Where a decline
    stands (the task needs no more teams than when declined), only the approved teams'
    slots go up."""
    gates = gates or Gates()
    tasks = teams_plan["tasks"]
    out: list[EscalatedTask] = []
    for u in teams_plan["uncovered"]:
        task = tasks.get(u["task_id"])
        if task is None:
            continue
        missing = u["teams_needed"] - u["teams_assigned"]
        entry = cast(EscalatedTask, {**task, "missing_teams": missing,
                                     "location": task_location(state, task)})
        if gates.teams:
            approved = gates.approved_teams(task["task_id"])
            if gates.task_decline(task["task_id"], task["teams_needed"]) is not None:
                entry["missing_teams"] = min(missing, len(approved))
                entry["declined_teams"] = gates.declined_teams(task["task_id"])
            if approved:
                entry["approved_teams"] = approved
            if entry["missing_teams"] <= 0:
                continue
        out.append(entry)
    return out


def spare_teams(state: ProvinceState, teams_plan: TeamsPlan, now: datetime) -> list[SpareTeam]:
    """The province's available teams not on a task, with the tasks each refused."""
    on_task = assignment_of(teams_plan)
    refused_by: dict[str, list[str]] = {}
    for pair, status in sorted(teams_plan.get("progress", {}).items()):
        task_of, team_of = pair.split("|", 1)
        if status in ("declined", "timed_out", "done"):
            refused_by.setdefault(team_of, []).append(task_of)
    return [
        {
            "team_id": t["team_id"],
            "name": t.get("name"),
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
        if t["availability"] in ("available", "assigned") and tid not in on_task
    ]


def regional_stock(state: ProvinceState) -> list[RegionalStock]:
    """The regional warehouses in the province with each batch's units on hand."""
    by_warehouse = shipments_by_warehouse(state.shipments)
    out: list[RegionalStock] = []
    for _, w in sorted(state.warehouses.items()):
        if w.get("kind") != REGIONAL or w.get("location") is None:
            continue
        units = effective_on_hand(state, w, by_warehouse.get(w["warehouse_id"], []))
        out.append({
            "warehouse_id": w["warehouse_id"],
            "name": w.get("name"),
            "location": w.get("location"),
            "batches": [
                {"batch_id": b, "item": batch["item"], "unit": batch["unit"],
                 "quantity": units[b], "expires_on": batch["expires_on"]}
                for b, batch in sorted(w.get("batches", {}).items())
            ],
        })
    return out
