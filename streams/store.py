"""A province's working state, read from per-entity tables and written back entity by entity.

The planner works on one province at a time (:class:`streams.planning.ProvinceState`, its
rows typed by :mod:`streams.planning.rows`). :func:`load_province` assembles it from the
per-entity tables through their province index — this is where raw table rows become typed
rows, once (a ``TypedDict`` is the same dict: nothing is copied) —; :func:`province_writes`
(pure, run in the planner's thread) turns a plan's outcome back into the entities that
changed; the planner agent writes only those.

Tables (key ``<province>/<id>``, see :mod:`streams.entities`):

=============  ==============================================================
shelters       one shelter (registration, headcount, what it received)
warehouses     one warehouse (registration)
batches        one stock batch ``<warehouse>/<batch>`` (count, departures)
teams          one TAGANA team
shipments      one open shipment (closed ones leave after their last projection)
incidents      one incident
declarations   one emergency declaration
overrides      one dispatch override ``<task>|<team>``; one decision on what the national
               tier sends ``gate|…`` (:mod:`streams.planning.gate`)
national       one result of the national tier ``<kind>|<id>``
kitchens       one public kitchen (dapur umum; ``streams/kitchens.py``)
tasks          one task of the team plan with its assigned teams
projected      the hash of one read-model view ``<entity>:<id>`` last emitted; a shelter's
               shortfall and shipment views share the rows ``shortfall@<shelter>`` and
               ``shipment@<shelter>``, a place's tasks ``task@<place>`` (:data:`GROUPED`)
escalated      the hash of one escalation entity ``<kind>:<id>`` last sent up; grouped the
               same way
plans          the province's plan sequence and clock (one small row, ``plan``)
=============  ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from streams.changes import content_hash
from streams.entities import entity_table
from streams.planning import ProvinceOutcome, ProvinceState
from streams.planning.rows import (
    DeclarationRow,
    Escalation,
    IncidentRow,
    KitchenRow,
    NationalResults,
    OverrideRow,
    PlanDict,
    Previous,
    PreviousTeams,
    ShelterRow,
    ShipmentRow,
    TaskDict,
    TeamRow,
    WarehouseRow,
)

INPUT_TABLES = (
    "shelters", "warehouses", "batches", "teams", "shipments", "incidents", "declarations",
    "overrides", "national", "kitchens",
)
PLANNER_TABLES = ("tasks", "projected", "escalated", "plans")
ALL_TABLES = INPUT_TABLES + PLANNER_TABLES
TERMINAL = frozenset({"delivered", "cancelled", "rejected"})
# Views of entities that never leave (their input rows stay): their last hashes are kept in
# the worker's memory only — a restarted worker projects them once more, which is harmless
# (the projector keeps the newest version) — instead of one changelog record per view.
MEMORY_VIEWS = ("shelter", "warehouse", "team")


def is_memory_view(key: str) -> bool:
    return key.split(":", 1)[0] in MEMORY_VIEWS


PLAN_ROW = "plan"
#: Hash rows kept one row per shelter rather than one per entity: a shelter's shortfalls (view
#: ``shortfall:<shelter>:<item>``, escalation ``shortfall:<shelter>|<item>``) share the row
#: ``shortfall@<shelter>``, its shipments' views the row ``shipment@<shelter>``, the tasks at
#: a place (``task:<kind>:<shelter or incident>``) the row ``task@<place>``, each
#: ``{"hashes": {key: hash}}``. A headcount changes most of its shelter's shortfalls and
#: shipments at once: one row written for each instead of one per item (and as many fewer
#: changelog records to read after a restart). Other hashes keep a row each, ``{"hash": h}``.
#: A group holds what one shelter needs or is sent: it does not grow with the province.
GROUPED = ("shortfall", "shipment", "task")


def _shortfall_shelter(entity_id: str) -> str | None:
    cut = max(entity_id.rfind("|"), entity_id.rfind(":"))
    return entity_id[:cut] if cut > 0 else None


def grouped_hash_rows(
    hashes: dict[str, str], shelter_of: dict[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """Hash rows as stored (:data:`GROUPED`); ``shelter_of`` gives each shipment's shelter (a
    shipment not in it keeps a row of its own)."""
    rows: dict[str, dict[str, Any]] = {}
    for key, digest in sorted(hashes.items()):
        kind, _, entity_id = key.partition(":")
        if kind == "shortfall":
            group = _shortfall_shelter(entity_id)
        elif kind == "shipment" and shelter_of:
            group = shelter_of.get(entity_id)
        elif kind == "task":
            group = entity_id.partition(":")[2] or None
        else:
            group = None
        if group is None:
            rows[key] = {"hash": digest}
        else:
            rows.setdefault(f"{kind}@{group}", {"hashes": {}})["hashes"][key] = digest
    return rows


def hashes_of_rows(rows: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The inverse of :func:`grouped_hash_rows`: ``{key: hash}`` (rows of either form)."""
    out: dict[str, str] = {}
    for key, row in rows.items():
        members = row.get("hashes")
        if members is None:
            out[key] = row["hash"]
        else:
            out.update(members)
    return out


