"""Siaga logistics core: needs, optimal allocation, re-planning, dispatch, shipment lifecycle.

Pure and deterministic: plain data in, plain data out, no I/O beyond the packaged data files.
"""

from logistics._flow import warm_up
from logistics.allocation import (
    BatchPick,
    Explanation,
    ItemStats,
    Plan,
    ShipmentProposal,
    Shortfall,
    allocate,
)
from logistics.catalogue import Catalogue, Item, default_catalogue
from logistics.dispatch import (
    Assignment,
    DispatchPlan,
    Task,
    Team,
    TeamTravelHours,
    UncoveredTask,
    dispatch,
)
from logistics.errors import (
    InvalidInput,
    InvalidShipmentTransition,
    LogisticsError,
    SolverError,
    UnknownItem,
    UnknownProfile,
    UnknownShelter,
    UnknownWarehouse,
)
from logistics.needs import (
    Need,
    PriorityWeights,
    Profile,
    ShelterHeadcount,
    available_profiles,
    compute_needs,
    load_profile,
    priority,
)
from logistics.replan import PlanDiff, Replan, replan
from logistics.shipment import Shipment, ShipmentEvent
from logistics.stock import ReleaseRules, StockBatch, TravelHours, Warehouse

__all__ = [
    "Assignment", "BatchPick", "Catalogue", "DispatchPlan", "Explanation", "InvalidInput",
    "InvalidShipmentTransition", "Item", "ItemStats", "LogisticsError", "Need", "Plan",
    "PlanDiff", "PriorityWeights", "Profile", "ReleaseRules", "Replan", "ShelterHeadcount",
    "Shipment", "ShipmentEvent", "ShipmentProposal", "Shortfall", "SolverError", "StockBatch",
    "Task", "Team", "TeamTravelHours", "TravelHours", "UncoveredTask", "UnknownItem",
    "UnknownProfile", "UnknownShelter", "UnknownWarehouse", "Warehouse", "allocate",
    "available_profiles", "compute_needs", "default_catalogue", "dispatch", "load_profile",
    "priority", "replan", "warm_up",
]
