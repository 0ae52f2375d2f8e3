"""What a province sends up to the national tier (:mod:`streams.national`).

Its shortfalls (gross of what the national tier already proposed, so that its own proposals
do not shrink the need it plans for — that would oscillate), its uncovered tasks, the teams
it can spare, the regional warehouses' stock it holds, and the national-tier shipments taken
up here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

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

NATIONAL_SHIPMENT_FIELDS = ("shipment_id", "proposal_id", "warehouse_id", "item_id", "quantity",
                            "status", "batches", "dispatched_at")


def escalate(
    state: ProvinceState, seq: int, now: datetime, plan: PlanDict, teams_plan: TeamsPlan,
    shipments: Mapping[str, ShipmentRow],
) -> Escalation:
    """The province's escalation snapshot after plan ``seq``."""
    return {
        "province_code": state.province_code,
        "seq": seq,
        "planned_at": now.isoformat(),
        "shortfalls": shortfalls(state, plan),
        "uncovered_tasks": uncovered_tasks(state, teams_plan),
        "spare_teams": spare_teams(state, teams_plan, now),
        "regional_stock": regional_stock(state),
        "national_shipments": [
            {k: s.get(k) for k in NATIONAL_SHIPMENT_FIELDS}
            for s in sorted(shipments.values(), key=lambda s: s["shipment_id"])
            if s.get("tier") == "national" and s["status"] != "proposed"
        ],
    }


def shortfalls(state: ProvinceState, plan: PlanDict) -> list[EscalatedShortfall]:
    """The plan's shortfalls with what the national tier weighs them by, and where."""
    out: list[EscalatedShortfall] = []
    for s in plan["shortfalls"]:
        if int(s["missing"]) <= 0:
            continue
        place: Mapping[str, Any] = place_of(state, s["shelter_id"]) or {}
        explanation = s["explanation"]
        out.append({
            "shelter_id": s["shelter_id"],
            "item_id": s["item_id"],
            "unit": s["unit"],
            "missing": int(s["missing"]),
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


def uncovered_tasks(state: ProvinceState, teams_plan: TeamsPlan) -> list[EscalatedTask]:
    """The tasks the province's teams cannot cover, with how many teams they lack."""
    tasks = teams_plan["tasks"]
    return [
        {**tasks[u["task_id"]], "missing_teams": u["teams_needed"] - u["teams_assigned"],
         "location": task_location(state, tasks[u["task_id"]])}
        for u in teams_plan["uncovered"]
        if u["task_id"] in tasks
    ]


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
