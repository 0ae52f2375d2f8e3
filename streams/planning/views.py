"""Read models of a plan: one view per shelter, kitchen, warehouse, team, task, shipment and
shortfall, and the plan's own; and of these, only what changed since the last plan.

A view is what the dashboard and the pages show (the projector stores it in Redis); the
planner keeps a hash of each view it emitted (``projected``) and emits a view again only when
it changed, a removal when the entity is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from itertools import repeat
from typing import Any

from logistics.approval import CLEARED
from logistics.catalogue import Catalogue, default_catalogue
from logistics.explain import explain_need, explain_shortfall, need_sources
from logistics.kitchens import KitchenPlan
from logistics.needs import Need, load_profile
from streams import kitchen_planning
from streams.changes import content_hash
from streams.planning.gate import Gates, mobilised, team_approval
from streams.planning.rows import (
    CoveredTask,
    EntityChange,
    OutputEvent,
    PlanDict,
    ProgressRow,
    ShipmentRow,
    ShortfallLine,
    TeamRow,
    TeamsPlan,
    View,
    WarehouseRow,
)
from streams.planning.state import PlanningOptions, ProvinceState, place_of
from streams.planning.stock import effective_on_hand, shipments_by_warehouse, stock_view
from streams.planning.supplies import declared_areas, national_cover
from streams.planning.teams import duty_hours, task_location

Key = tuple[str, str]  # (entity, id)
Pair = tuple[str, str]  # (shelter or kitchen id, item id)
LOOP_ORDER = ("dispatched", "acknowledged", "en_route", "arrived", "done")
#: A shelter's fields its view shows as they are in its row.
SHELTER_FIELDS = (
    "shelter_id", "name", "location", "province_code", "kabupaten_code", "incident_id",
    "capacity", "posko_id", "headcount", "updated_at",
    # when its newest report was received: orders this view against the quick view the
    # shelters agent writes (streams.changes.shelter_version)
    "accepted_at")
WAREHOUSE_FIELDS = ("warehouse_id", "name", "kind", "location", "province_code",
                    "kabupaten_code", "updated_at")
TEAM_FIELDS = ("team_id", "name", "location", "province_code", "kabupaten_code", "skills",
               "members", "rank", "availability", "hours_on_duty")
#: What the view of a team on the phone loop shows besides.
LOOP_TEAM_FIELDS = ("base", "roster", "members_present", "on_duty_since", "registered_by")


@dataclass(frozen=True)
class Unchanged:
    """A view made from the same inputs as in the province's last plan made here: its hash
    then, and how to build it (needed only if that is not the hash last projected)."""

    digest: str
    build: Callable[[], View]


class ViewMemo:
    """What a province's views were made from in its last plan made in this process, and
    their hashes: a view whose inputs are the same (compared by ``==``, which finds the very
    same row, need line or shortfall line at once) is neither built nor hashed again.

    A re-plan of a 2,000-shelter province built and hashed its ~23,000 views whatever had
    changed, about a third of the plan's CPU. The inputs name everything a view is made of;
    a view whose inputs were not recorded (a view kind not memoised) is built as before.
    Kept per province in the planning process (:func:`view_memo`), like the plan's lines
    (``streams.planning.supplies``); ``tests/unit/streams/test_view_memo.py`` checks that
    plans with it equal plans without it."""

    def __init__(self) -> None:
        # inputs are compared with ``==``, never hashed (rows are dicts)
        self._seen: dict[Key, tuple[object, str]] = {}
        self._now: dict[Key, tuple[object, str]] = {}
        self._context: object = None
        self.reused = 0  # views of the last plan not built again

    def begin(self, context: object) -> None:
        """A plan starts; ``context`` holds what every view depends on (a change of it
        forgets every view)."""
        if context != self._context:
            self._seen = {}
            self._context = context
        self._now = {}
        self.reused = 0

    def view(self, key: Key, inputs: object, build: Callable[[], View]) -> View | Unchanged:
        """The view of ``key`` made from ``inputs`` by ``build``, or :class:`Unchanged`."""
        hit = self._seen.get(key)
        if hit is not None and hit[0] == inputs:
            self._now[key] = hit
            self.reused += 1
            return Unchanged(hit[1], build)
        self._now[key] = (inputs, "")
        return build()

    def hashed(self, key: Key, digest: str) -> None:
        """The hash of the view built for ``key`` in this plan."""
        entry = self._now.get(key)
        if entry is not None:
            self._now[key] = (entry[0], digest)

    def end(self) -> None:
        """The plan's views are hashed: they are what the next plan compares with."""
        self._seen = {k: v for k, v in self._now.items() if v[1]}
        self._now = {}


