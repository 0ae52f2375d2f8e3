"""Is the worker's event loop standing still? A probe that measures it, all the time.

Every agent, the consumer's heartbeats and the readiness reports share one event loop. A
handler that keeps it for long (a projector batch of 20,000 changes decoded and packed in one
go, a plan's rows written back at once) delays everything else: a report's quick view waits
behind it, and a loop still for longer than the session timeout sets off a rebalance. Issue 10
asks that no handler hold the loop for more than about 100 ms.

:class:`LoopWatch` sleeps :data:`PROBE_EVERY` seconds over and over and measures how late it
wakes: the lateness is how long something else held the loop. Each one goes to the
``siaga_event_loop_lag_seconds`` histogram; a stall of :data:`STALL_SECONDS` or more is also
logged (``event loop stalled …``), so a worker's log says when and how long, and the
benchmarks count them (``bench/pipeline.py``). A watchdog thread looks at the loop's thread
while a stall lasts and the log line names where it stood (Siaga's own innermost frames):
what held the loop, not only that something did.

**The garbage collector held it most.** A worker keeps its provinces' rows in memory: about a
million tracked objects for one 2,000-shelter province, ten times that at 20,000 shelters. A
full collection walks all of them (0.84 s for a million here), and Python runs one each time
the heap has grown by a quarter — in the middle of whatever handler allocates next (the stalls
logged "in" an orjson parse or a changelog write were these). So the watch also times full
collections, and right after one that took :data:`FREEZE_AFTER_GC` or longer it moves what
survived it out of later full collections (``gc.freeze()``): those objects were just found
alive, so nothing collectable is frozen (only what a cycle makes garbage later would be, and
reference counting still frees every row, which has no cycles). Each object is then walked by
one slow collection at most, and later ones walk only what came after it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading
import time
from types import FrameType
from typing import Any

from mode import Service

log = logging.getLogger(__name__)

PROBE_EVERY = 0.02
#: A stall this long or longer is logged (the issue's "about 100 ms").
STALL_SECONDS = 0.1
#: A full collection this long is followed by ``gc.freeze()`` (see above).
FREEZE_AFTER_GC = 0.05


class LoopWatch:
    """The lateness of a timer on this loop, kept as a running worst and count of stalls."""

    def __init__(self, every: float = PROBE_EVERY, stall: float = STALL_SECONDS,
                 clock: Any = time.monotonic, freeze_after: float = FREEZE_AFTER_GC) -> None:
        self.every = every
        self.freeze_after = freeze_after
        self.stall = stall
        self.clock = clock
        self.worst = 0.0
        self.stalls = 0
        self.probes = 0
        self._beat = clock()  # when the probe last woke
        self._loop_thread: int | None = None
        self._where: str | None = None  # where the loop stood during the stall under way
        self.full_collections = 0
        self.full_collection_seconds = 0.0  # in all
        self.freezes = 0
        self._gc_started: float | None = None
        self._gc_since = 0.0  # full collections' seconds since the probe last woke
        self._freeze = False

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        """A ``gc.callbacks`` hook: time the full collections."""
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        if self._gc_started is None:
            return
        took = time.perf_counter() - self._gc_started
        self._gc_started = None
        self.full_collections += 1
        self.full_collection_seconds += took
        self._gc_since += took
        if took >= self.freeze_after:
            self._freeze = True

    def settle_heap(self) -> None:
        """After a slow full collection: keep its survivors out of the next ones."""
        if self._freeze:
            from logistics.allocation import heap_frozen

            self._freeze = False
            gc.freeze()
            heap_frozen()  # the allocation (plans in a thread) must not undo it
            self.freezes += 1

    def observe(self, late: float) -> None:
        """One probe woke ``late`` seconds after it was due."""
        from siaga.metrics import LOOP_LAG

        late = max(0.0, late)
        self.probes += 1
        LOOP_LAG.observe(late)
        self.worst = max(self.worst, late)
        where, self._where = self._where, None
        collecting, self._gc_since = self._gc_since, 0.0
        if late >= self.stall:
            self.stalls += 1
            log.info("event loop stalled %.3f s (stall %d; worst %.3f s) in %s; full garbage "
                     "collections %.3f s of it", late, self.stalls, self.worst, where or "?",
                     collecting)
        self.settle_heap()

    async def run(self) -> None:
        """Probe until cancelled."""
        self._loop_thread = threading.get_ident()
        while True:
            due = self.clock() + self.every
            self._beat = self.clock()
            await asyncio.sleep(self.every)
            self.observe(self.clock() - due)

    def look(self) -> None:
        """The watchdog's step: when the probe is overdue by a stall, note where the loop's
        thread stands (once per stall)."""
        if self._loop_thread is None or self._where is not None:
            return
        if self.clock() - self._beat - self.every < self.stall:
            return
        frame = sys._current_frames().get(self._loop_thread)  # noqa: SLF001 - a diagnostic
        if frame is not None:
            self._where = where(frame)

    def watchdog(self, stop: threading.Event) -> None:
        """Look every probe interval until ``stop`` is set (runs in a daemon thread)."""
        while not stop.wait(self.every):
            self.look()


OWN = ("/streams/", "/siaga/", "/logistics/", "/geo/")


def where(frame: FrameType | None, depth: int = 5) -> str:
    """The innermost ``depth`` frames of Siaga's own code on ``frame``'s stack, innermost
    first (``module.py:function:line``), led by the innermost frame when it is a library's."""
    own: list[str] = []
    innermost = None
    while frame is not None:
        code = frame.f_code
        name = f"{code.co_filename.rsplit('/', 1)[-1]}:{code.co_name}:{frame.f_lineno}"
        if innermost is None and "looplag" not in code.co_filename:
            innermost = name  # (a collection's callback is not where the loop stood)
        if any(part in code.co_filename for part in OWN) and "looplag" not in code.co_filename:
            own.append(name)
            if len(own) == depth:
                break
        frame = frame.f_back
    path = " < ".join(own)
    if innermost is not None and (not own or innermost != own[0]):
        path = f"{innermost} < {path}" if path else innermost
    return path or "?"


class Probe(Service):
    """The probe and its watchdog as a service of the worker's app, started with the app's
    own services — the consumer, the tables — and so before the tables' recovery, which
    faust's tasks (``@app.task``) wait for. A restarted worker's recovery of a big province
    (minutes at 20,000 shelters) is then watched too."""

    def __init__(self, watch: LoopWatch, **kwargs: Any) -> None:
        self.watch = watch
        self._stop_watchdog = threading.Event()
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        if self.watch.on_gc not in gc.callbacks:
            gc.callbacks.append(self.watch.on_gc)
        self._stop_watchdog.clear()
        threading.Thread(target=self.watch.watchdog, args=(self._stop_watchdog,),
                         name="siaga-loop-watchdog", daemon=True).start()

    @Service.task
    async def _probe(self) -> None:
        await self.watch.run()

    async def on_stop(self) -> None:
        self._stop_watchdog.set()
        if self.watch.on_gc in gc.callbacks:
            gc.callbacks.remove(self.watch.on_gc)


def register(ctx: Any) -> None:
    """Start the probe with the worker's app, before its recovery (``ctx.loop_watch``: the
    readiness reports carry its stall count and worst stall)."""
    watch = ctx.loop_watch = LoopWatch()
    ctx.app.add_dependency(Probe(watch))
