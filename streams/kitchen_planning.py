"""Kitchens in a province's plan: table rows in, meals, siting proposals and views out. Pure.

:func:`plan_meals` turns the kitchens table rows into :class:`logistics.kitchens.Kitchen`,
measures travel from each kitchen to each shelter (``geo.cost_matrix``), and lets
:func:`logistics.kitchens.apply_kitchens` move served shelters' meals into one ingredient
demand point per kitchen. :func:`propose` asks :mod:`logistics.siting` where to open the
next kitchens for the people left unfed, with a Dumlap unit from a warehouse of the province
holding ``field_kitchen`` stock and a free team with the ``public_kitchen`` skill.
:func:`views` gives the ``kitchen`` and ``kitchen_proposal`` read models and the capacity
shortfalls.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

import geo
from logistics.kitchens import (
    Kitchen,
    KitchenPlan,
    apply_kitchens,
    dumlap_rhythm,
    load_standards,
    serving,
)
from logistics.needs import Need, Profile, ShelterHeadcount
from logistics.siting import Candidate, KitchenProposal, propose_kitchens, siting_blocked

if TYPE_CHECKING:  # (streams.planning imports this module)
    from streams.planning.rows import Location, View, WarehouseRow
    from streams.planning.state import ProvinceState

log = logging.getLogger(__name__)
#: At most this many kitchens proposed per plan (a coordinator approves each).
MAX_PROPOSALS = 3
#: Candidate sites examined: the unfed shelters with the most unfed portions (the model is
#: exact over them; a bound keeps the travel matrix and the MILP small in a large province).
MAX_CANDIDATES = 400
#: Shelter ids listed on a kitchen's view (the count is always given).
MAX_LISTED = 200
KITCHEN_SKILL = "public_kitchen"
DUMLAP_ITEM = "field_kitchen"
FloatMatrix = np.ndarray[Any, np.dtype[np.float64]]


class Destination(TypedDict):
    """A kitchen as a demand point of the allocation (where its ingredients go)."""

    shelter_id: str
    location: Location | None


def kitchens_of(state: ProvinceState) -> list[Kitchen]:
    """The province's kitchens with a place, as the core's type (sorted by id)."""
    out = []
    for kitchen_id, row in sorted(state.kitchens.items()):
        location = row.get("location")
        if not location:
            continue
        if kitchen_id in state.shelters:
            # one id for two places would make one demand point of both: the kitchen is left
            # out of the plan (and said so) rather than breaking the province's plan
            log.warning("kitchen %s/%s has a shelter's id: not planned", state.province_code,
                        kitchen_id)
            continue
        out.append(Kitchen(
            kitchen_id=kitchen_id, name=str(row.get("name") or kitchen_id),
            lat=float(location["lat"]), lon=float(location["lon"]),
            units=int(row.get("units") or 1),
            portions_per_cooking=int(row.get("portions_per_cooking") or 2000),
            cookings_per_day=int(row.get("cookings_per_day") or 3),
            status=row.get("status") or "open",
            team_ids=tuple(row.get("team_ids") or ()),
            assigned_shelters=tuple(row.get("assigned_shelter_ids") or ()),
        ))
    return out


def _hours(origins: Sequence[tuple[float, float]],
           destinations: Sequence[tuple[float, float]]) -> FloatMatrix:
    if not origins or not destinations:
        return np.zeros((len(origins), len(destinations)))
    return np.asarray(geo.cost_matrix(np.array(origins), np.array(destinations)).hours,
                      dtype=np.float64)


def _latlon(row: Any) -> tuple[float, float]:
    return (float(row["location"]["lat"]), float(row["location"]["lon"]))


def plan_meals(
    state: ProvinceState,
    needs: Sequence[Need],
    headcounts: Sequence[ShelterHeadcount],
    profile: Profile,
    days: float,
    on_hand: Mapping[tuple[str, str], int],
    in_transit: Mapping[tuple[str, str], int],
) -> KitchenPlan:
    """The needs with kitchens applied (unchanged, and everybody unfed, without kitchens)."""
    standards = load_standards(profile)
    kitchens = kitchens_of(state)
    shelter_ids = [h.shelter_id for h in headcounts]
    hours = _hours([(k.lat, k.lon) for k in kitchens],
                   [_latlon(state.shelters[s]) for s in shelter_ids])
    served_by = serving(kitchens, shelter_ids, hours, standards.value("reach_hours"))
    ids = {k.kitchen_id for k in kitchens}
    return apply_kitchens(
        needs, headcounts, kitchens, served_by, profile, standards, days,
        kitchen_on_hand={k: v for k, v in on_hand.items() if k[0] in ids},
        kitchen_in_transit={k: v for k, v in in_transit.items() if k[0] in ids},
    )


def destinations(state: ProvinceState, needs: Sequence[Need]) -> list[Destination]:
    """The kitchens that are demand points of the allocation, as its destination rows."""
    ids = sorted({n.shelter_id for n in needs
                  if n.shelter_id in state.kitchens and n.shelter_id not in state.shelters})
    return [{"shelter_id": k, "location": state.kitchens[k]["location"]} for k in ids]


def propose(
    state: ProvinceState,
    meals: KitchenPlan,
    profile: Profile,
    units_on_hand: Callable[[WarehouseRow], int],
) -> tuple[list[KitchenProposal], dict[str, Any] | None]:
    """Where to open the next kitchens (exact, :func:`logistics.siting.propose_kitchens`),
    and why none can open when people are unfed but no Dumlap unit or team is free."""
    standards = load_standards(profile)
    unfed = {s: p for s, p in meals.unfed.items() if p > 0 and s in state.shelters}
    if not unfed:
        return [], None
    running = {t for row in state.kitchens.values() if row.get("status") != "closed"
               for t in row.get("team_ids") or ()}
    teams = [t for _, t in sorted(state.teams.items())
             if KITCHEN_SKILL in (t.get("skills") or ()) and t.get("availability") == "available"
             and t["team_id"] not in running and t.get("location")]
    # a Dumlap unit that left with a kitchen opened from a warehouse is no longer there
    taken: dict[str, int] = {}
    for row in state.kitchens.values():
        source = row.get("warehouse_id")
        if source and row.get("status") != "closed":
            taken[source] = taken.get(source, 0) + int(row.get("units") or 1)
    stores = []
    for _, w in sorted(state.warehouses.items()):
        if w.get("location") is None:
            continue
        units = units_on_hand(w) - taken.get(w["warehouse_id"], 0)
        if units > 0:
            stores.append((w, units))
    blocked = siting_blocked(sum(unfed.values()), sum(u for _, u in stores), len(teams))
    if blocked is not None:
        return [], blocked
    shelter_ids = sorted(unfed)
    top = sorted(shelter_ids, key=lambda s: (-unfed[s], s))[:MAX_CANDIDATES]
    candidates = [Candidate(site_id=s, name=str(state.shelters[s].get("name") or s),
                            kind="shelter", lat=_latlon(state.shelters[s])[0],
                            lon=_latlon(state.shelters[s])[1]) for s in sorted(top)]
    sites = [(c.lat, c.lon) for c in candidates]
    site_hours = _hours(sites, [_latlon(state.shelters[s]) for s in shelter_ids])
    warehouse_hours = _hours([_latlon(w) for w, _ in stores], sites)
    team_hours = _hours([_latlon(t) for t in teams], sites)
    per_unit = int(standards.value("portions_per_cooking") * standards.value("cookings_per_day"))
    proposals = propose_kitchens(
        unfed, shelter_ids, candidates, site_hours, standards.value("reach_hours"), per_unit,
        MAX_PROPOSALS, [(w["warehouse_id"], u) for w, u in stores], warehouse_hours,
        [t["team_id"] for t in teams], team_hours, proposal_prefix="open-kitchen",
        meals_per_person_per_day=standards.value("meals_per_person_per_day"),
    )
    return proposals, None


def dumlap_units(on_hand: Mapping[str, int], warehouse: WarehouseRow) -> int:
    """Field-kitchen units in a warehouse's batches (``on_hand``: units per batch)."""
    return sum(int(on_hand.get(b, 0)) for b, batch in (warehouse.get("batches") or {}).items()
               if batch.get("item") == DUMLAP_ITEM)