_MEMOS: dict[str, ViewMemo] = {}


def view_memo(province: str) -> ViewMemo:
    """The province's :class:`ViewMemo` in this process."""
    memo = _MEMOS.get(province)
    if memo is None:
        memo = _MEMOS[province] = ViewMemo()
    return memo


def forget_views(province: str | None = None) -> None:
    """Forget the memoised views (of one province, or all)."""
    if province is None:
        _MEMOS.clear()
    else:
        _MEMOS.pop(province, None)


@dataclass
class PlanViews:
    """What the views are made from: the state before and after the plan's shipments,
    the supply plan, its needs and meals, the team plan, the shipments and withdrawals."""

    state: ProvinceState
    after: ProvinceState  # the state with this plan's shipments
    plan_id: str
    now: datetime
    plan: PlanDict
    needs: list[Need]
    meals: KitchenPlan
    teams: TeamsPlan
    shipments: dict[str, ShipmentRow]
    withdrawn: list[ShipmentRow]
    opts: PlanningOptions
    gates: Gates = field(default_factory=Gates)  # the province's decisions on the national tier
    memo: ViewMemo | None = None  # views made from unchanged inputs are not built again


def planned_units(shipments: Iterable[ShipmentRow]) -> dict[Pair, int]:
    """Units proposed, confirmed or on the road, per shelter (or kitchen) and item."""
    planned: dict[Pair, int] = {}
    for shipment in shipments:
        if shipment["status"] in ("proposed", "confirmed", "dispatched"):
            pair = (shipment["shelter_id"], shipment["item_id"])
            planned[pair] = planned.get(pair, 0) + int(shipment["quantity"])
    return planned


def read_models(p: PlanViews) -> dict[Key, View | Unchanged | None]:
    """Every view of the plan, by (entity, id); with ``p.memo``, a view whose inputs have not
    changed since the last plan as :class:`Unchanged`."""
    state = p.state
    views: dict[Key, View | Unchanged | None] = {}
    if p.memo is not None:
        p.memo.begin((state.province_code, p.opts.profile_id, bool(state.national),
                      tuple(sorted({line["item_id"]: line["unit"]
                                    for line in p.plan["proposals"]}.items()))))
    planned = planned_units(p.shipments.values())
    shortfall_by = {(s["shelter_id"], s["item_id"]): s for s in p.plan["shortfalls"]}
    cover = national_cover(p.shipments.values())
    views.update(shelter_views(p, planned, shortfall_by, cover))
    views.update(kitchen_views(p, planned))
    views.update(warehouse_views(p))
    views.update(team_views(p))
    views.update(task_views(p))
    for shipment in [*p.shipments.values(), *p.withdrawn]:
        key = ("shipment", shipment["shipment_id"])
        if p.memo is None:
            views[key] = shipment_view(p.after, shipment)
            continue
        views[key] = p.memo.view(
            key, (_inputs(shipment, SHIPMENT_INPUTS),
                  _inputs(p.after.warehouses.get(shipment["warehouse_id"]), PLACE_INPUTS),
                  _inputs(place_of(p.after, shipment["shelter_id"]), PLACE_INPUTS)),
            partial(shipment_view, p.after, shipment))
    views.update(shortfall_views(state, shortfall_by, cover, p))
    views[("plan", state.province_code)] = plan_view(p)
    return views


