"""Explanations as data: which rule decided a plan line, and the figures it used.

Pages render these in the reader's language (``Siaga.explain`` in ``api/static/common.js``
has the Indonesian and English sentences); ``text`` keeps the planner's English sentence
for logs and older clients. Input is the plain-dict form of a proposal or shortfall
(:meth:`logistics.allocation.ShipmentProposal.to_dict`, :meth:`Shortfall.to_dict`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SHIPMENT_PLANNED = "shipment_planned"
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
