"""The TAGANA task loop in the pure planner, fed by the teams agent's own reducers:
registration, availability, progress; a decline or a timeout is dispatched again; a done
slot is not; hours on duty come from the loop."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from logistics.dispatch import ACK_TIMEOUT_MINUTES, assignment_status, hours_on_duty
from logistics.errors import InvalidInput
from siaga import events as ev
from siaga.events import InvalidRecord
from streams import ingest
from streams.planning import PlanningOptions, ProvinceState, plan_province
from streams.teams import (
    apply_task_progress,
    apply_team_availability,
    apply_team_registered,
    progress_step,
)

T0 = datetime(2022, 11, 21, 8, 0, tzinfo=UTC)
SHELTER = "sh-loop"
KITCHEN = f"public_kitchen:{SHELTER}"


def _env(at: datetime, source: str = "test") -> dict[str, Any]:
    return {"event_id": uuid.uuid4(), "occurred_at": at, "source": source,
            "schema_version": 1}


def _register(state: ProvinceState, team_id: str, lat: float, lon: float,
              at: datetime = T0, skills: tuple[str, ...] = ("public_kitchen",)) -> None:
    apply_team_registered(state.teams, ev.TeamRegistered(
        **_env(at, "coordinator:jabar"), team_id=team_id, name=f"TAGANA {team_id}",
        province_code="32", kabupaten_code="32.03", base={"lat": lat, "lon": lon},
        members=[{"name": "Asep", "role": "ketua"}, {"name": "Dedi"}], skills=list(skills),
        rank="madya", coordinator="coord-jabar"))


def _available(state: ProvinceState, team_id: str, at: datetime,
               availability: str = "available") -> Any:
    return apply_team_availability(state.teams, ev.TeamAvailabilityReported(
        **_env(at, f"team:{team_id}"), team_id=team_id, province_code="32",
        availability=availability, members_present=2))


def _progress(state: ProvinceState, team_id: str, status: str, at: datetime,
              reason: str | None = None, source: str | None = None) -> Any:
    return apply_task_progress(state.teams, ev.TaskProgressReported(
        **_env(at, source or f"team:{team_id}"), task_id=KITCHEN, team_id=team_id,
        province_code="32", status=status, reason=reason))


def _shelter(state: ProvinceState, at: datetime, total: int = 400) -> None:
    ingest.apply_shelter_registered(state.shelters, ev.ShelterRegistered(
        **_env(at), shelter_id=SHELTER, name="Lapangan Cugenang", location={
            "lat": -6.80, "lon": 107.06}, province_code="32", kabupaten_code="32.03",
        posko_id="posko-cugenang"))
    ingest.apply_headcount(state.shelters, ev.ShelterHeadcountReported(
        **_env(at), shelter_id=SHELTER, province_code="32", total=total,
        posko_id="posko-cugenang"))


def _plan(state: ProvinceState, previous: dict[str, Any]) -> Any:
    return plan_province(state, previous, PlanningOptions())


def _views(outcome: Any, entity: str) -> dict[str, Any]:
    return {i: v for e, i, v in outcome.entities if e == entity}


@pytest.fixture
def province() -> ProvinceState:
    state = ProvinceState("32")
    _register(state, "near", -6.81, 107.07)   # close to the shelter
    _register(state, "far", -6.90, 107.20)
    _shelter(state, T0)
    return state


def test_a_registered_team_is_not_sent_before_it_reports_itself_available(
    province: ProvinceState,
) -> None:
    outcome = _plan(province, {})
    assert outcome.plan["teams"]["assignments"] == {}
    assert _views(outcome, "task")[KITCHEN]["status"] == "unassigned"
    assert _views(outcome, "team")["near"]["availability"] == "off_duty"


def test_the_loop_acknowledged_en_route_arrived_done_shows_on_task_and_team(
    province: ProvinceState,
) -> None:
    _available(province, "near", T0 + timedelta(minutes=1))
    first = _plan(province, {})
    assert first.plan["teams"]["assignments"][KITCHEN] == ["near"]
    task = _views(first, "task")[KITCHEN]
    assert task["status"] == "dispatched"
    assert task["teams"][0]["times"]["dispatched"] == (T0 + timedelta(minutes=1)).isoformat()
    # why it was sent, as data the team's page renders in its language
    why = _views(first, "team")["near"]["assignment"]["why"]
    assert why["rule"] == "team_assigned"
    assert why["figures"]["team_id"] == "near" and why["figures"]["task_id"] == KITCHEN
    assert why["figures"]["tier"] == "kabupaten" and why["figures"]["fatigue_limit_hours"] == 12
    assert 0 < why["figures"]["travel_hours"] < 1
    previous = first.plan
    for minutes, step in ((3, "acknowledged"), (5, "en_route"), (20, "arrived")):
        _progress(province, "near", step, T0 + timedelta(minutes=minutes))
        outcome = _plan(province, previous)
        previous = outcome.plan
        assert _views(outcome, "task")[KITCHEN]["status"] == step
        assert _views(outcome, "team")["near"]["assignment"]["status"] == step
    assert outcome.plan["teams"]["assignments"][KITCHEN] == ["near"], "no churn while on it"
    _progress(province, "near", "done", T0 + timedelta(hours=3))
    done = _plan(province, previous)
    task = _views(done, "task")[KITCHEN]
    assert task["status"] == "done"
    assert task["teams"][0]["times"]["done"] == (T0 + timedelta(hours=3)).isoformat()
    assert done.plan["teams"]["assignments"].get(KITCHEN) is None
    assert _views(done, "team")["near"]["assignment"] is None, "free for the next task"
    assert {"type": "team.released", "task_id": KITCHEN, "team_id": "near"} in done.events
    # the done slot is not dispatched again, though "far" becomes available
    _available(province, "far", T0 + timedelta(hours=3, minutes=1))
    after = _plan(province, done.plan)
    assert after.plan["teams"]["assignments"].get(KITCHEN) is None


def test_a_declined_assignment_is_dispatched_to_another_team(province: ProvinceState) -> None:
    _available(province, "near", T0 + timedelta(minutes=1))
    _available(province, "far", T0 + timedelta(minutes=1))
    first = _plan(province, {})
    assert first.plan["teams"]["assignments"][KITCHEN] == ["near"]
    _progress(province, "near", "declined", T0 + timedelta(minutes=4), reason="truk rusak")
    second = _plan(province, first.plan)
    assert second.plan["teams"]["assignments"][KITCHEN] == ["far"]
    task = _views(second, "task")[KITCHEN]
    declined = [t for t in task["teams"] if t["team_id"] == "near"]
    assert declined[0]["status"] == "declined" and declined[0]["reason"] == "truk rusak"
    assert {"type": "team.dispatched", "task_id": KITCHEN, "team_id": "far",
            "tier": "kabupaten"} in second.events


def test_an_assignment_not_acknowledged_in_time_is_dispatched_again(
    province: ProvinceState,
) -> None:
    _available(province, "near", T0 + timedelta(minutes=1))
    _available(province, "far", T0 + timedelta(minutes=1))
    first = _plan(province, {})
    assert first.plan["teams"]["assignments"][KITCHEN] == ["near"]
    # within the timeout: kept
    _shelter(province, T0 + timedelta(minutes=ACK_TIMEOUT_MINUTES - 1), total=401)
    kept = _plan(province, first.plan)
    assert kept.plan["teams"]["assignments"][KITCHEN] == ["near"]
    # past it (the plan clock moves with any input of the province)
    _shelter(province, T0 + timedelta(minutes=ACK_TIMEOUT_MINUTES + 2), total=402)
    late = _plan(province, kept.plan)
    assert late.plan["teams"]["assignments"][KITCHEN] == ["far"]
    assert late.plan["teams"]["timed_out"] == {KITCHEN: ["near"]}
    # and "near" is not sent back to it in the next plans (the memory keeps it)
    _progress(province, "far", "declined", T0 + timedelta(minutes=30), reason="jauh")
    again = _plan(province, {**late.plan, "teams": {**late.plan["teams"]}})
    assert again.plan["teams"]["assignments"].get(KITCHEN) is None
    assert _views(again, "task")[KITCHEN]["status"] == "unassigned"


def test_hours_on_duty_come_from_the_loop_and_the_fatigue_limit_uses_them(
    province: ProvinceState,
) -> None:
    _available(province, "near", T0)
    first = _plan(province, {})
    _progress(province, "near", "acknowledged", T0 + timedelta(minutes=2))
    assert province.teams["near"]["on_duty_since"] == (T0 + timedelta(minutes=2)).isoformat()
    _progress(province, "near", "done", T0 + timedelta(hours=9))
    done = _plan(province, first.plan)
    assert _views(done, "team")["near"]["hours_on_duty"] == pytest.approx(8.97, abs=0.01)
    # a new task: 9 h on duty + 4 h expected > 12 h limit: not sent
    ingest.apply_shelter_registered(province.shelters, ev.ShelterRegistered(
        **_env(T0 + timedelta(hours=9)), shelter_id="sh-two", name="Balai Desa",
        location={"lat": -6.81, "lon": 107.07}, province_code="32", kabupaten_code="32.03",
        posko_id="posko-cugenang"))
    ingest.apply_headcount(province.shelters, ev.ShelterHeadcountReported(
        **_env(T0 + timedelta(hours=9)), shelter_id="sh-two", province_code="32", total=50,
        posko_id="posko-cugenang"))
    tired = _plan(province, done.plan)
    assert "near" not in {t for ids in tired.plan["teams"]["assignments"].values() for t in ids}
    # a rest ends the duty period; rested, the team is sent again
    _available(province, "near", T0 + timedelta(hours=9, minutes=5), "resting")
    assert province.teams["near"]["on_duty_since"] is None
    _available(province, "near", T0 + timedelta(hours=17))
    rested = _plan(province, tired.plan)
    assert "near" in rested.plan["teams"]["assignments"]["public_kitchen:sh-two"]


def test_a_team_phone_may_report_only_for_its_own_team(province: ProvinceState) -> None:
    with pytest.raises(InvalidRecord, match="team_id"):
        _progress(province, "near", "acknowledged", T0, source="team:far")
    with pytest.raises(InvalidRecord, match="team_id"):
        apply_team_availability(province.teams, ev.TeamAvailabilityReported(
            **_env(T0, "team:far"), team_id="near", province_code="32",
            availability="available", members_present=1))


def test_a_report_for_an_unregistered_team_is_refused_naming_team_id() -> None:
    state = ProvinceState("32")
    with pytest.raises(InvalidRecord, match="team_id: no team 'ghost' registered"):
        _available(state, "ghost", T0)


def test_steps_are_idempotent_and_closed_assignments_stay_closed() -> None:
    at = T0.isoformat()
    ack = progress_step(None, "acknowledged", at, None)
    assert ack == {"status": "acknowledged", "acknowledged_at": at}
    assert progress_step(ack, "acknowledged", at, None) is None  # redelivered
    arrived = progress_step(ack, "arrived", at, None)
    assert arrived is not None
    assert progress_step(arrived, "en_route", at, None) is None  # a late earlier step
    done = progress_step(arrived, "done", at, None)
    assert done is not None
    assert progress_step(done, "en_route", at, None) is None
    with pytest.raises(InvalidRecord, match="status: this assignment is already done"):
        progress_step(done, "declined", at, "x")
    declined = progress_step(ack, "declined", at, "banjir")
    assert declined is not None and declined["reason"] == "banjir"
    with pytest.raises(InvalidRecord, match="already declined"):
        progress_step(declined, "arrived", at, None)


def test_a_decline_without_a_reason_is_refused_naming_reason() -> None:
    with pytest.raises(ev.ValidationError, match="reason"):
        ev.TaskProgressReported(**_env(T0), task_id=KITCHEN, team_id="near",
                                province_code="32", status="declined")


def test_hours_on_duty_and_assignment_status_rules() -> None:
    assert hours_on_duty(1.5, None, T0) == 1.5
    assert hours_on_duty(0.0, T0, T0 + timedelta(hours=2, minutes=30)) == 2.5
    assert hours_on_duty(3.0, T0, T0 + timedelta(hours=1)) == 3.0
    with pytest.raises(InvalidInput):
        hours_on_duty(0.0, datetime(2022, 1, 1), T0)  # naive
    assert assignment_status(None, T0, T0 + timedelta(minutes=ACK_TIMEOUT_MINUTES)) == \
        "dispatched"
    assert assignment_status(None, T0, T0 + timedelta(minutes=ACK_TIMEOUT_MINUTES + 1)) == \
        "timed_out"
    assert assignment_status({"status": "arrived"}, T0, T0 + timedelta(days=1)) == "arrived"


def test_the_national_tier_does_not_send_a_team_back_to_the_task_it_declined(
    province: ProvinceState,
) -> None:
    from streams.national import plan_national

    _available(province, "near", T0 + timedelta(minutes=1))
    first = _plan(province, {})
    assert first.plan["teams"]["assignments"][KITCHEN] == ["near"]
    _progress(province, "near", "declined", T0 + timedelta(minutes=4), reason="truk rusak")
    second = _plan(province, first.plan)
    # nobody else in the province: the task goes up, with the team that refused it
    assert KITCHEN in [t["task_id"] for t in second.escalation["uncovered_tasks"]]
    spare = {t["team_id"]: t for t in second.escalation["spare_teams"]}
    assert spare["near"]["refused"] == [KITCHEN]
    _, results = plan_national({"32": second.escalation}, {})
    assert results["32"]["mobilised_here"] == []
    assert results["32"]["tasks_covered"] == []
    # another province's spare team is mobilised instead
    other = {**second.escalation, "province_code": "36", "uncovered_tasks": [],
             "spare_teams": [{**spare["near"], "team_id": "banten-1", "province_code": "36",
                              "refused": []}], "shortfalls": [], "regional_stock": [],
             "national_shipments": []}
    _, results = plan_national({"32": second.escalation, "36": other}, {})
    assert [{k: c[k] for k in ("task_id", "team_id", "team_province")}
            for c in results["32"]["tasks_covered"]] == [
        {"task_id": KITCHEN, "team_id": "banten-1", "team_province": "36"}]