def shelter_views(
    p: PlanViews, planned: Mapping[Pair, int], shortfall_by: Mapping[Pair, ShortfallLine],
    national_cover: Mapping[Pair, int],
) -> dict[Key, View | Unchanged]:
    """Each shelter with its needs per item: need, planned, in transit, delivered, shortfall
    (net of what the national tier covers), and the share of its needs unmet."""
    state = p.state
    has_national = bool(state.national)
    catalogue_units = {line["item_id"]: line["unit"] for line in p.plan["proposals"]}
    # how each need was worked out (rate x people x days, the profile's source), as data
    profile = load_profile(p.opts.profile_id)
    sourced = need_sources(profile)
    catalogue = default_catalogue()
    needs_of: dict[str, list[Need]] = {}
    for need in p.needs:
        needs_of.setdefault(need.shelter_id, []).append(need)
    served_by = p.meals.served_by

    def build(shelter_id: str, shelter: Mapping[str, Any], needs: list[Need],
              lines: list[tuple[tuple[Any, Any] | None, int, int]]) -> View:
        rows = []
        total_need = 0.0
        total_unmet = 0.0
        for need, (shortfall, planned_units, cover) in zip(needs, lines, strict=True):
            gross = max(need.gross, 0.0)
            missing = max(0, int(shortfall[0])) if shortfall else 0
            if shortfall and has_national:
                missing = max(0, missing - cover)
            unit = shortfall[1] if shortfall else catalogue_units.get(need.item_id)
            rows.append({
                "item": need.item_id,
                "unit": unit,
                "need": round(gross, 3),
                "planned": planned_units,
                "in_transit": need.in_transit,
                "delivered": need.on_hand,
                "shortfall": missing,
                "why": explain_need(need, unit or _unit(catalogue, need.item_id), profile,
                                    sourced),
            })
            if gross > 0:
                total_need += 1.0
                total_unmet += min(1.0, missing / gross)
        data: View = {k: shelter.get(k) for k in SHELTER_FIELDS}
        data["needs"] = rows
        data["unmet_share"] = round(total_unmet / total_need, 4) if total_need else 0.0
        if shelter_id in served_by:
            data["kitchen_id"] = served_by[shelter_id]
        return data

    out: dict[Key, View | Unchanged] = {}
    for shelter_id, shelter in state.shelters.items():
        needs = needs_of.get(shelter_id, [])
        lines = [(_missing_unit(shortfall_by.get((shelter_id, n.item_id))),
                  planned.get((shelter_id, n.item_id), 0),
                  national_cover.get((shelter_id, n.item_id), 0)) for n in needs]
        key = ("shelter", shelter_id)
        if p.memo is None:
            out[key] = build(shelter_id, shelter, needs, lines)
        else:
            out[key] = p.memo.view(
                key, (shelter, tuple(needs), tuple(lines), served_by.get(shelter_id)),
                partial(build, shelter_id, shelter, needs, lines))
    return out


def _missing_unit(shortfall: ShortfallLine | None) -> tuple[Any, Any] | None:
    """What a shelter's view reads of its shortfall line of an item."""
    return None if shortfall is None else (shortfall["missing"], shortfall["unit"])


#: What a shortfall's view reads of its line (not its id: a line's id names the plan).
SHORTFALL_INPUTS = ("shelter_id", "item_id", "unit", "missing", "covered", "need", "summary",
                    "reason", "explanation")
#: What a shipment's view reads of its row (not the plan line it came from).
SHIPMENT_INPUTS = ("shipment_id", "status", "held", "tier", "warehouse_id", "warehouse_name",
                   "shelter_id", "item_id", "unit", "quantity", "batches", "travel_hours", "eta",
                   "origin", "summary", "why", "received_quantity", "difference", "reason",
                   "updated_at", "approval")
#: What a shipment's or shortfall's view reads of its warehouse, shelter or kitchen.
PLACE_INPUTS = ("name", "location")


