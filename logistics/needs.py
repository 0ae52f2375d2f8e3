"""Needs per shelter and item from a versioned standards profile.

need[shelter, item] = ceil( sum over groups of headcount[group] x rate x (days | 1) )
                      - on hand at the shelter - already in transit to it      (never below 0)

``person_day`` rates are multiplied by the days-of-cover horizon, ``person_once`` rates (kits,
blankets, tents) are not. Group ``all`` is the whole shelter headcount; other groups are
*additions* for vulnerable people on top of it. Needs apply to the displaced people counted in the
shelter (the profile's ``population_basis``), never to everyone affected in the area.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from logistics._serde import dt_from_str, dt_to_str, require_utc
from logistics.catalogue import Catalogue, default_catalogue
from logistics.errors import InvalidInput, UnknownProfile

Group = Literal["all", "infants", "children", "elderly", "pregnant", "lactating", "disabled"]
GROUPS: tuple[Group, ...] = (
    "all", "infants", "children", "elderly", "pregnant", "lactating", "disabled",
)
VULNERABLE_GROUPS: tuple[Group, ...] = (
    "infants", "children", "elderly", "pregnant", "lactating", "disabled",
)
DEFAULT_PROFILE_ID = "bnpb-perka-7-2008"


@dataclass(frozen=True)
class ShelterHeadcount:
    """Who is in one shelter (pengungsian) at ``reported_at``.

    ``total`` counts everyone; the group fields count vulnerable people among them (UU 24/2007
    art. 55 names infants/toddlers, children, pregnant and lactating women, people with
    disabilities and the elderly). ``severity`` is the incident severity (1-5) of the incident
    that displaced them; ``hours_since_delivery`` is None when nothing was ever delivered.
    """

    shelter_id: str
    total: int
    infants: int = 0
    children: int = 0
    elderly: int = 0
    pregnant: int = 0
    lactating: int = 0
    disabled: int = 0
    kabupaten_code: str = ""
    province_code: str = ""
    severity: int = 3
    hours_since_delivery: float | None = None
    reported_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.shelter_id:
            raise InvalidInput("shelter_id must be non-empty")
        if self.total < 0:
            raise InvalidInput(f"shelter {self.shelter_id}: total {self.total} < 0")
        for g in VULNERABLE_GROUPS:
            n = self.count(g)
            if n < 0 or n > self.total:
                raise InvalidInput(
                    f"shelter {self.shelter_id}: {g}={n} outside 0..total={self.total}"
                )
        if not 1 <= self.severity <= 5:
            raise InvalidInput(f"shelter {self.shelter_id}: severity {self.severity} not in 1..5")
        if self.hours_since_delivery is not None and self.hours_since_delivery < 0:
            raise InvalidInput(
                f"shelter {self.shelter_id}: hours_since_delivery {self.hours_since_delivery} < 0"
            )
        if self.reported_at is not None:
            object.__setattr__(self, "reported_at", require_utc(self.reported_at, "reported_at"))

    def count(self, group: Group) -> int:
        """People in ``group`` (``all`` = total)."""
        if group == "all":
            return self.total
        return int(getattr(self, group))

    @property
    def vulnerable_share(self) -> float:
        """Share of vulnerable people, sum of groups / total, capped at 1 (0 for an empty site)."""
        if self.total == 0:
            return 0.0
        return min(1.0, sum(self.count(g) for g in VULNERABLE_GROUPS) / self.total)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-safe)."""
        return {
            "shelter_id": self.shelter_id, "total": self.total, "infants": self.infants,
            "children": self.children, "elderly": self.elderly, "pregnant": self.pregnant,
            "lactating": self.lactating, "disabled": self.disabled,
            "kabupaten_code": self.kabupaten_code, "province_code": self.province_code,
            "severity": self.severity, "hours_since_delivery": self.hours_since_delivery,
            "reported_at": None if self.reported_at is None else dt_to_str(self.reported_at),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ShelterHeadcount:
        """Inverse of :meth:`to_dict`."""
        rep = d.get("reported_at")
        hsd = d.get("hours_since_delivery")
        return cls(
            shelter_id=str(d["shelter_id"]), total=int(d["total"]),
            infants=int(d.get("infants", 0)), children=int(d.get("children", 0)),
            elderly=int(d.get("elderly", 0)), pregnant=int(d.get("pregnant", 0)),
            lactating=int(d.get("lactating", 0)), disabled=int(d.get("disabled", 0)),
            kabupaten_code=str(d.get("kabupaten_code", "")),
            province_code=str(d.get("province_code", "")),
            severity=int(d.get("severity", 3)),
            hours_since_delivery=None if hsd is None else float(hsd),
            reported_at=None if rep is None else dt_from_str(str(rep)),
        )


@dataclass(frozen=True)
class Rate:
    """One per-capita rate of a profile, with its source."""

    item: str
    group: Group
    per: Literal["person_day", "person_once"]
    quantity: float
    sourced: bool
    source: str


@dataclass(frozen=True)
class Meals:
    """How many meals (portions) a person eats a day, with its source: a served shelter's
    daily rice becomes this many portions per person at a public kitchen."""

    per_person_per_day: float
    sourced: bool
    source: str


@dataclass(frozen=True)
class Profile:
    """A versioned needs-standards profile (e.g. Perka BNPB 7/2008, Sphere 2018)."""

    id: str
    version: str
    title: str
    population_basis: str
    rates: tuple[Rate, ...]
    meals: Meals | None = None

    @property
    def items(self) -> tuple[str, ...]:
        """Item ids this profile has rates for, sorted."""
        return tuple(sorted({r.item for r in self.rates}))


def available_profiles() -> tuple[str, ...]:
    """Ids of the packaged profiles."""
    folder = resources.files("logistics").joinpath("data/profiles")
    return tuple(sorted(p.name.removesuffix(".json") for p in folder.iterdir()
                        if p.name.endswith(".json")))


@lru_cache(maxsize=16)
def load_profile(profile_id: str = DEFAULT_PROFILE_ID) -> Profile:
    """Load a packaged profile by id.

    Raises:
        UnknownProfile: if no packaged profile has this id.
        InvalidInput: if the profile names an item not in the catalogue or a bad rate.
    """
    if profile_id not in available_profiles():
        raise UnknownProfile(f"unknown needs profile {profile_id!r}; "
                             f"available: {', '.join(available_profiles())}")
    path = resources.files("logistics").joinpath(f"data/profiles/{profile_id}.json")
    raw = json.loads(path.read_text("utf-8"))
    cat = default_catalogue()
    rates = []
    for r in raw["rates"]:
        if r["item"] not in cat:
            raise InvalidInput(f"profile {profile_id}: unknown item {r['item']!r}")
        if r["group"] not in GROUPS or r["per"] not in ("person_day", "person_once"):
            raise InvalidInput(f"profile {profile_id}: bad rate {r!r}")
        if float(r["quantity"]) < 0:
            raise InvalidInput(f"profile {profile_id}: negative rate {r!r}")
        rates.append(Rate(item=r["item"], group=r["group"], per=r["per"],
                          quantity=float(r["quantity"]), sourced=bool(r["sourced"]),
                          source=str(r["source"])))
    meals = raw.get("meals_per_person_per_day")
    if meals is not None:
        value = float(meals["value"])
        if not (value > 0 and math.isfinite(value)):
            raise InvalidInput(f"profile {profile_id}: meals_per_person_per_day must be > 0")
        if not str(meals.get("source") or "").strip():
            raise InvalidInput(f"profile {profile_id}: meals_per_person_per_day needs a source")
    return Profile(id=raw["id"], version=raw["version"], title=raw["title"],
                   population_basis=raw["population_basis"], rates=tuple(rates),
                   meals=None if meals is None else Meals(
                       value, bool(meals["sourced"]), str(meals["source"])))


@dataclass(frozen=True)
class PriorityWeights:
    """Weights of the documented priority formula (see :func:`priority`)."""

    vulnerable: float = 1.0
    severity: float = 0.25
    waiting: float = 0.5
    waiting_cap_hours: float = 72.0


def priority(
    vulnerable_share: float,
    severity: int,
    hours_since_delivery: float | None,
    weights: PriorityWeights = PriorityWeights(),
) -> float:
    """Priority weight of a shelter's need (dimensionless, >= 1).

    priority = 1 + a * vulnerable_share + b * (severity - 1) + c * min(hours, H) / H

    with a=1.0, b=0.25 per severity step (1-5), c=0.5, H=72 h by default; a shelter never
    delivered to counts as waiting H hours. It is strictly increasing in the vulnerable share,
    so a more vulnerable shelter is always served first. Range [1, 3.5] with default weights.

    Raises:
        InvalidInput: if the share is outside [0, 1], severity outside 1..5, or hours < 0.
    """
    if not 0.0 <= vulnerable_share <= 1.0:
        raise InvalidInput(f"vulnerable_share {vulnerable_share} outside [0, 1]")
    if not 1 <= severity <= 5:
        raise InvalidInput(f"severity {severity} not in 1..5")
    cap = weights.waiting_cap_hours
    hours = cap if hours_since_delivery is None else hours_since_delivery
    if hours < 0:
        raise InvalidInput(f"hours_since_delivery {hours} < 0")
    return (1.0 + weights.vulnerable * vulnerable_share + weights.severity * (severity - 1)
            + weights.waiting * min(hours, cap) / cap)


@dataclass(frozen=True)
class NeedLine:
    """One term of a need: people in a group x rate (x days)."""

    group: str
    people: int
    rate: float
    per: str
    days: float
    amount: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {"group": self.group, "people": self.people, "rate": self.rate, "per": self.per,
                "days": self.days, "amount": self.amount, "source": self.source}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NeedLine:
        """Inverse of :meth:`to_dict`."""
        return cls(group=str(d["group"]), people=int(d["people"]), rate=float(d["rate"]),
                   per=str(d["per"]), days=float(d["days"]), amount=float(d["amount"]),
                   source=str(d["source"]))


@dataclass(frozen=True)
class Need:
    """Net need of one shelter for one item, in whole units, with how it was computed."""

    shelter_id: str
    item_id: str
    quantity: int
    priority: float
    gross: float = 0.0
    on_hand: int = 0
    in_transit: int = 0
    headcount: int = 0
    vulnerable_share: float = 0.0
    severity: int = 3
    hours_since_delivery: float | None = None
    days: float = 1.0
    profile_id: str = ""
    profile_version: str = ""
    lines: tuple[NeedLine, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.quantity < 0:
            raise InvalidInput(f"need {self.shelter_id}/{self.item_id}: quantity < 0")
        if not (self.priority > 0 and math.isfinite(self.priority)):
            raise InvalidInput(f"need {self.shelter_id}/{self.item_id}: priority must be > 0")

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-safe)."""
        return {
            "shelter_id": self.shelter_id, "item_id": self.item_id, "quantity": self.quantity,
            "priority": self.priority, "gross": self.gross, "on_hand": self.on_hand,
            "in_transit": self.in_transit, "headcount": self.headcount,
            "vulnerable_share": self.vulnerable_share, "severity": self.severity,
            "hours_since_delivery": self.hours_since_delivery, "days": self.days,
            "profile_id": self.profile_id, "profile_version": self.profile_version,
            "lines": [ln.to_dict() for ln in self.lines],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Need:
        """Inverse of :meth:`to_dict`."""
        hsd = d.get("hours_since_delivery")
        return cls(
            shelter_id=str(d["shelter_id"]), item_id=str(d["item_id"]),
            quantity=int(d["quantity"]), priority=float(d["priority"]),
            gross=float(d.get("gross", 0.0)), on_hand=int(d.get("on_hand", 0)),
            in_transit=int(d.get("in_transit", 0)), headcount=int(d.get("headcount", 0)),
            vulnerable_share=float(d.get("vulnerable_share", 0.0)),
            severity=int(d.get("severity", 3)),
            hours_since_delivery=None if hsd is None else float(hsd),
            days=float(d.get("days", 1.0)), profile_id=str(d.get("profile_id", "")),
            profile_version=str(d.get("profile_version", "")),
            lines=tuple(NeedLine.from_dict(x) for x in d.get("lines", ())),
        )


def compute_needs(
    shelters: Sequence[ShelterHeadcount],
    profile: Profile,
    days: float,
    on_hand: Mapping[tuple[str, str], int] | None = None,
    in_transit: Mapping[tuple[str, str], int] | None = None,
    items: Sequence[str] | None = None,
    weights: PriorityWeights = PriorityWeights(),
    catalogue: Catalogue | None = None,
) -> list[Need]:
    """Net need per shelter and item, in whole catalogue units, sorted by (shelter, item).

    Args:
        shelters: headcounts; needs apply to the people counted in the shelter.
        profile: standards profile; its id and version are recorded on every need.
        days: days-of-cover horizon (> 0) applied to ``person_day`` rates.
        on_hand: units already at the shelter, by (shelter_id, item_id).
        in_transit: units on their way to the shelter, by (shelter_id, item_id).
        items: restrict to these item ids (default: every item the profile covers).
        weights: priority formula weights.
        catalogue: item catalogue (default: the packaged one).

    Returns needs with quantity >= 0 (a zero need is kept so the caller can see it is met).

    Raises:
        InvalidInput: on a non-positive horizon, duplicate shelter ids or negative stock.
        UnknownItem: if ``items`` names an item not in the catalogue.
    """
    if not (days > 0 and math.isfinite(days)):
        raise InvalidInput(f"days-of-cover horizon must be > 0, got {days}")
    cat = catalogue or default_catalogue()
    on_hand = on_hand or {}
    in_transit = in_transit or {}
    for label, m in (("on_hand", on_hand), ("in_transit", in_transit)):
        for key, v in m.items():
            if v < 0:
                raise InvalidInput(f"{label}[{key}] = {v} < 0")
    wanted = profile.items if items is None else tuple(sorted(set(items)))
    for it in wanted:
        cat.get(it)
    seen: set[str] = set()
    out: list[Need] = []
    for sh in sorted(shelters, key=lambda s: s.shelter_id):
        if sh.shelter_id in seen:
            raise InvalidInput(f"duplicate shelter id {sh.shelter_id!r}")
        seen.add(sh.shelter_id)
        prio = priority(sh.vulnerable_share, sh.severity, sh.hours_since_delivery, weights)
        for it in wanted:
            lines: list[NeedLine] = []
            for r in profile.rates:
                if r.item != it:
                    continue
                people = sh.count(r.group)
                mult = days if r.per == "person_day" else 1.0
                lines.append(NeedLine(group=r.group, people=people, rate=r.quantity, per=r.per,
                                      days=mult, amount=people * r.quantity * mult,
                                      source=r.source))
            gross = sum(ln.amount for ln in lines)
            oh = int(on_hand.get((sh.shelter_id, it), 0))
            tr = int(in_transit.get((sh.shelter_id, it), 0))
            # round the gross need up: a fraction of a kit is still a kit someone lacks
            qty = max(0, math.ceil(gross - 1e-9) - oh - tr)
            out.append(Need(
                shelter_id=sh.shelter_id, item_id=it, quantity=qty, priority=prio, gross=gross,
                on_hand=oh, in_transit=tr, headcount=sh.total,
                vulnerable_share=sh.vulnerable_share, severity=sh.severity,
                hours_since_delivery=sh.hours_since_delivery, days=days,
                profile_id=profile.id, profile_version=profile.version, lines=tuple(lines),
            ))
    return out
