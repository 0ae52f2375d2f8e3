from __future__ import annotations

import json

import pytest

from logistics import (
    InvalidInput,
    Need,
    ShelterHeadcount,
    UnknownProfile,
    available_profiles,
    compute_needs,
    default_catalogue,
    load_profile,
    priority,
)


def _need(needs: list[Need], item: str) -> Need:
    return next(n for n in needs if n.item_id == item)


def test_bnpb_rice_is_400_g_per_person_per_day_times_horizon() -> None:
    sh = ShelterHeadcount("posko-1", total=3000)
    needs = compute_needs([sh], load_profile("bnpb-perka-7-2008"), days=3)
    assert _need(needs, "rice").quantity == 3600  # 3,000 x 0.4 kg x 3 days
    assert _need(needs, "drinking_water").quantity == 22500  # 2.5 L
    assert _need(needs, "family_kit").quantity == 600  # 1 per 5 people, not per day


def test_need_subtracts_on_hand_and_in_transit_and_never_goes_negative() -> None:
    sh = ShelterHeadcount("p", total=100)
    prof = load_profile()
    needs = compute_needs([sh], prof, 1, on_hand={("p", "rice"): 10},
                          in_transit={("p", "rice"): 5, ("p", "family_kit"): 999})
    assert _need(needs, "rice").quantity == 40 - 15
    assert _need(needs, "family_kit").quantity == 0


def test_pregnant_and_lactating_women_add_rice_and_infants_add_childrens_food() -> None:
    base = compute_needs([ShelterHeadcount("p", total=100)], load_profile(), 1)
    vul = compute_needs([ShelterHeadcount("p", total=100, pregnant=10, lactating=10,
                                          infants=4)], load_profile(), 1)
    assert _need(vul, "rice").quantity > _need(base, "rice").quantity
    assert _need(vul, "childrens_food").quantity == 12
    assert _need(base, "childrens_food").quantity == 0


def test_profile_is_recorded_on_every_need_and_every_rate_has_a_source() -> None:
    for pid in available_profiles():
        prof = load_profile(pid)
        for r in prof.rates:
            assert r.source
            assert r.item in default_catalogue()
        for n in compute_needs([ShelterHeadcount("p", total=10)], prof, 2):
            assert (n.profile_id, n.profile_version) == (prof.id, prof.version)
        assert prof.population_basis == "displaced_in_shelter"


def test_unknown_profile_and_bad_headcounts_raise() -> None:
    with pytest.raises(UnknownProfile):
        load_profile("nope")
    with pytest.raises(InvalidInput):
        ShelterHeadcount("p", total=10, elderly=11)
    with pytest.raises(InvalidInput):
        compute_needs([ShelterHeadcount("p", total=10)], load_profile(), 0)


def test_priority_is_strictly_increasing_in_vulnerable_share_severity_and_waiting() -> None:
    assert priority(0.3, 3, 10) > priority(0.2, 3, 10)
    assert priority(0.2, 4, 10) > priority(0.2, 3, 10)
    assert priority(0.2, 3, 20) > priority(0.2, 3, 10)
    assert priority(0.0, 1, 0) == 1.0


def test_need_round_trips_through_json() -> None:
    n = compute_needs([ShelterHeadcount("p", total=7, infants=1)], load_profile(), 2)[0]
    assert Need.from_dict(json.loads(json.dumps(n.to_dict()))) == n
    sh = ShelterHeadcount("p", total=7, infants=1, severity=5)
    assert ShelterHeadcount.from_dict(json.loads(json.dumps(sh.to_dict()))) == sh