def _inputs(row: Mapping[str, Any] | None, names: tuple[str, ...]) -> tuple[Any, ...]:
    """The values of ``names`` in ``row`` (a view's inputs)."""
    if row is None:
        return ()
    return tuple(map(row.get, names, repeat(_ABSENT, len(names))))


_ABSENT = object()  # a field the row does not have (not the same input as a None in it)


def _unit(catalogue: Catalogue, item: str) -> str | None:
    return catalogue.get(item).unit if item in catalogue else None


def kitchen_views(p: PlanViews, planned: Mapping[Pair, int]) -> dict[Key, View]:
    """Kitchens, proposals to open one, and kitchen capacity shortfalls
    (:func:`streams.kitchen_planning.views`)."""
    state = p.state
    profile = load_profile(p.opts.profile_id)
    by_warehouse = shipments_by_warehouse(state.shipments)

    def units(warehouse: WarehouseRow) -> int:
        on_hand = effective_on_hand(state, warehouse,
                                    by_warehouse.get(warehouse["warehouse_id"], []))
        return kitchen_planning.dumlap_units(on_hand, warehouse)

    # called through the module: bench/kitchens.py times this step
    proposals, blocked = kitchen_planning.propose(state, p.meals, profile, units)
    views = kitchen_planning.views(state, p.meals, proposals, blocked, planned, p.needs,
                                   p.now.isoformat())
    for (entity, _), view in views.items():
        # a kitchen's capacity shortfall names its rule under ``why`` like every other
        # shortfall (streams.kitchen_planning writes it as ``reason``; read models written
        # before say ``reason``, which the dashboard still reads)
        if entity == "shortfall" and view is not None and "reason" in view:
            view["why"] = view.pop("reason")
    return views


def warehouse_views(p: PlanViews) -> dict[Key, View]:
    """Each warehouse with its stock after this plan's shipments, and whether its stock is
    released (a Lumbung Sosial only once its area's emergency is declared)."""
    declared = declared_areas(p.state)
    by_warehouse = shipments_by_warehouse(p.after.shipments)
    out: dict[Key, View] = {}
    for warehouse_id, warehouse in p.state.warehouses.items():
        data: View = {k: warehouse.get(k) for k in WAREHOUSE_FIELDS}
        data["released"] = (
            warehouse.get("kind") != "lumbung_sosial"
            or (warehouse.get("kabupaten_code") or "") in declared
        )
        data["stock"] = stock_view(p.after, warehouse, by_warehouse.get(warehouse_id, []))
        out[("warehouse", warehouse_id)] = data
    return out


def assignment_of(teams_plan: TeamsPlan) -> dict[str, str]:
    """team → the task it stands on."""
    return {
        team_id: task_id
        for task_id, team_ids in teams_plan["assignments"].items()
        for team_id in team_ids
    }


def loop_view(team: TeamRow | Mapping[str, Any], task_id: str,
              detail: Mapping[str, Any]) -> View:
    """A standing assignment's place in the task loop, with the time of each step."""
    entry: ProgressRow = (team.get("progress") or {}).get(task_id) or {}
    times = {"dispatched": detail.get("dispatched_at")}
    times.update({k[: -len("_at")]: v for k, v in entry.items() if k.endswith("_at")})
    return {"status": entry.get("status") or "dispatched", "times": times}