def register_tables(ctx: Any) -> None:
    for name in ALL_TABLES:
        entity_table(ctx, name)


@dataclass
class Loaded:
    """What a re-plan read: the state, the previous plan, and the raw rows it came from."""

    state: ProvinceState
    previous: Previous
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)


def national_view(rows: dict[str, Any]) -> NationalResults:
    """The national tier's results for a province, in the planner's list form."""
    if not rows:
        return {}
    out: dict[str, list[Any]] = {"proposals": [], "tasks_covered": [], "mobilised_here": []}
    kinds = {"p": "proposals", "c": "tasks_covered", "m": "mobilised_here"}
    for entity_id in sorted(rows):
        row = rows[entity_id]
        kind = kinds.get(entity_id.split("|", 1)[0])
        if kind is not None and row.get("data") is not None:
            out[kind].append(row["data"])
    return cast(NationalResults, out) if any(out.values()) else {}


def assemble(province: str, rows: dict[str, dict[str, Any]]) -> Loaded:
    """Pure: a province's state and previous plan from its raw rows per table."""
    warehouses: dict[str, WarehouseRow] = {}
    for warehouse_id, row in rows["warehouses"].items():
        warehouses[warehouse_id] = cast(WarehouseRow, dict(row, batches={}))
    for _key, batch in sorted(rows["batches"].items()):
        warehouse_id = batch["warehouse_id"]
        if warehouse_id not in warehouses:
            # stock counted before the warehouse was registered: keep it (unplanned until
            # the registration gives it a kind and a place)
            warehouses[warehouse_id] = {
                "warehouse_id": warehouse_id, "name": warehouse_id, "kind": None,
                "location": None, "province_code": province, "kabupaten_code": None,
                "registration_version": "", "batches": {},
            }
        warehouses[warehouse_id]["batches"][batch["batch_id"]] = batch
    # the boundary: raw table rows become the planner's typed rows (the same dicts)
    state = ProvinceState(
        province,
        shelters=cast(dict[str, ShelterRow], dict(rows["shelters"])),
        warehouses=warehouses,
        teams=cast(dict[str, TeamRow], dict(rows["teams"])),
        shipments=cast(dict[str, ShipmentRow], dict(rows["shipments"])),
        incidents=cast(dict[str, IncidentRow], dict(rows["incidents"])),
        declarations=cast(dict[str, DeclarationRow], dict(rows["declarations"])),
        overrides=cast(dict[str, OverrideRow], dict(rows["overrides"])),
        national=national_view(rows["national"]),
        kitchens=cast(dict[str, KitchenRow], dict(rows.get("kitchens") or {})),
    )
    meta = rows["plans"].get(PLAN_ROW) or {}
    previous: Previous = {}
    if meta:
        proposals = [
            s["proposal"] for _, s in sorted(rows["shipments"].items())
            if s.get("status") == "proposed" and s.get("tier", "province") == "province"
            and s.get("proposal")
        ]
        previous = {
            "seq": meta["seq"],
            "planned_at": meta["planned_at"],
            "digest": meta.get("digest"),
            "plan": cast(PlanDict, {
                "plan_id": meta["plan_id"], "planned_at": meta["planned_at"],
                "profile_ids": meta["profile_ids"], "rules": meta["rules"],
                "proposals": proposals, "shortfalls": [], "remaining": [], "stats": [],
            }),
            "teams": _teams_view(rows["tasks"]),
            "projected": hashes_of_rows(rows["projected"]),
        }
    return Loaded(state, previous, rows)


