"""The supervisor restarts a child that died, with exponential backoff, and says so.

Children are real short-lived processes; only the supervisor's clock is stepped by hand
where the test is about the backoff sequence (waiting 30 s of real time would prove
nothing more).
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from siaga.local import ManagedProcess, spawn
from siaga.supervisor import Backoff, Supervisor, describe_exit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _starter(
    tmp_path: Path, name: str, code: str, counter: list[int] | None = None
) -> Callable[[], ManagedProcess]:
    def start() -> ManagedProcess:
        if counter is not None:
            counter.append(1)
        return spawn(name, [sys.executable, "-c", code], tmp_path / f"{name}.log")

    return start


def _wait_dead(sup: Supervisor, name: str, timeout: float = 10) -> None:
    proc = sup.process(name)
    assert proc is not None
    proc.proc.wait(timeout=timeout)


def test_backoff_doubles_up_to_the_cap() -> None:
    backoff = Backoff()
    assert [backoff.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 30, 30, 30]
    assert Backoff(initial=0.5, factor=3, cap=10).delay(3) == 4.5


def test_a_child_that_died_is_restarted_saying_which_code_log_and_when(tmp_path: Path) -> None:
    said: list[str] = []
    starts: list[int] = []
    sup = Supervisor(Backoff(initial=0.2), say=said.append)
    sup.add("worker", _starter(tmp_path, "worker", "import sys; sys.exit(3)", starts))
    _wait_dead(sup, "worker")
    first = sup.poll()
    assert len(first) == 1
    message = first[0]
    assert message.startswith("worker exited with code 3")
    assert str(tmp_path / "worker.log") in message
    assert "restarting it in 0.2 s (failure 1 in a row)" in message
    assert not sup.alive("worker")
    deadline = time.monotonic() + 5
    while len(starts) < 2 and time.monotonic() < deadline:
        sup.poll()
        time.sleep(0.02)
    assert len(starts) == 2  # started again, after the delay
    assert any(m.startswith("worker restarted (pid ") for m in said)
    assert sup.children["worker"].history == [3]
    sup.stop_all()


def test_repeated_failures_back_off_1_2_4_and_a_minute_up_resets(tmp_path: Path) -> None:
    clock = Clock()
    starts: list[int] = []
    sup = Supervisor(clock=clock)
    sup.add("api", _starter(tmp_path, "api", "import sys; sys.exit(1)", starts))
    delays = []
    for _ in range(4):
        _wait_dead(sup, "api")
        [message] = sup.poll()
        delays.append(message.split("restarting it in ")[1].split(" s")[0])
        clock.now += 0.5
        assert sup.poll() == []  # not due yet
        assert len(starts) == len(delays)
        clock.now += 30
        sup.poll()  # due: restarted
        assert len(starts) == len(delays) + 1
    assert delays == ["1", "2", "4", "8"]
    # this time it stays up for more than a minute before dying: back to 1 s
    clock.now += 61
    _wait_dead(sup, "api")
    [message] = sup.poll()
    assert "restarting it in 1 s (failure 1 in a row)" in message
    sup.stop_all()


def test_a_restart_is_not_done_before_its_delay(tmp_path: Path) -> None:
    clock = Clock()
    starts: list[int] = []
    sup = Supervisor(Backoff(initial=5), clock=clock)
    sup.add("worker", _starter(tmp_path, "worker", "raise SystemExit(2)", starts))
    _wait_dead(sup, "worker")
    sup.poll()
    clock.now += 4.9
    sup.poll()
    assert len(starts) == 1
    clock.now += 0.2
    sup.poll()
    assert len(starts) == 2
    sup.stop_all()


def test_a_killed_child_is_named_with_its_signal(tmp_path: Path) -> None:
    said: list[str] = []
    sup = Supervisor(say=said.append)
    proc = sup.add("worker", _starter(tmp_path, "worker", "import time; time.sleep(60)"))
    assert sup.poll() == []  # alive: nothing to say
    proc.proc.send_signal(signal.SIGKILL)
    proc.proc.wait(timeout=10)
    [message] = sup.poll()
    assert message.startswith("worker was killed by SIGKILL (exit code -9)")
    assert describe_exit(0) == "exited with code 0"
    sup.stop_all()


def test_a_one_shot_child_is_reported_once_and_not_restarted(tmp_path: Path) -> None:
    starts: list[int] = []
    sup = Supervisor(Backoff(initial=0))
    sup.add("replay", _starter(tmp_path, "replay", "pass", starts), restart=False)
    _wait_dead(sup, "replay")
    [message] = sup.poll()
    assert message.startswith("replay exited with code 0")
    assert "restarting" not in message
    time.sleep(0.05)
    assert sup.poll() == []
    assert len(starts) == 1


def test_a_start_that_raises_counts_as_a_failure_and_is_retried(tmp_path: Path) -> None:
    clock = Clock()
    attempts: list[int] = []
    real = _starter(tmp_path, "redis", "import sys; sys.exit(1)")

    def flaky() -> ManagedProcess:
        attempts.append(1)
        if len(attempts) == 2:
            raise OSError("port 6379 in use")
        return real()

    sup = Supervisor(clock=clock)
    sup.add("redis", flaky)
    _wait_dead(sup, "redis")
    sup.poll()
    clock.now += 1
    [message] = sup.poll()
    assert message == (
        "redis could not be restarted: port 6379 in use; trying again in 2 s (failure 2 in a row)"
    )
    clock.now += 2
    [message] = sup.poll()
    assert message.startswith("redis restarted")
    assert len(attempts) == 3
    sup.stop_all()


def test_stop_all_stops_children_and_nothing_is_restarted_after(tmp_path: Path) -> None:
    starts: list[int] = []
    sup = Supervisor(Backoff(initial=0))
    a = sup.add("a", _starter(tmp_path, "a", "import time; time.sleep(60)", starts))
    b = sup.add("b", _starter(tmp_path, "b", "import time; time.sleep(60)", starts))
    sup.stop_all(timeout=5)
    assert not a.alive() and not b.alive()
    assert sup.poll() == []
    assert len(starts) == 2


def test_names_are_unique(tmp_path: Path) -> None:
    sup = Supervisor()
    sup.add("a", _starter(tmp_path, "a", "pass"))
    with pytest.raises(ValueError, match="already supervised"):
        sup.add("a", _starter(tmp_path, "a", "pass"))
    sup.stop_all()
