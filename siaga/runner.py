"""`siaga run`: the whole system on one machine, kept up, and a clean stop.

Starts (unless configured to use existing ones) a local broker and Redis, creates
the topics, then the stream worker and the API as child processes, and says "Siaga
is running" only once ``/readyz`` answers 200 (the worker holds its partitions and has
caught up). A child that dies is restarted with backoff (see :mod:`siaga.supervisor`)
instead of stopping the system. Ctrl-C or SIGTERM stops every process it started,
newest first.

The local broker is Apache Kafka (:mod:`siaga.apache_kafka`, its log under
``<data dir>/kafka``) whenever Java >= 17 and its jars can be had, and the worker then
runs the production profile; otherwise Tansu, which keeps everything in memory (the
worker runs the local profile). ``--broker kafka|tansu`` chooses. On Apache Kafka, with
Redis's append-only file under ``<data dir>/redis``, the same ``siaga run`` on the same
data dir after a power cut finds everything again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from siaga.kafka import ensure_topics, wait_for_broker
from siaga.local import ManagedProcess, free_port, spawn, start_broker, start_redis
from siaga.settings import Settings
from siaga.supervisor import Supervisor

log = logging.getLogger(__name__)

#: How long `siaga run` waits for /readyz before giving up, and how often it says why.
READY_TIMEOUT = 180.0
PROGRESS_EVERY = 10.0


def _say(message: str) -> None:
    sys.stderr.write(f"[siaga] {message}\n")
    sys.stderr.flush()


class _Stop(Exception):
    pass


class _Signals:
    """SIGINT/SIGTERM stop `siaga run`, but never in the middle of starting a process: a
    broker whose start was interrupted would be left running with nobody to stop it. Inside
    :meth:`deferred` the stop waits until the process is started and supervised."""

    def __init__(self) -> None:
        self.depth = 0
        self.pending = False

    def handler(self, signum: int, _frame: object) -> None:
        if self.depth:
            if not self.pending:
                _say("stopping as soon as the process being started is up…")
            self.pending = True
            return
        raise _Stop()

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            if not self.depth and self.pending:
                raise _Stop()


#: heap of the local Apache Kafka broker (2-core, 24 GB machines; idle RSS ~250 MB)
KAFKA_HEAP = "512m"

TANSU_WARNING = (
    "WARNING: the broker is Tansu, which keeps everything in memory: NOTHING will be kept "
    "across a restart (incidents, shelters, stock, shipments and plans are lost when this "
    "command stops or the machine loses power). For a durable local run use Apache Kafka: "
    "`siaga run --broker kafka` (needs Java >= 17 and Maven; `python3 dev.py setup` installs them)."
)


def choose_broker(wanted: str | None) -> str:
    """``kafka`` or ``tansu``: ``wanted`` when given (``kafka`` must be able to run here),
    else Apache Kafka when :func:`siaga.apache_kafka.kafka_available`, else Tansu."""
    from siaga.apache_kafka import kafka_available

    if wanted not in (None, "kafka", "tansu"):
        raise ValueError(f"unknown broker {wanted!r}: kafka or tansu")
    if wanted == "tansu":
        return "tansu"
    reason = kafka_available()
    if reason is None:
        return "kafka"
    if wanted == "kafka":
        raise RuntimeError(f"--broker kafka: Apache Kafka cannot run here: {reason}")
    _say(f"Apache Kafka cannot run here ({reason}); falling back to Tansu")
    return "tansu"


def _readyz(url: str) -> tuple[int | None, dict[str, Any] | None]:
    """(HTTP status, JSON body) of /readyz; (None, None) when the API does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"null")
        except ValueError:
            body = None
        return exc.code, body
    except (OSError, ValueError):
        return None, None


