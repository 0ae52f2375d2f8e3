"""The approval gate on what the national tier sends a province, in the pure planner and the
shipments agent's reducer (:mod:`streams.planning.gate`).

Jawa Barat (32) has a shelter and nothing of its own but the regional warehouse at Bekasi;
Banten (36) has a spare TAGANA team. The national tier proposes rice from Bekasi and
mobilises the Banten team; both wait for a coordinator of Jawa Barat. A confirmation before
the approval is refused by the lifecycle (the worker parks it); a decline withdraws and
stands until the need grows by a quarter; a decision from outside the province is refused.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from siaga import events as ev
from siaga.events import InvalidRecord
from streams import ingest
from streams.national import plan_national
from streams.planning import PlanningOptions, ProvinceState, plan_province
from streams.planning.gate import (
    apply_escalation_decision,
    covered_key,
    decision_key,
    read_gates,
)

T0 = datetime(2022, 11, 21, 8, 0, tzinfo=UTC)
SHELTER = "sh-cugenang"
BEKASI = "wh-bekasi-regional"
TEAM = "tagana-banten-1"
SETUP = f"shelter_setup:{SHELTER}"


def _env(at: datetime, source: str = "test") -> dict[str, Any]:
    return {"event_id": uuid.uuid4(), "occurred_at": at, "source": source,
            "schema_version": 1}


def _jabar(total: int = 400) -> ProvinceState:
    state = ProvinceState("32")
    ingest.apply_shelter_registered(state.shelters, ev.ShelterRegistered(
        **_env(T0), shelter_id=SHELTER, name="Lapangan Desa Cugenang",
        location={"lat": -6.80, "lon": 107.06}, province_code="32", kabupaten_code="32.03",
        posko_id="posko-cugenang"))
    _headcount(state, total, T0)
    ingest.apply_warehouse_registered(state.warehouses, ev.WarehouseRegistered(
        **_env(T0), warehouse_id=BEKASI, name="Gudang Regional Kemensos Bekasi",
        kind="regional", location={"lat": -6.30, "lon": 107.05}, province_code="32",
        kabupaten_code="32.16"))
    ingest.apply_stock_level(state.warehouses, ev.StockLevelReported(
        **_env(T0), warehouse_id=BEKASI, province_code="32", item="rice",
        batch_id="BRS-01", quantity=20_000, unit="kg"))
    return state


def _headcount(state: ProvinceState, total: int, at: datetime) -> None:
    ingest.apply_headcount(state.shelters, ev.ShelterHeadcountReported(
        **_env(at), shelter_id=SHELTER, province_code="32", total=total,
        posko_id="posko-cugenang"))


def _banten() -> ProvinceState:
    state = ProvinceState("36")
    ingest.apply_team_status(state.teams, ev.TeamStatusReported(
        **_env(T0), team_id=TEAM, name="TAGANA Serang Satu", province_code="36",
        kabupaten_code="36.73", location={"lat": -6.12, "lon": 106.15},
        skills=["shelter_setup"], members=10, availability="available"))
    return state


def _plan(state: ProvinceState, previous: dict[str, Any]) -> Any:
    outcome = plan_province(state, previous, PlanningOptions())
    state.shipments = outcome.shipments
    return outcome


def _results(results: dict[str, Any], province: str) -> Any:
    r = results[province]
    return {k: r[k] for k in ("proposals", "tasks_covered", "mobilised_here") if r[k]}


def _views(outcome: Any, entity: str) -> dict[str, Any]:
    return {i: v for e, i, v in outcome.entities if e == entity and v is not None}


def _decide(state: ProvinceState, minutes: int, decision: str = "approved",
            source: str = "coordinator:Pusdalops Jabar", reason: str | None = None,
            shipment_id: str | None = None, task: tuple[str, str] | None = None,
            province: str = "32") -> Any:
    event = ev.EscalationDecisionRecorded(
        **_env(T0 + timedelta(hours=1, minutes=minutes), source), province_code=province,
        shipment_id=shipment_id, task_id=task[0] if task else None,
        team_id=task[1] if task else None, decision=decision, reason=reason,
        coordinator="Pusdalops Jabar")
    if shipment_id is not None:
        target = state.shipments.get(shipment_id)
    else:
        target = {"seq": 1, "data": next(
            (c for c in state.national.get("tasks_covered", [])
             if (c["task_id"], c["team_id"]) == task), None)}
    return apply_escalation_decision(state.overrides, event, target)


def _confirmation(shipment: dict[str, Any], minutes: int) -> ev.ShipmentStatusChanged:
    return ev.ShipmentStatusChanged(
        **_env(T0 + timedelta(hours=2, minutes=minutes), f"warehouse:{BEKASI}"),
        shipment_id=shipment["shipment_id"], province_code="32", warehouse_id=BEKASI,
        status="confirmed", batches=[{"batch_id": b["batch_id"], "quantity": b["quantity"]}
                                     for b in shipment["batches"]])


def _confirm(state: ProvinceState, shipment: dict[str, Any], minutes: int) -> Any:
    return ingest.apply_shipment_status(state.shipments, _confirmation(shipment, minutes))


class Shown:
    """What the read models show after a plan: every view emitted so far (a plan emits only
    what changed), removed ones gone; its events and escalation are the last plan's."""

    def __init__(self) -> None:
        self.views: dict[tuple[str, str], Any] = {}
        self.outcome: Any = None

    def add(self, outcome: Any) -> Shown:
        self.outcome = outcome
        for entity, entity_id, view in outcome.entities:
            if view is None:
                self.views.pop((entity, entity_id), None)
            else:
                self.views[(entity, entity_id)] = view
        return self

    @property
    def entities(self) -> list[tuple[str, str, Any]]:
        return [(e, i, v) for (e, i), v in self.views.items()]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.outcome, name)


