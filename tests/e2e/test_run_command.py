"""`siaga run` brings the whole system up and leaves no process behind when stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psutil
import pytest

from siaga.apache_kafka import kafka_available
from siaga.local import free_port
from tests.conftest import Services
from tests.support import ROOT

pytestmark = pytest.mark.e2e


def _start(
    tmp_path: Path,
    extra_env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    port: int | None = None,
    out: str = "run.out",
) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA_")}
    port = port or free_port()
    env.update(SIAGA_API_PORT=str(port), SIAGA_DATA_DIR=str(tmp_path / "data"))
    env.update(extra_env or {})
    output = tmp_path / out
    proc = subprocess.Popen(
        [sys.executable, "-m", "siaga.cli", "run", *args],
        env=env,
        cwd=ROOT,
        stdout=open(output, "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 200  # `siaga run` itself gives the worker 180 s
    while time.monotonic() < deadline:
        assert proc.poll() is None, output.read_text()
        if "Siaga is running" in output.read_text():
            return proc, base
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(output.read_text())


def _admin_token(tmp_path: Path, services: Services | None = None) -> str:
    """The demo admin token `siaga run` wrote, one per role, to <data dir>/demo-tokens.json.

    With shared services (a configured Redis) `siaga run` mints none: the test checks that
    and makes its own admin token, as an operator would with `siaga tokens create`."""
    if services is not None:
        assert not (tmp_path / "data" / "demo-tokens.json").exists()
        out = (tmp_path / "run.out").read_text()
        assert "no demo tokens" in out and "demo tokens (also in" not in out
        from tests.e2e.helpers import make_token

        return make_token(services.redis_url, "admin")
    demo = json.loads((tmp_path / "data" / "demo-tokens.json").read_text())
    assert set(demo) == {"command_post", "warehouse_staff", "coordinator", "team", "admin"}
    assert demo["admin"] in (tmp_path / "run.out").read_text()  # printed for the user
    return str(demo["admin"])


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _stop_and_check(
    proc: subprocess.Popen[bytes], sig: int, tmp_path: Path, out: str = "run.out"
) -> None:
    children = _descendants(proc.pid)
    names = " ".join(p.name() for p in children)
    assert len(children) >= 2, names
    proc.send_signal(sig)
    assert proc.wait(timeout=60) == 0, (tmp_path / out).read_text()
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"left behind: {[(p.pid, p.name()) for p in alive]}"
    assert "all processes stopped" in (tmp_path / out).read_text()


def _require_kafka() -> None:
    reason = kafka_available()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"Apache Kafka cannot run in CI: {reason}")
    pytest.skip(f"Apache Kafka cannot run here: {reason}")


def test_run_serves_incidents_and_ctrl_c_leaves_no_process(tmp_path: Path) -> None:
    durable = kafka_available() is None  # the default broker: Apache Kafka when it can run
    proc, base = _start(tmp_path)
    try:
        health = httpx.get(f"{base}/healthz", timeout=5).json()
        assert health["broker"]["connected"] and health["redis"]["connected"]
        children = _descendants(proc.pid)
        output = (tmp_path / "run.out").read_text()
        if durable:
            assert any(p.name() == "java" for p in children)
            assert not any("tansu" in p.name() for p in children)
            assert "nothing will be kept" not in output.lower()
            assert (tmp_path / "data" / "kafka" / "log" / "meta.properties").is_file()
        else:
            assert any("tansu" in p.name() for p in children)
            assert "NOTHING will be kept across a restart" in output
        assert any("redis-server" in p.name() for p in children)

        auth = {"Authorization": f"Bearer {_admin_token(tmp_path)}"}
        event_id = str(uuid.uuid4())
        response = httpx.post(
            f"{base}/api/v1/incidents",
            json={
                "event_id": event_id,
                "incident_type": "eruption",
                "location": {"lat": -8.10778, "lon": 112.92194},
                "severity": 4,
                "displaced": 2004,
                "posko_id": "posko-lumajang",
            },
            headers=auth,
            timeout=10,
        )
        assert response.status_code == 202
        deadline = time.monotonic() + 30
        listed = False
        while time.monotonic() < deadline and not listed:
            items = httpx.get(f"{base}/api/v1/incidents", headers=auth, timeout=5).json()["items"]
            listed = any(item["incident_id"] == event_id for item in items)
            time.sleep(0.1)
        assert listed
        output = (tmp_path / "run.out").read_text()
        assert f"Siaga is running: {base}/" in output
    finally:
        if proc.poll() is None:
            _stop_and_check(proc, signal.SIGINT, tmp_path)


def test_sigterm_stops_everything_and_existing_services_are_used(
    tmp_path: Path, services: Services
) -> None:
    proc, base = _start(
        tmp_path,
        {
            "SIAGA_KAFKA_BOOTSTRAP_SERVERS": services.bootstrap,
            "SIAGA_REDIS_URL": services.redis_url,
            "SIAGA_KAFKA_PROFILE": _profile(services),
            "SIAGA_TOPIC_PREFIX": f"t{uuid.uuid4().hex[:8]}",
            "SIAGA_APP_ID": f"run-{uuid.uuid4().hex[:8]}",
        },
        args=("--broker", "tansu"),  # ignored: the shared broker is used
    )
    try:
        children = _descendants(proc.pid)
        assert not any("tansu" in p.name() or p.name() == "java" for p in children)
        assert not any("redis-server" in p.name() for p in children)
        assert "--broker tansu ignored" in (tmp_path / "run.out").read_text()
        health = httpx.get(f"{base}/healthz", timeout=5).json()
        assert health["broker"]["bootstrap_servers"] == services.bootstrap
    finally:
        _stop_and_check(proc, signal.SIGTERM, tmp_path)
    # the shared services it did not start are still running
    assert services.broker.alive() and services.redis.alive()


def _incident(posko_id: str = "posko-lumajang") -> dict[str, object]:
    return {
        "event_id": str(uuid.uuid4()),
        "incident_type": "eruption",
        "location": {"lat": -8.10778, "lon": 112.92194},
        "severity": 4,
        "displaced": 2004,
        "posko_id": posko_id,
    }


def _seconds_until_listed(base: str, auth: dict[str, str], event_id: str, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        items = httpx.get(f"{base}/api/v1/incidents", headers=auth, timeout=5).json()["items"]
        if any(item["incident_id"] == event_id for item in items):
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"incident {event_id} not listed within {timeout} s")


def _profile(services: Services) -> str:
    """The worker profile that goes with the shared broker (production on Apache Kafka)."""
    return str(getattr(services, "profile", "local"))


def _shared_services_env(services: Services) -> dict[str, str]:
    return {
        "SIAGA_KAFKA_BOOTSTRAP_SERVERS": services.bootstrap,
        "SIAGA_REDIS_URL": services.redis_url,
        "SIAGA_KAFKA_PROFILE": _profile(services),
        "SIAGA_TOPIC_PREFIX": f"t{uuid.uuid4().hex[:8]}",
        "SIAGA_APP_ID": f"run-{uuid.uuid4().hex[:8]}",
    }


def _child(proc: subprocess.Popen[bytes], role: str) -> psutil.Process:
    for child in _descendants(proc.pid):
        try:
            if child.cmdline()[-2:] == ["siaga.cli", role]:
                return child
        except psutil.Error:
            continue
    raise AssertionError(f"no {role} process under siaga run")


def test_running_means_ready_the_first_incident_is_listed_within_two_seconds(
    tmp_path: Path, services: Services
) -> None:
    proc, base = _start(tmp_path, _shared_services_env(services))
    try:
        ready = httpx.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
        assert ready.json()["worker"]["ready"] is True
        auth = {"Authorization": f"Bearer {_admin_token(tmp_path, services)}"}
        body = _incident()
        assert httpx.post(f"{base}/api/v1/incidents", json=body, headers=auth).status_code == 202
        assert _seconds_until_listed(base, auth, str(body["event_id"]), timeout=10) < 2.0
    finally:
        _stop_and_check(proc, signal.SIGTERM, tmp_path)


def test_a_killed_worker_is_restarted_while_the_api_stays_up(
    tmp_path: Path, services: Services
) -> None:
    proc, base = _start(tmp_path, _shared_services_env(services))
    try:
        auth = {"Authorization": f"Bearer {_admin_token(tmp_path, services)}"}
        api_pid = _child(proc, "api").pid
        worker = _child(proc, "worker")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)

        deadline = time.monotonic() + 30
        new_worker = None
        while time.monotonic() < deadline and new_worker is None:
            # the API answers all along: only the worker went down
            assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
            try:
                candidate = _child(proc, "worker")
                new_worker = candidate if candidate.pid != worker.pid else None
            except AssertionError:
                pass
            time.sleep(0.2)
        assert new_worker is not None, (tmp_path / "run.out").read_text()
        output = (tmp_path / "run.out").read_text()
        assert (
            "worker was killed by SIGKILL (exit code -9)" in output
        ), output
        assert f"(log: {tmp_path / 'data' / 'logs' / 'worker.log'})" in output
        assert "restarting it in 1 s" in output
        assert "worker restarted (pid" in output
        assert proc.poll() is None  # siaga run did not stop
        assert _child(proc, "api").pid == api_pid

        # the restarted worker processes what is posted now
        body = _incident()
        assert httpx.post(f"{base}/api/v1/incidents", json=body, headers=auth).status_code == 202
        _seconds_until_listed(base, auth, str(body["event_id"]), timeout=90)
    finally:
        _stop_and_check(proc, signal.SIGTERM, tmp_path)


def test_a_killed_api_is_restarted(tmp_path: Path, services: Services) -> None:
    proc, base = _start(tmp_path, _shared_services_env(services))
    try:
        api = _child(proc, "api")
        api.send_signal(signal.SIGKILL)
        api.wait(timeout=10)
        deadline = time.monotonic() + 60
        healthy = False
        while time.monotonic() < deadline and not healthy:
            try:
                healthy = httpx.get(f"{base}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert healthy, (tmp_path / "run.out").read_text()
        assert _child(proc, "api").pid != api.pid
        output = (tmp_path / "run.out").read_text()
        assert "api was killed by SIGKILL" in output and "api restarted (pid" in output
    finally:
        _stop_and_check(proc, signal.SIGTERM, tmp_path)


def test_a_killed_embedded_redis_is_restarted_with_what_it_held(tmp_path: Path) -> None:
    import re

    from redis import Redis

    from siaga import tokens

    proc, base = _start(tmp_path, args=("--broker", "tansu"))  # the light one, and Redis
    try:
        assert "NOTHING will be kept across a restart" in (tmp_path / "run.out").read_text()
        admin = _admin_token(tmp_path)
        auth = {"Authorization": f"Bearer {admin}"}
        assert httpx.get(f"{base}/api/v1/me", headers=auth, timeout=5).status_code == 200
        match = re.search(r"redis listening on (\S+)", (tmp_path / "run.out").read_text())
        assert match
        redis = next(p for p in _descendants(proc.pid) if "redis-server" in p.name())
        redis.send_signal(signal.SIGKILL)  # no save on shutdown: only the AOF can keep it
        redis.wait(timeout=10)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "redis restarted (pid" in (tmp_path / "run.out").read_text():
                break
            time.sleep(0.1)
        output = (tmp_path / "run.out").read_text()
        assert "redis was killed by SIGKILL" in output and "redis restarted (pid" in output
        assert any("redis-server" in p.name() for p in _descendants(proc.pid))
        client = Redis.from_url(match.group(1))
        try:
            assert client.hexists(tokens.TOKENS_KEY, tokens.hash_token(admin))  # still there
        finally:
            client.close()
        assert httpx.get(f"{base}/api/v1/me", headers=auth, timeout=5).status_code == 200
    finally:
        _stop_and_check(proc, signal.SIGTERM, tmp_path)


def _power_cut(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL `siaga run` and every process under it at the same moment (each child has
    a process group of its own, so the whole tree is collected first)."""
    victims = [psutil.Process(proc.pid), *_descendants(proc.pid)]
    assert any(p.name() == "java" for p in victims), [p.name() for p in victims]
    for victim in victims:
        try:
            victim.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    gone, alive = psutil.wait_procs(victims, timeout=15)
    assert not alive, alive
    proc.wait(timeout=5)