def _teams_view(tasks: dict[str, Any]) -> PreviousTeams:
    assignments: dict[str, list[str]] = {}
    tiers: dict[str, str] = {}
    details: dict[str, Any] = {}
    task_dicts: dict[str, TaskDict] = {}
    timed_out: dict[str, list[str]] = {}
    for task_id, row in sorted(tasks.items()):
        task_dicts[task_id] = row["task"]
        if row.get("teams"):
            assignments[task_id] = list(row["teams"])
        if row.get("tier") is not None:
            tiers[task_id] = row["tier"]
        details.update(row.get("details") or {})
        if row.get("timed_out"):
            timed_out[task_id] = list(row["timed_out"])
    return {"assignments": assignments, "tiers": tiers, "details": details, "tasks": task_dicts,
            "uncovered": [], "timed_out": timed_out}


def memory_hashes(ctx: Any, province: str) -> dict[str, str]:
    """The worker's in-memory view hashes of a province (see :data:`MEMORY_VIEWS`)."""
    cache: dict[str, tuple[tuple[int, int], dict[str, str]]] = ctx.view_hashes
    # forgotten whenever recovery or a standby brought rows (a rebalance): then this worker
    # may not have been the one that projected the province last
    epoch = entity_table(ctx, "shelters").epoch_of(province)
    if province not in cache or cache[province][0] != epoch:
        cache[province] = (epoch, {})
    return cache[province][1]


def province_rows(ctx: Any, province: str) -> dict[str, dict[str, Any]]:
    """A province's rows from every table (through the index: nothing else is read)."""
    return {name: entity_table(ctx, name).rows(province) for name in ALL_TABLES}


def assemble_with_memory(
    province: str, rows: dict[str, dict[str, Any]], memory: dict[str, str]
) -> Loaded:
    """Pure (the planner runs it in its thread): :func:`assemble` plus the in-memory hashes."""
    loaded = assemble(province, rows)
    if loaded.previous:
        loaded.previous["projected"].update(memory)
    return loaded


def load_province(ctx: Any, province: str) -> Loaded:
    """A province's state and previous plan."""
    return assemble_with_memory(
        province, province_rows(ctx, province), dict(memory_hashes(ctx, province)))


# ---------------------------------------------------------------- write-back


@dataclass
class ProvinceWrites:
    """The entities a re-plan changes, per table: ``{id: row}`` (None = remove)."""

    planner: dict[str, dict[str, Any]] = field(default_factory=dict)
    # shipments are shared with the shipments agent: written only if unchanged since read
    shipments: dict[str, Any] = field(default_factory=dict)
    escalation: list[dict[str, Any]] = field(default_factory=list)  # records to send up

    def count(self) -> int:
        return sum(len(v) for v in self.planner.values()) + len(self.shipments)


def escalation_entities(escalation: Escalation) -> dict[str, Any]:
    """A province's escalation snapshot as entities ``{"<kind>:<id>": data}``."""
    out: dict[str, Any] = {}
    for shortfall in escalation["shortfalls"]:
        out[f"shortfall:{shortfall['shelter_id']}|{shortfall['item_id']}"] = shortfall
    for task in escalation["uncovered_tasks"]:
        out[f"task:{task['task_id']}"] = task
    for team in escalation["spare_teams"]:
        out[f"team:{team['team_id']}"] = team
    for stock in escalation["regional_stock"]:
        out[f"stock:{stock['warehouse_id']}"] = stock
    for shipment in escalation["national_shipments"]:
        out[f"shipment:{shipment['shipment_id']}"] = shipment
    return out


