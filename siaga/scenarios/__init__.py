"""Real past disasters as replayable event streams.

Each scenario is one JSON file in this package (``<name>.json``): metadata (name, titles in
Bahasa Indonesia and English, timezone, the real onset in UTC), a table of ``sources``
(citations), a table of ``assumptions`` (reasoning), and a ``timeline`` of entries. An entry
is one wire event (a model from :mod:`siaga.events`, without its envelope) to produce at an
``offset`` from onset, and a ``basis`` that marks every figure in it as ``"real:<source>"``
or ``"assumed:<assumption>"`` (key ``"*"`` covers the entry's figures not named). See
``PROVENANCE.md`` for where the figures come from.

Public API::

    available() -> list[str]
    load(name) -> Scenario                       # validated; ScenarioError names the field
    build_events(scenario, scale=1.0, onset=None, ends_at=None) -> list[TimedEvent]
    event_id_for(name, entry_id) -> uuid.UUID   # deterministic (uuid5)

Events before onset (negative offsets: the warehouses' last stock take, the teams' roll call)
are the baseline a replay sends before the disaster starts.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from siaga import events as ev

__all__ = [
    "DIR",
    "FIGURE_FIELDS",
    "SCALED_FIELDS",
    "SCENARIO_NAMESPACE",
    "Scenario",
    "ScenarioError",
    "TimedEvent",
    "TimelineEntry",
    "VulnerableShares",
    "available",
    "build_events",
    "event_id_for",
    "figure_bases",
    "load",
    "load_file",
    "parse_offset",
]

DIR = Path(__file__).resolve().parent

#: Namespace of the uuid5 event ids: uuid5(SCENARIO_NAMESPACE, "<scenario>/<entry id>").
SCENARIO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://siaga.kemensos.go.id/scenarios")

#: Event payload fields that are figures: each needs a basis (real + source, or assumed).
FIGURE_FIELDS = frozenset(
    {
        "location",
        "severity",
        "affected",
        "displaced",
        "injured",
        "dead",
        "capacity",
        "total",
        "infants",
        "children",
        "elderly",
        "pregnant_lactating",
        "disabled",
        "quantity",
        "expires_on",
        "members",
        "hours_on_duty",
        # public kitchens: their Dumlap units and rhythm, what they served
        "units",
        "portions_per_cooking",
        "cookings_per_day",
        "portions_served",
    }
)

#: People counts and stock quantities that ``scale`` multiplies (team sizes are not scaled).
SCALED_FIELDS = ("affected", "displaced", "injured", "dead", "capacity", "total", "quantity")
GROUPS = ("infants", "children", "elderly", "pregnant_lactating", "disabled")
_ENVELOPE = frozenset({"event_id", "occurred_at", "schema_version", "source"})
_BASIS = re.compile(r"^(real|assumed):([A-Za-z0-9][A-Za-z0-9_.\-]*)$")
_OFFSET = re.compile(r"^(-)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class ScenarioError(ValueError):
    """A scenario that does not exist or whose file is invalid; the message says where."""


def parse_offset(text: str) -> int:
    """``"1d5h39m"``, ``"-2h"``, ``"0s"`` … → seconds."""
    match = _OFFSET.match(text.strip())
    if not match or not any(match.group(i) for i in range(2, 6)):
        raise ValueError(f"offset {text!r} is not like '0s', '5h39m', '1d2h', '-1d'")
    sign, d, h, m, s = match.groups()
    seconds = int(d or 0) * 86400 + int(h or 0) * 3600 + int(m or 0) * 60 + int(s or 0)
    return -seconds if sign else seconds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Title(_Strict):
    id: str = Field(min_length=1, description="Title in Bahasa Indonesia")
    en: str = Field(min_length=1, description="Title in English")


class VulnerableShares(_Strict):
    """Shares of a shelter's headcount in each vulnerable group, used when an entry gives
    only ``total``; ``basis`` says where the shares come from."""

    infants: float = Field(ge=0, le=1)
    children: float = Field(ge=0, le=1)
    elderly: float = Field(ge=0, le=1)
    pregnant_lactating: float = Field(ge=0, le=1)
    disabled: float = Field(ge=0, le=1)
    basis: str

    @field_validator("disabled")
    @classmethod
    def _age_groups_fit(cls, value: float, info: Any) -> float:
        ages = sum(info.data.get(k, 0.0) for k in ("infants", "children", "elderly"))
        if ages > 1:
            raise ValueError(f"infants + children + elderly shares sum to {ages:.3f} > 1")
        return value

    def groups(self, total: int) -> dict[str, int]:
        return {g: math.floor(total * getattr(self, g)) for g in GROUPS}


class TimelineEntry(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$", max_length=128)
    offset: str = Field(description="From onset: '0s', '5h39m', '1d2h', '-1d'")
    event: dict[str, Any] = Field(description="A wire event without event_id/occurred_at")
    basis: dict[str, str] = Field(min_length=1)
    note: str | None = None

    @field_validator("offset")
    @classmethod
    def _offset(cls, value: str) -> str:
        parse_offset(value)
        return value

    @property
    def offset_seconds(self) -> int:
        return parse_offset(self.offset)

    @property
    def type(self) -> str:
        return str(self.event.get("type"))


class Scenario(_Strict):
    format: Literal[1] = 1
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    title: Title
    timezone: str
    onset: datetime = Field(description="Real onset, UTC")
    province_code: str = Field(pattern=r"^\d{2}$")
    kabupaten_code: str = Field(pattern=r"^\d{2}\.\d{2}$")
    summary: str
    scale_note: str
    sources: dict[str, str] = Field(min_length=1)
    assumptions: dict[str, str] = Field(min_length=1)
    vulnerable_shares: VulnerableShares
    timeline: list[TimelineEntry] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {value!r}") from None
        return value

    @field_validator("onset")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("must include a timezone, e.g. 2022-11-21T06:21:10Z")
        return value.astimezone(UTC)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def entry(self, entry_id: str) -> TimelineEntry:
        for item in self.timeline:
            if item.id == entry_id:
                return item
        raise KeyError(entry_id)


class TimedEvent(NamedTuple):
    offset_seconds: int
    event: ev.Envelope
    entry_id: str

    @property
    def event_type(self) -> str:
        """The wire ``type`` of the event, e.g. ``"shelter.registered"``."""
        return str(type(self.event).model_fields["type"].default)


def available() -> list[str]:
    """Names of the scenarios shipped in this package, sorted."""
    return sorted(path.stem for path in DIR.glob("*.json"))


def event_id_for(name: str, entry_id: str) -> uuid.UUID:
    """The event id of an entry: the same on every replay, so consumers deduplicate."""
    return uuid.uuid5(SCENARIO_NAMESPACE, f"{name}/{entry_id}")


def load(name: str) -> Scenario:
    """The named scenario, validated; :class:`ScenarioError` if unknown or invalid."""
    names = available()
    if name not in names:
        raise ScenarioError(f"unknown scenario {name!r}; available: {', '.join(names) or '(none)'}")
    return _load_cached(name)


@lru_cache(maxsize=16)
def _load_cached(name: str) -> Scenario:
    return load_file(DIR / f"{name}.json")


def _where(loc: tuple[int | str, ...], raw: Any) -> str:
    """A readable path, naming the timeline entry's id when the error is inside one."""
    parts = [str(p) for p in loc]
    if len(loc) >= 2 and loc[0] == "timeline" and isinstance(loc[1], int):
        try:
            entry_id = raw["timeline"][loc[1]]["id"]
        except (KeyError, IndexError, TypeError):
            entry_id = None
        if entry_id:
            parts[1] = f"{loc[1]} (id {entry_id!r})"
    return ".".join(parts) or "(file)"