class Operation:
    """Jawa Barat and Banten planned once, the national tier on their escalations, and
    both planned again with its results."""

    def __init__(self, approval_required: bool = True, total: int = 400) -> None:
        self.jabar, self.banten = _jabar(total), _banten()
        self.approval_required = approval_required
        self.jabar_plan = Shown().add(_plan(self.jabar, {}))
        self.banten_plan = Shown().add(_plan(self.banten, {}))
        self.national: dict[str, Any] = {}
        self.go_national()

    def go_national(self) -> None:
        self.national, results = plan_national(
            {"32": self.jabar_plan.escalation, "36": self.banten_plan.escalation},
            self.national, self.approval_required)
        self.jabar.national = _results(results, "32")
        self.banten.national = _results(results, "36")
        self.replan()

    def replan(self) -> None:
        self.jabar_plan.add(_plan(self.jabar, self.jabar_plan.plan))
        self.banten_plan.add(_plan(self.banten, self.banten_plan.plan))

    def rice(self) -> dict[str, Any]:
        [shipment] = [s for s in self.jabar.shipments.values()
                      if s.get("tier") == "national" and s["item_id"] == "rice"]
        return shipment


@pytest.fixture(scope="module")
def gated() -> Operation:
    return Operation()


def test_a_national_shipment_and_a_mobilised_team_await_the_receiving_province() -> None:
    op = Operation()
    rice = op.rice()
    assert rice["approval"] == "awaiting" and rice["warehouse_id"] == BEKASI
    view = _views(op.jabar_plan, "shipment")[rice["shipment_id"]]
    assert view["approval"] == "awaiting"
    # awaiting covers nothing yet: the shortfall stays in view, where a coordinator decides
    shortfall = _views(op.jabar_plan, "shortfall")[f"{SHELTER}:rice"]
    assert shortfall["missing"] == rice["quantity"]
    # the Banten team: listed on Jawa Barat's task, awaiting, with why it was chosen
    task = _views(op.jabar_plan, "task")[SETUP]
    [team] = task["national_teams"]
    assert team["team_id"] == TEAM and team["approval"] == "awaiting"
    assert team["name"] == "TAGANA Serang Satu" and team["province_code"] == "36"
    assert team["why"]["rule"] == "team_assigned" and team["why"]["figures"]["task_id"] == SETUP
    assert TEAM not in task["assigned_team_ids"] and task["uncovered"] == 1
    # … and in Banten it is no assignment yet: the team's phone shows none
    banten_team = _views(op.banten_plan, "team")[TEAM]
    assert banten_team["assignment"] is None
    assert banten_team["mobilisation"]["approval"] == "awaiting"
    assert banten_team["mobilisation"]["task_id"] == SETUP


