"""The province's supply plan: needs from headcounts, stock from its own stores, allocation.

Needs come from each shelter's headcount (:func:`logistics.needs.compute_needs`), net of what
was delivered within the days of cover and of national-tier shipments on their way; a shelter
a public kitchen cooks for gets its meals as ingredients at the kitchen
(:mod:`streams.kitchen_planning`). Stock is what the province's provincial, kabupaten and
Lumbung Sosial stores physically hold (:mod:`streams.planning.stock`); the re-plan keeps the
previous plan's lines where they still hold (:func:`logistics.replan.replan`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, cast

import numpy as np

import geo
from logistics.allocation import BatchPick, Plan, ShipmentProposal, Shortfall
from logistics.approval import CLEARED
from logistics.kitchens import KitchenPlan
from logistics.needs import Need, Profile, ShelterHeadcount, compute_needs, load_profile
from logistics.replan import replan
from logistics.shipment import Shipment
from logistics.stock import ReleaseRules, StockBatch, TravelHours, Warehouse, WarehouseKind
from streams import kitchen_planning
from streams.planning.rows import PlanDict, Received, ShipmentRow, WarehouseRow
from streams.planning.state import REGIONAL, PlanningOptions, ProvinceState, parse_time
from streams.planning.stock import effective_on_hand, shipments_by_warehouse

FloatMatrix = np.ndarray[Any, np.dtype[np.float64]]
Pair = tuple[str, str]  # (shelter or kitchen id, item id)


def severity_for(state: ProvinceState, incident_id: str | None) -> int:
    """A shelter's severity: its incident's, else the province's worst, else 3."""
    incident = state.incidents.get(incident_id or "")
    if incident is not None:
        return int(incident["severity"])
    severities = [int(i["severity"]) for i in state.incidents.values()]
    return max(severities) if severities else 3


def deliveries(state: ProvinceState) -> dict[str, dict[str, Received]]:
    """Per shelter, what was delivered to it: ``{shipment_id: {item, quantity, at}}``.

    Kept on the shelter (``received``) when the delivery is recorded, so it outlives the
    closed shipment; a delivered shipment still in the working state counts once either way.
    """
    out: dict[str, dict[str, Received]] = {}
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


def headcounts(state: ProvinceState, now: datetime) -> list[ShelterHeadcount]:
    """The shelters with people and a place, as the core's headcounts (by shelter id)."""
    out = []
    delivered_to = deliveries(state)
    for shelter_id, shelter in sorted(state.shelters.items()):
        count = shelter.get("headcount")
        if not count or shelter.get("location") is None or count["total"] <= 0:
            continue
        delivered = [parse_time(d.get("at")) for d in delivered_to.get(shelter_id, {}).values()]
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
                severity=severity_for(state, shelter.get("incident_id")),
                hours_since_delivery=None if since is None else max(0.0, since),
                reported_at=parse_time(count.get("counted_at")),
            )
        )
    return out


def received_recently(state: ProvinceState, now: datetime, days: float) -> dict[Pair, int]:
    """Units delivered within the days-of-cover window count as on hand at the shelter."""
    window_start = now - timedelta(days=days)
    out: dict[Pair, int] = {}
    for shelter_id, received in deliveries(state).items():
        for delivery in received.values():
            if parse_time(delivery.get("at")) < window_start:
                continue
            key = (shelter_id, delivery["item"])
            out[key] = out.get(key, 0) + int(delivery["quantity"])
    return out


def national_cover(shipments: Iterable[ShipmentRow]) -> dict[Pair, int]:
    """Units the national tier proposed for this province's shelters that may go: approved
    by a coordinator of the province, or needing no approval. A proposal awaiting approval
    covers nothing yet — its shortfall stays in view, where a coordinator decides on it."""
    out: dict[Pair, int] = {}
    for shipment in shipments:
        if shipment.get("tier") == "national" and shipment["status"] == "proposed" and \
                str(shipment.get("approval") or "not_required") in CLEARED:
            key = (shipment["shelter_id"], shipment["item_id"])
            out[key] = out.get(key, 0) + int(shipment["quantity"])
    return out


