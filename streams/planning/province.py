"""Re-planning one province: the orchestration of the jobs (each in its own module)."""

from __future__ import annotations

from streams.planning.escalation import escalate
from streams.planning.gate import read_gates
from streams.planning.proposals import sync_tiers
from streams.planning.rows import OutputEvent, Previous
from streams.planning.state import PlanningOptions, ProvinceOutcome, ProvinceState, plan_time
from streams.planning.supplies import (
    plan_as_dict,
    plan_supplies,
    previous_plan,
    remember_plan,
)
from streams.planning.teams import plan_teams, team_events
from streams.planning.views import PlanViews, only_what_changed, read_models, view_memo


def plan_province(
    state: ProvinceState, previous: Previous, opts: PlanningOptions
) -> ProvinceOutcome:
    """Re-plan a province: supplies, teams, what to project and what to escalate.

    ``previous`` is what the last plan left (:func:`streams.store.assemble`; empty for the
    province's first plan). Pure and deterministic: the plan's time is :func:`plan_time`,
    ids derive from the province and the plan's sequence.
    """
    province = state.province_code
    now = plan_time(state)
    seq = int(previous.get("seq", 0)) + 1
    plan_id = f"plan-{province}-{seq}"
    events: list[OutputEvent] = []
    # supplies, and the shipments that carry them
    supplies = plan_supplies(state, previous_plan(province, previous.get("plan")), plan_id,
                             now, opts)
    plan = plan_as_dict(province, supplies.plan)
    remember_plan(province, supplies.plan, plan)
    # the province's decisions on what the national tier sends (the approval gate), and each
    # shelter's need of an item (what a decline is measured against)
    gates = read_gates(state)
    need_of = {(n.shelter_id, n.item_id): n.gross for n in supplies.needs}
    shipments, withdrawn = sync_tiers(state, plan["proposals"], now, events, gates, need_of)
    # teams (a shelter a public kitchen cooks for needs no kitchen team of its own)
    teams_before = previous.get("teams", {})
    teams = plan_teams(state, teams_before, f"dispatch-{plan_id}", now, opts,
                       frozenset(supplies.meals.served_by))
    events += team_events(teams_before, teams)
    # read models (only what changed), and what goes up to the national tier
    after = state.with_shipments(shipments)
    memo = view_memo(province)
    views = read_models(PlanViews(state, after, plan_id, now, plan, supplies.needs,
                                  supplies.meals, teams, shipments, withdrawn, opts, gates,
                                  memo))
    changed, projected = only_what_changed(views, previous.get("projected", {}), events, memo)
    return ProvinceOutcome(
        plan={"plan": plan, "teams": teams, "seq": seq, "projected": projected,
              "planned_at": now.isoformat()},
        shipments=shipments,
        entities=changed,
        escalation=escalate(state, seq, now, plan, teams, shipments, gates, need_of),
        events=events,
    )