def waiting_for(body: dict[str, Any] | None) -> str:
    """What a /readyz body says is not ready yet, in words."""
    if not isinstance(body, dict):
        return "the API to answer"
    missing = []
    if not (body.get("broker") or {}).get("connected"):
        missing.append("the broker")
    if not (body.get("redis") or {}).get("connected"):
        missing.append("Redis")
    worker = body.get("worker") or {}
    if not worker.get("ready"):
        missing.append(
            f"the stream worker: {worker.get('waiting_for') or worker.get('error') or 'not ready'}"
        )
    return "; ".join(missing) or "the API"


def wait_ready(
    url: str,
    supervisor: Supervisor,
    timeout: float = READY_TIMEOUT,
    every: float = PROGRESS_EVERY,
    guard: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext,
) -> float:
    """Poll ``url`` (/readyz) until it answers 200, keeping the children up meanwhile and
    saying every ``every`` seconds what it is waiting for; returns the seconds it took."""
    started = time.monotonic()
    next_progress = started + every
    body: dict[str, Any] | None = None
    while (elapsed := time.monotonic() - started) < timeout:
        with guard():
            supervisor.poll()
        status, body = _readyz(url)
        if status == 200:
            return elapsed
        if time.monotonic() >= next_progress:
            next_progress += every
            _say(f"not ready yet after {elapsed:.0f} s, waiting for {waiting_for(body)}")
        time.sleep(0.25)
    raise RuntimeError(f"not ready after {timeout:.0f} s: waiting for {waiting_for(body)}")


