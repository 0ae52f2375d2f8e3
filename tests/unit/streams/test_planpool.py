"""The planning process (streams/planpool.py): a real child process, started, warmed, replaced."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import time
from typing import Any

import pytest

from streams.planning import PlanningOptions
from streams.planpool import GC_THRESHOLDS, PlanPool, PlanProcessLost


def _wait_ready(pool: PlanPool, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not pool.ready():
        assert time.monotonic() < deadline, "the planning process never got ready"
        time.sleep(0.2)


def test_plans_in_a_thread_need_no_process() -> None:
    pool = PlanPool(0)
    pool.start()
    assert pool.ready()  # nothing to wait for


def test_the_child_is_warm_has_its_own_thresholds_outlives_sigterm_is_replaced_when_killed(
) -> None:
    pool = PlanPool(1)
    try:
        assert not pool.ready()  # not before it was started
        pool.start()
        _wait_ready(pool)
        executor = pool._pool()
        child = executor.submit(os.getpid).result(timeout=60)
        assert child != os.getpid()
        assert executor.submit(gc.get_threshold).result(timeout=60) == GC_THRESHOLDS
        assert gc.get_threshold() != GC_THRESHOLDS  # the worker's own are left alone

        # a SIGTERM to the worker's process group while it stops leaves the child to it
        os.kill(child, signal.SIGTERM)
        time.sleep(0.5)
        assert executor.submit(os.getpid).result(timeout=60) == child

        os.kill(child, signal.SIGKILL)
        time.sleep(1)
        with pytest.raises(PlanProcessLost):
            asyncio.run(pool.plan("32", {}, {}, PlanningOptions()))
        _wait_ready(pool)  # a new one was started at once
        assert pool._pool().submit(os.getpid).result(timeout=60) not in (child, os.getpid())
    finally:
        pool.close()


def _forget_every_copy() -> None:
    """In the child: lose the kept rows (as a new or another child would not have them)."""
    from streams import planpool

    planpool._MIRRORS.clear()


def test_the_child_keeps_a_provinces_rows_and_is_sent_only_what_changed() -> None:
    import copy

    from streams.planpool import apply_rows, plan_slim
    from streams.store import ALL_TABLES
    from tests.unit.streams.golden_planning import Province, synthetic_events, worker_routes

    province = Province("33")
    routes = worker_routes()
    for event in synthetic_events(shelters_=40):
        province.fold(routes, event)
    rows = province.rows
    total = sum(len(t) for t in rows.values())
    opts = PlanningOptions()
    nothing = {name: set() for name in ALL_TABLES}
    pool = PlanPool(1)
    try:
        pool.start()
        _wait_ready(pool)
        first = asyncio.run(pool.plan("33", rows, {}, opts, nothing, (0,)))
        sent_first = pool.rows_sent
        assert sent_first == total  # every row the first time
        # the worker writes the plan's rows back (the child applied them to its copy)
        rows = {name: dict(table) for name, table in rows.items()}
        for name, written in [*first.writes.planner.items(), ("shipments", first.writes.shipments)]:
            apply_rows(rows[name], written)
        total = sum(len(t) for t in rows.values())

        # one shelter reports twice as many people: only its row crosses
        shelter_id, row = next(iter(rows["shelters"].items()))
        headcount = dict(row["headcount"], total=row["headcount"]["total"] * 2)
        rows = dict(rows, shelters=dict(rows["shelters"], **{shelter_id: dict(
            row, headcount=headcount)}))
        changed = dict(nothing, shelters={shelter_id})
        second = asyncio.run(pool.plan("33", rows, first.memory, opts, changed, (0,)))
        assert pool.rows_sent == sent_first + 1
        fresh = plan_slim("33", copy.deepcopy(rows), first.memory, opts)
        assert second.changes == fresh.changes and second.writes == fresh.writes
        assert second.changes != first.changes

        # a child without the copy (replaced, or another one): every row again, same plan
        pool._pool().submit(_forget_every_copy).result(timeout=60)
        again = asyncio.run(pool.plan("33", rows, first.memory, opts, nothing, (0,)))
        assert pool.rows_sent == sent_first + 1 + total
        assert again.changes == fresh.changes
        # recovery brought rows (an epoch moved): every row again
        asyncio.run(pool.plan("33", rows, first.memory, opts, nothing, (1,)))
        assert pool.rows_sent == sent_first + 1 + 2 * total
        asyncio.run(pool.plan("33", rows, first.memory, opts, nothing, (1,)))
        assert pool.rows_sent == sent_first + 1 + 2 * total  # nothing changed: nothing sent
    finally:
        pool.close()


class NationalRows:
    """The national table as :meth:`PlanPool.plan_national` reads it (one key, ``00``): its
    rows, the ids written or removed since they were last taken, and its epoch."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.changed: set[str] | None = None  # kept from the first take on, as the table does
        self.epoch = 0

    def write(self, rows: dict[str, Any]) -> None:
        for key in self.data.keys() | rows.keys():
            if self.data.get(key) != rows.get(key):
                if self.changed is not None:
                    self.changed.add(key)
        self.data = dict(rows)

    def take_changed(self, _key: str) -> set[str]:
        taken, self.changed = self.changed or set(), set()
        return taken

    def forget_changed(self, _key: str, entity_id: str) -> None:
        if self.changed is not None:
            self.changed.discard(entity_id)

    def epoch_of(self, _key: str) -> tuple[int, int]:
        return (self.epoch, 0)

    def rows(self, _key: str) -> dict[str, Any]:
        return dict(self.data)

    def get_row(self, _key: str, entity_id: str) -> Any:
        return self.data.get(entity_id)


def test_the_national_child_keeps_the_national_rows_and_is_sent_only_what_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import copy

    from streams.national import UNPLANNED
    from streams.planpool import apply_rows, national_slim
    from tests.unit.streams.test_national_mirror import escalations_of, fold

    plans = [records for records in escalations_of("synthetic", monkeypatch) if records]
    assert len(plans) >= 2
    table = NationalRows()
    pool = PlanPool(1, name="national tier")
    try:
        pool.start()
        _wait_ready(pool)
        sent = 0
        for n, records in enumerate(plans):
            rows = dict(table.data)
            fold(rows, records)
            table.write(rows)
            slim = asyncio.run(pool.plan_national(table, "00", True))
            fresh = national_slim(copy.deepcopy(table.data), True)
            assert slim.writes == fresh.writes and slim.sends == fresh.sends
            if n == 0:
                assert slim.rows_sent == len(table.data)  # every row the first time
            else:
                assert 0 < slim.rows_sent < len(table.data)  # what changed since
            sent += slim.rows_sent
            assert pool.rows_sent == sent
            # the worker writes the plan back (the child applied it to its copy already)
            rows = dict(table.data)
            apply_rows(rows, slim.writes)
            rows.pop(UNPLANNED)
            table.write(rows)
            for key in slim.writes:
                table.forget_changed("00", key)
        # recovery brought rows (the epoch moved): every row again, the same plan
        table.epoch += 1
        again = asyncio.run(pool.plan_national(table, "00", True))
        assert again.rows_sent == len(table.data)
        assert again.sends == national_slim(copy.deepcopy(table.data), True).sends
    finally:
        pool.close()
