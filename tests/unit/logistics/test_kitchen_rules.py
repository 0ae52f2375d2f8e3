"""Public kitchens: capacity, who is served, portions, ingredients, shortfalls (hand-worked)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logistics import InvalidInput, ShelterHeadcount, compute_needs, load_profile
from logistics.kitchens import (
    Kitchen,
    apply_kitchens,
    capacity_shortfall,
    load_standards,
    portions_per_day,
    serving,
)

PROFILE = load_profile("bnpb-perka-7-2008")
STD = load_standards(PROFILE)


def _need(needs, shelter_id: str, item: str):  # type: ignore[no-untyped-def]
    return next(n for n in needs if n.shelter_id == shelter_id and n.item_id == item)


def test_one_dumlap_cooks_6000_portions_a_day_by_default_with_sources() -> None:
    k = Kitchen("k1", "Dapur Umum Kantor Dinsos", -0.9, 119.87)
    assert k.capacity_per_day == 6000  # 1 unit x 2,000 portions x 3 cookings
    assert Kitchen("k2", "x", -0.9, 119.87, units=2).capacity_per_day == 12000
    assert Kitchen("k3", "x", -0.9, 119.87, status="preparing").capacity_per_day == 0
    assert STD.value("portions_per_cooking") == 2000
    assert "detik.com 30 Sep 2018" in STD.source("portions_per_cooking")
    assert STD.value("cookings_per_day") == 3
    for name in STD.figures:
        assert STD.source(name)


def test_rice_per_portion_derives_from_the_profile_so_rice_is_kept() -> None:
    assert STD.value("rice_kg_per_portion") == pytest.approx(0.4 / 3)
    assert "Perka BNPB 7/2008" in STD.source("rice_kg_per_portion")
    # 1,000 people x 3 meals; pregnant/lactating supplements become extra portions:
    # 10 pregnant x 0.079 kg = 0.79 kg, 10 lactating x 0.139 = 1.39 kg -> 2.18 / 0.1333 = 16.35
    sh = ShelterHeadcount("s", total=1000, pregnant=10, lactating=10)
    assert portions_per_day(sh, PROFILE, STD) == 3000 + 17
    assert portions_per_day(ShelterHeadcount("e", total=0), PROFILE, STD) == 0


def test_every_kitchen_figure_has_its_source_in_english_and_in_bahasa_indonesia() -> None:
    import json
    from importlib import resources

    raw = json.loads(resources.files("logistics").joinpath(
        "data/kitchens/kemensos-dumlap.json").read_text("utf-8"))
    for name, figure in raw["figures"].items():
        assert figure["source"].strip() and figure["source_id"].strip(), name
        assert figure["source_id"] != figure["source"], name
    for profile_id in ("bnpb-perka-7-2008", "sphere-2018"):
        std = load_standards(load_profile(profile_id))
        for name in std.figures:
            english, indonesian = std.source(name), std.source(name, "id")
            assert english and indonesian and indonesian != english, (profile_id, name)
            # the Indonesian text is not an English sentence with a code in it
            for word in ("assumption", "derived", "portion", " per day", "needs profile", "{"):
                assert word not in indonesian, (profile_id, name, word)
    assert STD.source("side_dish_per_portion", "id").startswith("asumsi: satu porsi nasi bungkus")
    assert STD.source("portions_per_cooking", "id").startswith("Mensos, Palu 2018: satu Dumlap")
    # rice per portion: derived from the profile's rice and meals, written as Indonesian writes it
    rice = STD.source("rice_kg_per_portion", "id")
    assert rice.startswith("turunan: beras 0,4 kg per orang per hari menurut profil kebutuhan "
                           "Perka BNPB 7/2008 dibagi 3 kali makan sehari = 0,1333 kg"), rice
    assert "Sphere 2018" in load_standards(load_profile("sphere-2018")).source(
        "rice_kg_per_portion", "id")


def test_meals_per_person_per_day_come_from_the_needs_profile_with_its_source() -> None:
    import dataclasses
    import json
    from importlib import resources

    from logistics.needs import Meals

    for profile_id in ("bnpb-perka-7-2008", "sphere-2018"):
        profile = load_profile(profile_id)
        assert profile.meals is not None and profile.meals.per_person_per_day == 3
        assert "detik.com 30 Sep 2018" in profile.meals.source and not profile.meals.sourced
        std = load_standards(profile)
        assert std.value("meals_per_person_per_day") == 3
        assert std.source("meals_per_person_per_day").startswith(f"needs profile {profile_id}")
    # the kitchen file keeps the kitchen's rhythm, not the people's meals
    kitchen_file = json.loads(resources.files("logistics").joinpath(
        "data/kitchens/kemensos-dumlap.json").read_text("utf-8"))
    assert "meals_per_person_per_day" not in kitchen_file["figures"]
    assert kitchen_file["figures"]["cookings_per_day"]["value"] == 3
    # a profile of two meals a day: a portion is half the day's rice, two portions a person
    two = dataclasses.replace(PROFILE, meals=Meals(2.0, False, "test: two meals a day"))
    std2 = load_standards(two)
    assert std2.value("rice_kg_per_portion") == pytest.approx(0.4 / 2)
    assert portions_per_day(ShelterHeadcount("s", total=1000), two, std2) == 2000
    with pytest.raises(InvalidInput, match="meals_per_person_per_day"):
        load_standards(dataclasses.replace(PROFILE, meals=None))


def test_bad_kitchen_figures_are_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput, match="units"):
        Kitchen("k", "x", 0.0, 0.0, units=0)
    with pytest.raises(InvalidInput, match="cookings_per_day"):
        Kitchen("k", "x", 0.0, 0.0, cookings_per_day=0)
    with pytest.raises(InvalidInput, match="status"):
        Kitchen("k", "x", 0.0, 0.0, status="running")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="location"):
        Kitchen("k", "x", 95.0, 0.0)


def test_nearest_open_kitchen_within_reach_serves_and_assignment_wins() -> None:
    ks = [Kitchen("kA", "A", 0, 0), Kitchen("kB", "B", 0, 0),
          Kitchen("kC", "C", 0, 0, status="closed", assigned_shelters=("s4",)),
          Kitchen("kD", "D", 0, 0, assigned_shelters=("s3",))]
    hours = np.array([
        [0.5, 2.0, 0.9, 0.1, 3.0],
        [0.2, 1.5, 0.9, 0.1, 3.0],
        [0.0, 0.0, 0.0, 0.0, 0.0],  # closed: never serves, even assigned
        [9.0, 9.0, 9.0, 9.0, 9.0],
    ])
    got = serving(ks, ["s0", "s1", "s2", "s3", "s4"], hours, reach_hours=1.0)
    assert got == {"s0": "kB",   # nearer
                   "s2": "kA",   # tie 0.9/0.9: kitchen id
                   "s3": "kD"}   # assigned beats the nearer kA/kB
    # s1 (1.5 h) and s4 (3 h) are beyond reach; closed kC feeds nobody


def test_served_shelter_rice_becomes_portions_and_kitchen_gets_the_ingredients() -> None:
    # hand-worked: 900 people (+ 600 people) served, 3 days of cover
    a = ShelterHeadcount("sA", total=900)
    b = ShelterHeadcount("sB", total=600)
    c = ShelterHeadcount("sC", total=300)  # not served: keeps its rice
    needs = compute_needs([a, b, c], PROFILE, days=3)
    k = Kitchen("dapur-1", "Dapur", 0, 0)
    plan = apply_kitchens(needs, [a, b, c], [k], {"sA": "dapur-1", "sB": "dapur-1"},
                          PROFILE, STD, days=3)
    assert _need(plan.needs, "sA", "rice").quantity == 0
    assert "dapur-1" in _need(plan.needs, "sA", "rice").lines[0].source
    assert _need(plan.needs, "sA", "drinking_water").quantity == 900 * 2.5 * 3  # unchanged
    assert _need(plan.needs, "sC", "rice").quantity == 300 * 0.4 * 3
    (load,) = plan.loads
    assert (load.portions_needed_per_day, load.portions_cooked_per_day) == (4500, 4500)
    assert load.people_served == 1500 and load.shortfall is None
    # the team's cooking list: portions a day per shelter it cooks for
    assert dict(zip(load.shelter_ids, load.shelter_portions, strict=True)) == {
        "sA": 2700, "sB": 1800}
    # 4,500 portions x 3 days: rice 13,500 x 0.1333 = 1,800 kg (= 1,500 people x 0.4 x 3),
    # side dish 0.5 pack -> 6,750, LPG 0.03 kg -> 405, clean water 0.5 L -> 6,750
    assert _need(plan.needs, "dapur-1", "rice").quantity == 1800
    assert _need(plan.needs, "dapur-1", "side_dish").quantity == 6750
    assert _need(plan.needs, "dapur-1", "cooking_fuel").quantity == 405
    assert _need(plan.needs, "dapur-1", "clean_water").quantity == 6750
    assert plan.unfed == {"sC": 900}
    assert "detik" not in _need(plan.needs, "dapur-1", "cooking_fuel").lines[0].source
    assert "cooking_fuel_kg_per_portion" in _need(plan.needs, "dapur-1",
                                                   "cooking_fuel").lines[0].source


def test_kitchen_on_hand_and_in_transit_reduce_its_ingredient_need() -> None:
    a = ShelterHeadcount("sA", total=100)
    needs = compute_needs([a], PROFILE, days=1)
    plan = apply_kitchens(needs, [a], [Kitchen("k", "K", 0, 0)], {"sA": "k"}, PROFILE, STD,
                          days=1, kitchen_on_hand={("k", "rice"): 30},
                          kitchen_in_transit={("k", "rice"): 5})
    assert _need(plan.needs, "k", "rice").quantity == 40 - 35


def test_capacity_below_portions_needed_is_a_shortfall_with_its_figures() -> None:
    # Cianjur-like: one Dumlap (6,000/day) for 4,000 people (12,000 portions a day)
    shelters = [ShelterHeadcount(f"s{i}", total=1000) for i in range(4)]
    needs = compute_needs(shelters, PROFILE, days=1)
    k = Kitchen("k", "K", 0, 0)
    plan = apply_kitchens(needs, shelters, [k], {s.shelter_id: "k" for s in shelters},
                          PROFILE, STD, days=1)
    (load,) = plan.loads
    assert load.portions_cooked_per_day == 6000
    assert load.shortfall == {
        "rule": "kitchen_capacity_below_portions_needed",
        "figures": {"kitchen_id": "k", "units": 1, "portions_per_cooking": 2000,
                    "cookings_per_day": 3, "capacity_per_day": 6000,
                    "portions_needed_per_day": 12000, "portions_missing_per_day": 6000,
                    "people_served": 4000, "units_missing": 1,
                    "meals_per_person_per_day": 3.0},
    }
    # ingredients only for what it can cook: 6,000 x 0.1333 kg = 800 kg
    assert _need(plan.needs, "k", "rice").quantity == 800
    # half of every served shelter's portions is not cooked: they count as unfed, and come
    # to the shelter as rice instead: 1,500 portions x 0.1333 kg = 200 kg each
    assert plan.unfed == {f"s{i}": 1500 for i in range(4)}
    for i in range(4):
        assert _need(plan.needs, f"s{i}", "rice").quantity == 200
        assert "cannot cook 1500" in _need(plan.needs, f"s{i}", "rice").lines[0].source
    assert capacity_shortfall(k, 6000, 2000, STD) is None
    assert capacity_shortfall(k, 6001, 2001, STD)["figures"]["units_missing"] == 1  # type: ignore[index]


def test_a_kitchen_id_that_is_a_shelter_id_is_refused() -> None:
    a = ShelterHeadcount("x", total=10)
    with pytest.raises(InvalidInput, match="also a shelter"):
        apply_kitchens([], [a], [Kitchen("x", "X", 0, 0)], {}, PROFILE, STD, days=1)
    with pytest.raises(InvalidInput, match="unknown kitchen"):
        apply_kitchens([], [a], [], {"x": "nope"}, PROFILE, STD, days=1)


@settings(max_examples=60, deadline=None)
@given(
    totals=st.lists(st.integers(0, 5000), min_size=1, max_size=8),
    pregnant=st.integers(0, 40),
    units=st.integers(1, 3),
    served_mask=st.lists(st.booleans(), min_size=8, max_size=8),
    days=st.sampled_from([1.0, 3.0, 7.0]),
)
def test_rice_is_kept_capacity_bounds_cooking_and_unserved_shelters_are_untouched(
    totals: list[int], pregnant: int, units: int, served_mask: list[bool], days: float,
) -> None:
    shelters = [ShelterHeadcount(f"s{i}", total=t, pregnant=min(pregnant, t))
                for i, t in enumerate(totals)]
    needs = compute_needs(shelters, PROFILE, days=days)
    kitchen = Kitchen("k", "K", 0, 0, units=units)
    served = {s.shelter_id: "k" for s, m in zip(shelters, served_mask, strict=False) if m}
    plan = apply_kitchens(needs, shelters, [kitchen], served, PROFILE, STD, days=days)
    (load,) = plan.loads
    assert load.portions_cooked_per_day <= kitchen.capacity_per_day
    assert load.portions_cooked_per_day == min(load.portions_needed_per_day,
                                               kitchen.capacity_per_day)
    by = {(n.shelter_id, n.item_id): n for n in plan.needs}
    rice_served = 0.0
    for need in needs:
        after = by[(need.shelter_id, need.item_id)]
        if need.shelter_id in served and need.item_id == "rice":
            left = plan.unfed.get(need.shelter_id, 0)  # what its kitchen cannot cook
            assert after.gross == pytest.approx(left * STD.value("rice_kg_per_portion") * days)
            assert after.quantity == (math.ceil(after.gross - 1e-9) if left else 0)
            rice_served += need.gross / days
        else:
            assert after == need  # every other need, and every unserved shelter, as it was
    per_portion = STD.value("rice_kg_per_portion")
    # portions round each shelter up: never less rice than the standard gives, at most one
    # portion more per shelter
    needed_rice = load.portions_needed_per_day * per_portion
    assert rice_served - 1e-6 <= needed_rice <= rice_served + per_portion * len(served) + 1e-6
    if load.portions_cooked_per_day:
        rice = by[("k", "rice")]
        assert rice.gross == pytest.approx(load.portions_cooked_per_day * per_portion * days)
    missing = load.portions_needed_per_day - load.portions_cooked_per_day
    assert missing <= sum(p for s, p in plan.unfed.items() if s in served) <= missing + len(served)
    for sh in shelters:  # nobody cooks for an unserved shelter: all its portions are unfed
        if sh.shelter_id not in served:
            assert plan.unfed.get(sh.shelter_id, 0) == portions_per_day(sh, PROFILE, STD)