def test_after_a_power_cut_the_same_command_brings_everything_back_on_apache_kafka(
    tmp_path: Path,
) -> None:
    _require_kafka()
    port = free_port()
    proc, base = _start(tmp_path, args=("--broker", "kafka"), port=port)
    try:
        output = (tmp_path / "run.out").read_text()
        assert "first start: storage formatted" in output
        admin = _admin_token(tmp_path)
        auth = {"Authorization": f"Bearer {admin}"}
        body = _incident("posko-before-the-cut")
        assert httpx.post(f"{base}/api/v1/incidents", json=body, headers=auth).status_code == 202
        _seconds_until_listed(base, auth, str(body["event_id"]), timeout=30)
        time.sleep(1.5)  # Redis fsyncs its append-only file every second
    except BaseException:
        _power_cut(proc)
        raise
    _power_cut(proc)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{base}/healthz", timeout=2)  # nothing is left answering

    proc, base = _start(tmp_path, args=("--broker", "kafka"), port=port, out="run2.out")
    try:
        output = (tmp_path / "run2.out").read_text()
        assert "(restart)" in output and "topics ready (0 created)" in output
        # the token minted before the cut still works, and the incident is there
        assert httpx.get(f"{base}/api/v1/me", headers=auth, timeout=5).status_code == 200
        _seconds_until_listed(base, auth, str(body["event_id"]), timeout=30)

        # a killed broker is restarted by the supervisor on its port and data
        kafka = next(p for p in _descendants(proc.pid) if p.name() == "java")
        kafka.send_signal(signal.SIGKILL)
        kafka.wait(timeout=10)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if "kafka restarted (pid" in (tmp_path / "run2.out").read_text():
                break
            time.sleep(0.2)
        output = (tmp_path / "run2.out").read_text()
        assert "kafka was killed by SIGKILL" in output and "kafka restarted (pid" in output
        after = _incident("posko-after-the-broker-restart")
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and status != 202:
            status = httpx.post(
                f"{base}/api/v1/incidents", json=after, headers=auth, timeout=15
            ).status_code
            time.sleep(0.5)
        assert status == 202
        _seconds_until_listed(base, auth, str(after["event_id"]), timeout=90)
        _seconds_until_listed(base, auth, str(body["event_id"]), timeout=5)
    finally:
        if proc.poll() is None:
            _stop_and_check(proc, signal.SIGTERM, tmp_path, out="run2.out")


def _cmdline(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def test_ctrl_c_while_apache_kafka_starts_leaves_no_broker_behind(tmp_path: Path) -> None:
    _require_kafka()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA_")}
    env.update(SIAGA_API_PORT=str(free_port()), SIAGA_DATA_DIR=str(tmp_path / "data"))
    output = tmp_path / "run.out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "siaga.cli", "run", "--broker", "kafka"],
        env=env, cwd=ROOT, stdout=open(output, "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )
    try:
        deadline = time.monotonic() + 60
        java = None
        while time.monotonic() < deadline and java is None:  # the JVM is up, not yet ready
            # the broker's JVM (kafka.Kafka), not the short `java -version` of the set-up
            java = next((p for p in _descendants(proc.pid) if p.name() == "java"
                         and "kafka.Kafka" in _cmdline(p)), None)
            time.sleep(0.05)
        assert java is not None, output.read_text()
        assert "ready on" not in output.read_text()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0, output.read_text()
        assert not java.is_running() or java.status() == psutil.STATUS_ZOMBIE, output.read_text()
        text = output.read_text()
        assert "stopping as soon as the process being started is up" in text
        assert "all processes stopped" in text
    finally:
        if proc.poll() is None:
            proc.kill()
