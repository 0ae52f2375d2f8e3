"""Plans made in a process of their own, so a big province's re-plan does not starve ingest.

A re-plan of a province with thousands of shelters is seconds of pure-Python CPU. Made in a
thread, it holds the interpreter lock against everything else the worker does: folding the
next headcounts, projecting, heartbeats. The ingest of a burst then slows down by as much as
the plans take, and the cost per event grows with the province. Made in a child process
(one by default: the worker's event loop keeps one core, the plans take the other), the
ingest runs at full speed meanwhile and a burst costs its ingest plus one last plan.

The child is started with ``spawn`` (never a fork of a process with running threads and
sockets), warms the geo index and the solver once, ignores Ctrl-C and SIGTERM (the worker
stops it) and
exits on its own when the worker that started it is gone. Inputs and results cross as
pickles: the province's raw rows in, the slim result out (the record bytes, the writes, the
hashes to keep); nothing of the worker's tables or clients. A child that dies (out of
memory, killed) is replaced and the plan is retried: :class:`PlanProcessLost` is transient
for :func:`streams.plumbing.run_batch`.

The child keeps a copy of each province's rows between plans and is sent only the rows
written or removed since its last plan of that province (:meth:`EntityTable.take_changed`):
a 2,000-shelter province is some 55,000 rows, 15 MB of pickle that cost the worker 0.1 s and
the child 0.5 s to cross on every re-plan, for the few hundred rows a burst changed. The
child applies its plan's own writes to its copy, and the worker's write-back of them does
not count as a change (tens of thousands of rows after a big burst). The copy is named by
a token; whenever the worker and the child might disagree — recovery or a
standby brought rows (a table's epoch moved), a plan failed, another or a new child got the
call (:class:`MirrorMissing`) — the worker sends every row again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import itertools
import logging
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from logistics.allocation import gc_paused
from streams.planning import PlanningOptions

log = logging.getLogger(__name__)


# The planning process's garbage-collector thresholds (Python's default: 700, 10, 10).
# Measured on a 2,000-shelter re-plan: 3.1-3.7 s CPU with the default, 2.3 s with these.
GC_THRESHOLDS = (50_000, 20, 100)


class PlanProcessLost(RuntimeError):
    """The planning process died under a plan (the plan is made again in a new one)."""


class MirrorMissing(RuntimeError):
    """The child does not hold the copy of a province's rows a change set was made
    against (the worker then sends every row)."""


# Which rows changed since the child's copy, per table: (rows written, ids removed).
Delta = dict[str, tuple[dict[str, Any], list[str]]]

# In the child: each province's rows as of its last plan, with the token naming that copy.
_MIRRORS: dict[str, tuple[int, dict[str, dict[str, Any]]]] = {}
# In the national tier's child: its table's rows as of its last plan, with their token.
_NATIONAL: dict[str, tuple[int, dict[str, Any]]] = {}


@dataclass
class Slim:
    """What the child sends back: everything :func:`streams.planner.replan_province` uses."""

    changes: list[bytes]
    events: list[dict[str, Any]]
    plan_id: str
    planned_at: str
    memory: dict[str, str]  # the view hashes kept in the worker's memory
    entities: int
    writes: Any  # streams.store.ProvinceWrites
    seconds: float
    rows_sent: int = 0  # rows the worker pickled to the child for this plan (set by the worker)


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(0)  # the worker is gone: nobody will read this plan
        time.sleep(1.0)


def _init_child(parent: int) -> None:
    # The worker stops its children (and they exit on their own once it is gone): Ctrl-C
    # and a SIGTERM sent to the whole process group (`siaga run`, a supervisor) must not
    # kill one under a plan while the worker is still stopping — it took that for a crash
    # and started a new child, only to be stopped (2 s and a plan from every row, seen in
    # the benchmark).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    from logistics._flow import warm_up
    from logistics.allocation import heap_frozen
    from streams.app import _warm_geo

    _warm_geo()
    warm_up()
    # A plan allocates hundreds of thousands of small objects that reference counting frees;
    # the default thresholds ran a full collection over the whole heap (the geo index among
    # it) many times per plan: a third of a 2,000-shelter re-plan's CPU. Collect less often,
    # and leave what the warm-up built out of the collections.
    gc.freeze()
    gc.set_threshold(GC_THRESHOLDS[0], GC_THRESHOLDS[1], GC_THRESHOLDS[2])
    heap_frozen()


# In the planning process, no cyclic collection for the length of one plan. A plan's objects
# (allocations, views, explanations: hundreds of thousands) are acyclic and die by reference
# counting once its slim result is made; with the collector on, each young collection during
# the plan walked the ones alive at that moment: 0.4-0.6 s of a 2,000-shelter re-plan's ~3 s,
# measured. Paused, the collection after the plan walks only what lives on (the mirrored
# rows' updates and the result); a cycle made meanwhile is collected then. Only in the child:
# in the worker (plans in a thread) it would pause the collector for the event loop too.
# The allocation's own pause (a no-op inside this one) does the same around each solve.
collections_paused = gc_paused


def plan_slim(
    province: str, rows: dict[str, dict[str, Any]], memory: dict[str, str],
    opts: PlanningOptions,
) -> Slim:
    """In the child (or a thread): assemble, plan and slim down one province's re-plan."""
    from streams.planner import make_plan
    from streams.store import assemble_with_memory, is_memory_view

    done = make_plan(assemble_with_memory(province, rows, memory), opts)
    outcome = done.outcome
    return Slim(
        changes=done.changes,
        events=list(outcome.events),
        plan_id=outcome.plan["plan"]["plan_id"],
        planned_at=outcome.plan["planned_at"],
        memory={k: v for k, v in outcome.plan["projected"].items() if is_memory_view(k)},
        entities=len(outcome.entities),
        writes=done.writes,
        seconds=done.seconds,
    )