def national_shipments_in_flight(state: ProvinceState) -> dict[Pair, int]:
    """Units of national-tier shipments confirmed or on the road, per shelter and item.

    National proposals are not counted: the shortfalls sent up must stay gross of them, or
    the national plan would shrink its own need and oscillate.
    """
    out: dict[Pair, int] = {}
    for shipment in state.shipments.values():
        if shipment.get("tier") == "national" and shipment["status"] in ("confirmed",
                                                                         "dispatched"):
            key = (shipment["shelter_id"], shipment["item_id"])
            out[key] = out.get(key, 0) + int(shipment["quantity"])
    return out


def declared_areas(state: ProvinceState) -> frozenset[str]:
    """The kabupaten whose emergency declaration releases their Lumbung Sosial (all of the
    province's for a declaration without a kabupaten)."""
    areas: set[str] = set()
    for declaration in state.declarations.values():
        kabupaten = declaration.get("kabupaten_code")
        if kabupaten:
            areas.add(kabupaten)
        else:
            areas.update(
                w.get("kabupaten_code") or ""
                for w in state.warehouses.values()
                if (w.get("kabupaten_code") or "").startswith(state.province_code + ".")
            )
    return frozenset(a for a in areas if a)


def local_warehouses(state: ProvinceState) -> list[WarehouseRow]:
    """The province's own stores with a kind and a place (regional ones are the national
    tier's), by id."""
    return [
        w
        for _, w in sorted(state.warehouses.items())
        if w.get("kind") and w["kind"] != REGIONAL and w.get("location") is not None
    ]


def shipment_of(row: ShipmentRow) -> Shipment:
    """The logistics shipment behind a shipments-table row (with the receiving province's
    approval of a national-tier one: the lifecycle refuses to confirm one awaiting it)."""
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
        approval=row.get("approval") or "not_required",
    )


def committed(state: ProvinceState) -> list[Shipment]:
    """The province tier's shipments (the re-plan does not take back what was committed)."""
    return [shipment_of(s) for s in state.shipments.values() if s.get("tier") != "national"]


def travel_hours(origins: list[Any], destinations: list[Any]) -> FloatMatrix:
    """Hours from each origin row's ``location`` to each destination row's."""
    if not origins or not destinations:
        return np.zeros((len(origins), len(destinations)))
    o = np.array([[x["location"]["lat"], x["location"]["lon"]] for x in origins])
    d = np.array([[x["location"]["lat"], x["location"]["lon"]] for x in destinations])
    return np.asarray(geo.cost_matrix(o, d).hours, dtype=np.float64)


@dataclass
class Supplies:
    """A supply plan: the plan, its needs (with kitchens applied) and the kitchens' meals."""

    plan: Plan
    needs: list[Need]
    meals: KitchenPlan


def plan_supplies(
    state: ProvinceState, previous: Plan | None, plan_id: str, now: datetime,
    opts: PlanningOptions,
) -> Supplies:
    """The province's supply plan; served shelters' meals go to their kitchens as
    ingredients (:class:`logistics.kitchens.KitchenPlan`)."""
    profile = load_profile(opts.profile_id)
    counts = headcounts(state, now)
    on_hand = received_recently(state, now, opts.days_of_cover)
    in_transit = national_shipments_in_flight(state)
    needs = needs_of(state.province_code, counts, profile, opts.days_of_cover, on_hand,
                     in_transit)
    # called through the module: bench/kitchens.py times these two steps
    meals = kitchen_planning.plan_meals(
        state, needs, counts, profile, opts.days_of_cover, on_hand, in_transit)
    needs = list(meals.needs)
    warehouses = local_warehouses(state)
    places: list[Any] = [state.shelters[h.shelter_id] for h in counts]
    places += kitchen_planning.destinations(state, needs)
    travel = TravelHours(
        tuple(w["warehouse_id"] for w in warehouses),
        tuple(s["shelter_id"] for s in places),
        _with_holds(state, warehouses, places, travel_hours(warehouses, places)),
    )
    rules = ReleaseRules(
        plan_date=now.date(),
        declared_areas=declared_areas(state),
        allow_near_expiry=opts.allow_near_expiry,
    )
    prev = previous or Plan(plan_id, now, (profile.id,), rules, (), (), (), ())
    result = replan(
        prev,
        plan_id,
        now,
        needs,
        stock_batches(state, warehouses),
        [
            Warehouse(id=w["warehouse_id"], kind=cast(WarehouseKind, w["kind"]),
                      area_code=w.get("kabupaten_code") or "", name=w.get("name", ""))
            for w in warehouses
        ],
        travel,
        rules,
        committed=committed(state),
        threshold=opts.replan_threshold,
    )
    return Supplies(result.plan, needs, meals)