def load_file(path: Path) -> Scenario:
    """Read and validate one scenario file; errors name the scenario and the field."""
    label = path.stem
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"scenario {label!r} ({path}): cannot read JSON: {exc}") from None
    if isinstance(raw, dict) and isinstance(raw.get("name"), str):
        label = raw["name"]
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{_where(tuple(e['loc']), raw)}: {e['msg']}" for e in exc.errors(include_url=False)[:5]
        ]
        raise ScenarioError(f"scenario {label!r} ({path}): " + "; ".join(problems)) from None
    if scenario.name != path.stem:
        raise ScenarioError(
            f"scenario {label!r} ({path}): name: {scenario.name!r} differs from the file name"
        )
    problems = _check(scenario)
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ScenarioError(f"scenario {label!r} ({path}): " + "; ".join(problems[:5]) + more)
    return scenario


def _basis_problem(value: str, scenario: Scenario) -> str | None:
    match = _BASIS.match(value)
    if not match:
        return f"{value!r} is not 'real:<source key>' or 'assumed:<assumption key>'"
    kind, key = match.groups()
    table_name = "sources" if kind == "real" else "assumptions"
    if key not in getattr(scenario, table_name):
        return f"{kind} basis {key!r} is not in the scenario's {table_name}"
    return None


def _check(scenario: Scenario) -> list[str]:
    """Semantic checks beyond the schema: unique ids, known bases, valid wire events."""
    problems: list[str] = []
    for key, text in (*scenario.sources.items(), *scenario.assumptions.items()):
        if not text.strip():
            problems.append(f"sources/assumptions.{key}: empty text")
    if (p := _basis_problem(scenario.vulnerable_shares.basis, scenario)) is not None:
        problems.append(f"vulnerable_shares.basis: {p}")
    seen: set[str] = set()
    placeholder = {
        "event_id": uuid.UUID(int=0),
        "occurred_at": scenario.onset,
        "schema_version": ev.SCHEMA_VERSION,
        "source": f"replay:{scenario.name}",
    }
    for index, entry in enumerate(scenario.timeline):
        where = f"timeline.{index} (id {entry.id!r})"
        if entry.id in seen:
            problems.append(f"{where}.id: duplicate entry id")
        seen.add(entry.id)
        model = ev.EVENT_TYPES.get(entry.type)
        if model is None:
            problems.append(f"{where}.event.type: unknown event type {entry.type!r}")
            continue
        stray = _ENVELOPE & entry.event.keys()
        if stray:
            problems.append(f"{where}.event: {sorted(stray)} are set by the replay, not the file")
            continue
        try:
            model.model_validate({**_complete(scenario, entry.event), **placeholder})
        except ValidationError as exc:
            for err in exc.errors(include_url=False)[:3]:
                field = ".".join(str(p) for p in err["loc"])
                problems.append(f"{where}.event.{field}: {err['msg']}")
        for field, value in entry.basis.items():
            if field != "*" and field != "offset" and field not in entry.event:
                problems.append(f"{where}.basis.{field}: no such field in the event")
            if (p := _basis_problem(value, scenario)) is not None:
                problems.append(f"{where}.basis.{field}: {p}")
        if "*" not in entry.basis:
            figures = {"offset"} | (FIGURE_FIELDS & entry.event.keys())
            missing = sorted(figures - entry.basis.keys())
            if missing:
                problems.append(f"{where}.basis: no basis for {missing} (name each, or give '*')")
    return problems