def team_views(p: PlanViews) -> dict[Key, View]:
    """Each team with its assignment (this province's, or the national tier's), its place in
    the task loop and why it was sent; a team on the phone loop with its roster and real
    hours on duty."""
    state, teams_plan = p.state, p.teams
    on_task = assignment_of(teams_plan)
    tasks = teams_plan["tasks"]
    pinned, awaiting = mobilised(state)
    out: dict[Key, View] = {}
    for team_id, team in state.teams.items():
        data: View = {k: team.get(k) for k in TEAM_FIELDS}
        task_id = on_task.get(team_id)
        if task_id is not None:
            detail: Mapping[str, Any] = teams_plan["details"].get(team_id) or {}
            task = tasks[task_id]
            data["assignment"] = {
                "task_id": task_id,
                "kind": task["kind"],
                "target_id": task["concerns_id"],
                "location": task_location(state, task),
                "tier": teams_plan["tiers"].get(task_id, "province"),
                "eta_hours": detail.get("travel_hours"),
                "why": detail.get("why"),  # rule team_assigned and its figures
                **loop_view(team, task_id, detail),
            }
            data["availability"] = "assigned"
        elif team_id in pinned:
            pin = pinned[team_id]
            data["assignment"] = {
                "task_id": pin["task_id"],
                "kind": pin.get("kind"),
                "target_id": pin.get("target_id"),
                "location": pin.get("location"),
                "tier": "national",
                # ids are unique only within a province: the task is the receiving one's
                "task_province": pin.get("task_province"),
                "eta_hours": pin.get("travel_hours"),
                "why": pin.get("why"),  # team_assigned, as for the province's own dispatch
                **loop_view(team, pin["task_id"], {}),
            }
            data["availability"] = "assigned"
        else:
            data["assignment"] = None
        if data["assignment"] is None and team_id in awaiting:
            # proposed by the national tier, awaiting the receiving province's approval: not
            # an assignment yet (the team's phone shows none)
            pin = awaiting[team_id]
            data["mobilisation"] = {
                "task_id": pin["task_id"], "task_province": pin.get("task_province"),
                "kind": pin.get("kind"), "target_id": pin.get("target_id"),
                "location": pin.get("location"), "eta_hours": pin.get("travel_hours"),
                "why": pin.get("why"), "approval": "awaiting"}
        if team.get("registration_version"):  # a team on the phone loop
            data.update({k: team.get(k) for k in LOOP_TEAM_FIELDS})
            data["hours_on_duty"] = round(duty_hours(team, p.now), 2)
        out[("team", team_id)] = data
    return out


def progress_by_task(teams_plan: TeamsPlan) -> dict[str, dict[str, str]]:
    """task → {team: its step} of the plan's progress (grouped once, not per task)."""
    out: dict[str, dict[str, str]] = {}
    for pair, status in teams_plan.get("progress", {}).items():
        task, team_id = pair.split("|", 1)
        out.setdefault(task, {})[team_id] = status
    return out


def task_loop_view(
    state: ProvinceState, teams_plan: TeamsPlan, task_id: str, assigned: list[str],
    progress: dict[str, str],
) -> View:
    """The task's status for the dashboard: each team's step (``teams``), and the task's —
    ``done`` when every slot is done, else the furthest step of a team on it, ``dispatched``,
    or ``unassigned``. ``progress``: this task's {team: step}."""
    details = teams_plan["details"]
    teams = []
    for team_id, status in sorted(progress.items()):
        if team_id in assigned:
            continue
        team: Mapping[str, Any] = state.teams.get(team_id) or {}
        entry: Mapping[str, Any] = (team.get("progress") or {}).get(task_id) or {}
        teams.append({"team_id": team_id, "name": team.get("name"), "status": status,
                      "reason": entry.get("reason") if status == "declined"
                      else ("not acknowledged in time" if status == "timed_out" else None),
                      "times": {k[: -len("_at")]: v for k, v in entry.items()
                                if k.endswith("_at")}})
    for team_id in assigned:
        on_it: Mapping[str, Any] = state.teams.get(team_id) or {}
        view = loop_view(on_it, task_id, details.get(team_id, {}))
        teams.append({"team_id": team_id, "name": on_it.get("name"), "reason": None, **view})
    needed = int(teams_plan["tasks"][task_id]["teams_needed"])
    done = sum(1 for t in teams if t["status"] == "done")
    active = [t["status"] for t in teams if t["team_id"] in assigned]
    overall: str = "unassigned"
    if done >= needed:
        overall = "done"
    elif active:
        overall = str(max(active, key=LOOP_ORDER.index))
    return {"status": overall, "teams": teams}


