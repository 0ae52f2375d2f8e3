"""Apache Kafka 4.x (KRaft) on 127.0.0.1, started by the project itself.

The broker is the real one: the jars of ``org.apache.kafka:kafka_2.13`` at the version
pinned in ``siaga/kafka_jars/pom.xml``, resolved once by Maven (from its default
repository) into ``<repo>/.cache/kafka/<version>/libs`` (``SIAGA_KAFKA_LIBS`` overrides
that directory), run by Java >= 17 from ``JAVA_HOME`` or PATH.

- :func:`start_kafka`: one combined broker + controller, its log under
  ``<data dir>/kafka``; storage is formatted on the first start only, so a restart on
  the same data dir (after SIGTERM or SIGKILL) finds every record again.
- :func:`start_kafka_cluster`: N nodes (each broker + controller, static voters), each
  its own process, port and log dir — for broker-fault tests.
- :func:`kafka_available`: ``None`` when the two above can work here, else why not.
- :func:`ensure_kafka_jars`: resolve the jars now (``dev.py`` calls it during set-up).

Every process is a :class:`siaga.local.ManagedProcess` (own process group; ``stop()``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from siaga.local import LocalServiceError, ManagedProcess, free_port, spawn, wait_for_port

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

JARS_DIR = Path(__file__).resolve().parent / "kafka_jars"
POM = JARS_DIR / "pom.xml"
LOG4J_CONFIG = JARS_DIR / "log4j2.xml"
REPO_ROOT = Path(__file__).resolve().parent.parent
MIN_JAVA = 17

STORAGE_TOOL_CLASS = "kafka.tools.StorageTool"  # in kafka_2.13-4.1.x.jar
BROKER_CLASS = "kafka.Kafka"

# Kafka's own launcher (kafka-run-class.sh) uses these GC options; the heap is ours.
JVM_OPTIONS = [
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
]

INSTALL_JAVA = (
    "install Java 17 or newer: `sudo apt-get install default-jre-headless` "
    "(Debian/Ubuntu; or openjdk-17-jre-headless), or set JAVA_HOME to a JDK/JRE >= 17"
)
INSTALL_MAVEN = "install Maven: `sudo apt-get install maven` (Debian/Ubuntu)"


def _pom_version() -> str:
    match = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", POM.read_text())
    if not match:  # pragma: no cover - the pom is part of the package
        raise LocalServiceError(f"no <kafka.version> in {POM}")
    return match.group(1)


KAFKA_VERSION = _pom_version()
"""The Apache Kafka version the project runs (also the apache/kafka image tag)."""


def _say(progress: Progress | None, message: str) -> None:
    log.info("%s", message)
    if progress is not None:
        progress(message)


# --------------------------------------------------------------------------- tools


def java_major_version(java: str) -> int:
    """The feature release of ``java`` (8 for 1.8.0_x, 17 for 17.0.15)."""
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LocalServiceError(f"cannot run {java} -version: {exc}") from None
    text = out.stderr + out.stdout
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not match:
        raise LocalServiceError(f"cannot tell the version of {java}: {text.strip()[:200]!r}")
    major = int(match.group(1))
    if major == 1 and match.group(2):
        major = int(match.group(2))
    return major


def find_java() -> str:
    """``$JAVA_HOME/bin/java`` when JAVA_HOME is set, else ``java`` on PATH; must be >= 17."""
    candidates: list[str] = []
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            candidates.append(str(candidate))
        else:
            log.warning("JAVA_HOME=%s has no bin/java; looking on PATH", java_home)
    on_path = shutil.which("java")
    if on_path and on_path not in candidates:
        candidates.append(on_path)
    if not candidates:
        raise LocalServiceError(f"Apache Kafka needs Java: no java found; {INSTALL_JAVA}")
    seen: list[str] = []
    for java in candidates:
        major = java_major_version(java)
        if major >= MIN_JAVA:
            return java
        seen.append(f"{java} is Java {major}")
    raise LocalServiceError(
        f"Apache Kafka {KAFKA_VERSION} needs Java >= {MIN_JAVA}: {'; '.join(seen)}; {INSTALL_JAVA}"
    )


def find_maven() -> str:
    found = shutil.which("mvn")
    if not found:
        raise LocalServiceError(f"resolving the Apache Kafka jars needs Maven: {INSTALL_MAVEN}")
    return found


# --------------------------------------------------------------------------- jars


def jars_dir() -> Path:
    """Where the Kafka jars live: ``SIAGA_KAFKA_LIBS`` or ``<repo>/.cache/kafka/<v>/libs``."""
    override = os.environ.get("SIAGA_KAFKA_LIBS")
    if override:
        return Path(override).expanduser().resolve()
    return REPO_ROOT / ".cache" / "kafka" / KAFKA_VERSION / "libs"


def _pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


MARKER = ".siaga-complete.json"


def _jars_complete(libs: Path) -> bool:
    marker = libs / MARKER
    if marker.is_file():
        try:
            info = json.loads(marker.read_text())
        except (OSError, ValueError):
            return False
        return info.get("pom") == _pom_digest() and all(
            (libs / name).is_file() for name in info.get("jars", [])
        )
    # A directory given by SIAGA_KAFKA_LIBS may be a Kafka distribution's libs/.
    if os.environ.get("SIAGA_KAFKA_LIBS"):
        return any(libs.glob(f"kafka_2.13-{KAFKA_VERSION}.jar")) and any(
            libs.glob("kafka-server-*.jar")
        )
    return False


def jars_ready() -> bool:
    """True when the jars are resolved (no Maven run needed)."""
    return _jars_complete(jars_dir())


def ensure_kafka_jars(progress: Progress | None = None, timeout: float = 900) -> Path:
    """Resolve the Kafka jars with Maven unless the cache is complete; returns the libs dir.

    Runs ``mvn -q -f <pom> dependency:copy-dependencies -DoutputDirectory=<tmp>`` and renames
    the result into place, so an interrupted download is never taken for a complete one.
    Concurrent callers (two test processes) wait for each other with a file lock.
    """
    libs = jars_dir()
    if _jars_complete(libs):
        return libs
    libs.parent.mkdir(parents=True, exist_ok=True)
    lock_path = libs.parent / f".{libs.name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _jars_complete(libs):
            return libs
        mvn = find_maven()
        tmp = libs.parent / f".{libs.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        _say(
            progress,
            f"resolving Apache Kafka {KAFKA_VERSION} jars with Maven into {libs} "
            "(first time only; about 45 MB)…",
        )
        started = time.monotonic()
        argv = [
            mvn,
            "-q",
            "-B",
            "-Dstyle.color=never",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={tmp}",
        ]
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=libs.parent,
        )
        output: list[bytes] = []
        reader = threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True)
        reader.start()
        last_note = started
        while proc.poll() is None:
            now = time.monotonic()
            if now - started > timeout:
                proc.kill()
                proc.wait()
                shutil.rmtree(tmp, ignore_errors=True)
                raise LocalServiceError(f"Maven did not finish within {timeout:.0f} s")
            if now - last_note >= 10:
                _say(progress, f"… still resolving ({now - started:.0f} s)")
                last_note = now
            time.sleep(0.2)
        reader.join(timeout=5)
        text = b"".join(output).decode(errors="replace")
        text = re.sub(r"\x1b\[[0-9;]*m", "", text).strip()
        jars = sorted(p.name for p in tmp.glob("*.jar")) if tmp.is_dir() else []
        if proc.returncode != 0 or not any(j.startswith("kafka_2.13-") for j in jars):
            shutil.rmtree(tmp, ignore_errors=True)
            raise LocalServiceError(
                f"Maven could not resolve the Kafka jars (exit {proc.returncode}): "
                f"{text[-2000:] or 'no output'}"
            )
        (tmp / MARKER).write_text(
            json.dumps({"version": KAFKA_VERSION, "pom": _pom_digest(), "jars": jars}, indent=1)
        )
        if libs.exists():
            shutil.rmtree(libs)
        tmp.rename(libs)
        size = sum(p.stat().st_size for p in libs.glob("*.jar")) / 1e6
        _say(
            progress,
            f"Apache Kafka {KAFKA_VERSION}: {len(jars)} jars ({size:.0f} MB) resolved in "
            f"{time.monotonic() - started:.1f} s",
        )
        return libs


def kafka_available() -> str | None:
    """``None`` when Apache Kafka can be started here, else the reason (what to install)."""
    try:
        find_java()
        if not jars_ready():
            find_maven()
    except LocalServiceError as exc:
        return str(exc)
    if not POM.is_file():  # pragma: no cover
        return f"{POM} is missing"
    return None


# --------------------------------------------------------------------------- nodes


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):  # Kafka avoids these too (they read as CLI flags)
            return cid


def _port_free(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class KafkaNode:
    """One Kafka process (broker + controller) and where it keeps things."""

    node_id: int
    port: int
    controller_port: int
    home: Path  # <data dir>/kafka or <data dir>/kafka-cluster/node-<id>
    log_path: Path
    heap: str
    process: ManagedProcess | None = None
    last_start_seconds: float | None = None
    last_format_seconds: float | None = None

    @property
    def log_dir(self) -> Path:
        return self.home / "log"

    @property
    def config_path(self) -> Path:
        return self.home / "server.properties"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def formatted(self) -> bool:
        return (self.log_dir / "meta.properties").is_file()

    def quorum_state(self) -> dict[str, object] | None:
        """This node's last known KRaft election state (``__cluster_metadata-0/quorum-state``)."""
        path = self.log_dir / "__cluster_metadata-0" / "quorum-state"
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            return None


