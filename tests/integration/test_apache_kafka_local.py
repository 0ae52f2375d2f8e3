"""Apache Kafka started by siaga.apache_kafka: real JVMs, real records, real SIGKILLs.

One single-node broker and one 3-node KRaft cluster, each started once for this module.
Without Java >= 17 (and Maven or resolved jars) these tests are skipped on a developer's
machine and fail in CI (``CI`` set), where Java is part of the set-up.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from siaga.apache_kafka import (
    KAFKA_VERSION,
    KafkaCluster,
    alive_brokers,
    describe_cluster,
    find_java,
    kafka_available,
    start_kafka,
    start_kafka_cluster,
    topic_replicas,
    wait_in_sync,
)
from siaga.local import LocalServiceError, ManagedProcess

pytestmark = pytest.mark.integration


def _require_kafka() -> None:
    reason = kafka_available()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"Apache Kafka cannot run in CI: {reason}")
    pytest.skip(f"Apache Kafka cannot run here: {reason}")


def _topic(stem: str) -> str:
    return f"ak-{stem}-{uuid.uuid4().hex[:8]}"


async def _produce(
    bootstrap: str,
    topic: str,
    records: list[tuple[bytes, bytes]],
    acks: str | int = "all",
    timeout_ms: int = 30_000,
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks=acks,
        request_timeout_ms=timeout_ms,
        retry_backoff_ms=200,
        enable_idempotence=acks == "all",
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, value=v, key=k) for k, v in records]
        await producer.flush()
        for fut in futures:
            await fut  # raises if that record was not acknowledged
    finally:
        await producer.stop()


async def _consume(
    bootstrap: str,
    topic: str,
    expected: int,
    timeout: float = 30,
    group_id: str | None = None,
    commit_after: int | None = None,
    until: Callable[[list[tuple[bytes | None, bytes | None]]], bool] | None = None,
) -> list[tuple[bytes | None, bytes | None]]:
    """Read ``topic`` from the start (or the group's committed offsets) until ``expected``
    records arrived (or ``until`` says so) or ``timeout`` passed; with ``commit_after``,
    stop and commit after that many."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    await consumer.start()
    got: list[tuple[bytes | None, bytes | None]] = []
    try:
        deadline = time.monotonic() + timeout
        limit = commit_after if commit_after is not None else expected
        while len(got) < limit and time.monotonic() < deadline:
            if until is not None and until(got):
                break
            batches = await consumer.getmany(timeout_ms=500, max_records=limit - len(got))
            for tp, messages in batches.items():
                got.extend((m.key, m.value) for m in messages)
                if commit_after is not None and messages:
                    await consumer.commit({tp: messages[-1].offset + 1})
    finally:
        await consumer.stop()
    return got


# --------------------------------------------------------------------------- finding Java


def test_an_old_java_is_refused_naming_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "jdk11" / "bin" / "java"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(fake.parent.parent))
    monkeypatch.setenv("PATH", str(fake.parent))
    with pytest.raises(LocalServiceError, match=r"needs Java >= 17.*Java 11.*apt-get install"):
        find_java()
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    monkeypatch.delenv("JAVA_HOME")
    with pytest.raises(LocalServiceError, match="no java found"):
        find_java()
    assert "no java found" in (kafka_available() or "")


# --------------------------------------------------------------------------- single node


@dataclass
class SingleNode:
    data_dir: Path
    process: ManagedProcess
    bootstrap: str
    first_start_seconds: float


@pytest.fixture(scope="class")
def single(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SingleNode]:
    _require_kafka()
    data_dir = tmp_path_factory.mktemp("kafka-single")
    started = time.monotonic()
    process, bootstrap = start_kafka(data_dir)
    node = SingleNode(data_dir, process, bootstrap, time.monotonic() - started)
    try:
        yield node
    finally:
        node.process.stop()


