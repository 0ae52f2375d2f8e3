"""The national tier: what provinces cannot cover, planned from regional warehouses and the
spare TAGANA teams of every province (Kemensos's tiered mobilisation).

Every province planner sends a snapshot of its uncovered needs, uncovered tasks, spare
teams and regional stock to ``siaga.escalations`` under one key (``"00"``), so one
worker holds the national picture. The national plan goes back to each province on
``siaga.national-results`` (keyed by province), where the province turns it into
shipments (tier ``national``) and shows its teams mobilised.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

import geo
from logistics.allocation import BatchPick, Plan
from logistics.dispatch import Task, Team, TeamTravelHours, dispatch
from logistics.needs import Need
from logistics.replan import replan
from logistics.shipment import Shipment
from logistics.stock import ReleaseRules, StockBatch, TravelHours, Warehouse
from siaga.catalogue import ESCALATIONS, NATIONAL_RESULTS
from streams.plumbing import pkey, province_table

log = logging.getLogger(__name__)

NATIONAL_KEY = "00"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _hours(origins: list[dict[str, Any]], destinations: list[dict[str, Any]]) -> Any:
    if not origins or not destinations:
        return np.zeros((len(origins), len(destinations)))
    o = np.array([[x["lat"], x["lon"]] for x in origins])
    d = np.array([[x["lat"], x["lon"]] for x in destinations])
    return np.asarray(geo.cost_matrix(o, d).hours, dtype=np.float64)


def plan_national(
    snapshots: dict[str, dict[str, Any]], previous: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Plan the national tier from the provinces' latest snapshots. Pure.

    Returns the new national record and, per province, its results snapshot.
    Shelter and task ids are qualified with their province (``"72/shelter-x"``)
    because client ids are unique only within a province.
    """
    seq = int(previous.get("seq", 0)) + 1
    plan_id = f"plan-national-{seq}"
    times = [datetime.fromisoformat(s["planned_at"]) for s in snapshots.values()] or [EPOCH]
    now = max(times)

    # ---- supplies
    needs: list[Need] = []
    shelter_loc: dict[str, dict[str, Any]] = {}
    for province, snap in sorted(snapshots.items()):
        for s in snap["shortfalls"]:
            if s.get("location") is None:
                continue
            sid = f"{province}/{s['shelter_id']}"
            shelter_loc[sid] = s["location"]
            needs.append(
                Need(shelter_id=sid, item_id=s["item_id"], quantity=int(s["missing"]),
                     priority=float(s["priority"]), gross=float(s["missing"]),
                     headcount=int(s.get("headcount", 0)),
                     vulnerable_share=float(s.get("vulnerable_share", 0.0)),
                     severity=int(s.get("severity", 3)), days=float(s.get("days", 1.0)),
                     profile_id=str(s.get("profile_id", "")) + " (escalated shortfall)",
                     profile_version=str(s.get("profile_version", "")))
            )
    warehouses: dict[str, dict[str, Any]] = {}
    batches: list[StockBatch] = []
    committed: list[Shipment] = []
    reserved_or_gone: dict[tuple[str, str], int] = {}
    for snap in snapshots.values():
        for shipment in snap.get("national_shipments", []):
            if shipment["status"] in ("confirmed", "dispatched"):
                committed.append(
                    Shipment(
                        shipment_id=shipment["shipment_id"],
                        proposal_id=shipment["proposal_id"],
                        warehouse_id=shipment["warehouse_id"],
                        shelter_id=f"{snap['province_code']}/?",
                        item_id=shipment["item_id"],
                        quantity=int(shipment["quantity"]),
                        status=shipment["status"],
                        batches=tuple(
                            BatchPick(b["batch_id"], int(b["quantity"]), None)
                            for b in shipment.get("batches", [])
                        ),
                    )
                )
            if shipment["status"] in ("dispatched", "delivered"):
                # Left the regional warehouse (its own province does not see this shipment).
                for b in shipment.get("batches", []):
                    key = (shipment["warehouse_id"], b["batch_id"])
                    reserved_or_gone[key] = reserved_or_gone.get(key, 0) + int(b["quantity"])
        for w in snap.get("regional_stock", []):
            warehouses[w["warehouse_id"]] = w
    for wid, w in sorted(warehouses.items()):
        for b in w["batches"]:
            left = max(0, int(b["quantity"]) - reserved_or_gone.get((wid, b["batch_id"]), 0))
            batches.append(
                StockBatch(wid, b["item"], b["batch_id"], left,
                           date.fromisoformat(b["expires_on"]) if b["expires_on"] else None)
            )
    wh_list = [w for _, w in sorted(warehouses.items())]
    sids = sorted(shelter_loc)
    hours = _hours([w["location"] for w in wh_list], [shelter_loc[s] for s in sids])
    rules = ReleaseRules(plan_date=now.date())
    prev_plan = (
        Plan.from_dict(previous["plan"]) if previous.get("plan")
        else Plan(plan_id, now, (), rules, (), (), (), ())
    )
    units = {(s["item_id"]): s["unit"] for snap in snapshots.values() for s in snap["shortfalls"]}
    if needs and wh_list:
        result = replan(
            prev_plan, plan_id, now, needs, batches,
            [Warehouse(id=w["warehouse_id"], kind="regional", name=w.get("name") or "")
             for w in wh_list],
            TravelHours(tuple(w["warehouse_id"] for w in wh_list), tuple(sids), hours),
            rules,
            committed=committed,
        )
        plan = result.plan
    else:
        plan = Plan(plan_id, now, (), rules, (), (), (), ())

    results: dict[str, dict[str, Any]] = {
        p: {"province_code": p, "seq": seq, "proposals": [], "tasks_covered": [],
            "mobilised_here": []}
        for p in snapshots
    }
    for proposal in plan.proposals:
        province, shelter_id = proposal.shelter_id.split("/", 1)
        row = proposal.to_dict()
        row["shelter_id"] = shelter_id
        row["summary"] = row["summary"].replace(f"{province}/{shelter_id}", shelter_id)
        row["unit"] = units.get(proposal.item_id, row["unit"])
        row["origin"] = warehouses[proposal.warehouse_id]["location"]
        row["warehouse_name"] = warehouses[proposal.warehouse_id].get("name")
        results[province]["proposals"].append(row)

    # ---- teams
    tasks: list[Task] = []
    task_loc: dict[str, dict[str, Any]] = {}
    task_meta: dict[str, dict[str, Any]] = {}
    for province, snap in sorted(snapshots.items()):
        for t in snap["uncovered_tasks"]:
            if t.get("location") is None or t["missing_teams"] <= 0:
                continue
            tid = f"{province}/{t['task_id']}"
            task_loc[tid] = t["location"]
            task_meta[tid] = t
            tasks.append(Task(
                task_id=tid, kind=t["kind"], concerns_id=t["concerns_id"],
                kabupaten_code=t["kabupaten_code"], province_code=province,
                required_skills=frozenset(t["required_skills"]),
                teams_needed=int(t["missing_teams"]),
            ))
    spare = [t for _, snap in sorted(snapshots.items()) for t in snap["spare_teams"]]
    standing: dict[str, list[str]] = {}
    spare_ids = {t["team_id"] for t in spare}
    for tid, team_ids in previous.get("assignments", {}).items():
        if tid in task_loc:
            standing[tid] = [x for x in team_ids if x in spare_ids]
    busy = {x for ids in standing.values() for x in ids}
    open_tasks = []
    for task in tasks:
        left = task.teams_needed - len(standing.get(task.task_id, []))
        if left > 0:
            open_tasks.append(Task(
                task_id=task.task_id, kind=task.kind, concerns_id=task.concerns_id,
                kabupaten_code=task.kabupaten_code, province_code=task.province_code,
                required_skills=task.required_skills, teams_needed=left))
    free = [t for t in spare if t["team_id"] not in busy]
    travel_of: dict[tuple[str, str], float] = dict(
        tuple(x) for x in previous.get("travel", [])
    )
    if open_tasks and free:
        h = _hours([t["location"] for t in free], [task_loc[t.task_id] for t in open_tasks])
        plan_teams = dispatch(
            f"dispatch-{plan_id}", now,
            [Team(team_id=t["team_id"], kabupaten_code=t["kabupaten_code"],
                  province_code=t["province_code"], skills=frozenset(t["skills"]),
                  rank=t["rank"], hours_on_duty=float(t["hours_on_duty"]))
             for t in free],
            open_tasks,
            TeamTravelHours(tuple(t["team_id"] for t in free),
                            tuple(t.task_id for t in open_tasks), h),
        )
        for a in plan_teams.assignments:
            standing.setdefault(a.task_id, []).append(a.team_id)
            travel_of[(a.task_id, a.team_id)] = a.travel_hours
    home = {t["team_id"]: t["province_code"] for t in spare}
    for tid, team_ids in sorted(standing.items()):
        province, task_id = tid.split("/", 1)
        meta = task_meta[tid]
        for team_id in sorted(team_ids):
            results[province]["tasks_covered"].append(
                {"task_id": task_id, "team_id": team_id, "team_province": home[team_id]})
            if home[team_id] in results:
                results[home[team_id]]["mobilised_here"].append({
                    "team_id": team_id, "task_id": task_id, "task_province": province,
                    "kind": meta["kind"], "target_id": meta["concerns_id"],
                    "location": meta["location"],
                    "travel_hours": travel_of.get((tid, team_id)),
                })
    record = {
        "seq": seq,
        "plan": plan.to_dict(),
        "assignments": {k: sorted(v) for k, v in sorted(standing.items()) if v},
        "travel": [[list(k), v] for k, v in sorted(travel_of.items())],
        "provinces": snapshots,
    }
    return record, results