def _server_properties(
    node: KafkaNode, voters: str, replication: int, overrides: dict[str, str] | None
) -> dict[str, str]:
    min_isr = "2" if replication >= 3 else "1"
    props = {
        "process.roles": "broker,controller",
        "node.id": str(node.node_id),
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{node.port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(node.log_dir),
        # internal topics fit the cluster's size (1 on one node; 3 / min ISR 2 on three)
        "offsets.topic.replication.factor": str(replication),
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": str(replication),
        "transaction.state.log.min.isr": min_isr,
        "transaction.state.log.num.partitions": "10",
        "share.coordinator.state.topic.replication.factor": str(replication),
        "share.coordinator.state.topic.min.isr": min_isr,
        "default.replication.factor": str(replication),
        "min.insync.replicas": min_isr,
        # a consumer group's first join is not held back 3 s waiting for more members
        "group.initial.rebalance.delay.ms": "0",
        # A broker killed with SIGKILL keeps its registration until its session expires,
        # and its restart is refused (DuplicateBrokerRegistration) until then: 6 s instead
        # of 9 s; heartbeats every second keep it well clear of a slow, busy machine.
        "broker.session.timeout.ms": "6000",
        "broker.heartbeat.interval.ms": "1000",
        "auto.create.topics.enable": "true",
        # two cores: fewer threads than the defaults (3 network, 8 I/O, 10 background)
        "num.network.threads": "2",
        "num.io.threads": "4",
        "background.threads": "4",
        "num.recovery.threads.per.data.dir": "1",
        "log.cleaner.threads": "1",
        "log.cleaner.dedupe.buffer.size": str(32 * 1024 * 1024),
    }
    props.update(overrides or {})
    return props


def _write_properties(path: Path, props: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# written by siaga/apache_kafka.py at every start; edits are overwritten"]
    lines += [f"{key}={value}" for key, value in props.items()]
    path.write_text("\n".join(lines) + "\n")


def _classpath(libs: Path) -> str:
    return str(libs / "*")


def _java_argv(java: str, libs: Path, heap: str, main: str, *args: str, quiet: bool) -> list[str]:
    return [
        java,
        f"-Xmx{heap}",
        f"-Xms{min_heap(heap)}",
        *JVM_OPTIONS,
        f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
        f"-Dsiaga.kafka.loglevel={'WARN' if quiet else 'INFO'}",
        "-cp",
        _classpath(libs),
        main,
        *args,
    ]


def min_heap(heap: str) -> str:
    """Initial heap: 128m (the JVM grows it up to -Xmx as needed; idle RSS stays low)."""
    return "128m" if heap.lower() not in ("64m", "96m") else heap


def _format(java: str, libs: Path, node: KafkaNode, cluster_id: str) -> float:
    started = time.monotonic()
    node.log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = _java_argv(
        java,
        libs,
        "256m",
        STORAGE_TOOL_CLASS,
        "format",
        "--cluster-id",
        cluster_id,
        "--config",
        str(node.config_path),
        quiet=True,
    )
    with open(node.log_path, "ab") as out:
        out.write(f"--- siaga: formatting {node.log_dir} (cluster {cluster_id})\n".encode())
        out.flush()
        result = subprocess.run(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=120
        )
    if result.returncode != 0 or not node.formatted():
        raise LocalServiceError(
            f"formatting Kafka storage in {node.log_dir} failed (exit {result.returncode}; "
            f"see {node.log_path})"
        )
    return time.monotonic() - started


def _spawn_node(java: str, libs: Path, node: KafkaNode) -> ManagedProcess:
    with open(node.log_path, "ab") as out:
        out.write(
            f"--- siaga: starting Apache Kafka {KAFKA_VERSION} node {node.node_id} on "
            f"{node.bootstrap} at {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n".encode()
        )
    argv = _java_argv(java, libs, node.heap, BROKER_CLASS, str(node.config_path), quiet=False)
    name = "kafka" if node.home.name == "kafka" else f"kafka-{node.node_id}"
    return spawn(name, argv, node.log_path, cwd=node.home)


def _run_async(coro_factory: Callable[[], object]) -> object:
    """Run a coroutine to completion in a thread of its own (callers may be inside a loop)."""
    result: dict[str, object] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coro_factory())  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            result["error"] = exc

    thread = threading.Thread(target=target, name="siaga-kafka-probe", daemon=True)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result.get("value")


async def describe_cluster(bootstrap: str, timeout: float = 5.0) -> dict[str, Any]:
    """aiokafka's DescribeCluster answer: ``{"cluster_id", "controller_id", "brokers": [...]}``.

    In KRaft mode ``controller_id`` is *not* the active controller (brokers answer with a
    random live broker); use :meth:`KafkaCluster.active_controller` for that.
    """
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    await asyncio.wait_for(admin.start(), timeout)
    try:
        return dict(await asyncio.wait_for(admin.describe_cluster(), timeout))
    finally:
        await admin.close()


async def metadata_brokers(bootstrap: str, timeout: float = 5.0) -> set[int]:
    """Ids of the brokers listed in a metadata answer from the first reachable bootstrap
    server (a KRaft broker lists only unfenced brokers)."""
    from aiokafka.client import AIOKafkaClient

    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
        return {int(b.nodeId) for b in client.cluster.brokers()}
    finally:
        await client.close()


def alive_brokers(bootstrap: str, timeout: float = 5.0) -> set[int]:
    """Blocking :func:`metadata_brokers` (runs in a thread of its own; safe inside a loop)."""
    return _run_async(lambda: metadata_brokers(bootstrap, timeout))  # type: ignore[return-value]


async def topic_replicas(bootstrap: str, topic: str) -> dict[int, tuple[int, list[int]]]:
    """``partition -> (leader, sorted in-sync replicas)`` of ``topic`` (empty while unknown)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if not described or described[0].get("error_code"):
        return {}
    return {
        int(p["partition"]): (int(p["leader"]), sorted(int(r) for r in p["isr"]))
        for p in described[0]["partitions"]
    }


async def wait_in_sync(
    bootstrap: str,
    topic: str,
    replicas: set[int],
    partitions: int | None = None,
    timeout: float = 60,
) -> dict[int, tuple[int, list[int]]]:
    """Wait until every partition of ``topic`` (``partitions`` of them, when given) has
    exactly ``replicas`` in sync — after a create, or after a restarted broker caught up."""
    deadline = time.monotonic() + timeout
    state: dict[int, tuple[int, list[int]]] = {}
    wanted = sorted(replicas)
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            state = await topic_replicas(bootstrap, topic)
            complete = len(state) == partitions if partitions is not None else bool(state)
            if complete and all(isr == wanted for _, isr in state.values()):
                return state
        await asyncio.sleep(0.5)
    raise LocalServiceError(f"{topic} not in sync on {wanted} after {timeout:.0f} s: {state}")


def _wait_ready(nodes: list[KafkaNode], bootstrap: str, expect: set[int], deadline: float) -> None:
    """Wait until every node listens and the metadata lists every broker in ``expect``."""
    for node in nodes:
        assert node.process is not None
        remaining = max(0.5, deadline - time.monotonic())
        wait_for_port(node.port, remaining, node.process.proc)
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        for node in nodes:
            assert node.process is not None
            if not node.process.alive():
                raise LocalServiceError(
                    f"Kafka node {node.node_id} exited with code "
                    f"{node.process.proc.returncode} while starting"
                )
        try:
            seen = alive_brokers(bootstrap, timeout=min(5.0, max(1.0, deadline - time.monotonic())))
            if expect <= seen:
                return
            last_error = LocalServiceError(f"brokers in metadata: {sorted(seen)}")
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last_error = exc
        time.sleep(0.2)
    raise LocalServiceError(f"Kafka not ready before the deadline: {last_error}")


def _load_state(path: Path) -> dict[str, object]:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def _pick_port(wanted: int | None, stored: object, what: str) -> int:
    if wanted:
        return wanted
    if isinstance(stored, int):
        if _port_free(stored):
            return stored
        log.warning("%s port %d of the last start is taken; using another", what, stored)
    return free_port()


# --------------------------------------------------------------------------- single node


def start_kafka(
    data_dir: Path,
    port: int | None = None,
    timeout: float = 120,
    heap: str = "512m",
    config: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> tuple[ManagedProcess, str]:
    """Start one Apache Kafka node (broker + controller, KRaft) on 127.0.0.1.

    Its log dir is ``<data_dir>/kafka/log`` (formatted on the first start only; the cluster
    id and ports are kept in ``<data_dir>/kafka/siaga-kafka.json``), its output goes to
    ``<data_dir>/logs/kafka.log``. Without ``port`` the port of the previous start on this
    data dir is reused when free. Returns once the broker answers a metadata request, with
    the process and the bootstrap servers string. ``config`` overrides broker settings.
    """
    started = time.monotonic()
    deadline = started + timeout
    java = find_java()
    libs = ensure_kafka_jars(progress)
    home = (data_dir / "kafka").resolve()
    home.mkdir(parents=True, exist_ok=True)
    state_path = home / "siaga-kafka.json"
    state = _load_state(state_path)
    node = KafkaNode(
        node_id=1,
        port=_pick_port(port, state.get("port"), "Kafka"),
        controller_port=_pick_port(None, state.get("controller_port"), "Kafka controller"),
        home=home,
        log_path=(data_dir / "logs" / "kafka.log").resolve(),
        heap=heap,
    )
    cluster_id = str(state.get("cluster_id") or new_cluster_id())
    voters = f"1@127.0.0.1:{node.controller_port}"
    _write_properties(node.config_path, _server_properties(node, voters, 1, config))
    state_path.write_text(
        json.dumps(
            {
                "version": KAFKA_VERSION,
                "cluster_id": cluster_id,
                "port": node.port,
                "controller_port": node.controller_port,
            },
            indent=1,
        )
    )
    fmt = 0.0
    if not node.formatted():
        fmt = _format(java, libs, node, cluster_id)
    node.process = _spawn_node(java, libs, node)
    try:
        _wait_ready([node], node.bootstrap, {1}, deadline)
    except LocalServiceError as exc:
        node.process.stop()
        raise LocalServiceError(
            f"Apache Kafka failed to start: {exc} (see {node.log_path})"
        ) from None
    total = time.monotonic() - started
    _say(
        progress,
        f"Apache Kafka {KAFKA_VERSION} ready on {node.bootstrap} in {total:.1f} s"
        + (f" (first start: storage formatted in {fmt:.1f} s)" if fmt else " (restart)"),
    )
    return node.process, node.bootstrap


# --------------------------------------------------------------------------- cluster


@dataclass
class KafkaCluster:
    """N Apache Kafka processes on 127.0.0.1, every one broker + controller."""

    data_dir: Path
    cluster_id: str
    nodes: dict[int, KafkaNode]
    java: str
    libs: Path
    progress: Progress | None = None
    _stopped: bool = field(default=False, repr=False)

    @property
    def bootstrap(self) -> str:
        return ",".join(n.bootstrap for n in self.nodes.values())

    def bootstrap_without(self, node_id: int) -> str:
        return ",".join(n.bootstrap for n in self.nodes.values() if n.node_id != node_id)

    def process(self, node_id: int) -> ManagedProcess:
        proc = self.nodes[node_id].process
        if proc is None:
            raise LocalServiceError(f"Kafka node {node_id} was never started")
        return proc

    def alive_nodes(self) -> list[int]:
        return [n.node_id for n in self.nodes.values() if n.alive()]

    def kill(self, node_id: int) -> None:
        """SIGKILL one node (its whole process group) and wait until it is gone."""
        proc = self.process(node_id)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.proc.wait(timeout=10)
        proc.stop(timeout=1)  # closes its log file
        log.info("Kafka node %d killed (SIGKILL)", node_id)

    def restart(self, node_id: int, timeout: float = 120) -> float:
        """Start a stopped or killed node again on its data and ports; wait until it is a
        live broker in the metadata again. Returns the seconds it took. From async code:
        ``await asyncio.to_thread(cluster.restart, node_id)``."""
        node = self.nodes[node_id]
        if node.alive():
            raise LocalServiceError(f"Kafka node {node_id} is still running")
        started = time.monotonic()
        node.process = _spawn_node(self.java, self.libs, node)
        others = [n for n in self.nodes.values() if n.alive() and n is not node]
        bootstrap = ",".join([node.bootstrap, *(n.bootstrap for n in others)])
        try:
            _wait_ready([node], bootstrap, {node_id}, started + timeout)
        except LocalServiceError as exc:
            node.process.stop()
            raise LocalServiceError(
                f"Kafka node {node_id} failed to restart: {exc} (see {node.log_path})"
            ) from None
        node.last_start_seconds = time.monotonic() - started
        _say(self.progress, f"Kafka node {node_id} back in {node.last_start_seconds:.1f} s")
        return node.last_start_seconds

    def active_controller(self) -> int | None:
        """Id of the KRaft quorum's leader (the active controller), or None during an election.

        Read from the live nodes' ``quorum-state`` files, which KRaft rewrites on every
        election: the leader of the highest epoch any live node has seen, if that leader is
        alive. (aiokafka's ``describe_cluster`` cannot tell: in KRaft mode its controller id is
        a random live broker.)
        """
        best_epoch = -1
        leader: int | None = None
        for node in self.nodes.values():
            if not node.alive():
                continue
            state = node.quorum_state()
            if not state:
                continue
            epoch = int(state.get("leaderEpoch", -1))  # type: ignore[call-overload]
            if epoch > best_epoch:
                best_epoch = epoch
                lid = int(state.get("leaderId", -1))  # type: ignore[call-overload]
                leader = lid if lid >= 0 else None
            elif epoch == best_epoch and leader is None:
                lid = int(state.get("leaderId", -1))  # type: ignore[call-overload]
                leader = lid if lid >= 0 else None
        if leader is not None and not self.nodes[leader].alive():
            return None
        return leader

    def wait_for_controller(self, timeout: float = 60, exclude: int | None = None) -> int:
        """Wait until a live node (other than ``exclude``) is the active controller."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            leader = self.active_controller()
            if leader is not None and leader != exclude:
                return leader
            time.sleep(0.2)
        raise LocalServiceError(f"no active controller after {timeout:.0f} s")

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM every node at once (each broker's controlled shutdown needs the quorum,
        so stopping them one after another would leave the last one waiting), then stop."""
        if self._stopped:
            return
        self._stopped = True
        running = [n.process for n in self.nodes.values() if n.process is not None]
        for proc in running:
            if proc.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in running:
            proc.stop(timeout=max(0.5, deadline - time.monotonic()))


def start_kafka_cluster(
    data_dir: Path,
    nodes: int = 3,
    timeout: float = 180,
    heap: str = "384m",
    config: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> KafkaCluster:
    """Start ``nodes`` Apache Kafka processes on 127.0.0.1 forming one KRaft cluster.

    Every node is broker + controller (static voters ``1@…,2@…,3@…``); node ``i`` keeps its
    log in ``<data_dir>/kafka-cluster/node-<i>/log`` and writes ``<data_dir>/logs/kafka-<i>.log``.
    With 3 or more nodes, default and internal topics get replication 3 and
    ``min.insync.replicas`` 2. Starting again on the same data dir reuses cluster id and ports.
    """
    if nodes < 1:
        raise ValueError("a cluster needs at least one node")
    started = time.monotonic()
    deadline = started + timeout
    java = find_java()
    libs = ensure_kafka_jars(progress)
    root = (data_dir / "kafka-cluster").resolve()
    root.mkdir(parents=True, exist_ok=True)
    state_path = root / "siaga-kafka-cluster.json"
    state = _load_state(state_path)
    stored_nodes = state.get("nodes") if isinstance(state.get("nodes"), dict) else {}
    assert isinstance(stored_nodes, dict)
    cluster_id = str(state.get("cluster_id") or new_cluster_id())
    members: dict[int, KafkaNode] = {}
    for node_id in range(1, nodes + 1):
        stored = stored_nodes.get(str(node_id), {})
        members[node_id] = KafkaNode(
            node_id=node_id,
            port=_pick_port(None, stored.get("port"), f"Kafka node {node_id}"),
            controller_port=_pick_port(
                None, stored.get("controller_port"), f"Kafka node {node_id} controller"
            ),
            home=root / f"node-{node_id}",
            log_path=(data_dir / "logs" / f"kafka-{node_id}.log").resolve(),
            heap=heap,
        )
    voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in members.values())
    replication = min(3, nodes)
    for node in members.values():
        _write_properties(node.config_path, _server_properties(node, voters, replication, config))
    state_path.write_text(
        json.dumps(
            {
                "version": KAFKA_VERSION,
                "cluster_id": cluster_id,
                "nodes": {
                    str(n.node_id): {"port": n.port, "controller_port": n.controller_port}
                    for n in members.values()
                },
            },
            indent=1,
        )
    )
    cluster = KafkaCluster(data_dir, cluster_id, members, java, libs, progress)
    try:
        for node in members.values():
            if not node.formatted():
                node.last_format_seconds = _format(java, libs, node, cluster_id)
        for node in members.values():
            node.process = _spawn_node(java, libs, node)
        _wait_ready(list(members.values()), cluster.bootstrap, set(members), deadline)
        cluster.wait_for_controller(timeout=max(1.0, deadline - time.monotonic()))
    except BaseException as exc:
        cluster.stop()
        if isinstance(exc, LocalServiceError):
            raise LocalServiceError(
                f"Apache Kafka cluster failed to start: {exc} (see {data_dir / 'logs'})"
            ) from None
        raise
    total = time.monotonic() - started
    for node in members.values():
        node.last_start_seconds = total
    _say(
        progress,
        f"Apache Kafka {KAFKA_VERSION} cluster of {nodes} ready on {cluster.bootstrap} "
        f"in {total:.1f} s (active controller: node {cluster.active_controller()})",
    )
    return cluster
