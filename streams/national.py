"""The national tier: what provinces cannot cover, planned from regional warehouses and the
spare TAGANA teams of every province (Kemensos's tiered mobilisation).

Every province planner sends what changed in its uncovered needs, uncovered tasks, spare
teams and regional stock to ``siaga.escalations`` under the key ``"00"``, one entity per
record, so one worker holds the national picture — as one table row per entity (nothing
grows with the country). The national plan (made in the planning process,
streams/planpool.py) goes back to each province on ``siaga.national-results`` (keyed by
province), again one result per record, where the province turns it into shipments (tier
``national``) and shows its teams mobilised.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
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
from streams.changes import content_hash

log = logging.getLogger(__name__)

NATIONAL_KEY = "00"
#: seconds the national tier gathers escalations before it plans. 2 s planned less often (ten
#: national plans over one 2,000-shelter province's first plans); it was taken back while the
#: two-worker SIGKILL test diverged, whose cause proved to be elsewhere (a takeover skipping
#: uncommitted input, streams.entities.read_uncommitted_from_start). Not measured again since.
NATIONAL_WINDOW = 0.3
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _hours(origins: list[dict[str, Any]], destinations: list[dict[str, Any]]) -> Any:
    if not origins or not destinations:
        return np.zeros((len(origins), len(destinations)))
    o = np.array([[x["lat"], x["lon"]] for x in origins])
    d = np.array([[x["lat"], x["lon"]] for x in destinations])
    return np.asarray(geo.cost_matrix(o, d).hours, dtype=np.float64)


def plan_national(
    snapshots: dict[str, dict[str, Any]], previous: dict[str, Any],
    approval_required: bool = True,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Plan the national tier from the provinces' latest snapshots. Pure.

    Returns the new national record and, per province, its results snapshot.
    Shelter and task ids are qualified with their province (``"72/shelter-x"``)
    because client ids are unique only within a province.

    ``approval_required`` (the setting ``SIAGA_NATIONAL_APPROVAL``): each proposal and each
    mobilised team waits for a coordinator of the receiving province (the approval gate,
    :mod:`streams.planning.gate`). A province sends up, with each uncovered task, the teams
    its coordinators approved (kept first on the task, and told to their home province as
    approved) and declined (not sent to it again while the decline stands); a need they
    declined comes up only as large as what they approved.
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
    warehouse_home: dict[str, str] = {}
    batches: list[StockBatch] = []
    committed: list[Shipment] = []
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
        for w in snap.get("regional_stock", []):
            warehouses[w["warehouse_id"]] = w
            warehouse_home[w["warehouse_id"]] = snap["province_code"]
    # Regional stock comes net of what left: a dispatched national shipment is recorded as
    # a departure on its batch in the warehouse's own province (topic stock-moves), so only
    # confirmed (reserved, still in the building) shipments are held back here.
    for wid, w in sorted(warehouses.items()):
        for b in w["batches"]:
            left = max(0, int(b["quantity"]))
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
        row["warehouse_province"] = warehouse_home[proposal.warehouse_id]
        row["approval_required"] = approval_required
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
    # the task loop: a team that declined a task, let it time out or finished it is not
    # (re)assigned to it ("refused" carries the task's id in its own province)
    refused = {(t["team_id"], task) for t in spare for task in t.get("refused", [])}
    # the approval gate: teams the receiving province declined for a task are not sent to it
    # while the decline stands (it sends them up only then); approved ones stay first
    refused |= {(team, tid.split("/", 1)[1]) for tid, meta in task_meta.items()
                for team in meta.get("declined_teams") or ()}
    approved_of = {tid: set(meta.get("approved_teams") or ()) for tid, meta in task_meta.items()}
    for tid, team_ids in previous.get("assignments", {}).items():
        if tid in task_loc:
            plain = tid.split("/", 1)[1]
            kept = [x for x in team_ids if x in spare_ids and (x, plain) not in refused]
            # no more teams than the task still lacks (approved ones first)
            kept.sort(key=lambda x: (x not in approved_of.get(tid, ()), x))
            standing[tid] = kept[: int(task_meta[tid]["missing_teams"])]
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
    # stored as [[task_id, team_id], hours] (JSON has no tuples)
    travel_of: dict[tuple[str, str], float] = {
        (str(k[0]), str(k[1])): float(v) for k, v in previous.get("travel", [])
    }
    # why each team was sent (the dispatcher's team_assigned explanation), kept like travel
    why_of: dict[tuple[str, str], dict[str, Any]] = {
        (str(k[0]), str(k[1])): dict(v) for k, v in previous.get("why", []) if v
    }
    if open_tasks and free:
        h = np.array(_hours([t["location"] for t in free],
                            [task_loc[t.task_id] for t in open_tasks]), dtype=np.float64)
        for i, team in enumerate(free):
            for j, task in enumerate(open_tasks):
                if (team["team_id"], task.task_id.split("/", 1)[1]) in refused:
                    h[i, j] = float("inf")
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
            if a.why is not None:
                why_of[(a.task_id, a.team_id)] = local_why(a.why, a.task_id)
    home = {t["team_id"]: t["province_code"] for t in spare}
    name_of = {t["team_id"]: t.get("name") for t in spare}
    for tid, team_ids in sorted(standing.items()):
        province, task_id = tid.split("/", 1)
        meta = task_meta[tid]
        for team_id in sorted(team_ids):
            approval = ("not_required" if not approval_required
                        else "approved" if team_id in approved_of.get(tid, ())
                        else "awaiting")
            why = why_of.get((tid, team_id))
            results[province]["tasks_covered"].append({
                "task_id": task_id, "team_id": team_id, "team_province": home[team_id],
                "team_name": name_of.get(team_id),
                "travel_hours": travel_of.get((tid, team_id)), "why": why,
                "approval_required": approval_required,
                "teams_needed": int(meta.get("teams_needed") or 1),
            })
            if home[team_id] in results:
                results[home[team_id]]["mobilised_here"].append({
                    "team_id": team_id, "task_id": task_id, "task_province": province,
                    "kind": meta["kind"], "target_id": meta["concerns_id"],
                    "location": meta["location"],
                    "travel_hours": travel_of.get((tid, team_id)),
                    "why": why,
                    "approval": approval,
                })
    on_task = {(tid, team) for tid, teams in standing.items() for team in teams}
    record = {
        "seq": seq,
        "plan": plan.to_dict(),
        "assignments": {k: sorted(v) for k, v in sorted(standing.items()) if v},
        "travel": [[list(k), v] for k, v in sorted(travel_of.items())],
        "why": [[list(k), v] for k, v in sorted(why_of.items()) if k in on_task],
        "provinces": snapshots,
    }
    return record, results


def local_why(why: Mapping[str, Any], qualified_task: str) -> dict[str, Any]:
    """The dispatcher's team_assigned explanation of a national assignment, as the provinces
    read it: the task's own id (the national tier qualifies ids with their province) and the
    province it is in."""
    province, task_id = qualified_task.split("/", 1)
    figures = dict(why.get("figures") or {}, task_id=task_id, task_province=province)
    text = str(why.get("text") or "").replace(qualified_task, task_id)
    return {"rule": why.get("rule"), "figures": figures, "text": text}


# ---------------------------------------------------------------- the agent, per entity

TABLE = "national-tier"
ESC = "esc"  # esc|<province>|<kind>|<id>: what a province escalated
PROP = "prop"  # prop|<n>: a proposal of the last national plan
ASSIGN = "assign"  # assign|<qualified task>: teams standing on a task, with travel hours
SENT = "sent"  # sent|<province>|<kind>|<id>: hash of a result last sent to a province
META = "meta"
_LISTS = {
    "shortfall": "shortfalls", "task": "uncovered_tasks", "team": "spare_teams",
    "stock": "regional_stock", "shipment": "national_shipments",
}
_RESULT_KINDS = (("proposals", "p"), ("tasks_covered", "c"), ("mobilised_here", "m"))


def snapshots_from(rows: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The provinces' escalation snapshots, assembled from their entities."""
    snapshots: dict[str, dict[str, Any]] = {}
    for key in sorted(rows):
        if not key.startswith(ESC + "|"):
            continue
        _, province, kind, _entity_id = key.split("|", 3)
        row = rows[key]
        snap = snapshots.setdefault(province, {
            "province_code": province, "seq": 0, "planned_at": row["planned_at"],
            **{name: [] for name in _LISTS.values()},
        })
        if int(row["seq"]) >= int(snap["seq"]):
            snap["seq"], snap["planned_at"] = int(row["seq"]), row["planned_at"]
        snap[_LISTS[kind]].append(row["data"])
    return snapshots