def test_the_lifecycle_refuses_to_confirm_before_the_approval_and_takes_it_after() -> None:
    op = Operation()
    rice = op.rice()
    with pytest.raises(InvalidRecord, match="approval: shipment .* awaits the approval"):
        _confirm(op.jabar, rice, 1)
    assert op.jabar.shipments[rice["shipment_id"]]["status"] == "proposed"
    assert _decide(op.jabar, 1, shipment_id=rice["shipment_id"]) is not None
    op.replan()
    approved = op.jabar.shipments[rice["shipment_id"]]
    assert approved["approval"] == "approved" and approved["quantity"] == rice["quantity"]
    # a warehouse system learns it may confirm now
    [changed] = [e for e in op.jabar_plan.events if e["type"] == "shipment.proposal_changed"]
    assert changed["shipment_id"] == rice["shipment_id"] and changed["approval"] == "approved"
    # approved, it covers the need: the shortfall is gone
    assert f"{SHELTER}:rice" not in _views(op.jabar_plan, "shortfall")
    confirmed = _confirm(op.jabar, approved, 2)
    assert confirmed["status"] == "confirmed"


def test_a_confirmation_right_after_the_decision_is_checked_against_the_decision() -> None:
    """The dashboard shows "approved" before the re-plan writes the shipment's row back, and a
    warehouse may confirm at once: the shipments agent checks the confirmation against the
    decision it recorded (same topic, folded first), not only the row's approval."""
    from streams.planning.gate import shipment_key
    from streams.shipments import _confirm_as_decided

    op = Operation()
    rice = op.rice()
    key = shipment_key(rice["shipment_id"])
    with pytest.raises(InvalidRecord, match="awaits the approval"):  # nothing decided yet
        _confirm_as_decided(op.jabar.overrides.get(key))(
            dict(op.jabar.shipments), _confirmation(rice, 1))
    assert _decide(op.jabar, 1, shipment_id=rice["shipment_id"]) is not None
    assert op.jabar.shipments[rice["shipment_id"]]["approval"] == "awaiting"  # no re-plan yet
    confirmed = _confirm_as_decided(op.jabar.overrides[key])(
        op.jabar.shipments, _confirmation(rice, 2))
    assert confirmed is not None
    assert (confirmed["status"], confirmed["approval"]) == ("confirmed", "approved")

    declined_op = Operation()
    declined = declined_op.rice()
    assert _decide(declined_op.jabar, 1, decision="declined", reason="stok provinsi cukup",
                   shipment_id=declined["shipment_id"]) is not None
    with pytest.raises(InvalidRecord, match="was declined"):
        _confirm_as_decided(declined_op.jabar.overrides[shipment_key(declined["shipment_id"])])(
            declined_op.jabar.shipments, _confirmation(declined, 2))
    assert declined_op.jabar.shipments[declined["shipment_id"]]["status"] == "proposed"


def test_an_approved_team_is_dispatched_in_its_home_province_with_why() -> None:
    op = Operation()
    assert _decide(op.jabar, 1, task=(SETUP, TEAM)) is not None
    op.replan()
    task = _views(op.jabar_plan, "task")[SETUP]
    assert task["national_teams"][0]["approval"] == "approved"
    assert TEAM in task["assigned_team_ids"] and task["uncovered"] == 0
    [up] = [t for t in op.jabar_plan.escalation["uncovered_tasks"] if t["task_id"] == SETUP]
    assert up["approved_teams"] == [TEAM]
    op.go_national()  # the national tier tells Banten
    assignment = _views(op.banten_plan, "team")[TEAM]["assignment"]
    assert assignment["task_id"] == SETUP and assignment["tier"] == "national"
    # the task is Jawa Barat's (ids are unique only within a province): the team's page
    # looks it up there (GET /api/v1/teams/{id})
    assert assignment["task_province"] == "32"
    # the same team_assigned explanation as a province's own dispatch, with the task's own id
    why = assignment["why"]
    assert why["rule"] == "team_assigned" and why["figures"]["task_id"] == SETUP
    assert why["figures"]["task_province"] == "32" and why["figures"]["tier"] == "national"
    assert "32/" not in why["text"]