def _with_holds(
    state: ProvinceState, warehouses: list[WarehouseRow], places: list[Any],
    hours: FloatMatrix,
) -> FloatMatrix:
    """A coordinator's hold blocks the pair it was put on (infinite travel)."""
    row_of = {w["warehouse_id"]: i for i, w in enumerate(warehouses)}
    col_of = {s["shelter_id"]: j for j, s in enumerate(places)}
    for shipment in state.shipments.values():
        if shipment.get("held") and shipment["status"] == "proposed":
            i = row_of.get(shipment["warehouse_id"])
            j = col_of.get(shipment["shelter_id"])
            if i is not None and j is not None:
                hours[i, j] = np.inf
    return hours


def stock_batches(state: ProvinceState, warehouses: list[WarehouseRow]) -> list[StockBatch]:
    """What the stores hold for the allocation: each batch's units on hand, by warehouse
    and batch id."""
    stock = []
    by_warehouse = shipments_by_warehouse(state.shipments)
    for w in warehouses:
        units = effective_on_hand(state, w, by_warehouse.get(w["warehouse_id"], []))
        for batch_id, batch in sorted(w.get("batches", {}).items()):
            expires_on = batch["expires_on"]
            stock.append(
                StockBatch(
                    warehouse_id=w["warehouse_id"],
                    item_id=batch["item"],
                    batch_id=batch_id,
                    quantity=units[batch_id],
                    expiry=date.fromisoformat(expires_on) if expires_on else None,
                )
            )
    return stock


# The plan lines this process made or read, per province and proposal id, with the dict form
# they were stored in. A previous plan is rebuilt from its table row (the proposed shipments'
# lines, each from the plan that last changed it); a line whose stored dict is the very one
# kept here is taken as it is instead of parsed back (thousands of lines at 2,000 shelters:
# most of a second per re-plan). The result is the plan ``Plan.from_dict(row)`` would give.
_LINES: dict[str, dict[str, tuple[Any, ShipmentProposal]]] = {}


def previous_plan(province: str, row: PlanDict | None) -> Plan | None:
    """The supply plan a re-plan starts from (None for the first)."""
    if not row:
        return None
    known = _LINES.get(province, {})
    lines: list[ShipmentProposal] = []
    kept: dict[str, tuple[Any, ShipmentProposal]] = {}
    for stored in row.get("proposals") or ():
        pid = str(stored.get("proposal_id"))
        hit = known.get(pid)
        line = hit[1] if hit is not None and hit[0] == stored else \
            ShipmentProposal.from_dict(stored)
        lines.append(line)
        kept[pid] = (stored, line)
    _LINES[province] = kept
    empty = cast(Any, {**row, "proposals": []})
    return replace(Plan.from_dict(empty), proposals=tuple(lines))


def remember_plan(province: str, plan: Plan, row: PlanDict) -> None:
    """Keep the lines of the plan just made (``row`` is its dict form) for the province's
    next re-plan."""
    known = _LINES.setdefault(province, {})
    for stored, line in zip(row.get("proposals") or (), plan.proposals, strict=True):
        known[str(stored["proposal_id"])] = (stored, line)


