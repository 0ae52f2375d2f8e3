"""`siaga run`: the whole system on one machine, and a clean stop.

Starts (unless configured to use existing ones) a local Kafka-protocol broker
and Redis, creates the topics, then the stream worker and the API as child
processes. Ctrl-C or SIGTERM stops every process it started, newest first.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
import urllib.request
from pathlib import Path

from siaga.kafka import ensure_topics, wait_for_broker
from siaga.local import ManagedProcess, spawn, start_broker, start_redis
from siaga.settings import Settings

log = logging.getLogger(__name__)


def _say(message: str) -> None:
    sys.stderr.write(f"[siaga] {message}\n")
    sys.stderr.flush()


class _Stop(Exception):
    pass


def _wait_healthy(url: str, procs: list[ManagedProcess], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited early; see {proc.log_path}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} not healthy after {timeout:.0f} s")


def run(settings: Settings, scenario: str | None = None, speed: float = 60.0) -> int:
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    logs = data_dir / "logs"
    started: list[ManagedProcess] = []
    env = dict(os.environ)
    stop_requested = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True
        raise _Stop()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    exit_code = 0
    try:
        bootstrap = settings.kafka_bootstrap_servers
        if not bootstrap:
            _say("starting the embedded Kafka-protocol broker (Tansu)…")
            broker, bootstrap = start_broker(data_dir)
            started.append(broker)
            env["SIAGA_KAFKA_PROFILE"] = "local"
            _say(f"broker listening on {bootstrap}")
        redis_url = settings.redis_url
        if not redis_url:
            _say("starting the embedded Redis server…")
            redis_proc, redis_url = start_redis(data_dir)
            started.append(redis_proc)
            _say(f"redis listening on {redis_url}")
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
        from api.tokens_cli import create_demo_tokens

        demo = create_demo_tokens(child_settings)
        _say(f"demo tokens (also in {data_dir / 'demo-tokens.json'}):")
        for role, token in demo.items():
            _say(f"  {role:16} {token}")
        asyncio.run(wait_for_broker(bootstrap))
        created = asyncio.run(ensure_topics(child_settings))
        _say(f"topics ready ({len(created)} created)")

        python = sys.executable
        _say(f"starting the stream worker (log: {logs / 'worker.log'})…")
        started.append(
            spawn("worker", [python, "-m", "siaga.cli", "worker"], logs / "worker.log", env=env)
        )
        _say(f"starting the API (log: {logs / 'api.log'})…")
        started.append(spawn("api", [python, "-m", "siaga.cli", "api"], logs / "api.log", env=env))
        base = f"http://{settings.api_host}:{settings.api_port}"
        _wait_healthy(f"{base}/healthz", started, timeout=60)
        _say(f"Siaga is running: {base}/  (API docs {base}/docs, health {base}/healthz)")
        if scenario:
            _say(f"replaying scenario {scenario} at {speed:g}x…")
            started.append(
                spawn(
                    "replay",
                    # --now: the demo's events carry today's times, so what staff do
                    # through the API (stamped now) fits the replayed timeline
                    [python, "-m", "siaga.cli", "replay", scenario, "--speed", str(speed),
                     "--now"],
                    logs / "replay.log",
                    env=env,
                )
            )
        _say("press Ctrl-C to stop")
        while True:
            for proc in started:
                if proc.name != "replay" and not proc.alive():
                    raise RuntimeError(
                        f"{proc.name} exited with code {proc.proc.returncode}; "
                        f"see {proc.log_path}"
                    )
            time.sleep(0.5)
    except _Stop:
        _say("stopping…")
    except Exception as exc:  # noqa: BLE001 - report, then stop everything we started
        _say(f"error: {exc}")
        exit_code = 1
    finally:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        for proc in reversed(started):
            proc.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if started:
            _say("all processes stopped")
    return exit_code


def log_path(settings: Settings, name: str) -> Path:
    return settings.data_dir / "logs" / f"{name}.log"
