"""Every shipped scenario: loads, cites its figures, sits where it claims, and adds up."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta

import pytest

import geo
from siaga import events as ev
from siaga import scenarios
from siaga.catalogue import topic_for_event_type

NAMES = scenarios.available()
ITEMS = {
    item["id"]: item["unit"]
    for item in json.loads(
        (scenarios.DIR.parent.parent / "logistics" / "data" / "items.json").read_text()
    )["items"]
}


def test_the_three_real_disasters_are_shipped() -> None:
    assert {"cianjur-2022", "palu-2018", "semeru-2021"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_scenario_loads_and_builds_wire_events(name: str) -> None:
    scenario = scenarios.load(name)
    timed = scenarios.build_events(scenario)
    assert scenario.name == name
    assert scenario.title.id and scenario.title.en
    assert scenario.onset.utcoffset() == timedelta(0)
    assert len(timed) == len(scenario.timeline)
    for item in timed:
        assert isinstance(item.event, ev.Envelope)
        assert item.event_type in ev.EVENT_TYPES
        topic_for_event_type(item.event_type)  # every event has a topic
    types = {item.event_type for item in timed}
    kitchens = {"kitchen.registered"} if name != "semeru-2021" else set()
    if name == "palu-2018":
        kitchens.add("kitchen.status_reported")
    assert types == {
        "incident.reported",
        "emergency.declared",
        "shelter.registered",
        "shelter.headcount_reported",
        "warehouse.registered",
        "warehouse.stock_level_reported",
        "team.status_reported",
    } | kitchens


def test_palu_kitchens_are_the_named_sites_and_cianjur_ones_are_marked_assumed() -> None:
    palu = scenarios.load("palu-2018")
    kitchens = [e for e in palu.timeline if e.type == "kitchen.registered"]
    assert len(kitchens) == 8
    for entry in kitchens:
        assert entry.basis["name"].startswith("real:"), entry.id
        assert entry.basis["location"].startswith("assumed:"), entry.id
        assert entry.basis["portions_per_cooking"] == "real:kemensos-dumlap-2018-09-30"
        assert entry.event["portions_per_cooking"] * entry.event["cookings_per_day"] == 6000
    names = " ".join(e.event["name"] for e in kitchens)
    for site in ("Dinas Sosial", "Rumah Jabatan Gubernur", "Lasoani", "Wali Kota", "Balaroa",
                 "Siranindi"):
        assert site in names
    kawatuna = palu.entry("kitchen-report-kawatuna-4oct-siang")
    assert kawatuna.event["portions_served"] == 3200
    assert kawatuna.basis["portions_served"] == "real:republika-2018-10-04-dapur-umum"
    cianjur = scenarios.load("cianjur-2022")
    for entry in (e for e in cianjur.timeline if e.type == "kitchen.registered"):
        assert entry.basis["*"] == "assumed:cianjur-kitchens"
        assert "diasumsikan" in entry.event["name"]


@pytest.mark.parametrize("name", NAMES)
def test_every_figure_has_a_basis_and_every_real_one_a_source(name: str) -> None:
    scenario = scenarios.load(name)
    real = 0
    for entry in scenario.timeline:
        bases = scenarios.figure_bases(scenario, entry)
        figures = {"offset"} | (scenarios.FIGURE_FIELDS & entry.event.keys())
        assert figures <= bases.keys(), f"{entry.id}: no basis for {figures - bases.keys()}"
        for field, basis in bases.items():
            kind, _, key = basis.partition(":")
            if kind == "real":
                real += 1
                assert scenario.sources.get(key, "").strip(), f"{entry.id}.{field}: {basis}"
            else:
                assert kind == "assumed", f"{entry.id}.{field}: {basis}"
                assert scenario.assumptions.get(key, "").strip(), f"{entry.id}.{field}: {basis}"
    assert real > 0  # the scenario does rest on real figures


@pytest.mark.parametrize("name", NAMES)
def test_every_location_resolves_to_the_claimed_province_and_kabupaten(name: str) -> None:
    checked = 0
    for item in scenarios.build_events(scenarios.load(name)):
        event = item.event
        location = getattr(event, "location", None)
        if location is None:
            continue
        region = geo.resolve(location.lat, location.lon)
        where = f"{item.entry_id} at {location.lat},{location.lon}"
        assert region.province_code == event.province_code, where  # type: ignore[attr-defined]
        assert region.kabupaten_code == event.kabupaten_code, (  # type: ignore[attr-defined]
            f"{where} is in {region.kabupaten_name}"
        )
        checked += 1
    assert checked > 20


@pytest.mark.parametrize("name", NAMES)
def test_incident_is_in_the_scenarios_kabupaten(name: str) -> None:
    scenario = scenarios.load(name)
    incidents = [
        t.event
        for t in scenarios.build_events(scenario)
        if isinstance(t.event, ev.IncidentReported)
    ]
    assert incidents
    assert {i.kabupaten_code for i in incidents} == {scenario.kabupaten_code}
    assert {i.province_code for i in incidents} == {scenario.province_code}
    assert incidents[0].occurred_at == scenario.onset


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("scale", [1.0, 0.1, 0.013])
def test_headcounts_never_exceed_the_displaced_total_at_that_time(name: str, scale: float) -> None:
    displaced = 0
    current: dict[str, int] = {}
    checked = 0
    for item in scenarios.build_events(scenarios.load(name), scale=scale):
        event = item.event
        if isinstance(event, ev.IncidentReported):
            displaced = event.displaced
        elif isinstance(event, ev.ShelterHeadcountReported):
            current[event.shelter_id] = event.total
            # groups within the total: the wire model enforces it; check anyway
            assert event.infants + event.children + event.elderly <= event.total
            assert max(event.pregnant_lactating, event.disabled) <= event.total
            assert sum(current.values()) <= displaced, f"{item.entry_id}: {current} > {displaced}"
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("name", NAMES)
def test_headcounts_refer_to_registered_shelters_and_stock_to_registered_warehouses(
    name: str,
) -> None:
    shelters: dict[str, int | None] = {}
    warehouses: set[str] = set()
    for item in scenarios.build_events(scenarios.load(name)):
        event = item.event
        if isinstance(event, ev.ShelterRegistered):
            shelters[event.shelter_id] = event.capacity
        elif isinstance(event, ev.ShelterHeadcountReported):
            assert event.shelter_id in shelters, item.entry_id
            capacity = shelters[event.shelter_id]
            assert capacity is None or event.total <= capacity, item.entry_id
        elif isinstance(event, ev.WarehouseRegistered):
            warehouses.add(event.warehouse_id)
        elif isinstance(event, ev.StockLevelReported):
            assert event.warehouse_id in warehouses, item.entry_id
            assert ITEMS.get(event.item) == event.unit, (
                f"{item.entry_id}: {event.item} {event.unit}"
            )


@pytest.mark.parametrize("name", NAMES)
def test_warehouses_teams_and_expiry_exercise_the_rules(name: str) -> None:
    scenario = scenarios.load(name)
    timed = scenarios.build_events(scenario)
    kinds = {t.event.kind for t in timed if isinstance(t.event, ev.WarehouseRegistered)}
    assert {"regional", "provincial", "lumbung_sosial"} <= kinds
    assert any(
        isinstance(t.event, ev.WarehouseRegistered) and t.event.warehouse_id == "kemensos-bekasi"
        for t in timed
    )
    onset = scenario.onset.date()
    days = [
        (t.event.expires_on - onset).days
        for t in timed
        if isinstance(t.event, ev.StockLevelReported) and t.event.expires_on is not None
    ]
    assert any(0 < d < 75 for d in days), "a batch near expiry (the 75-day rule)"
    assert any(d >= 75 for d in days)
    teams = [t.event for t in timed if isinstance(t.event, ev.TeamStatusReported)]
    team_kabupaten = {t.kabupaten_code for t in teams}
    assert scenario.kabupaten_code in team_kabupaten or len(team_kabupaten) > 3
    assert len(team_kabupaten) >= 4  # affected and neighbouring kabupaten
    assert {t.availability for t in teams} >= {"available", "assigned", "resting"}
    declarations = [t.event for t in timed if isinstance(t.event, ev.EmergencyDeclared)]
    assert declarations and all(d.province_code == scenario.province_code for d in declarations)


@pytest.mark.parametrize("name", NAMES)
def test_events_are_time_ordered_and_occur_at_onset_plus_offset(name: str) -> None:
    scenario = scenarios.load(name)
    timed = scenarios.build_events(scenario)
    offsets = [t.offset_seconds for t in timed]
    assert offsets == sorted(offsets)
    for item in timed:
        assert (item.event.occurred_at - scenario.onset).total_seconds() == item.offset_seconds
    # a shelter is registered before its first headcount
    first_seen: dict[str, str] = {}
    for item in timed:
        event = item.event
        if isinstance(event, (ev.ShelterRegistered, ev.ShelterHeadcountReported)):
            first_seen.setdefault(event.shelter_id, event.type)
    assert set(first_seen.values()) == {"shelter.registered"}


@pytest.mark.parametrize("name", NAMES)
def test_event_ids_are_deterministic_and_unique(name: str) -> None:
    scenario = scenarios.load(name)
    first = [t.event.event_id for t in scenarios.build_events(scenario)]
    again = [t.event.event_id for t in scenarios.build_events(scenario, scale=0.5)]
    assert first == again
    assert len(set(first)) == len(first)
    entry = scenario.timeline[0]
    assert scenarios.event_id_for(name, entry.id) in first
    assert all(i.version == 5 for i in first)


def test_event_ids_differ_between_scenarios() -> None:
    ids = [t.event.event_id for n in NAMES for t in scenarios.build_events(scenarios.load(n))]
    assert len(set(ids)) == len(ids)


def test_cianjur_figures_match_the_reference() -> None:
    timed = scenarios.build_events(scenarios.load("cianjur-2022"))
    incidents = [t.event for t in timed if isinstance(t.event, ev.IncidentReported)]
    assert incidents[0].location.lat == -6.84 and incidents[0].location.lon == 107.05
    assert incidents[0].occurred_at.isoformat() == "2022-11-21T06:21:10+00:00"
    assert [i.displaced for i in incidents] == [0, 5389, 58362, 73862]
    last_counts: dict[str, int] = {}
    for t in timed:
        if isinstance(t.event, ev.ShelterHeadcountReported):
            last_counts[t.event.shelter_id] = t.event.total
    assert sum(last_counts.values()) == 40202  # 190 centres on 25 Nov, in 25 modelled sites
    assert len(last_counts) == 25


def test_semeru_kecamatan_totals_match_the_reference() -> None:
    scenario = scenarios.load("semeru-2021")
    by_kecamatan: dict[str, int] = defaultdict(int)
    for entry in scenario.timeline:
        if entry.type == "shelter.headcount_reported" and entry.id.endswith("-m1"):
            shelter = scenario.entry(f"shelter-{entry.event['shelter_id']}")
            kecamatan = shelter.event["posko_id"].removeprefix("posko-")
            by_kecamatan[kecamatan] += entry.event["total"]
    assert dict(by_kecamatan) == {"pronojiwo": 305, "candipuro": 1136, "pasirian": 563}


def test_now_based_times_keep_offsets_and_shift_expiry_by_whole_days() -> None:
    scenario = scenarios.load("cianjur-2022")
    real = scenarios.build_events(scenario)
    onset = ev.utcnow()
    live = scenarios.build_events(scenario, onset=onset)
    shift = (onset.date() - scenario.onset.date()).days
    for a, b in zip(real, live, strict=True):
        assert b.event.occurred_at - onset == a.event.occurred_at - scenario.onset
        assert a.event.event_id == b.event.event_id
        if isinstance(a.event, ev.StockLevelReported) and a.event.expires_on is not None:
            assert isinstance(b.event, ev.StockLevelReported) and b.event.expires_on is not None
            assert (b.event.expires_on - a.event.expires_on).days == shift
            assert isinstance(b.event.expires_on, date)