def plan_mirrored(
    province: str, base: int | None, token: int, rows: dict[str, dict[str, Any]] | None,
    delta: Delta | None, memory: dict[str, str], opts: PlanningOptions,
) -> Slim:
    """In the child: bring the copy of ``province``'s rows up to date — every row
    (``rows``) or the changes since the copy named ``base`` (``delta``) — plan from it, and
    keep it under ``token`` with the plan's own writes applied, as the worker writes them
    back. Raises :class:`MirrorMissing` when the copy is not ``base``. The plan never
    changes its input rows (tests/unit/streams/test_plan_mirror.py)."""
    with collections_paused():
        return _plan_mirrored(province, base, token, rows, delta, memory, opts)


def _plan_mirrored(
    province: str, base: int | None, token: int, rows: dict[str, dict[str, Any]] | None,
    delta: Delta | None, memory: dict[str, str], opts: PlanningOptions,
) -> Slim:
    held = _MIRRORS.pop(province, None)  # kept again only once the plan is made
    if rows is None:
        if held is None or held[0] != base or delta is None:
            raise MirrorMissing(f"no copy {base} of province {province}'s rows here")
        rows = held[1]
        for name, (written, removed) in delta.items():
            table = rows.setdefault(name, {})
            table.update(written)
            for entity_id in removed:
                table.pop(entity_id, None)
    slim = plan_slim(province, rows, memory, opts)
    # the plan's own writes, as the worker writes them back (streams/planner.py write_back,
    # which leaves them out of the next change set): not sent back here next time
    for name, written in slim.writes.planner.items():
        apply_rows(rows.setdefault(name, {}), written)
    apply_rows(rows.setdefault("shipments", {}), slim.writes.shipments)
    _MIRRORS[province] = (token, rows)
    return slim


@dataclass
class NationalSlim:
    """What the national tier's child sends back (streams/national.py ``handle``)."""

    writes: dict[str, Any]  # the national table's changed rows (None = remove)
    sends: list[tuple[str, dict[str, Any]]]  # the result records, by province
    provinces: int
    seconds: float
    rows_sent: int = 0


def national_slim(rows: dict[str, Any], approval_required: bool) -> NationalSlim:
    """In the child (or a thread): the national plan from the national table's rows."""
    from streams.national import plan_rows

    started = time.process_time()
    writes, sends, provinces = plan_rows(rows, approval_required)
    return NationalSlim(writes, sends, provinces, time.process_time() - started)


def national_mirrored(
    base: int | None, token: int, rows: dict[str, Any] | None,
    delta: tuple[dict[str, Any], list[str]] | None, approval_required: bool,
) -> NationalSlim:
    """In the national tier's child: like :func:`plan_mirrored`, for the one national table
    (every row, or the rows written and removed since the copy named ``base``)."""
    with collections_paused():
        return _national_mirrored(base, token, rows, delta, approval_required)


def _national_mirrored(
    base: int | None, token: int, rows: dict[str, Any] | None,
    delta: tuple[dict[str, Any], list[str]] | None, approval_required: bool,
) -> NationalSlim:
    held = _NATIONAL.pop("rows", None)
    if rows is None:
        if held is None or held[0] != base or delta is None:
            raise MirrorMissing(f"no copy {base} of the national tier's rows here")
        rows = held[1]
        written, removed = delta
        rows.update(written)
        for key in removed:
            rows.pop(key, None)
    slim = national_slim(rows, approval_required)
    apply_rows(rows, slim.writes)  # as the worker writes them back
    _NATIONAL["rows"] = (token, rows)
    return slim


def apply_rows(table: dict[str, Any], written: dict[str, Any]) -> None:
    """A plan's writes ``{id: row}`` (None = remove) applied to one table's rows."""
    for entity_id, row in written.items():
        if row is None:
            table.pop(entity_id, None)
        else:
            table[entity_id] = row


def delta_of(rows: dict[str, dict[str, Any]], changed: dict[str, set[str]]) -> Delta:
    """The change set of ``changed`` ids, read from the province's current ``rows``."""
    delta: Delta = {}
    for name, ids in changed.items():
        if not ids:
            continue
        table = rows.get(name, {})
        delta[name] = ({i: table[i] for i in ids if i in table},
                       [i for i in ids if i not in table])
    return delta