def national_team(c: CoveredTask, gates: Gates) -> View:
    """A team the national tier mobilised to a task here, with this province's approval."""
    required = c.get("approval_required", True) is not False
    return {"team_id": c["team_id"], "name": c.get("team_name"),
            "province_code": c.get("team_province"), "eta_hours": c.get("travel_hours"),
            "why": c.get("why"),
            "approval": team_approval(required, gates.team_decision(c["task_id"],
                                                                    c["team_id"]))}


def task_views(p: PlanViews) -> dict[Key, View]:
    """Each task with the teams on it (the province's and the national tier's: those the
    province approved, or that need no approval, count; the others are listed awaiting),
    its tier, how many teams it still lacks and its place in the task loop."""
    state, teams_plan = p.state, p.teams
    national_of: dict[str, list[View]] = {}
    progress_of = progress_by_task(teams_plan)
    for c in state.national.get("tasks_covered", []):
        national_of.setdefault(c["task_id"], []).append(national_team(c, p.gates))
    out: dict[Key, View] = {}
    for task_id, task in teams_plan["tasks"].items():
        assigned = teams_plan["assignments"].get(task_id, [])
        national = national_of.get(task_id, [])
        national_teams = [t["team_id"] for t in national if t["approval"] in CLEARED]
        view: View = {
            "task_id": task_id,
            "kind": task["kind"],
            "target_id": task["concerns_id"],
            "location": task_location(state, task),
            "province_code": state.province_code,
            "teams_required": task["teams_needed"],
            "assigned_team_ids": sorted(assigned + national_teams),
            "tier": "national" if national_teams and not assigned
            else teams_plan["tiers"].get(task_id),
            "uncovered": max(0, task["teams_needed"] - len(assigned) - len(national_teams)),
            **task_loop_view(state, teams_plan, task_id, assigned,
                             progress_of.get(task_id, {})),
        }
        if national:
            view["national_teams"] = sorted(national, key=lambda t: str(t["team_id"]))
        declined = p.gates.task_decline(task_id, task["teams_needed"]) if p.gates.tasks \
            else None
        if declined is not None:
            view["national_decline"] = {
                "reason": declined["reason"], "coordinator": declined["coordinator"],
                "at": declined["at"], "need": declined["need"]}
        out[("task", task_id)] = view
    return out


def shipment_view(state: ProvinceState, shipment: ShipmentRow) -> View:
    """A shipment with its warehouse's and destination's names and places, its ETA, and why
    (the explanation as text and as data)."""
    warehouse: Mapping[str, Any] = state.warehouses.get(shipment["warehouse_id"]) or {}
    shelter: Mapping[str, Any] = place_of(state, shipment["shelter_id"]) or {}
    origin = shipment.get("origin") or warehouse.get("location")
    view: View = {
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
        # the rule and figures, rendered in the page's language (its English sentence is
        # ``explanation``: not twice in a view, a re-plan writes thousands of them)
        "why": without_text(shipment.get("why")),
        "quantity_received": shipment.get("received_quantity"),
        "difference": shipment.get("difference"),
        "reason": shipment.get("reason"),
        "updated_at": shipment.get("updated_at"),
    }
    if shipment.get("tier") == "national" and shipment.get("approval"):
        # awaiting, approved or declined by the receiving province, or not_required
        view["approval"] = shipment["approval"]
    return view