def test_a_declined_shipment_is_withdrawn_and_not_proposed_again_until_the_need_grows() -> None:
    op = Operation()
    rice = op.rice()
    _decide(op.jabar, 1, "declined", reason="beras dari BAZNAS tiba besok",
            shipment_id=rice["shipment_id"])
    op.replan()
    assert rice["shipment_id"] not in op.jabar.shipments
    [gone] = [e for e in op.jabar_plan.events if e["type"] == "shipment.proposal_withdrawn"]
    assert gone["approval"] == "declined"
    assert gone["reason"] == "declined by Pusdalops Jabar: beras dari BAZNAS tiba besok"
    shortfall = _views(op.jabar_plan, "shortfall")[f"{SHELTER}:rice"]
    assert shortfall["national_decline"]["reason"] == "beras dari BAZNAS tiba besok"
    # nothing of it goes up: the national tier proposes nothing more for it
    items = {s["item_id"] for s in op.jabar_plan.escalation["shortfalls"]}
    assert "rice" not in items and items, "the other shortfalls still go up"
    op.go_national()
    assert not [s for s in op.jabar.shipments.values() if s["item_id"] == "rice"]
    # 20 % more people: not material, the decline stands
    _headcount(op.jabar, 480, T0 + timedelta(hours=3))
    op.replan()
    assert "rice" not in {s["item_id"] for s in op.jabar_plan.escalation["shortfalls"]}
    # a quarter more than when declined: the decline lapses, the need goes up again
    _headcount(op.jabar, 500, T0 + timedelta(hours=4))
    op.replan()
    assert "rice" in {s["item_id"] for s in op.jabar_plan.escalation["shortfalls"]}
    assert "national_decline" not in _views(op.jabar_plan, "shortfall")[f"{SHELTER}:rice"]
    op.go_national()
    again = op.rice()
    assert again["approval"] == "awaiting" and again["shipment_id"] != rice["shipment_id"]


def test_a_declined_team_is_not_sent_to_the_task_again_while_the_decline_stands() -> None:
    op = Operation()
    _decide(op.jabar, 1, "declined", reason="tim relawan lokal cukup", task=(SETUP, TEAM))
    op.replan()
    assert SETUP not in {t["task_id"] for t in op.jabar_plan.escalation["uncovered_tasks"]}
    assert _views(op.jabar_plan, "task")[SETUP]["national_decline"]["reason"] == \
        "tim relawan lokal cukup"
    op.go_national()
    assert not op.jabar.national.get("tasks_covered")
    assert _views(op.banten_plan, "team")[TEAM].get("mobilisation") is None


def test_with_the_gate_off_the_national_tier_acts_at_once() -> None:
    op = Operation(approval_required=False)
    rice = op.rice()
    assert rice["approval"] == "not_required"
    assert _confirm(op.jabar, rice, 1)["status"] == "confirmed"
    assignment = _views(op.banten_plan, "team")[TEAM]["assignment"]
    assert assignment["task_id"] == SETUP and assignment["why"]["rule"] == "team_assigned"
    # and a decision on what needs none is refused
    with pytest.raises(InvalidRecord, match="needs no approval"):
        _decide(op.jabar, 2, task=(SETUP, TEAM))


# ---------------------------------------------------------------- the worker checks the scope


def test_a_decision_that_is_not_a_coordinators_is_refused(gated: Operation) -> None:
    rice = gated.rice()
    for source in ("warehouse:wh-bekasi-regional", "posko:cugenang", "team:tagana-banten-1"):
        with pytest.raises(InvalidRecord, match="source: only a coordinator"):
            _decide(gated.jabar, 1, source=source, shipment_id=rice["shipment_id"])
    assert decision_key_of(rice) not in gated.jabar.overrides


def decision_key_of(shipment: dict[str, Any]) -> str:
    return f"gate|shipment|{shipment['shipment_id']}"


