"""Builders for small inline logistics instances."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import numpy as np
import pytest

from logistics import Need, ReleaseRules, StockBatch, TravelHours, Warehouse

PLAN_DATE = date(2022, 11, 22)
PLANNED_AT = datetime(2022, 11, 22, 6, 0, tzinfo=UTC)

Instance = tuple[list[Need], list[StockBatch], list[Warehouse], TravelHours, ReleaseRules]


def random_instance(seed: int, n_s: int, n_w: int, items: tuple[str, ...] = ("rice",),
                    unreachable: float = 0.0, supply_ratio: float = 0.7,
                    grid_priority: bool = False) -> Instance:
    rng = np.random.default_rng(seed)
    shelters = [f"S{j:03d}" for j in range(n_s)]
    whs = [Warehouse(f"W{i:03d}", "provincial") for i in range(n_w)]
    hours = np.round(rng.uniform(0.5, 30.0, (n_w, n_s)), 2)
    if unreachable:
        hours[rng.random((n_w, n_s)) < unreachable] = np.inf
    needs: list[Need] = []
    stock: list[StockBatch] = []
    for it in items:
        demand = rng.integers(0, 200, n_s)
        for j, s in enumerate(shelters):
            p = float(rng.integers(100, 300)) / 100 if grid_priority else 1 + float(rng.random())
            needs.append(Need(s, it, int(demand[j]), p))
        total = int(demand.sum() * supply_ratio)
        for i, w in enumerate(whs):
            q = int(rng.integers(0, max(2, 2 * total // n_w)))
            stock.append(StockBatch(w.id, it, f"B{i}-1", q // 2, date(2027, 1, 1)))
            stock.append(StockBatch(w.id, it, f"B{i}-2", q - q // 2, None))
    travel = TravelHours(tuple(w.id for w in whs), tuple(shelters), hours)
    return needs, stock, whs, travel, ReleaseRules(plan_date=PLAN_DATE)


@pytest.fixture
def make_instance() -> Callable[..., Instance]:
    return random_instance
