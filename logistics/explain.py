"""Explanations as data: which rule decided a plan line, and the figures it used.

Pages render these in the reader's language (``Siaga.explain`` in ``api/static/common.js``
has the Indonesian and English sentences); ``text`` keeps the planner's English sentence
for logs and older clients. Input is the plain-dict form of a proposal or shortfall
(:meth:`logistics.allocation.ShipmentProposal.to_dict`, :meth:`Shortfall.to_dict`), the
figures of a team's assignment (:func:`explain_assignment`, used by
:func:`logistics.dispatch.dispatch`), or a shelter's need (:func:`explain_need`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (logistics.needs does not import this module; only types are needed)
    from logistics.needs import Need, Profile

SHIPMENT_PLANNED = "shipment_planned"
TEAM_ASSIGNED = "team_assigned"
NEED_FROM_HEADCOUNT = "need_from_headcount"
SHORTFALL_RULES = (
    "no_eligible_stock_reachable",
    "reachable_stock_shared_to_least_deprivation",
    "stock_used_for_higher_priority_or_cheaper_needs",
)


def _need_figures(e: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "need": e.get("need_quantity"),
        "headcount": e.get("headcount"),
        "days": e.get("days"),
        "on_hand": e.get("on_hand"),
        "in_transit": e.get("in_transit"),
        "priority": e.get("priority"),
        "vulnerable_share": e.get("vulnerable_share"),
        "severity": e.get("severity"),
        "profile_id": e.get("profile_id"),
    }


def _tradeoff(e: Mapping[str, Any]) -> dict[str, Any] | None:
    t = e.get("tradeoff")
    if not isinstance(t, Mapping):
        return None
    return {"share_covered": t.get("share_covered"),
            "alternative_warehouse_id": t.get("alternative_warehouse_id"),
            "alternative_hours": t.get("alternative_hours")}


def explain_proposal(proposal: Mapping[str, Any]) -> dict[str, Any]:
    """``{"rule", "figures", "text"}`` of a planned shipment: how much of which need it
    covers, from which batches, how far away, at what priority."""
    e: Mapping[str, Any] = proposal.get("explanation") or {}
    figures = {
        "quantity": proposal.get("quantity"),
        "unit": proposal.get("unit"),
        "item": proposal.get("item_id"),
        "shelter_id": proposal.get("shelter_id"),
        "warehouse_id": proposal.get("warehouse_id"),
        "travel_hours": proposal.get("travel_hours"),
        "batches": [
            {"batch_id": b.get("batch_id"), "quantity": b.get("quantity"),
             "expires_on": b.get("expiry", b.get("expires_on"))}
            for b in proposal.get("batches") or ()
        ],
        **_need_figures(e),
        "tradeoff": _tradeoff(e),
    }
    return {"rule": SHIPMENT_PLANNED, "figures": figures, "text": proposal.get("summary", "")}


def explain_shortfall(shortfall: Mapping[str, Any]) -> dict[str, Any]:
    """``{"rule", "figures", "text"}`` of a shortfall: the rule is why it is short (no
    eligible stock within reach, stock shared for least deprivation, or stock used for
    higher-priority or cheaper needs); blocked stock names the rule that held it back."""
    e: Mapping[str, Any] = shortfall.get("explanation") or {}
    rule = str(shortfall.get("reason") or "")
    if rule not in SHORTFALL_RULES:
        rule = SHORTFALL_RULES[0] if not e.get("eligible_reachable_stock") else SHORTFALL_RULES[2]
    figures = {
        "missing": shortfall.get("missing"),
        "covered": shortfall.get("covered"),
        "unit": shortfall.get("unit"),
        "item": shortfall.get("item_id"),
        "shelter_id": shortfall.get("shelter_id"),
        "eligible_reachable_stock": e.get("eligible_reachable_stock"),
        "blocked": {k: v for k, v in sorted((e.get("blocked_stock") or {}).items()) if v},
        **_need_figures(e),
        "tradeoff": _tradeoff(e),
    }
    return {"rule": rule, "figures": figures, "text": shortfall.get("summary", "")}


def explain_assignment(
    *,
    team_id: str,
    rank: str,
    kabupaten_code: str,
    task_id: str,
    task_kind: str,
    target_id: str,
    travel_hours: float,
    hours_on_duty: float,
    task_hours: float,
    fatigue_limit_hours: float,
    tier: str,
    on_site_target_hours: float,
) -> dict[str, Any]:
    """``{"rule": "team_assigned", "figures", "text"}`` of a team sent to a task: how far
    (travel hours, and whether within the on-site target), how long it has been on duty, how
    long the task takes, the fatigue limit these stay within, and the mobilisation tier."""
    figures = {
        "team_id": team_id,
        "rank": rank,
        "kabupaten_code": kabupaten_code,
        "task_id": task_id,
        "task_kind": task_kind,
        "target_id": target_id,
        "travel_hours": round(travel_hours, 2),
        "within_target": travel_hours <= on_site_target_hours,
        "on_site_target_hours": on_site_target_hours,
        "hours_on_duty": round(hours_on_duty, 2),
        "task_hours": task_hours,
        "fatigue_limit_hours": fatigue_limit_hours,
        "tier": tier,
    }
    text = (f"team {team_id} ({rank}, kab {kabupaten_code}) to {task_kind} {task_id} at "
            f"{target_id}: {travel_hours:.1f} h travel, {hours_on_duty:.1f} h on duty + "
            f"{task_hours:.1f} h task <= {fatigue_limit_hours:g} h limit; {tier} tier")
    return {"rule": TEAM_ASSIGNED, "figures": figures, "text": text}


def need_sources(profile: Profile) -> dict[tuple[str, str], bool]:
    """Whether each (item, group) rate of a profile is sourced (True) or an assumption or
    derivation (False): what :func:`explain_need` marks each line with."""
    return {(r.item, r.group): r.sourced for r in profile.rates}


def explain_need(
    need: Need, unit: str | None = None, profile: Profile | None = None,
    sourced: Mapping[tuple[str, str], bool] | None = None,
) -> dict[str, Any]:
    """``{"rule": "need_from_headcount", "figures"}`` of a shelter's need of an item: each
    line of it (``lines``: the people of a group × the profile's rate, × ``days`` of cover
    for a ``person_day`` rate, once for a ``person_once`` one, = ``amount``; with the rate's
    ``source`` and whether it is ``sourced`` or an assumption), the need in all (``need``;
    whole units ``quantity`` still to cover after ``on_hand`` and ``in_transit``), and the
    profile (``profile_id``: pages name it). ``unit``: the item's catalogue unit;
    ``sourced``: from :func:`need_sources` (computed once per profile).

    No English sentence (``text``) like the other explanations: a shelter's view holds one
    per item, every view is hashed on every plan and the dashboard loads every shelter's at
    once — the lines say it all.
    """
    marks = sourced if sourced is not None else (need_sources(profile) if profile else {})
    return {"rule": NEED_FROM_HEADCOUNT, "figures": {
        "item": need.item_id,
        "unit": unit,
        "need": round(need.gross, 3),
        "quantity": need.quantity,
        "days": need.days,
        "on_hand": need.on_hand,
        "in_transit": need.in_transit,
        "lines": [{"group": ln.group, "people": ln.people, "rate": ln.rate, "per": ln.per,
                   "amount": round(ln.amount, 3),
                   "sourced": marks.get((need.item_id, ln.group), False), "source": ln.source}
                  for ln in need.lines],
        "profile_id": need.profile_id,
    }}
