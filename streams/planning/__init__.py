"""Re-planning one province: table state in, plan and projections out. Pure (no I/O).

The planner agent (``streams/planner.py``) reads a province's tables, calls
:func:`plan_province`, writes the result back and emits what changed. Everything
here is deterministic: the plan time is the newest event time in the state (not
the wall clock), ids derive from the province and the plan sequence, so
replaying the same events gives the same plans.

Tiers: the province plans from its own provincial, kabupaten and Lumbung Sosial
stores and its own TAGANA teams. What it cannot cover (shortfalls, uncovered
tasks) it reports upward; the national tier (``streams/national.py``) plans those
from the regional warehouses (``kind = regional``) and spare teams of other
provinces, and its results come back as national allocations.

One module per job:

=================  ==============================================================
``rows``           the typed rows the planner reads and writes (``TypedDict``)
``state``          the province's state, options, outcome, and the plan's clock
``stock``          stock accounting on the rows (:mod:`logistics.stock_accounting`)
``supplies``       needs, stock and the supply plan (kitchens: ``streams.kitchen_planning``)
``teams``          tasks, team assignments and the task loop
``proposals``      the plan's proposals as shipments (proposed, changed, withdrawn)
``views``          the read models, and only what changed since the last plan
``escalation``     what goes up to the national tier
``province``       :func:`plan_province`, the orchestration of these
=================  ==============================================================
"""

from streams.planning.province import plan_province
from streams.planning.rows import PlanRow, Previous, TeamsPlan
from streams.planning.state import (
    EPOCH,
    REGIONAL,
    PlanningOptions,
    ProvinceOutcome,
    ProvinceState,
    plan_time,
)
from streams.planning.stock import effective_on_hand, shipments_by_warehouse, stock_view
from streams.planning.supplies import deliveries, plan_supplies, shipment_of
from streams.planning.teams import assignment_progress, duty_hours, make_tasks, plan_teams
from streams.planning.views import LOOP_ORDER

__all__ = [
    "EPOCH", "LOOP_ORDER", "REGIONAL", "PlanRow", "PlanningOptions", "Previous",
    "ProvinceOutcome", "ProvinceState", "TeamsPlan", "assignment_progress", "deliveries",
    "duty_hours", "effective_on_hand", "make_tasks", "plan_province", "plan_supplies",
    "plan_teams", "plan_time", "shipment_of", "shipments_by_warehouse", "stock_view",
]