def register(ctx: Any) -> None:
    table = province_table(ctx, "national-tier")

    @ctx.app.agent(ctx.raw_topic(ESCALATIONS), name="national")
    async def national(stream: Any) -> None:
        async for events in stream.take_events(10_000, within=0.3):
            current = dict(table[pkey(NATIONAL_KEY)])
            snapshots = dict(current.get("provinces", {}))
            changed = False
            for event in events:
                snap = json.loads(event.value)
                province = snap["province_code"]
                old = snapshots.get(province)
                if old is not None and int(old["seq"]) >= int(snap["seq"]):
                    continue
                comparable_old = {k: v for k, v in (old or {}).items()
                                  if k not in ("seq", "planned_at")}
                comparable_new = {k: v for k, v in snap.items() if k not in ("seq", "planned_at")}
                snapshots[province] = snap
                changed = changed or comparable_old != comparable_new
            if not changed:
                if snapshots != current.get("provinces"):
                    table[pkey(NATIONAL_KEY)] = {**current, "provinces": snapshots}
                continue
            record, results = plan_national(snapshots, current)
            previous_results = current.get("results", {})
            futures = []
            sent = {}
            for province, result in sorted(results.items()):
                body = {k: v for k, v in result.items() if k != "seq"}
                sent[province] = body
                if previous_results.get(province) == body:
                    continue
                futures.append(await ctx.raw_topic(NATIONAL_RESULTS).send(
                    key=province.encode(), value=json.dumps(result).encode()))
            for future in futures:
                await future
            table[pkey(NATIONAL_KEY)] = {**record, "results": sent}
            log.info("national tier re-planned (%d provinces, %d results sent)",
                     len(snapshots), len(futures))