def test_a_decision_on_something_not_sent_to_the_keyed_province_is_refused(
    gated: Operation,
) -> None:
    rice = gated.rice()
    # keyed by Banten, naming Jawa Barat's shipment: Banten holds no such shipment
    with pytest.raises(InvalidRecord, match="shipment_id: no national-tier shipment"):
        _decide(gated.banten, 1, shipment_id=rice["shipment_id"], province="36")
    # a province-tier shipment needs no approval of this kind
    province_tier = dict(rice, tier="province")
    with pytest.raises(InvalidRecord, match="no national-tier shipment"):
        apply_escalation_decision({}, ev.EscalationDecisionRecorded(
            **_env(T0, "coordinator:x"), province_code="32", shipment_id=rice["shipment_id"],
            decision="approved", coordinator="x"), province_tier)
    # a confirmed one is past the gate
    with pytest.raises(InvalidRecord, match="is confirmed; only a proposed"):
        apply_escalation_decision({}, ev.EscalationDecisionRecorded(
            **_env(T0, "coordinator:x"), province_code="32", shipment_id=rice["shipment_id"],
            decision="approved", coordinator="x"), dict(rice, status="confirmed"))
    # a team the national tier did not mobilise to this province's task
    with pytest.raises(InvalidRecord, match="task_id: the national tier mobilised no team"):
        _decide(gated.banten, 1, task=(SETUP, TEAM), province="36")


def test_the_newest_decision_wins_whatever_the_arrival_order(gated: Operation) -> None:
    rice = gated.rice()
    overrides: dict[str, Any] = {}

    def decide(minutes: int, decision: str) -> Any:
        return apply_escalation_decision(overrides, ev.EscalationDecisionRecorded(
            **_env(T0 + timedelta(minutes=minutes), "coordinator:x"), province_code="32",
            shipment_id=rice["shipment_id"], decision=decision,
            reason="x" if decision == "declined" else None, coordinator="x"), rice)

    assert decide(10, "declined") is not None
    assert decide(5, "approved") is None  # older: no change
    key = decision_key(ev.EscalationDecisionRecorded(
        **_env(T0, "coordinator:x"), province_code="32", shipment_id=rice["shipment_id"],
        decision="approved", coordinator="x"))
    assert overrides[key]["decision"] == "declined"
    assert overrides[key]["need"] == rice["need"] > 0  # the need it was declined at
    state = ProvinceState("32", overrides=overrides)
    assert read_gates(state).needs[(SHELTER, "rice")]["reason"] == "x"


def test_the_wire_model_names_one_target_and_a_reason_to_decline() -> None:
    base = {**_env(T0, "coordinator:x"), "province_code": "32", "coordinator": "x"}
    with pytest.raises(ValueError, match="shipment_id"):
        ev.EscalationDecisionRecorded(**base, decision="approved")
    with pytest.raises(ValueError, match="shipment_id"):
        ev.EscalationDecisionRecorded(**base, decision="approved", shipment_id="s",
                                      task_id="t", team_id="u")
    with pytest.raises(ValueError, match="team_id"):
        ev.EscalationDecisionRecorded(**base, decision="approved", task_id="t")
    with pytest.raises(ValueError, match="reason"):
        ev.EscalationDecisionRecorded(**base, decision="declined", shipment_id="s")
    assert covered_key("t", "u") == "c|t|u"


def test_a_standing_mobilisation_keeps_its_why_through_the_national_table() -> None:
    """The national tier's next plan starts from its table rows (previous_from): the team it
    keeps on the task keeps the dispatcher's explanation, in the task's own ids."""
    from streams.national import national_writes, previous_from

    op = Operation()
    snapshots = {"32": op.jabar_plan.escalation, "36": op.banten_plan.escalation}
    record, results = plan_national(snapshots, {})
    rows = {k: v for k, v in national_writes({}, record, results)[0].items() if v is not None}
    again, results = plan_national(snapshots, previous_from(rows))
    assert again["assignments"] == record["assignments"]  # standing: not dispatched again
    [covered] = results["32"]["tasks_covered"]
    [here] = results["36"]["mobilised_here"]
    for why in (covered["why"], here["why"]):
        assert why["rule"] == "team_assigned"
        assert why["figures"]["task_id"] == SETUP and why["figures"]["team_id"] == TEAM
        assert why["figures"]["tier"] == "national" and why["figures"]["travel_hours"] > 0
    assert covered["team_name"] == "TAGANA Serang Satu" and here["approval"] == "awaiting"