class TestSingleNode:
    """One node, started once for this class (and stopped before the cluster starts)."""

    async def test_single_node_is_apache_kafka_and_round_trips_records(
        self, single: SingleNode
    ) -> None:
        info = await describe_cluster(single.bootstrap)
        assert [b["node_id"] for b in info["brokers"]] == [1]
        assert (single.data_dir / "kafka" / "log" / "meta.properties").is_file()
        assert (
            f"Apache Kafka {KAFKA_VERSION}" in (single.data_dir / "logs" / "kafka.log").read_text()
        )
        topic = _topic("roundtrip")
        records = [(f"k{i % 4}".encode(), f"v{i}".encode()) for i in range(200)]
        await _produce(single.bootstrap, topic, records)  # auto-created topic, acks=all
        got = await _consume(single.bootstrap, topic, expected=len(records))
        assert sorted(got) == sorted(records)

    async def test_records_and_committed_offsets_survive_sigkill_and_restart(
        self, single: SingleNode
    ) -> None:
        topic = _topic("durable")
        group = f"g-{uuid.uuid4().hex[:8]}"
        records = [(b"32", f"event-{i}".encode()) for i in range(500)]
        await _produce(single.bootstrap, topic, records)
        first = await _consume(
            single.bootstrap, topic, expected=500, group_id=group, commit_after=100
        )
        assert first == records[:100]

        old_bootstrap = single.bootstrap
        os.killpg(single.process.pid, signal.SIGKILL)
        single.process.proc.wait(timeout=10)
        single.process.stop()
        assert not single.process.alive()

        started = time.monotonic()
        # no port given: the port of the last start on this data dir is reused
        single.process, single.bootstrap = await asyncio.to_thread(start_kafka, single.data_dir)
        restart_seconds = time.monotonic() - started
        assert single.bootstrap == old_bootstrap
        log_text = (single.data_dir / "logs" / "kafka.log").read_text()
        assert log_text.count("--- siaga: formatting") == 1  # formatted on the first start only

        everything = await _consume(single.bootstrap, topic, expected=500)
        assert everything == records  # one key, one partition: order kept, nothing lost
        rest = await _consume(single.bootstrap, topic, expected=400, group_id=group)
        assert rest == records[100:]  # the group resumes at its committed offset
        print(
            f"single node: first start {single.first_start_seconds:.1f} s, "
            f"restart after SIGKILL {restart_seconds:.1f} s"
        )


# --------------------------------------------------------------------------- cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    _require_kafka()
    data_dir = tmp_path_factory.mktemp("kafka-cluster")
    started = start_kafka_cluster(data_dir, nodes=3)
    try:
        yield started
    finally:
        started.stop()


async def _create_replicated_topic(bootstrap: str, partitions: int = 3) -> str:
    topic = _topic("replicated")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(
                    topic,
                    num_partitions=partitions,
                    replication_factor=3,
                    topic_configs={"min.insync.replicas": "2"},
                )
            ]
        )
    finally:
        await admin.close()
    await _wait_fully_in_sync(bootstrap, topic, partitions=partitions)
    return topic


async def _isr(bootstrap: str, topic: str) -> dict[int, tuple[int, list[int]]]:
    """partition -> (leader, in-sync replicas)."""
    return await topic_replicas(bootstrap, topic)


async def _wait_fully_in_sync(
    bootstrap: str, topic: str, timeout: float = 60, partitions: int | None = None
) -> None:
    await wait_in_sync(bootstrap, topic, {1, 2, 3}, partitions=partitions, timeout=timeout)


def _batch(tag: str, n: int) -> list[tuple[bytes, bytes]]:
    return [(f"{i % 6}".encode(), f"{tag}-{i}".encode()) for i in range(n)]


async def test_cluster_has_three_brokers_and_a_controller(cluster: KafkaCluster) -> None:
    # A KRaft broker's metadata lists only unfenced brokers, and a broker that misses its
    # heartbeats to the controller on a loaded machine is fenced until the next one: seen
    # once in CI, {2, 3} right after the cluster said all three were up. The claim is that
    # the cluster has three brokers, so it is asked again for a while, not once.
    seen: set[int] = set()
    for _ in range(60):
        seen = await asyncio.to_thread(alive_brokers, cluster.bootstrap)
        if seen == {1, 2, 3}:
            break
        await asyncio.sleep(0.5)
    assert seen == {1, 2, 3}
    assert cluster.active_controller() in {1, 2, 3}
    for node in cluster.nodes.values():
        assert (node.log_dir / "meta.properties").is_file()
        assert f"cluster.id={cluster.cluster_id}" in (node.log_dir / "meta.properties").read_text()


