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
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)

PROBE_EVERY = 0.02
#: A stall this long or longer is logged (the issue's "about 100 ms").
STALL_SECONDS = 0.1


class LoopWatch:
    """The lateness of a timer on this loop, kept as a running worst and count of stalls."""

    def __init__(self, every: float = PROBE_EVERY, stall: float = STALL_SECONDS,
                 clock: Any = time.monotonic) -> None:
        self.every = every
        self.stall = stall
        self.clock = clock
        self.worst = 0.0
        self.stalls = 0
        self.probes = 0
        self._beat = clock()  # when the probe last woke
        self._loop_thread: int | None = None
        self._where: str | None = None  # where the loop stood during the stall under way

    def observe(self, late: float) -> None:
        """One probe woke ``late`` seconds after it was due."""
        from siaga.metrics import LOOP_LAG

        late = max(0.0, late)
        self.probes += 1
        LOOP_LAG.observe(late)
        self.worst = max(self.worst, late)
        where, self._where = self._where, None
        if late >= self.stall:
            self.stalls += 1
            log.info("event loop stalled %.3f s (stall %d; worst %.3f s) in %s", late,
                     self.stalls, self.worst, where or "?")

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


def where(frame: FrameType | None, depth: int = 3) -> str:
    """The innermost ``depth`` frames of Siaga's own code on ``frame``'s stack, innermost
    first (``module.py:function:line``), led by the innermost frame when it is a library's."""
    own: list[str] = []
    innermost = None
    while frame is not None:
        code = frame.f_code
        name = f"{code.co_filename.rsplit('/', 1)[-1]}:{code.co_name}:{frame.f_lineno}"
        if innermost is None:
            innermost = name
        if any(part in code.co_filename for part in OWN) and "looplag" not in code.co_filename:
            own.append(name)
            if len(own) == depth:
                break
        frame = frame.f_back
    path = " < ".join(own)
    if innermost is not None and (not own or innermost != own[0]):
        path = f"{innermost} < {path}" if path else innermost
    return path or "?"


def register(ctx: Any) -> None:
    """Start the probe with the worker (``ctx.loop_watch``)."""
    watch = ctx.loop_watch = LoopWatch()
    stop = threading.Event()

    @ctx.app.task
    async def watch_loop() -> None:
        threading.Thread(target=watch.watchdog, args=(stop,), name="siaga-loop-watchdog",
                         daemon=True).start()
        try:
            await watch.run()
        finally:
            stop.set()