class PlanPool:
    """At most ``processes`` child processes making plans; 0 = plans in a thread."""

    def __init__(self, processes: int, name: str = "planning") -> None:
        self.processes = processes
        self.name = name
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._warm: concurrent.futures.Future[int] | None = None
        # per province: the tables' epochs and the token of the copy the child holds
        self._mirrors: dict[str, tuple[Any, int]] = {}
        self._tokens = itertools.count(1)
        self.rows_sent = 0  # rows pickled to the child (every row, or what changed)

    def _pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._executor is None:
            self._executor = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_child,
                initargs=(os.getpid(),),
            )
        return self._executor

    def start(self) -> None:
        """Start the child(ren) now, so the first plan does not wait for the imports; the
        worker says it is ready only once they are warm (:meth:`ready`)."""
        if self.processes:
            started = time.monotonic()
            self._warm = self._pool().submit(os.getpid)

            def said(warm: concurrent.futures.Future[int]) -> None:
                if warm.cancelled() or warm.exception() is not None:
                    log.error("the %s process did not start: %s", self.name,
                              "cancelled" if warm.cancelled() else warm.exception())
                else:
                    log.info("%s process ready (pid %d) in %.1f s", self.name, warm.result(),
                             time.monotonic() - started)

            self._warm.add_done_callback(said)

    def ready(self) -> bool:
        """Plans can be made now without waiting for a process to start."""
        if not self.processes:
            return True
        warm = self._warm
        return warm is not None and warm.done() and warm.exception() is None

    async def plan(
        self, province: str, rows: dict[str, dict[str, Any]], memory: dict[str, str],
        opts: PlanningOptions, changed: dict[str, set[str]] | None = None,
        epochs: Any = None,
    ) -> Slim:
        """Plan ``province`` from its current ``rows``. ``changed`` — the ids written or
        removed since the previous call for this province, taken with ``rows`` at the same
        moment — and ``epochs`` (the tables' epochs) let the child plan from its copy with
        only those rows sent; without them every row is sent."""
        if not self.processes:
            return await asyncio.to_thread(plan_slim, province, rows, memory, opts)
        held = self._mirrors.pop(province, None)  # kept again only once the plan is made
        token = next(self._tokens)
        if held is not None and changed is not None and held[0] == epochs:
            delta = delta_of(rows, changed)
            try:
                slim: Slim = await self._run(plan_mirrored, province, held[1], token, None,
                                             delta, memory, opts)
                self._sent(slim, sum(len(w) + len(r) for w, r in delta.values()))
                self._mirrors[province] = (epochs, token)
                return slim
            except MirrorMissing as exc:
                log.info("%s: sending every row", exc)
        slim = await self._run(plan_mirrored, province, None, token, rows, None, memory,
                               opts)
        self._sent(slim, sum(len(t) for t in rows.values()))
        if changed is not None:
            self._mirrors[province] = (epochs, token)
        return slim

    async def _run(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` in the child; a child that died is replaced (PlanProcessLost)."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool(), fn, *args)
        except concurrent.futures.process.BrokenProcessPool as exc:
            log.warning("the %s process died (%s): starting a new one", self.name, exc)
            self.close()
            self.start()
            raise PlanProcessLost(f"the {self.name} process died: {exc}") from exc

    def _sent(self, slim: Slim | NationalSlim, rows: int) -> None:
        slim.rows_sent = rows
        self.rows_sent += rows

    async def plan_national(
        self, table: Any, key: str, approval_required: bool,
    ) -> NationalSlim:
        """The national plan from the national ``table``'s rows under ``key``
        (streams/national.py). In a process, the child keeps the rows between plans and is
        sent only those written or removed since (:meth:`EntityTable.take_changed`), except
        after a recovery, a standby's rows or a failed plan (then every row)."""
        changed = table.take_changed(key)  # taken with the rows: no await in between
        epochs = table.epoch_of(key)
        if not self.processes:
            return await asyncio.to_thread(national_slim, dict(table.rows(key)),
                                           approval_required)
        held = self._mirrors.pop(key, None)
        token = next(self._tokens)
        if held is not None and held[0] == epochs:
            written: dict[str, Any] = {}
            removed: list[str] = []
            for entity_id in changed:
                row = table.get_row(key, entity_id)
                if row is None:
                    removed.append(entity_id)
                else:
                    written[entity_id] = row
            try:
                slim: NationalSlim = await self._run(national_mirrored, held[1], token, None,
                                                     (written, removed), approval_required)
                self._sent(slim, len(written) + len(removed))
                self._mirrors[key] = (epochs, token)
                return slim
            except MirrorMissing as exc:
                log.info("%s: sending every row", exc)
        rows = dict(table.rows(key))
        slim = await self._run(national_mirrored, None, token, rows, None, approval_required)
        self._sent(slim, len(rows))
        self._mirrors[key] = (epochs, token)
        return slim

    def forget(self, province: str) -> None:
        """The child's copy of ``province`` may differ from the tables (a plan's writes
        were not all written back): the next plan sends every row."""
        self._mirrors.pop(province, None)

    def close(self) -> None:
        self._mirrors.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