async def test_acks_all_survives_a_sigkilled_broker_which_then_rejoins(
    cluster: KafkaCluster,
) -> None:
    topic = await _create_replicated_topic(cluster.bootstrap)
    before = _batch("before", 300)
    await _produce(cluster.bootstrap, topic, before)
    state = await _isr(cluster.bootstrap, topic)
    assert all(isr == [1, 2, 3] for _, isr in state.values()), state

    victim = state[0][0]  # the leader of partition 0: its partitions must fail over
    cluster.kill(victim)
    assert victim not in cluster.alive_nodes()
    during = _batch("during", 300)
    # acks=all with min.insync.replicas=2: two of three replicas are enough
    await _produce(cluster.bootstrap_without(victim), topic, during)
    state = await _isr(cluster.bootstrap_without(victim), topic)
    assert all(leader != victim and victim not in isr for leader, isr in state.values()), state

    await asyncio.to_thread(cluster.restart, victim)
    assert await asyncio.to_thread(alive_brokers, cluster.bootstrap) == {1, 2, 3}
    await _wait_fully_in_sync(cluster.bootstrap, topic)
    after = _batch("after", 100)
    await _produce(cluster.bootstrap, topic, after)
    got = await _consume(cluster.bootstrap, topic, expected=700)
    assert sorted(got) == sorted(before + during + after)


async def test_killing_the_active_controller_elects_another(cluster: KafkaCluster) -> None:
    topic = await _create_replicated_topic(cluster.bootstrap)
    leader = cluster.wait_for_controller()
    cluster.kill(leader)
    successor = await asyncio.to_thread(cluster.wait_for_controller, 60, leader)
    assert successor != leader and successor in cluster.alive_nodes()
    records = _batch("ctl", 200)
    await _produce(cluster.bootstrap_without(leader), topic, records)
    await asyncio.to_thread(cluster.restart, leader)
    await _wait_fully_in_sync(cluster.bootstrap, topic)
    assert sorted(await _consume(cluster.bootstrap, topic, expected=200)) == sorted(records)


async def test_acks_all_is_never_acknowledged_with_two_brokers_dead(
    cluster: KafkaCluster,
) -> None:
    """With two of three nodes dead the controller quorum is gone too, so nothing can shrink
    the ISR: an acks=all produce to the surviving leader is never acknowledged (it times
    out). Once the two are back the cluster heals and accepts acks=all again."""
    topic = await _create_replicated_topic(cluster.bootstrap, partitions=1)
    state = await _isr(cluster.bootstrap, topic)
    leader = state[0][0]
    others = [n for n in (1, 2, 3) if n != leader]
    # aiokafka retries a produce that timed out on the broker (RequestTimedOut) without
    # end, so the caller's own deadline is what turns "no acknowledgement" into an error.
    # Idempotent, so those retries cannot write the record twice.
    producer = AIOKafkaProducer(
        bootstrap_servers=cluster.nodes[leader].bootstrap,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=5000,
    )
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=b"warm-up", key=b"0")  # producer id
        for node_id in others:
            cluster.kill(node_id)
        pending = await producer.send(topic, value=b"unacknowledged", key=b"0")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(pending), 8)
        await asyncio.gather(*(asyncio.to_thread(cluster.restart, n) for n in others))
        # healed: the same record is acknowledged at last (at-least-once, never lost)
        await asyncio.wait_for(pending, 60)
    finally:
        await producer.stop()
    await _wait_fully_in_sync(cluster.bootstrap, topic)
    accepted = _batch("accepted", 5)
    await _produce(cluster.bootstrap, topic, accepted)
    wanted = [v for _, v in accepted]

    def accepted_in(got: list[tuple[bytes | None, bytes | None]]) -> list[bytes | None]:
        return [v for _, v in got if v and v.startswith(b"accepted")]

    got = await _consume(
        cluster.bootstrap, topic, expected=100, timeout=20, until=lambda g: accepted_in(g) == wanted
    )
    assert accepted_in(got) == wanted
    assert got.count((b"0", b"unacknowledged")) == 1
    assert got.count((b"0", b"warm-up")) == 1