def without_text(why: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A structured explanation without its English sentence (the view's ``explanation``)."""
    if why is None:
        return None
    return {k: v for k, v in why.items() if k != "text"}


def shortfall_views(
    state: ProvinceState, shortfall_by: Mapping[Pair, ShortfallLine],
    national_cover: Mapping[Pair, int], p: PlanViews | None = None,
) -> dict[Key, View | Unchanged]:
    """Each shelter's shortfall of an item, net of what the national tier proposed for it
    (and the province approved), with the coordinator's decision on it and, while it stands,
    their decline of the national tier's help (``national_decline``)."""
    out: dict[Key, View | Unchanged] = {}
    gates = p.gates if p is not None else Gates()
    memo = p.memo if p is not None else None
    need_of = {(n.shelter_id, n.item_id): n.gross for n in p.needs} if p and gates.needs \
        else {}

    def build(shelter_id: str, item: str, shortfall: ShortfallLine, missing: int,
              shelter: Mapping[str, Any], declined: Mapping[str, Any] | None) -> View:
        shortfall_id = f"{shelter_id}:{item}"
        view: View = {
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
            "why": without_text(explain_shortfall(shortfall)),
            "decision": (shelter.get("decisions") or {}).get(item),
        }
        if declined is not None:
            view["national_decline"] = {
                "reason": declined["reason"], "coordinator": declined["coordinator"],
                "at": declined["at"], "need": declined["need"]}
        return view

    for (shelter_id, item), shortfall in shortfall_by.items():
        missing = int(shortfall["missing"]) - national_cover.get((shelter_id, item), 0)
        if missing <= 0:
            continue
        shelter: Mapping[str, Any] = place_of(state, shelter_id) or {}
        declined = gates.need_decline((shelter_id, item), need_of.get((shelter_id, item), 0.0)) \
            if gates.needs else None
        key = ("shortfall", f"{shelter_id}:{item}")
        if memo is None:
            out[key] = build(shelter_id, item, shortfall, missing, shelter, declined)
        else:
            out[key] = memo.view(
                key, (_inputs(shortfall, SHORTFALL_INPUTS), missing,
                      _inputs(shelter, PLACE_INPUTS), (shelter.get("decisions") or {}).get(item),
                      declined),
                partial(build, shelter_id, item, shortfall, missing, shelter, declined))
    return out


def plan_view(p: PlanViews) -> View:
    """The plan itself: when, by which profiles, per item figures, and counts."""
    return {
        "province_code": p.state.province_code,
        "plan_id": p.plan_id,
        "planned_at": p.now.isoformat(),
        "profile_ids": p.plan["profile_ids"],
        "items": [
            {k: st[k] for k in ("item_id", "need", "covered", "weighted_need",
                                "weighted_coverage", "unit_hours", "eligible_stock")}
            for st in p.plan["stats"]
        ],
        "proposals": len(p.plan["proposals"]),
        "shortfalls": len(p.plan["shortfalls"]),
        "tasks_uncovered": len(p.teams["uncovered"]),
    }


def only_what_changed(
    views: Mapping[Key, View | Unchanged | None], projected: Mapping[str, str],
    events: list[OutputEvent], memo: ViewMemo | None = None,
) -> tuple[list[EntityChange], dict[str, str]]:
    """The views whose hash differs from the one last projected (``projected``:
    ``"<entity>:<id>"`` → hash), and removals of the entities gone; the new hashes.

    A shortfall is detected once, when it appears (its size moves in the read model), and
    resolved once, when it is gone: ``events`` receives those.
    """
    old_hashes = dict(projected)
    new_hashes: dict[str, str] = {}
    changed: list[EntityChange] = []
    for (entity, entity_id), view in sorted(views.items()):
        key = f"{entity}:{entity_id}"
        if isinstance(view, Unchanged):
            digest = view.digest
            new_hashes[key] = digest
            if old_hashes.get(key) != digest:
                # the last projected hash is not this view's (the plan's memory was lost):
                # it goes out again
                changed.append((entity, entity_id, view.build()))
            continue
        digest = content_hash(view)
        if memo is not None:
            memo.hashed((entity, entity_id), digest)
        new_hashes[key] = digest
        if old_hashes.get(key) != digest:
            changed.append((entity, entity_id, view))
    for key in sorted(set(old_hashes) - set(new_hashes)):
        entity, entity_id = key.split(":", 1)
        changed.append((entity, entity_id, None))
        if entity == "shortfall":
            events.append({"type": "supply_shortfall.resolved", "shortfall_id": entity_id})
    for entity, entity_id, view in changed:
        if entity == "shortfall" and view is not None and \
                f"shortfall:{entity_id}" not in old_hashes:
            events.append({"type": "supply_shortfall.detected", **view})
    if memo is not None:
        memo.end()
    return changed, new_hashes