# The dict form of the province's last plan's shortfalls, by (shelter, item), with what it was
# made from. A re-plan's top-up finds its shortfalls again, as new lines under the new plan's
# id; one whose figures and explanation are those of the last plan's takes that dict (with
# the new ids) instead of writing its summary and explanation out again.
_SHORTFALLS: dict[str, dict[tuple[str, str], tuple[tuple[Any, ...], dict[str, Any]]]] = {}


def plan_as_dict(province: str, plan: Plan) -> PlanDict:
    """``plan.to_dict()``, reusing the dict form of each line kept from the province's last
    plan (a proposal kept as it was: the very line; a shortfall: the same figures). Equal to
    ``plan.to_dict()``; a 2,000-shelter re-plan spent about a seventh of its CPU writing out
    ~14,000 lines, most of them as they were. Call before :func:`remember_plan`."""
    known = _LINES.get(province, {})
    shortfalls_before = _SHORTFALLS.get(province, {})
    shortfalls_now: dict[tuple[str, str], tuple[tuple[Any, ...], dict[str, Any]]] = {}

    def line_dict(line: ShipmentProposal | Shortfall) -> dict[str, Any]:
        if isinstance(line, Shortfall):
            pair = (line.shelter_id, line.item_id)
            made_of = (line.unit, line.need, line.covered, line.missing, line.explanation)
            hit = shortfalls_before.get(pair)
            if hit is None or hit[0] != made_of:
                out = line.to_dict()
            elif (hit[1]["shortfall_id"], hit[1]["plan_id"]) == (line.shortfall_id,
                                                                 line.plan_id):
                out = hit[1]
            else:
                out = dict(hit[1], shortfall_id=line.shortfall_id, plan_id=line.plan_id)
            shortfalls_now[pair] = (made_of, out)
            return out
        kept = known.get(line.proposal_id)
        return kept[0] if kept is not None and kept[1] is line else line.to_dict()

    out = cast(PlanDict, plan.to_dict(line_dict))
    _SHORTFALLS[province] = shortfalls_now
    return out


# Each shelter's need lines of the province's last plan made here, with what they were worked
# out from (its headcount, what it has and what is on its way, per item), under the profile
# and days of cover they were worked out with.
_NEEDS: dict[str, tuple[object, dict[str, tuple[object, list[Need]]]]] = {}


def needs_of(province: str, counts: list[ShelterHeadcount], profile: Profile, days: float,
             on_hand: Mapping[Pair, int], in_transit: Mapping[Pair, int]) -> list[Need]:
    """:func:`logistics.needs.compute_needs` of ``counts``, worked out again only for the
    shelters whose headcount, stock on hand or in transit changed since the province's last
    plan made here (a re-plan after a burst on a few shelters worked out every shelter's
    needs again: 7,000 lines at 2,000 shelters). Equal to ``compute_needs(counts, …)``; an
    unchanged shelter keeps its very need lines, which the allocation's re-plan and the view
    memo then find unchanged at once."""
    context = (profile.id, profile.version, days)
    held = _NEEDS.get(province)
    before = held[1] if held is not None and held[0] == context else {}
    items = profile.items
    now: dict[str, tuple[object, list[Need]]] = {}
    todo: list[ShelterHeadcount] = []
    made_of: dict[str, object] = {}
    for count in counts:
        sid = count.shelter_id
        key = (count, tuple(on_hand.get((sid, item), 0) for item in items),
               tuple(in_transit.get((sid, item), 0) for item in items))
        hit = before.get(sid)
        if hit is not None and hit[0] == key:
            now[sid] = hit
        else:
            todo.append(count)
            made_of[sid] = key
    if todo or not counts:
        worked_out: dict[str, list[Need]] = {}
        for need in compute_needs(todo, profile, days, on_hand=on_hand, in_transit=in_transit):
            worked_out.setdefault(need.shelter_id, []).append(need)
        for count in todo:
            now[count.shelter_id] = (made_of[count.shelter_id],
                                     worked_out.get(count.shelter_id, []))
    _NEEDS[province] = (context, now)
    return [need for sid in sorted(now) for need in now[sid][1]]