def _name(state: ProvinceState, shelter_id: str) -> str:
    shelter = state.shelters.get(shelter_id)
    return (shelter.get("name") if shelter else None) or shelter_id


def _cooking_list(state: ProvinceState, load: Any) -> list[dict[str, Any]]:
    """The shelters a kitchen cooks for with their names and portions a day, most first."""
    rows = [{"shelter_id": sid, "name": _name(state, sid), "portions_per_day": int(p)}
            for sid, p in zip(load.shelter_ids, load.shelter_portions, strict=True)]
    rows.sort(key=lambda r: (-r["portions_per_day"], r["shelter_id"]))
    return rows[:MAX_LISTED]


def views(
    state: ProvinceState,
    meals: KitchenPlan,
    proposals: Sequence[KitchenProposal],
    blocked: dict[str, Any] | None,
    planned: Mapping[tuple[str, str], int],
    needs: Sequence[Need],
    now_iso: str,
) -> dict[tuple[str, str], View]:
    """Read models: one ``kitchen`` per kitchen, one ``kitchen_proposal`` per proposal, and
    a ``shortfall`` (item ``portions``) per kitchen cooking less than its shelters need."""
    out: dict[tuple[str, str], View] = {}
    loads = {load.kitchen_id: load for load in meals.loads}
    ingredients: dict[str, list[dict[str, Any]]] = {}
    for need in needs:
        if need.shelter_id in state.kitchens and need.shelter_id not in state.shelters:
            ingredients.setdefault(need.shelter_id, []).append({
                "item": need.item_id, "need": round(need.gross, 3),
                "missing": need.quantity,
                "planned": planned.get((need.shelter_id, need.item_id), 0),
                # the figure's source in English and in Bahasa Indonesia (as the catalogue's
                # name / name_id): the page shows the one of its language
                "source": need.lines[0].source if need.lines else "",
                "source_id": meals.ingredient_sources_id.get(need.item_id, "")})
    for kitchen_id, row in sorted(state.kitchens.items()):
        load = loads.get(kitchen_id)
        served = {day: {meal: int(e["portions"]) for meal, e in sorted(meals_.items())}
                  for day, meals_ in sorted((row.get("served") or {}).items())}
        last_day = max(served) if served else None
        view = {k: row.get(k) for k in (
            "kitchen_id", "name", "location", "province_code", "kabupaten_code", "status",
            "units", "portions_per_cooking", "cookings_per_day", "team_ids",
            "assigned_shelter_ids", "warehouse_id", "proposal_id", "updated_at")}
        view.update(
            capacity_per_day=0 if load is None else load.capacity_per_day,
            portions_needed_per_day=0 if load is None else load.portions_needed_per_day,
            portions_cooked_per_day=0 if load is None else load.portions_cooked_per_day,
            people_served=0 if load is None else load.people_served,
            shelters_served=0 if load is None else len(load.shelter_ids),
            shelter_ids=[] if load is None else list(load.shelter_ids[:MAX_LISTED]),
            # the team's cooking list: who it cooks for, portions a day each (most first)
            shelters=[] if load is None else _cooking_list(state, load),
            load_share=None if load is None or not load.capacity_per_day
            else round(load.portions_needed_per_day / load.capacity_per_day, 3),
            served=served,
            served_last_day={"day": last_day, "portions": sum(served[last_day].values())}
            if last_day else None,
            ingredients=ingredients.get(kitchen_id, []),
            shortfall=None if load is None else load.shortfall,
        )
        out[("kitchen", kitchen_id)] = view
        if load is not None and load.shortfall is not None:
            figures = load.shortfall["figures"]
            out[("shortfall", f"{kitchen_id}:portions")] = {
                "shortfall_id": f"{kitchen_id}:portions",
                "kitchen_id": kitchen_id,
                "shelter_id": None,
                "shelter_name": row.get("name"),
                "item": "portions",
                "unit": "porsi/hari",
                "missing": int(figures["portions_missing_per_day"]),
                "need": int(figures["portions_needed_per_day"]),
                "province_code": state.province_code,
                "location": row.get("location"),
                "escalated": False,
                "explanation": (
                    f"Dapur umum {row.get('name')} memasak {figures['capacity_per_day']} "
                    f"porsi/hari, dibutuhkan {figures['portions_needed_per_day']}: kurang "
                    f"{figures['portions_missing_per_day']} porsi "
                    f"({figures['units_missing']} unit Dumlap lagi)"),
                "reason": load.shortfall,
            }
    per_cooking, cookings = dumlap_rhythm()
    for proposal in proposals:
        data = proposal.to_dict()
        # what its approval opens: one Dumlap unit at the standard rhythm
        data.update(units=1, portions_per_cooking=per_cooking, cookings_per_day=cookings)
        data.update(province_code=state.province_code, location=data["site"]["location"],
                    name=data["site"]["name"], proposed_at=now_iso,
                    people_covered=math.floor(proposal.portions_covered_per_day
                                              / meals.meals_per_person_per_day))
        out[("kitchen_proposal", proposal.site.site_id)] = data
    if blocked is not None:
        out[("kitchen_proposal", "blocked")] = {
            "proposal_id": None, "province_code": state.province_code, "location": None,
            "blocked": blocked, "proposed_at": now_iso}
    return out