def province_writes(loaded: Loaded, outcome: ProvinceOutcome) -> ProvinceWrites:
    """Pure: what to write after a re-plan — only the entities that changed."""
    rows = loaded.rows
    province = loaded.state.province_code
    writes = ProvinceWrites()
    plan = outcome.plan
    plan_dict = plan["plan"]

    # shipments: proposals keep the plan line they came from (the next re-plan's anti-churn
    # starts from it); closed shipments leave once their final view has been projected
    proposal_of = {
        (p["item_id"], p["warehouse_id"], p["shelter_id"]): p for p in plan_dict["proposals"]
    }
    read = rows["shipments"]
    closed: list[str] = []
    for shipment_id, row in outcome.shipments.items():
        if row.get("status") in TERMINAL:
            closed.append(shipment_id)
            writes.shipments[shipment_id] = None
            continue
        new: Any = row
        if row.get("status") == "proposed" and row.get("tier", "province") == "province":
            old = read.get(shipment_id)
            same = old is not None and {k: v for k, v in old.items() if k != "proposal"} == {
                k: v for k, v in row.items() if k != "proposal"}
            if not same:
                proposal = proposal_of.get((row["item_id"], row["warehouse_id"], row["shelter_id"]))
                new = dict(row, proposal=proposal)
            else:
                new = old
        if read.get(shipment_id) != new:
            writes.shipments[shipment_id] = new
    for shipment_id in read.keys() - outcome.shipments.keys():
        writes.shipments[shipment_id] = None

    # the team plan, one row per task
    teams = plan["teams"]
    details = teams.get("details", {})
    tasks: dict[str, Any] = {}
    for task_id, task in teams["tasks"].items():
        assigned = teams["assignments"].get(task_id, [])
        tasks[task_id] = {
            "task": task,
            "teams": assigned,
            "tier": teams["tiers"].get(task_id),
            "details": {t: details[t] for t in assigned if t in details},
        }
        if teams.get("timed_out", {}).get(task_id):
            # teams that did not acknowledge in time are not sent to this task again
            tasks[task_id]["timed_out"] = teams["timed_out"][task_id]
    writes.planner["tasks"] = _changed(rows["tasks"], tasks)

    # view hashes (closed shipments' hashes leave with them: their history stays)
    projected = {k: v for k, v in plan["projected"].items() if not is_memory_view(k)}
    for shipment_id in closed:
        projected.pop(f"shipment:{shipment_id}", None)
    shelter_of = {sid: str(row["shelter_id"]) for sid, row in outcome.shipments.items()
                  if row.get("shelter_id")}
    writes.planner["projected"] = _changed(rows["projected"],
                                           grouped_hash_rows(projected, shelter_of))

    # escalation: only the entities that changed since last sent
    entities = escalation_entities(outcome.escalation)
    hashes = {k: content_hash(v) for k, v in entities.items()}
    writes.planner["escalated"] = _changed(rows["escalated"], grouped_hash_rows(hashes))
    seq = plan["seq"]
    for key in sorted(_changed(hashes_of_rows(rows["escalated"]), hashes)):
        kind, _, entity_id = key.partition(":")
        writes.escalation.append({
            "province_code": province, "seq": seq, "planned_at": plan["planned_at"],
            "kind": kind, "id": entity_id,
            "data": entities.get(key),
        })

    writes.planner["plans"] = {PLAN_ROW: {
        "seq": seq,
        "planned_at": plan["planned_at"],
        "plan_id": plan_dict["plan_id"],
        "profile_ids": plan_dict["profile_ids"],
        "rules": plan_dict["rules"],
        "digest": plan.get("digest"),
    }}
    return writes


def _changed(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in new.items() if old.get(k) != v}
    out.update({k: None for k in old.keys() - new.keys()})
    return out
