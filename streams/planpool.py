"""Plans made in a process of their own, so a big province's re-plan does not starve ingest.

A re-plan of a province with thousands of shelters is seconds of pure-Python CPU. Made in a
thread, it holds the interpreter lock against everything else the worker does: folding the
next headcounts, projecting, heartbeats. The ingest of a burst then slows down by as much as
the plans take, and the cost per event grows with the province. Made in a child process
(one by default: the worker's event loop keeps one core, the plans take the other), the
ingest runs at full speed meanwhile and a burst costs its ingest plus one last plan.

The child is started with ``spawn`` (never a fork of a process with running threads and
sockets), warms the geo index and the solver once, ignores Ctrl-C (the worker stops it) and
exits on its own when the worker that started it is gone. Inputs and results cross as
pickles: the province's raw rows in, the slim result out (the record bytes, the writes, the
hashes to keep); nothing of the worker's tables or clients. A child that dies (out of
memory, killed) is replaced and the plan is retried: :class:`PlanProcessLost` is transient
for :func:`streams.plumbing.run_batch`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from streams.planning import PlanningOptions

log = logging.getLogger(__name__)


# The planning process's garbage-collector thresholds (Python's default: 700, 10, 10).
# Measured on a 2,000-shelter re-plan: 3.1-3.7 s CPU with the default, 2.3 s with these.
GC_THRESHOLDS = (50_000, 20, 100)


class PlanProcessLost(RuntimeError):
    """The planning process died under a plan (the plan is made again in a new one)."""


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


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(0)  # the worker is gone: nobody will read this plan
        time.sleep(1.0)


def _init_child(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    from logistics._flow import warm_up
    from streams.app import _warm_geo

    _warm_geo()
    warm_up()
    # A plan allocates hundreds of thousands of small objects that reference counting frees;
    # the default thresholds ran a full collection over the whole heap (the geo index among
    # it) many times per plan: a third of a 2,000-shelter re-plan's CPU. Collect less often,
    # and leave what the warm-up built out of the collections.
    gc.freeze()
    gc.set_threshold(GC_THRESHOLDS[0], GC_THRESHOLDS[1], GC_THRESHOLDS[2])


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


class PlanPool:
    """At most ``processes`` child processes making plans; 0 = plans in a thread."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._warm: concurrent.futures.Future[int] | None = None

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
                    log.error("the planning process did not start: %s",
                              "cancelled" if warm.cancelled() else warm.exception())
                else:
                    log.info("planning process ready (pid %d) in %.1f s", warm.result(),
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
        opts: PlanningOptions,
    ) -> Slim:
        if not self.processes:
            return await asyncio.to_thread(plan_slim, province, rows, memory, opts)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._pool(), plan_slim, province, rows, memory, opts)
        except concurrent.futures.process.BrokenProcessPool as exc:
            log.warning("the planning process died (%s): starting a new one", exc)
            self.close()
            self.start()
            raise PlanProcessLost(f"the planning process died: {exc}") from exc

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