def previous_from(rows: dict[str, Any]) -> dict[str, Any]:
    """The last national plan (what its anti-churn and standing assignments start from)."""
    meta = rows.get(META)
    if not meta:
        return {}
    proposals = [rows[k] for k in sorted(rows) if k.startswith(PROP + "|")]
    assignments: dict[str, list[str]] = {}
    travel: list[list[Any]] = []
    why: list[list[Any]] = []
    for key in sorted(rows):
        if key.startswith(ASSIGN + "|"):
            task_id = key.split("|", 1)[1]
            assignments[task_id] = list(rows[key]["teams"])
            travel += [[[task_id, team], hours] for team, hours in rows[key]["travel"].items()]
            why += [[[task_id, team], w] for team, w in (rows[key].get("why") or {}).items()]
    return {
        "seq": meta["seq"],
        "plan": {"plan_id": meta["plan_id"], "planned_at": meta["planned_at"],
                 "profile_ids": meta["profile_ids"], "rules": meta["rules"],
                 "proposals": proposals, "shortfalls": [], "remaining": [], "stats": []},
        "assignments": assignments,
        "travel": travel,
        "why": why,
    }


def result_entities(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per-province results as entities ``{"<province>|<kind>|<id>": data}``."""
    out: dict[str, dict[str, Any]] = {}
    for province, result in results.items():
        for name, kind in _RESULT_KINDS:
            for row in result[name]:
                if kind == "p":
                    entity_id = f"{row['item_id']}|{row['warehouse_id']}|{row['shelter_id']}"
                elif kind == "c":
                    entity_id = f"{row['task_id']}|{row['team_id']}"
                else:
                    entity_id = str(row["team_id"])
                out[f"{province}|{kind}|{entity_id}"] = row
    return out


def national_writes(
    rows: dict[str, Any], record: dict[str, Any], results: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """Pure: the national table's changed rows and the result records to send."""
    writes: dict[str, Any] = {}
    seq = int(record["seq"])
    plan = record["plan"]
    new_props = {f"{PROP}|{p['item_id']}|{p['warehouse_id']}|{p['shelter_id']}": p
                 for p in plan["proposals"]}
    travel: dict[str, dict[str, float]] = {}
    for (task_id, team_id), hours in record["travel"]:
        travel.setdefault(task_id, {})[team_id] = hours
    why: dict[str, dict[str, Any]] = {}
    for (task_id, team_id), explanation in record.get("why", []):
        why.setdefault(task_id, {})[team_id] = explanation
    new_assign = {
        f"{ASSIGN}|{task_id}": {
            "teams": teams,
            "travel": {t: travel.get(task_id, {}).get(t) for t in teams},
            **({"why": {t: why[task_id][t] for t in teams if t in why[task_id]}}
               if task_id in why else {}),
        }
        for task_id, teams in record["assignments"].items()
    }
    new_sent: dict[str, Any] = {}
    sends: list[tuple[str, dict[str, Any]]] = []
    entities = result_entities(results)
    for key, data in sorted(entities.items()):
        digest = {"hash": content_hash(data)}
        new_sent[f"{SENT}|{key}"] = digest
        if rows.get(f"{SENT}|{key}") != digest:
            province, kind, entity_id = key.split("|", 2)
            sends.append((province, {"province_code": province, "seq": seq, "kind": kind,
                                     "id": entity_id, "data": data}))
    for key in sorted(rows):
        if key.startswith(SENT + "|") and key not in new_sent:
            province, kind, entity_id = key.split("|", 3)[1:]
            sends.append((province, {"province_code": province, "seq": seq, "kind": kind,
                                     "id": entity_id, "data": None}))
    for prefix, new in ((PROP, new_props), (ASSIGN, new_assign), (SENT, new_sent)):
        for key, value in new.items():
            if rows.get(key) != value:
                writes[key] = value
        for key in rows:
            if key.startswith(prefix + "|") and key not in new:
                writes[key] = None
    writes[META] = {"seq": seq, "plan_id": plan["plan_id"], "planned_at": plan["planned_at"],
                    "profile_ids": plan["profile_ids"], "rules": plan["rules"]}
    return writes, sends


def _comparable(rows: dict[str, Any]) -> dict[str, Any]:
    return {k: v["data"] for k, v in rows.items() if k.startswith(ESC + "|")}


UNPLANNED = "unplanned"  # escalations written and not planned yet (cleared by the plan)


def plan_rows(
    rows: dict[str, Any], approval_required: bool = True,
) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]], int]:
    """Pure: the national plan from the national table's rows — the table's changed rows,
    the result records to send (by province) and how many provinces escalated."""
    snapshots = snapshots_from(rows)
    record, results = plan_national(snapshots, previous_from(rows), approval_required)
    writes, sends = national_writes(rows, record, results)
    return writes, sends, len(snapshots)


