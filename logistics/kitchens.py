"""Public kitchens (dapur umum): which shelters a kitchen feeds, the portions they need, the
ingredients the kitchen needs, and where its capacity falls short. Pure (no I/O).

The arithmetic, per day (figures in ``data/kitchens/kemensos-dumlap.json``, meals a day in the
needs profile ``data/profiles/*.json``, each with its source):

* capacity  = units x portions_per_cooking x cookings_per_day     (one Dumlap: 2,000 x 3 = 6,000)
* rice per portion = the profile's rice per person per day (group ``all``) / the profile's
  meals per person per day                                        (Perka BNPB: 0.4 / 3 kg)
* a served shelter's portions = ceil(its rice need per day / rice per portion): 3 per person,
  plus the pregnant/lactating supplements of the profile turned into portions. Its rice and
  side-dish needs become these portions (the kitchen cooks them); its other needs stay.
* the kitchen cooks min(portions needed, capacity) a day; its ingredient need over the
  days-of-cover horizon is one demand point: rice, side dishes, cooking fuel and clean water
  per portion cooked. Portions needed beyond capacity are a shortfall with its figures; the
  uncooked share falls on every served shelter alike, comes to it as rice (as if it cooked for
  itself), and counts as not fed for the siting model (:mod:`logistics.siting`).

A shelter is served by the kitchen the coordinator assigned it to, otherwise by the nearest
open kitchen within ``reach_hours`` of travel (ties: kitchen id). Travel hours come from the
caller (``geo.cost_matrix``): the core takes numbers, never geometries.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from logistics.errors import InvalidInput
from logistics.needs import Need, NeedLine, Profile, ShelterHeadcount

DEFAULT_STANDARDS_ID = "kemensos-dumlap"
KitchenStatus = Literal["preparing", "open", "closed"]
KITCHEN_STATUSES: tuple[str, ...] = ("preparing", "open", "closed")
#: Items that a served shelter gets cooked from its kitchen instead of as stock.
MEAL_ITEMS: tuple[str, ...] = ("rice", "side_dish")
#: Ingredients the kitchen needs per portion cooked, and the figure that gives each.
INGREDIENTS: tuple[tuple[str, str], ...] = (
    ("rice", "rice_kg_per_portion"),
    ("side_dish", "side_dish_per_portion"),
    ("cooking_fuel", "cooking_fuel_kg_per_portion"),
    ("clean_water", "clean_water_l_per_portion"),
)


@dataclass(frozen=True)
class Figure:
    """One figure of the kitchen standards, with its unit and source (``source`` in English,
    ``source_id`` the same in Bahasa Indonesia, as the catalogue's ``name_id``)."""

    value: float
    unit: str
    sourced: bool
    source: str
    source_id: str = ""


@dataclass(frozen=True)
class KitchenStandards:
    """The figures a kitchen plan uses; rice per portion derives from the needs profile."""

    id: str
    version: str
    figures: Mapping[str, Figure]

    def value(self, name: str) -> float:
        """The value of figure ``name``."""
        return self.figures[name].value

    def source(self, name: str, language: str = "en") -> str:
        """Where figure ``name`` comes from, in English or (``language="id"``) in Bahasa
        Indonesia."""
        figure = self.figures[name]
        return (figure.source_id or figure.source) if language == "id" else figure.source


@dataclass(frozen=True)
class _File:
    """The kitchen data file, checked: id, version, figures, and the Bahasa Indonesia texts
    of the figures derived from the needs profile (templates) with the profiles' names."""

    id: str
    version: str
    figures: dict[str, Figure]
    derived_id: dict[str, str]
    profile_names: dict[str, str]


@lru_cache(maxsize=8)
def _figures(standards_id: str) -> _File:
    """The kitchen data file's id, version and figures (checked)."""
    folder = resources.files("logistics").joinpath("data/kitchens")
    path = folder.joinpath(f"{standards_id}.json")
    if not path.is_file():
        raise InvalidInput(f"unknown kitchen standards {standards_id!r}")
    raw = json.loads(path.read_text("utf-8"))
    figures: dict[str, Figure] = {}
    for name, f in raw["figures"].items():
        value = float(f["value"])
        if not (value > 0 and math.isfinite(value)):
            raise InvalidInput(f"kitchen standards {standards_id}: {name} must be > 0")
        source_id = str(f.get("source_id") or "").strip()
        if not source_id:
            # the Indonesian page shows this one: a figure without it would show no source
            raise InvalidInput(f"kitchen standards {standards_id}: {name} needs source_id "
                               "(its source in Bahasa Indonesia)")
        figures[name] = Figure(value, str(f["unit"]), bool(f["sourced"]), str(f["source"]),
                               source_id)
    for needed in ("portions_per_cooking", "cookings_per_day", "side_dish_per_portion",
                   "cooking_fuel_kg_per_portion", "clean_water_l_per_portion", "reach_hours"):
        if needed not in figures:
            raise InvalidInput(f"kitchen standards {standards_id}: missing figure {needed!r}")
    derived_id = {str(k): str(v) for k, v in (raw.get("derived_id") or {}).items()}
    for needed in ("rice_kg_per_portion", "meals_per_person_per_day"):
        if not derived_id.get(needed):
            raise InvalidInput(f"kitchen standards {standards_id}: derived_id.{needed} missing")
    names = {str(k): str(v) for k, v in (raw.get("profile_names") or {}).items()}
    return _File(str(raw["id"]), str(raw["version"]), figures, derived_id, names)


def _decimal_id(value: float, digits: int = 4) -> str:
    """A number as Bahasa Indonesia writes it: decimal comma (0,1333)."""
    return f"{round(value, digits):g}".replace(".", ",")


def dumlap_rhythm(standards_id: str = DEFAULT_STANDARDS_ID) -> tuple[int, int]:
    """One Dumlap unit's portions per cooking and cookings a day (Kemensos: 2,000 and 3).

    Raises:
        InvalidInput: if the kitchen data file is unknown or incomplete.
    """
    figures = _figures(standards_id).figures
    return (int(figures["portions_per_cooking"].value), int(figures["cookings_per_day"].value))


@lru_cache(maxsize=8)
def load_standards(profile: Profile, standards_id: str = DEFAULT_STANDARDS_ID) -> KitchenStandards:
    """Kitchen figures from the packaged data file, with the needs profile's meals per person
    per day and rice per portion derived from ``profile``'s rice per person per day (group
    ``all``) over those meals.

    Raises:
        InvalidInput: if the file is unknown, a figure is missing or not positive, or the
            profile has no meals per person per day or no daily rice rate for everyone.
    """
    file = _figures(standards_id)
    figures = dict(file.figures)
    if profile.meals is None:
        raise InvalidInput(f"profile {profile.id} has no meals_per_person_per_day")
    # the profile's sources are English; its Indonesian texts come from the kitchen file
    profile_name = file.profile_names.get(profile.id) or profile.title
    figures["meals_per_person_per_day"] = Figure(
        profile.meals.per_person_per_day, "portion per person per day", profile.meals.sourced,
        f"needs profile {profile.id} {profile.version}: {profile.meals.source}",
        file.derived_id["meals_per_person_per_day"].format(
            profile=profile_name, meals=_decimal_id(profile.meals.per_person_per_day)))
    rice = [r for r in profile.rates
            if r.item == "rice" and r.group == "all" and r.per == "person_day"]
    if not rice:
        raise InvalidInput(f"profile {profile.id} has no daily rice rate for group 'all'")
    meals = figures["meals_per_person_per_day"]
    per_portion = rice[0].quantity / meals.value
    figures["rice_kg_per_portion"] = Figure(
        per_portion, "kg raw rice per portion", rice[0].sourced,
        f"derived: {rice[0].source} / {meals.value:g} meals a day ({meals.source})",
        file.derived_id["rice_kg_per_portion"].format(
            rice=_decimal_id(rice[0].quantity), profile=profile_name,
            meals=_decimal_id(meals.value), per_portion=_decimal_id(per_portion)),
    )
    return KitchenStandards(id=file.id, version=file.version, figures=figures)


@dataclass(frozen=True)
class Kitchen:
    """A public kitchen: where it cooks, how many Dumlap units, its rhythm, who runs it.

    ``portions_per_cooking`` is per unit; ``assigned_shelters`` are shelters the coordinator
    assigned to it whatever the travel time. Only an ``open`` kitchen feeds anyone.
    """

    kitchen_id: str
    name: str
    lat: float
    lon: float
    units: int = 1
    portions_per_cooking: int = 2000
    cookings_per_day: int = 3
    status: KitchenStatus = "open"
    team_ids: tuple[str, ...] = ()
    assigned_shelters: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.kitchen_id:
            raise InvalidInput("kitchen_id must be non-empty")
        for name in ("units", "portions_per_cooking", "cookings_per_day"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise InvalidInput(f"kitchen {self.kitchen_id}: {name} must be an integer >= 1")
        if self.status not in KITCHEN_STATUSES:
            raise InvalidInput(f"kitchen {self.kitchen_id}: unknown status {self.status!r}")
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise InvalidInput(f"kitchen {self.kitchen_id}: location ({self.lat}, {self.lon})")
        object.__setattr__(self, "team_ids", tuple(self.team_ids))
        object.__setattr__(self, "assigned_shelters", tuple(self.assigned_shelters))

    @property
    def capacity_per_day(self) -> int:
        """Portions a day: units x portions per cooking x cookings per day (0 unless open)."""
        if self.status != "open":
            return 0
        return self.units * self.portions_per_cooking * self.cookings_per_day


def serving(
    kitchens: Sequence[Kitchen],
    shelter_ids: Sequence[str],
    hours: NDArray[np.float64],
    reach_hours: float,
) -> dict[str, str]:
    """Which kitchen serves each shelter: ``{shelter_id: kitchen_id}`` (unserved: absent).

    ``hours`` is (kitchens x shelters) travel hours. A coordinator's assignment to an open
    kitchen wins; otherwise the nearest open kitchen within ``reach_hours`` (ties: kitchen id).

    Raises:
        InvalidInput: on a matrix of the wrong shape or a negative reach.
    """
    if hours.shape != (len(kitchens), len(shelter_ids)):
        raise InvalidInput(f"hours shape {hours.shape} != ({len(kitchens)}, {len(shelter_ids)})")
    if not reach_hours >= 0:
        raise InvalidInput(f"reach_hours {reach_hours} < 0")
    out: dict[str, str] = {}
    order = sorted(range(len(kitchens)), key=lambda k: kitchens[k].kitchen_id)
    open_rows = [k for k in order if kitchens[k].status == "open"]
    wanted = set(shelter_ids)
    for k in open_rows:
        for shelter_id in kitchens[k].assigned_shelters:
            if shelter_id in wanted and shelter_id not in out:
                out[shelter_id] = kitchens[k].kitchen_id
    if not open_rows:
        return out
    sub = hours[open_rows]
    best = np.argmin(sub, axis=0) if len(shelter_ids) else np.zeros(0, dtype=np.int64)
    for j, shelter_id in enumerate(shelter_ids):
        if shelter_id in out:
            continue
        k = int(best[j])
        if sub[k, j] <= reach_hours:
            out[shelter_id] = kitchens[open_rows[k]].kitchen_id
    return out


def portions_per_day(headcount: ShelterHeadcount, profile: Profile,
                     standards: KitchenStandards) -> int:
    """Portions a shelter needs a day: ceil(rice per day by the profile / rice per portion)."""
    rice = sum(headcount.count(r.group) * r.quantity for r in profile.rates
               if r.item == "rice" and r.per == "person_day")
    return math.ceil(rice / standards.value("rice_kg_per_portion") - 1e-9)


@dataclass(frozen=True)
class KitchenLoad:
    """One kitchen's day: capacity, portions needed by the shelters it serves, cooked.

    ``shelter_portions`` are the portions a day each served shelter needs, in the order of
    ``shelter_ids`` (the team's cooking list).
    """

    kitchen_id: str
    capacity_per_day: int
    portions_needed_per_day: int
    portions_cooked_per_day: int
    people_served: int
    shelter_ids: tuple[str, ...]
    shortfall: dict[str, Any] | None = None
    shelter_portions: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-safe)."""
        return {"kitchen_id": self.kitchen_id, "capacity_per_day": self.capacity_per_day,
                "portions_needed_per_day": self.portions_needed_per_day,
                "portions_cooked_per_day": self.portions_cooked_per_day,
                "people_served": self.people_served, "shelter_ids": list(self.shelter_ids),
                "shelter_portions": list(self.shelter_portions), "shortfall": self.shortfall}


@dataclass(frozen=True)
class KitchenPlan:
    """What kitchens change in a province's needs.

    ``needs`` is the input needs with served shelters' meal items set to zero (their lines say
    why) plus one demand point per open kitchen that cooks (``Need.shelter_id`` = kitchen id);
    ``unfed`` is, per shelter, the portions a day nobody cooks for it (beyond reach or beyond
    its kitchen's capacity), which the siting model covers.
    """

    needs: tuple[Need, ...]
    served_by: Mapping[str, str]
    loads: tuple[KitchenLoad, ...]
    unfed: Mapping[str, int] = field(default_factory=dict)
    #: The needs profile's meals (portions) per person per day the portions were counted in.
    meals_per_person_per_day: float = 3.0
    #: Where each ingredient's figure per portion comes from, in Bahasa Indonesia, by item
    #: (the English is on the ingredient need's line).
    ingredient_sources_id: Mapping[str, str] = field(default_factory=dict)


def capacity_shortfall(kitchen: Kitchen, needed: int, people: int,
                       standards: KitchenStandards) -> dict[str, Any] | None:
    """The explanation of a kitchen that cannot cook what its shelters need (None if it can)."""
    capacity = kitchen.capacity_per_day
    if needed <= capacity:
        return None
    per_unit = kitchen.portions_per_cooking * kitchen.cookings_per_day
    missing = needed - capacity
    return {
        "rule": "kitchen_capacity_below_portions_needed",
        "figures": {
            "kitchen_id": kitchen.kitchen_id,
            "units": kitchen.units,
            "portions_per_cooking": kitchen.portions_per_cooking,
            "cookings_per_day": kitchen.cookings_per_day,
            "capacity_per_day": capacity,
            "portions_needed_per_day": needed,
            "portions_missing_per_day": missing,
            "people_served": people,
            "units_missing": math.ceil(missing / per_unit),
            "meals_per_person_per_day": standards.value("meals_per_person_per_day"),
        },
    }


def apply_kitchens(
    needs: Sequence[Need],
    headcounts: Sequence[ShelterHeadcount],
    kitchens: Sequence[Kitchen],
    served_by: Mapping[str, str],
    profile: Profile,
    standards: KitchenStandards,
    days: float,
    kitchen_on_hand: Mapping[tuple[str, str], int] | None = None,
    kitchen_in_transit: Mapping[tuple[str, str], int] | None = None,
) -> KitchenPlan:
    """Turn served shelters' meals into portions and kitchens into ingredient demand points.

    Args:
        needs: the shelters' needs (``compute_needs``) over ``days`` of cover.
        headcounts: the same shelters' headcounts.
        kitchens: every kitchen of the province (only open ones cook).
        served_by: ``serving``'s answer.
        profile, standards: the needs profile and the kitchen figures.
        days: days-of-cover horizon (> 0).
        kitchen_on_hand, kitchen_in_transit: ingredients already at / on their way to a
            kitchen, by (kitchen_id, item_id).

    Raises:
        InvalidInput: on a bad horizon, a kitchen id that is also a shelter id, or an unknown
            kitchen in ``served_by``.
    """
    if not (days > 0 and math.isfinite(days)):
        raise InvalidInput(f"days-of-cover horizon must be > 0, got {days}")
    by_id = {k.kitchen_id: k for k in kitchens}
    shelters = {h.shelter_id: h for h in headcounts}
    clash = set(by_id) & set(shelters)
    if clash:
        raise InvalidInput(f"kitchen id {sorted(clash)[0]!r} is also a shelter id")
    for shelter_id, kitchen_id in served_by.items():
        if kitchen_id not in by_id:
            raise InvalidInput(f"shelter {shelter_id}: unknown kitchen {kitchen_id!r}")
    on_hand = kitchen_on_hand or {}
    in_transit = kitchen_in_transit or {}
    portions = {h.shelter_id: portions_per_day(h, profile, standards) for h in headcounts}
    priority_of: dict[str, float] = {}
    for need in needs:
        priority_of[need.shelter_id] = max(priority_of.get(need.shelter_id, 0.0), need.priority)
    unfed = {sid: p for sid, p in portions.items() if sid not in served_by and p > 0}
    uncooked: dict[str, int] = {}
    out: list[Need] = []
    loads: list[KitchenLoad] = []
    for kitchen in sorted(kitchens, key=lambda k: k.kitchen_id):
        served = sorted(sid for sid, kid in served_by.items()
                        if kid == kitchen.kitchen_id and sid in shelters)
        needed = sum(portions[sid] for sid in served)
        people = sum(shelters[sid].total for sid in served)
        cooked = min(needed, kitchen.capacity_per_day)
        shortfall = capacity_shortfall(kitchen, needed, people, standards)
        if needed > cooked:
            # the uncooked share falls on every served shelter alike (pro rata)
            share = 1.0 - cooked / needed
            for sid in served:
                left = math.ceil(portions[sid] * share - 1e-9)
                if left > 0:
                    unfed[sid] = uncooked[sid] = left
        loads.append(KitchenLoad(kitchen.kitchen_id, kitchen.capacity_per_day, needed, cooked,
                                 people, tuple(served), shortfall,
                                 tuple(portions[sid] for sid in served)))
        if cooked <= 0:
            continue
        prio = max(priority_of.get(sid, 1.0) for sid in served)
        share_v = (sum(shelters[sid].vulnerable_share * shelters[sid].total for sid in served)
                   / people) if people else 0.0
        for item, figure in INGREDIENTS:
            rate = standards.value(figure)
            gross = cooked * rate * days
            oh = int(on_hand.get((kitchen.kitchen_id, item), 0))
            tr = int(in_transit.get((kitchen.kitchen_id, item), 0))
            out.append(Need(
                shelter_id=kitchen.kitchen_id, item_id=item,
                quantity=max(0, math.ceil(gross - 1e-9) - oh - tr), priority=prio,
                gross=gross, on_hand=oh, in_transit=tr, headcount=people,
                vulnerable_share=min(1.0, share_v), severity=max(
                    shelters[sid].severity for sid in served),
                hours_since_delivery=None, days=days, profile_id=profile.id,
                profile_version=profile.version,
                lines=(NeedLine(group="portions", people=cooked, rate=rate, per="person_day",
                                days=days, amount=gross,
                                source=f"{figure}: {standards.source(figure)}"),),
            ))
    per_portion = standards.value("rice_kg_per_portion")
    for need in needs:
        cook = served_by.get(need.shelter_id)
        if cook is None or need.item_id not in MEAL_ITEMS:
            out.append(need)
            continue
        left = uncooked.get(need.shelter_id, 0) if need.item_id == "rice" else 0
        if left:
            # what its kitchen cannot cook comes as rice, as if the shelter cooked for itself
            gross = left * per_portion * need.days
            line = NeedLine(group="portions", people=left, rate=per_portion,
                            per="person_day", days=need.days, amount=gross,
                            source=f"kitchen {cook} cannot cook {left} of its "
                                   f"{portions[need.shelter_id]} portions a day: rice instead "
                                   f"(rice_kg_per_portion: "
                                   f"{standards.source('rice_kg_per_portion')})")
        else:
            gross = 0.0
            line = NeedLine(group="all", people=need.headcount, rate=0.0, per="person_day",
                            days=need.days, amount=0.0,
                            source=f"cooked by kitchen {cook}: "
                                   f"{portions[need.shelter_id]} portions a day")
        out.append(Need(
            shelter_id=need.shelter_id, item_id=need.item_id,
            quantity=max(0, math.ceil(gross - 1e-9) - need.on_hand - need.in_transit)
            if left else 0,
            priority=need.priority, gross=gross, on_hand=need.on_hand,
            in_transit=need.in_transit, headcount=need.headcount,
            vulnerable_share=need.vulnerable_share, severity=need.severity,
            hours_since_delivery=need.hours_since_delivery, days=need.days,
            profile_id=need.profile_id, profile_version=need.profile_version, lines=(line,),
        ))
    out.sort(key=lambda n: (n.shelter_id, n.item_id))
    return KitchenPlan(needs=tuple(out), served_by=dict(served_by), loads=tuple(loads),
                       unfed=dict(sorted(unfed.items())),
                       meals_per_person_per_day=standards.value("meals_per_person_per_day"),
                       ingredient_sources_id={item: standards.source(figure, "id")
                                              for item, figure in INGREDIENTS})
