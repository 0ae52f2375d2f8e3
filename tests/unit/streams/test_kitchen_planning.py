"""Kitchens in a province's plan: fed by the agents' reducers, planned by plan_province."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from siaga import events as ev
from siaga.events import InvalidRecord
from streams import ingest
from streams.kitchens import apply_kitchen_registered, apply_kitchen_status, local_day
from streams.planning import PlanningOptions, ProvinceState, plan_province

T0 = datetime(2018, 10, 1, 0, 0, tzinfo=UTC)
PALU = (-0.90, 119.87)
NEAR = [("sh-balaroa", (-0.89, 119.86), 1200), ("sh-kawatuna", (-0.92, 119.89), 800)]
FAR = [("sh-poso-1", (-1.39, 120.75), 2500), ("sh-poso-2", (-1.40, 120.74), 1500)]


def _base(n: int, source: str = "test") -> dict[str, Any]:
    return {"event_id": uuid.uuid4(), "occurred_at": T0 + timedelta(minutes=n),
            "source": source, "schema_version": 1}


def _loc(p: tuple[float, float]) -> dict[str, float]:
    return {"lat": p[0], "lon": p[1]}


def _kitchen(n: int = 50, **kw: Any) -> ev.KitchenRegistered:
    fields: dict[str, Any] = {
        "kitchen_id": "dapur-dinsos", "name": "Dapur Umum Kantor Dinas Sosial",
        "location": _loc(PALU), "province_code": "72", "team_ids": ["tagana-a"],
        "coordinator": "coord-sulteng"}
    fields.update(kw)
    return ev.KitchenRegistered(**_base(n, "coordinator:coord-sulteng"), **fields)


def _state(kitchen: bool = True, dumlap: int = 2, kitchen_team: bool = True) -> ProvinceState:
    state = ProvinceState("72")
    n = 0
    for shelter_id, where, total in NEAR + FAR:
        n += 1
        ingest.apply_shelter_registered(state.shelters, ev.ShelterRegistered(
            **_base(n), shelter_id=shelter_id, name=shelter_id.replace("-", " ").title(),
            location=_loc(where), province_code="72", posko_id="posko-palu"))
        ingest.apply_headcount(state.shelters, ev.ShelterHeadcountReported(
            **_base(n), shelter_id=shelter_id, province_code="72", total=total,
            posko_id="posko-palu"))
    ingest.apply_warehouse_registered(state.warehouses, ev.WarehouseRegistered(
        **_base(20), warehouse_id="gudang-sulteng", name="Gudang Dinsos Sulteng",
        kind="provincial", location=_loc((-0.87, 119.88)), province_code="72"))
    for item, qty, unit in (("rice", 50000, "kg"), ("side_dish", 50000, "pack"),
                            ("cooking_fuel", 5000, "kg"), ("clean_water", 500000, "L"),
                            ("field_kitchen", dumlap, "unit")):
        ingest.apply_stock_level(state.warehouses, ev.StockLevelReported(
            **_base(21), warehouse_id="gudang-sulteng", province_code="72", item=item,
            batch_id=f"b-{item}", quantity=qty, unit=unit))
    for team_id, skills in (("tagana-a", ["public_kitchen"]),
                            ("tagana-b", ["public_kitchen" if kitchen_team else "evacuation"])):
        ingest.apply_team_status(state.teams, ev.TeamStatusReported(
            **_base(30), team_id=team_id, province_code="72", location=_loc(PALU),
            skills=skills, members=10, availability="available"))
    if kitchen:
        apply_kitchen_registered(state.kitchens, _kitchen())
    return state


def _proposals(outcome: Any) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for p in outcome.plan["plan"]["proposals"]:
        pair = (p["shelter_id"], p["item_id"])
        out[pair] = out.get(pair, 0) + int(p["quantity"])
    return out


def _views(outcome: Any, entity: str) -> dict[str, Any]:
    return {i: v for e, i, v in outcome.entities if e == entity}


def test_rice_goes_to_the_kitchen_not_to_the_shelters_it_feeds() -> None:
    outcome = plan_province(_state(), {}, PlanningOptions())
    planned = _proposals(outcome)
    # 2,000 people near the kitchen: 6,000 portions a day = its whole capacity
    # rice: 6,000 x 0.1333 kg x 3 days = 2,400 kg to the kitchen
    assert planned[("dapur-dinsos", "rice")] == 2400
    assert planned[("dapur-dinsos", "side_dish")] == 6000 * 0.5 * 3
    assert planned[("dapur-dinsos", "cooking_fuel")] == 540
    assert ("sh-balaroa", "rice") not in planned and ("sh-kawatuna", "rice") not in planned
    # clean water still goes to the shelters too; the far shelters keep their own rice
    assert planned[("sh-balaroa", "clean_water")] == 34456  # ceil(1,200 x 9.571 x 3)
    assert planned[("dapur-dinsos", "clean_water")] == 6000 * 0.5 * 3
    assert planned[("sh-poso-1", "rice")] == 2500 * 0.4 * 3
    kitchen = _views(outcome, "kitchen")["dapur-dinsos"]
    assert kitchen["capacity_per_day"] == 6000
    assert kitchen["portions_needed_per_day"] == 6000
    assert kitchen["shelter_ids"] == ["sh-balaroa", "sh-kawatuna"]
    # the team's cooking list: names and portions a day, most first (3 per person)
    assert kitchen["shelters"] == [
        {"shelter_id": "sh-balaroa", "name": "Sh Balaroa", "portions_per_day": 3600},
        {"shelter_id": "sh-kawatuna", "name": "Sh Kawatuna", "portions_per_day": 2400}]
    assert kitchen["shortfall"] is None
    rice = next(i for i in kitchen["ingredients"] if i["item"] == "rice")
    assert rice["planned"] == 2400
    shelters = _views(outcome, "shelter")
    assert shelters["sh-balaroa"]["kitchen_id"] == "dapur-dinsos"
    assert "kitchen_id" not in shelters["sh-poso-1"]
    shipments = _views(outcome, "shipment")
    to_kitchen = [s for s in shipments.values() if s["shelter_id"] == "dapur-dinsos"]
    assert to_kitchen and all(s["location"] == _loc(PALU) for s in to_kitchen)


def test_a_kitchens_ingredients_carry_their_source_in_english_and_in_bahasa_indonesia() -> None:
    outcome = plan_province(_state(), {}, PlanningOptions())
    kitchen = _views(outcome, "kitchen")["dapur-dinsos"]
    sources = {i["item"]: (i["source"], i["source_id"]) for i in kitchen["ingredients"]}
    assert set(sources) == {"rice", "side_dish", "cooking_fuel", "clean_water"}
    for item, (english, indonesian) in sources.items():
        assert english and indonesian and english != indonesian, item
    assert sources["side_dish"][0].startswith("side_dish_per_portion: assumption:")
    assert sources["side_dish"][1].startswith("asumsi: satu porsi nasi bungkus berisi lauk")
    assert sources["cooking_fuel"][1].startswith("asumsi: satu tabung LPG 12 kg")
    assert sources["clean_water"][1].startswith("asumsi: sekitar 1,5 L air per kg beras")
    assert sources["rice"][1].startswith("turunan: beras 0,4 kg per orang per hari")


def test_people_beyond_reach_get_a_proposal_to_open_a_kitchen_near_them() -> None:
    outcome = plan_province(_state(), {}, PlanningOptions())
    proposals = _views(outcome, "kitchen_proposal")
    # the 4,000 people near Poso are 4.5 h from the Palu kitchen: 12,000 portions unfed;
    # one Dumlap left for tagana-b (tagana-a runs the kitchen): one kitchen, 6,000 covered
    (proposal,) = proposals.values()
    assert proposal["site"]["site_id"] in ("sh-poso-1", "sh-poso-2")
    assert proposal["portions_covered_per_day"] == 6000
    assert proposal["warehouse_id"] == "gudang-sulteng"
    assert proposal["team_id"] == "tagana-b"
    assert proposal["explanation"]["figures"]["portions_unfed_per_day"] == 12000
    assert set(proposal["shelter_ids"]) <= {"sh-poso-1", "sh-poso-2"}


def test_no_free_kitchen_team_means_no_proposal_and_says_why() -> None:
    outcome = plan_province(_state(kitchen_team=False), {}, PlanningOptions())
    proposals = _views(outcome, "kitchen_proposal")
    assert list(proposals) == ["blocked"]
    assert proposals["blocked"]["blocked"]["figures"]["kitchen_teams_free"] == 0


def test_an_overloaded_kitchen_is_a_shortfall_with_its_figures() -> None:
    state = _state()
    apply_kitchen_registered(state.kitchens, _kitchen(
        60, assigned_shelter_ids=["sh-poso-1"]))  # assigned though 4.5 h away
    outcome = plan_province(state, {}, PlanningOptions())
    kitchen = _views(outcome, "kitchen")["dapur-dinsos"]
    assert kitchen["portions_needed_per_day"] == 6000 + 7500
    assert kitchen["shortfall"]["figures"]["portions_missing_per_day"] == 7500
    assert kitchen["shortfall"]["figures"]["units_missing"] == 2
    short = _views(outcome, "shortfall")["dapur-dinsos:portions"]
    assert short["missing"] == 7500 and short["item"] == "portions"
    assert "Dapur umum" in short["explanation"]
    # what the kitchen cannot cook (7,500 of 13,500 portions, on every shelter alike) goes to
    # the shelters as rice: sh-poso-1 ceil(7,500 x 7,500/13,500) = 4,167 portions a day
    # x 0.1333 kg x 3 days = 1,667 kg
    assert _proposals(outcome)[("sh-poso-1", "rice")] == 1667
    assert any(e["type"] == "supply_shortfall.detected"
               and e["shortfall_id"] == "dapur-dinsos:portions" for e in outcome.events)


def test_without_kitchens_the_plan_feeds_every_shelter_with_rice_as_before() -> None:
    outcome = plan_province(_state(kitchen=False), {}, PlanningOptions())
    planned = _proposals(outcome)
    assert planned[("sh-balaroa", "rice")] == 1200 * 0.4 * 3
    assert not _views(outcome, "kitchen")


def test_status_reports_come_from_the_kitchen_team_and_portions_add_up_per_day() -> None:
    kitchens: dict[str, Any] = {}
    apply_kitchen_registered(kitchens, _kitchen())

    def report(n: int, team: str, meal: str, portions: int, source: str | None = None) -> Any:
        return ev.KitchenStatusReported(
            **_base(n, source or f"team:{team}"), kitchen_id="dapur-dinsos",
            province_code="72", team_id=team, status="open", meal=meal,
            portions_served=portions)

    apply_kitchen_status(kitchens, report(100, "tagana-a", "pagi", 1800))
    lunch = report(101, "tagana-a", "siang", 1950)
    row = apply_kitchen_status(kitchens, lunch)
    assert row is not None
    day = local_day(T0 + timedelta(minutes=100), "72")
    assert {m: e["portions"] for m, e in row["served"][day].items()} == \
        {"pagi": 1800, "siang": 1950}
    # a redelivered report changes nothing; a later correction of the same meal replaces it
    assert apply_kitchen_status(kitchens, lunch) is None
    fixed = apply_kitchen_status(kitchens, report(105, "tagana-a", "siang", 2000))
    assert fixed is not None and fixed["served"][day]["siang"]["portions"] == 2000
    with pytest.raises(InvalidRecord, match="team_id"):
        apply_kitchen_status(kitchens, report(102, "tagana-x", "malam", 10))
    with pytest.raises(InvalidRecord, match="own team"):
        apply_kitchen_status(kitchens, report(103, "tagana-a", "malam", 10, "team:tagana-b"))
    with pytest.raises(InvalidRecord, match="kitchen_id"):
        apply_kitchen_status({}, report(104, "tagana-a", "malam", 10))


def test_a_kitchen_outside_its_province_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidRecord, match="province_code"):
        apply_kitchen_registered({}, _kitchen(location=_loc((-6.84, 107.05))))  # Cianjur


def test_a_replayed_registration_changes_nothing() -> None:
    kitchens: dict[str, Any] = {}
    event = _kitchen()
    assert apply_kitchen_registered(kitchens, event) is not None
    assert apply_kitchen_registered(kitchens, event) is None


def test_a_dumlap_unit_that_left_with_a_kitchen_is_not_proposed_again() -> None:
    state = _state(kitchen=False, dumlap=1)
    apply_kitchen_registered(state.kitchens, _kitchen(warehouse_id="gudang-sulteng"))
    proposals = _views(plan_province(state, {}, PlanningOptions()), "kitchen_proposal")
    assert list(proposals) == ["blocked"]
    assert proposals["blocked"]["blocked"]["figures"]["dumlap_units_in_stock"] == 0


def test_a_team_running_a_kitchen_is_not_dispatched_elsewhere() -> None:
    outcome = plan_province(_state(), {}, PlanningOptions())
    teams = _views(outcome, "team")
    assert teams["tagana-a"]["assignment"] is None  # it cooks at dapur-dinsos
    without = _views(plan_province(_state(kitchen=False), {}, PlanningOptions()), "team")
    assert without["tagana-a"]["assignment"] is not None  # free, it is sent to a task


def test_a_kitchen_with_a_shelters_id_is_left_out_and_the_province_still_plans() -> None:
    state = _state(kitchen=False)
    apply_kitchen_registered(state.kitchens, _kitchen(kitchen_id="sh-balaroa"))
    outcome = plan_province(state, {}, PlanningOptions())
    assert _proposals(outcome)[("sh-balaroa", "rice")] == 1200 * 0.4 * 3
    assert _views(outcome, "kitchen")["sh-balaroa"]["capacity_per_day"] == 0


def test_a_shelter_fed_by_a_kitchen_needs_no_kitchen_team_of_its_own() -> None:
    tasks = _views(plan_province(_state(), {}, PlanningOptions()), "task")
    assert "public_kitchen:sh-balaroa" not in tasks  # the Palu kitchen cooks for it
    assert "shelter_setup:sh-balaroa" in tasks       # its other tasks stay
    assert "public_kitchen:sh-poso-1" in tasks       # beyond reach: it still needs one