def register(ctx: Any) -> None:
    from streams.changes import pack, unpack
    from streams.deadletter import park
    from streams.entities import entity_table
    from streams.plumbing import LoopShare, Writes, run_batch, unless_stopping

    table = entity_table(ctx, TABLE)

    async def handle(events: Any) -> None:
        writes = Writes(ctx)
        changed = False
        share = LoopShare()
        for event in events:
            await share()  # a batch is up to 1,000 records of dozens of escalations each
            try:
                records = []
                for rec in unpack(event.value):
                    if rec["kind"] not in _LISTS:
                        raise ValueError(f"unknown kind {rec['kind']!r}")
                    records.append((f"{ESC}|{rec['province_code']}|{rec['kind']}|{rec['id']}",
                                    int(rec["seq"]), rec))
            except (ValueError, KeyError, TypeError) as exc:
                await park(ctx, event, f"undecodable escalation: {exc}")
                continue
            for key, seq, rec in records:
                current = writes.get(TABLE, NATIONAL_KEY, key)
                if current is not None and int(current["seq"]) > seq:
                    continue
                value = None if rec["data"] is None else {
                    "seq": seq, "planned_at": rec["planned_at"], "data": rec["data"]}
                if (current or {}).get("data") != (value or {}).get("data"):
                    changed = True
                writes.put(TABLE, NATIONAL_KEY, key, value)
        # escalations taken in and not planned yet, kept in the table with them: a plan
        # that fails or a worker stopped after they were written (the retry, or the
        # redelivery after a restart, finds nothing new) must still make the plan
        if changed:
            writes.put(TABLE, NATIONAL_KEY, UNPLANNED,
                       table.get_row(NATIONAL_KEY, UNPLANNED) or {"since": time.time()})
        await writes.flush_paced()
        if table.get_row(NATIONAL_KEY, UNPLANNED) is None:
            return
        # planned in the planning process (streams/planpool.py): a national plan is a
        # second or more of CPU, which in a thread held the interpreter lock against ingest
        try:
            slim = await unless_stopping(ctx, ctx.plan_pool.plan_national(
                table, NATIONAL_KEY, ctx.settings.national_approval))
            by_province: dict[str, list[dict[str, Any]]] = {}
            for province, result in slim.sends:
                by_province.setdefault(province, []).append(result)
            futures = [await ctx.send(NATIONAL_RESULTS, p.encode(), record)
                       for p, results in sorted(by_province.items())
                       for record in pack(results)]
            await asyncio.gather(*futures)
            done = Writes(ctx)
            for key, value in slim.writes.items():
                if value is not None or table.get_row(NATIONAL_KEY, key) is not None:
                    done.put(TABLE, NATIONAL_KEY, key, value)
            done.put(TABLE, NATIONAL_KEY, UNPLANNED, None)
            await done.flush_paced()
        except BaseException:
            # the child applied the plan's writes to its copy, and they may not all be in
            # the table: the next plan sends every row
            ctx.plan_pool.forget(NATIONAL_KEY)
            raise
        # the planning process applied its own writes to its copy: not sent to it again
        for key in slim.writes:
            table.forget_changed(NATIONAL_KEY, key)
        log.info("national tier re-planned in %.3f s (%d provinces, %d results sent, "
                 "%d rows sent to its planning process)", slim.seconds, slim.provinces,
                 len(slim.sends), slim.rows_sent)

    @ctx.app.agent(ctx.raw_topic(ESCALATIONS), name="national")
    async def national(stream: Any) -> None:
        async for events in stream.take_events(10_000, within=NATIONAL_WINDOW):
            await run_batch(ctx, "national", events, handle)