def figure_bases(scenario: Scenario, entry: TimelineEntry) -> dict[str, str]:
    """Every figure of an entry (``offset`` and the event's figure fields) → its basis."""
    default = entry.basis.get("*")
    out: dict[str, str] = {}
    for field in sorted({"offset"} | (FIGURE_FIELDS & entry.event.keys())):
        basis = entry.basis.get(field, default)
        if basis is not None:
            out[field] = basis
    if entry.type == "shelter.headcount_reported":
        for group in GROUPS:
            if group not in entry.event:
                out[group] = scenario.vulnerable_shares.basis
    return out


def _complete(scenario: Scenario, payload: dict[str, Any]) -> dict[str, Any]:
    """Fill what the file may leave out: vulnerable groups of a headcount from the shares."""
    data = dict(payload)
    if data.get("type") == "shelter.headcount_reported" and isinstance(data.get("total"), int):
        for group, value in scenario.vulnerable_shares.groups(data["total"]).items():
            data.setdefault(group, value)
    return data


def _scaled(payload: dict[str, Any], scale: float) -> dict[str, Any]:
    data = dict(payload)
    for field in SCALED_FIELDS:
        value = data.get(field)
        if value is None or isinstance(value, bool):
            continue
        if field == "quantity":
            # stock stays non-zero so a scaled-down warehouse still holds every batch
            data[field] = max(1, round(value * scale)) if value > 0 else 0
        else:
            data[field] = math.floor(value * scale)
    for group in GROUPS:  # explicit groups scale like their total (floor keeps them within it)
        if isinstance(data.get(group), int):
            data[group] = math.floor(data[group] * scale)
    return data


def build_events(
    scenario: Scenario,
    scale: float = 1.0,
    onset: datetime | None = None,
    ends_at: datetime | None = None,
) -> list[TimedEvent]:
    """The scenario as wire events in time order: ``(offset_seconds, event, entry_id)``.

    ``event_id`` is :func:`event_id_for` (deterministic); ``occurred_at`` is onset + offset.
    ``onset`` replaces the real onset; ``ends_at`` instead places the onset so that the
    *last* event occurs at that time (a replay sent all at once ends "now" and never stamps
    the future). Either way batch expiry dates move by the same number of days as the onset
    so the 75-day rule sees the same margins. ``scale`` (0 < scale ≤ 1) multiplies people
    counts and stock quantities (floor; stock never below 1); vulnerable groups are computed
    from the scaled totals.
    """
    if not (0 < scale <= 1) or math.isnan(scale):
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    if onset is not None and ends_at is not None:
        raise ValueError("give onset or ends_at, not both")
    if ends_at is not None:
        if ends_at.tzinfo is None or ends_at.utcoffset() is None:
            raise ValueError("ends_at must include a timezone")
        last = max((entry.offset_seconds for entry in scenario.timeline), default=0)
        onset = ends_at - timedelta(seconds=last)
    start = scenario.onset if onset is None else onset
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("onset must include a timezone")
    start = start.astimezone(UTC)
    shift_days = (start.date() - scenario.onset.date()).days
    out: list[TimedEvent] = []
    for entry in scenario.timeline:
        offset = entry.offset_seconds
        data = _scaled(entry.event, scale) if scale != 1 else dict(entry.event)
        if shift_days and data.get("expires_on"):
            data["expires_on"] = (
                date.fromisoformat(data["expires_on"]) + timedelta(days=shift_days)
            ).isoformat()
        data = _complete(scenario, data)
        model = ev.EVENT_TYPES[entry.type]
        event = model.model_validate(
            {
                **data,
                "event_id": event_id_for(scenario.name, entry.id),
                "occurred_at": start + timedelta(seconds=offset),
                "schema_version": ev.SCHEMA_VERSION,
                "source": f"replay:{scenario.name}",
            }
        )
        out.append(TimedEvent(offset, event, entry.id))
    out.sort(key=lambda item: item.offset_seconds)  # stable: file order breaks ties
    return out
