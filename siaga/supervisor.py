"""Keep child processes running: restart one that died, with exponential backoff.

:class:`Supervisor` owns named children, each made by a start function that returns a
:class:`~siaga.local.ManagedProcess`. :meth:`Supervisor.poll` (call it every fraction of a
second) notices a child that exited, says which one, with what exit code, where its log is
and when it will be restarted, and restarts it when that time comes. The delay doubles with
each failure in a row (1, 2, 4 … capped at 30 s by default) and starts again from the
beginning once the child has stayed up for a minute. A start function that raises counts as
another failure. Children added with ``restart=False`` (a one-shot replay) are reported
when they end and left alone.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from siaga.local import ManagedProcess


@dataclass(frozen=True)
class Backoff:
    """Seconds to wait before restart number ``failures`` (1 = the first in a row)."""

    initial: float = 1.0
    factor: float = 2.0
    cap: float = 30.0
    #: a child that stayed up this long before dying starts the sequence again
    reset_after: float = 60.0

    def delay(self, failures: int) -> float:
        if failures < 1:
            return 0.0
        return float(min(self.cap, self.initial * self.factor ** (failures - 1)))


def describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "is still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name} (exit code {returncode})"
    return f"exited with code {returncode}"


@dataclass
class Child:
    name: str
    start_fn: Callable[[], ManagedProcess]
    restart: bool = True
    process: ManagedProcess | None = None
    started_at: float = 0.0
    failures: int = 0  # in a row
    restarts: int = 0
    restart_at: float | None = None  # when a restart is due (monotonic), if one is
    finished: bool = False  # a one-shot child that ended (or a child that is given up)
    history: list[int | None] = field(default_factory=list)  # exit codes seen


class Supervisor:
    """Named children kept running; see the module docstring."""

    def __init__(
        self,
        backoff: Backoff | None = None,
        say: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backoff = backoff or Backoff()
        self.say = say or (lambda message: None)
        self.clock = clock
        self.children: dict[str, Child] = {}
        self._order: list[str] = []

    def add(
        self, name: str, start_fn: Callable[[], ManagedProcess], *, restart: bool = True
    ) -> ManagedProcess:
        """Start ``name`` now with ``start_fn`` and supervise it; raises what it raises."""
        if name in self.children:
            raise ValueError(f"a child named {name!r} is already supervised")
        process = start_fn()
        self.children[name] = Child(
            name, start_fn, restart=restart, process=process, started_at=self.clock()
        )
        self._order.append(name)
        return process

    def process(self, name: str) -> ManagedProcess | None:
        return self.children[name].process

    def poll(self) -> list[str]:
        """Notice children that died, restart those that are due; returns what was said."""
        said: list[str] = []

        def tell(message: str) -> None:
            said.append(message)
            self.say(message)

        now = self.clock()
        for name in self._order:
            child = self.children[name]
            if child.finished:
                continue
            proc = child.process
            if proc is not None and child.restart_at is None and not proc.alive():
                code = proc.proc.returncode
                child.history.append(code)
                uptime = now - child.started_at
                log = f" (log: {proc.log_path})" if proc.log_path else ""
                proc.stop(timeout=2)  # reap what it left in its process group
                if not child.restart:
                    child.finished = True
                    tell(f"{name} {describe_exit(code)} after {uptime:.0f} s{log}")
                    continue
                child.failures = 1 if uptime >= self.backoff.reset_after else child.failures + 1
                delay = self.backoff.delay(child.failures)
                child.restart_at = now + delay
                tell(
                    f"{name} {describe_exit(code)} after {uptime:.0f} s{log}; "
                    f"restarting it in {delay:g} s (failure {child.failures} in a row)"
                )
            if child.restart_at is not None and now >= child.restart_at:
                self._restart(child, tell)
        return said

    def _restart(self, child: Child, tell: Callable[[str], None]) -> None:
        child.restart_at = None
        child.restarts += 1
        try:
            child.process = child.start_fn()
        except Exception as exc:  # noqa: BLE001 - a failed start is one more failure
            child.process = None
            child.failures += 1
            delay = self.backoff.delay(child.failures)
            child.restart_at = self.clock() + delay
            tell(
                f"{child.name} could not be restarted: {exc}; trying again in {delay:g} s "
                f"(failure {child.failures} in a row)"
            )
            return
        child.started_at = self.clock()
        tell(f"{child.name} restarted (pid {child.process.pid}, restart {child.restarts})")

    def alive(self, name: str) -> bool:
        proc = self.children[name].process
        return proc is not None and proc.alive()

    def stop_all(self, timeout: float = 10.0) -> None:
        """Stop every child, newest first; none is restarted afterwards."""
        for name in reversed(self._order):
            child = self.children[name]
            child.finished = True
            child.restart_at = None
            if child.process is not None:
                child.process.stop(timeout=timeout)