def run(
    settings: Settings,
    scenario: str | None = None,
    speed: float = 60.0,
    ready_timeout: float = READY_TIMEOUT,
    broker: str | None = None,
) -> int:
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    logs = data_dir / "logs"
    supervisor = Supervisor(say=_say)
    env = dict(os.environ)

    signals = _Signals()

    def add(name: str, start_fn: Callable[[], ManagedProcess], *, restart: bool = True) -> None:
        with signals.deferred():
            supervisor.add(name, start_fn, restart=restart)

    previous = {
        sig: signal.signal(sig, signals.handler) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    exit_code = 0
    try:
        bootstrap = settings.kafka_bootstrap_servers
        own_broker = not bootstrap
        kind = choose_broker(broker) if own_broker else None
        if not own_broker and broker:
            _say(f"--broker {broker} ignored: SIAGA_KAFKA_BOOTSTRAP_SERVERS={bootstrap} is used")
        if kind == "kafka":
            from siaga.apache_kafka import ensure_kafka_jars, start_kafka

            # its progress is said through _say; its log records would say it twice
            logging.getLogger("siaga.apache_kafka").setLevel(logging.WARNING)
            # resolved before the broker's (uninterruptible) start: Ctrl-C stops a download
            ensure_kafka_jars(progress=_say)
            _say(f"starting Apache Kafka (log: {logs / 'kafka.log'}, data: {data_dir / 'kafka'})…")
            first: dict[str, str] = {}

            def first_start() -> ManagedProcess:
                proc, first["bootstrap"] = start_kafka(data_dir, heap=KAFKA_HEAP, progress=_say)
                return proc

            add("kafka", first_start)
            bootstrap = first["bootstrap"]
            kafka_port = int(bootstrap.rsplit(":", 1)[1])
            # a restart keeps the port (clients know this address) and the data
            supervisor.children["kafka"].start_fn = lambda: start_kafka(
                data_dir, port=kafka_port, heap=KAFKA_HEAP, progress=_say
            )[0]
            env["SIAGA_KAFKA_PROFILE"] = "production"
        elif kind == "tansu":
            _say(TANSU_WARNING)
            _say("starting the embedded Kafka-protocol broker (Tansu)…")
            broker_port = free_port()  # kept across restarts: clients know this address
            bootstrap = f"127.0.0.1:{broker_port}"
            add("broker", lambda: start_broker(data_dir, port=broker_port)[0])
            env["SIAGA_KAFKA_PROFILE"] = "local"
            _say(f"broker listening on {bootstrap}")
        redis_url = settings.redis_url
        if not redis_url:
            _say("starting the embedded Redis server…")
            redis_port = free_port()
            redis_url = f"redis://127.0.0.1:{redis_port}/0"
            # same port and data dir on a restart: the append-only file brings it all back
            add("redis", lambda: start_redis(data_dir, port=redis_port)[0])
            _say(f"redis listening on {redis_url}")
        assert bootstrap is not None
        env["SIAGA_KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
        env["SIAGA_REDIS_URL"] = redis_url
        env["SIAGA_DATA_DIR"] = str(data_dir.resolve())
        child_settings = settings.model_copy(
            update={
                "kafka_bootstrap_servers": bootstrap,
                "redis_url": redis_url,
                "kafka_profile": env.get("SIAGA_KAFKA_PROFILE", settings.kafka_profile),
            }
        )
        if kind == "tansu":

            def restart_broker() -> ManagedProcess:
                proc, _ = start_broker(data_dir, port=broker_port)
                try:
                    asyncio.run(ensure_topics(child_settings))
                except Exception:
                    proc.stop()
                    raise
                _say("the embedded broker keeps its log in memory: it restarted empty, "
                     "topics re-created")
                return proc

            supervisor.children["broker"].start_fn = restart_broker
        from api.tokens_cli import create_demo_tokens

        # demo tokens (an admin among them) only in the Redis this command started itself
        demo = create_demo_tokens(child_settings, own_redis=not settings.redis_url)
        if demo:
            _say(f"demo tokens (also in {data_dir / 'demo-tokens.json'}):")
            for role, token in demo.items():
                _say(f"  {role:16} {token}")
        else:
            _say("no demo tokens: Redis is a configured one, not started here "
                 "(create tokens with `siaga tokens create`)")
        asyncio.run(wait_for_broker(bootstrap))
        created = asyncio.run(ensure_topics(child_settings))
        _say(f"topics ready ({len(created)} created)")

        python = sys.executable

        def child(name: str, *argv: str) -> Any:
            return lambda: spawn(name, [python, "-m", "siaga.cli", *argv], logs / f"{name}.log",
                                 env=env)

        _say(f"starting the stream worker (log: {logs / 'worker.log'})…")
        add("worker", child("worker", "worker"))
        _say(f"starting the API (log: {logs / 'api.log'})…")
        add("api", child("api", "api"))
        base = f"http://{settings.api_host}:{settings.api_port}"
        _say(f"waiting until the worker is ready ({base}/readyz)…")
        took = wait_ready(
            f"{base}/readyz", supervisor, timeout=ready_timeout, guard=signals.deferred
        )
        _say(f"Siaga is running: {base}/  (API docs {base}/docs, health {base}/healthz; "
             f"ready after {took:.0f} s)")
        _say(f"metrics: {base}/metrics (the API and the pipeline read from Kafka); the "
             f"worker's own address is in {logs / 'worker.log'}; `siaga status` for the duty "
             "screen (docs/operations.md)")
        if scenario:
            _say(f"replaying scenario {scenario} at {speed:g}x…")
            # --now: the demo's events carry today's times (never the future), so what staff
            # do through the API (stamped now) fits the replayed timeline
            add(
                "replay",
                child("replay", "replay", scenario, "--speed", str(speed), "--now"),
                restart=False,
            )
        _say("press Ctrl-C to stop")
        while True:
            with signals.deferred():
                supervisor.poll()
            time.sleep(0.5)
    except _Stop:
        _say("stopping…")
    except Exception as exc:  # noqa: BLE001 - report, then stop everything we started
        _say(f"error: {exc}")
        exit_code = 1
    finally:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        had_children = bool(supervisor.children)
        supervisor.stop_all()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if had_children:
            _say("all processes stopped")
    return exit_code


def log_path(settings: Settings, name: str) -> Path:
    return settings.data_dir / "logs" / f"{name}.log"
