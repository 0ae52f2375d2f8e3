"""Siaga on a 3-node Apache Kafka cluster (KRaft, replication 3, ``min.insync.replicas`` 2)
under broker faults: real JVMs killed with SIGKILL under Siaga's own API, worker and Redis.

- the API answers 503, never 202, when the cluster cannot acknowledge a write, and a retry
  with the same ``event_id`` after the cluster heals is accepted and counted once;
- a broker, then the active controller, SIGKILLed while reports flow through
  API → Kafka → worker → Redis: every report the API accepted (202) reaches the read model,
  and the province's plans, re-made under the fault from headcounts produced meanwhile,
  never promise a unit of stock twice;
- two workers (production profile, standby replicas on), one SIGKILLed for good: the other
  takes its partitions over and the read model converges on the right state.

Run alone: ``pytest tests/integration/test_cluster_faults.py -s`` prints what each fault
cost (503s, failover, takeover time).

The cluster is started once for this module (≈10 s) and healed before every test. Counting
is exact: what the API accepted against what Redis shows. Times are printed (and recorded
in BENCHMARKS.md), never asserted.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka.partitioner import murmur2
from redis.asyncio import Redis

from siaga import events as ev
from siaga import readmodel
from siaga.apache_kafka import (
    KafkaCluster,
    alive_brokers,
    kafka_available,
    start_kafka_cluster,
    wait_in_sync,
)
from siaga.catalogue import EXAMPLES
from siaga.kafka import ensure_topics
from siaga.local import LocalServiceError, ManagedProcess
from siaga.settings import Settings
from siaga.synthetic import kabupaten_points, province_disaster
from tests.e2e.helpers import bearer, make_token
from tests.support import (
    assert_no_unit_promised_twice,
    consume_all,
    produce_many,
    read_models,
    start_api,
    start_worker,
    wait_quiet,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

POSKO = "posko-cianjur-kab"
PROVINCE = "32"
# The 503 test's deadline: short, to keep it quick (the default, 12 s, outlasts a failover).
PUBLISH_TIMEOUT = 4.0
INCIDENTS = "incidents"  # the topic of incident reports (short name)


def _require_kafka() -> None:
    reason = kafka_available()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"Apache Kafka cannot run in CI: {reason}")
    pytest.skip(f"Apache Kafka cannot run here: {reason}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    _require_kafka()
    for attempt in range(3):
        try:
            started = start_kafka_cluster(tmp_path_factory.mktemp("siaga-cluster"), nodes=3)
            break
        except LocalServiceError:
            # six ports are picked free, then bound by three JVMs seconds later: on a busy
            # machine another process can take one meanwhile (BindException); fresh ports
            if attempt == 2:
                raise
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def healthy(cluster: KafkaCluster) -> KafkaCluster:
    """The cluster with all three nodes alive and in the metadata (a test before may have
    left a node dead when it failed)."""
    dead = [n for n in cluster.nodes if n not in cluster.alive_nodes()]
    for node_id in dead:
        cluster.restart(node_id)
    cluster.wait_for_controller()
    deadline = time.monotonic() + 60
    while alive_brokers(cluster.bootstrap) != {1, 2, 3}:
        assert time.monotonic() < deadline, "the cluster did not heal"
        time.sleep(0.5)
    return cluster


@pytest.fixture
def publish_timeout() -> float:
    """The API's deadline for an acknowledgement: the default, unless a test says."""
    return float(Settings.model_fields["publish_timeout_seconds"].default)


@pytest.fixture
def on_cluster(settings: Settings, healthy: KafkaCluster, publish_timeout: float) -> Settings:
    """This test's settings on the cluster: replication 3 (min ISR 2), production profile."""
    return settings.model_copy(update={
        "kafka_bootstrap_servers": healthy.bootstrap,
        "replication_factor": 3,
        "kafka_profile": "production",
        "publish_timeout_seconds": publish_timeout,
        "writes_per_minute": 100_000,
    })


@pytest_asyncio.fixture
async def clean_redis(on_cluster: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(on_cluster.redis_url or "")
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()


@dataclass
class Pipeline:
    base: str  # the API's base URL
    token: str  # a command post's token (posko-cianjur-kab, province 32)
    worker: ManagedProcess


@pytest.fixture
def pipeline(on_cluster: Settings, clean_redis: Redis) -> Iterator[Pipeline]:
    """Topics with replication 3, one worker and the API on the cluster."""
    asyncio.run(ensure_topics(on_cluster))
    worker = start_worker(on_cluster)
    try:
        api, base = start_api(on_cluster)
    except BaseException:
        worker.stop()
        raise
    token = make_token(on_cluster.redis_url or "", "command_post", posko_id=POSKO,
                       province_code=PROVINCE)
    try:
        yield Pipeline(base, token, worker)
    finally:
        api.stop()
        worker.stop()


# --------------------------------------------------------------------------- helpers

POINTS = kabupaten_points(PROVINCE)


def _incident(tag: str, i: int) -> dict[str, Any]:
    lat, lon, code = POINTS[i % len(POINTS)]
    return {
        "event_id": str(uuid.uuid4()),
        "incident_id": f"{tag}-{i}",
        "incident_type": "flood",
        "location": {"lat": lat, "lon": lon},
        "kabupaten_code": code,
        "severity": 3,
        "affected": 10 + i,
        "posko_id": POSKO,
    }


async def _present(redis: Redis, incident_ids: list[str]) -> dict[str, str]:
    """{incident_id: last_event_id} of the incidents the read model shows."""
    found: list[dict[str, Any] | None] = []
    for start in range(0, len(incident_ids), 16):  # a few connections at a time
        found += await asyncio.gather(*(readmodel.get_entity(redis, "incident", incident_id)
                                        for incident_id in incident_ids[start : start + 16]))
    return {incident_id: data["last_event_id"]
            for incident_id, data in zip(incident_ids, found, strict=True) if data}


async def _wait_present(redis: Redis, ids: list[str], timeout: float) -> dict[str, str]:
    """The incidents of ``ids`` in the read model, once all are there or after ``timeout``."""
    deadline = time.monotonic() + timeout
    shown: dict[str, str] = {}
    while True:
        shown.update(await _present(redis, [i for i in ids if i not in shown]))
        if len(shown) == len(ids) or time.monotonic() > deadline:
            return shown
        await asyncio.sleep(0.3)


def _partition_of(key: str, partitions: int) -> int:
    """The partition aiokafka's default partitioner (murmur2, as Kafka's) puts ``key`` on."""
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % partitions


async def _leader(settings: Settings, short_name: str, key: str) -> int:
    state = await wait_in_sync(settings.kafka_bootstrap_servers or "", settings.topic(short_name),
                               {1, 2, 3}, partitions=settings.partitions)
    return state[_partition_of(key, settings.partitions)][0]


@dataclass
class Tally:
    """What a command post saw: every id answered 202, and every answer that was not."""

    accepted: dict[str, str] = field(default_factory=dict)  # incident_id -> event_id
    unavailable: int = 0  # 503 answers
    refused: int = 0  # connection errors / client timeouts
    other: list[tuple[int, str]] = field(default_factory=list)  # anything else: a failure
    slowest_202: float = 0.0


async def _report_until_accepted(
    client: httpx.AsyncClient, token: str, body: dict[str, Any], tally: Tally, give_up: float
) -> None:
    """Post one report as a command post's app does: retry 503s with the same event_id."""
    while time.monotonic() < give_up:
        started = time.monotonic()
        try:
            answer = await client.post("/api/v1/incidents", json=body, headers=bearer(token))
        except httpx.HTTPError:
            tally.refused += 1
        else:
            if answer.status_code == 202:
                tally.accepted[body["incident_id"]] = body["event_id"]
                tally.slowest_202 = max(tally.slowest_202, time.monotonic() - started)
                return
            if answer.status_code != 503:
                tally.other.append((answer.status_code, answer.text[:300]))
                return
            tally.unavailable += 1
        await asyncio.sleep(0.5)


async def _stream_reports(
    base: str, token: str, bodies: list[dict[str, Any]], rate: float, tally: Tally
) -> None:
    """``bodies`` at ``rate`` per second, each retried until accepted (60 s at most)."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        tasks = []
        for body in bodies:
            tasks.append(asyncio.create_task(
                _report_until_accepted(client, token, body, tally, time.monotonic() + 60)))
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*tasks)


# --------------------------------------------------------------------------- (a) 503


@pytest.mark.parametrize("publish_timeout", [PUBLISH_TIMEOUT])
async def test_api_answers_503_never_202_without_acknowledgements_and_a_retry_counts_once(
    on_cluster: Settings, healthy: KafkaCluster, clean_redis: Redis,
    pipeline: Pipeline,
) -> None:
    base, token = pipeline.base, pipeline.token
    tag = f"ack-{uuid.uuid4().hex[:6]}"
    first = _incident(tag, 0)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        answer = await client.post("/api/v1/incidents", json=first, headers=bearer(token))
        assert answer.status_code == 202, answer.text
        assert await _wait_present(clean_redis, [first["incident_id"]], 60)

        # Two of three nodes killed; the survivor is the leader of province 32's partition,
        # so it takes the record into its log but cannot get a second in-sync replica (and
        # with one voter of three there is no controller to shrink the ISR).
        leader = await _leader(on_cluster, INCIDENTS, PROVINCE)
        killed = [n for n in healthy.nodes if n != leader]
        for node_id in killed:
            healthy.kill(node_id)

        during = [_incident(tag, i) for i in range(1, 6)]
        started = time.monotonic()
        answers = await asyncio.gather(*(
            client.post("/api/v1/incidents", json=body, headers=bearer(token))
            for body in during))
        took = time.monotonic() - started
        assert [a.status_code for a in answers] == [503] * len(during), [
            (a.status_code, a.text[:200]) for a in answers]
        assert took < PUBLISH_TIMEOUT + 5, f"the 503s took {took:.1f} s"
        detail = answers[0].json()["detail"]
        assert "Kirim ulang dengan event_id yang sama" in detail
        assert "Retry with the same event_id" in detail
        assert answers[0].headers["Retry-After"] == "5"
        # a retry while the cluster is still down is not answered from a half-kept record
        again = await client.post("/api/v1/incidents", json=during[0], headers=bearer(token))
        assert again.status_code == 503, again.text
        for body in during:
            assert await clean_redis.get(f"siaga:api:accepted:{body['event_id']}") is None
        print(f"\n5 writes without acknowledgement: 503 after {took:.1f} s "
              f"(deadline {PUBLISH_TIMEOUT:g} s)")

        # heal: the two nodes back, every partition of the input topic fully in sync
        healed_at = time.monotonic()
        await asyncio.gather(*(asyncio.to_thread(healthy.restart, n) for n in killed))
        await wait_in_sync(healthy.bootstrap, on_cluster.topic(INCIDENTS), {1, 2, 3},
                           partitions=on_cluster.partitions, timeout=90)
        # the command post retries each report with its event_id until it is accepted
        tally = Tally()
        await asyncio.gather(*(
            _report_until_accepted(client, token, body, tally, time.monotonic() + 90)
            for body in during))
        assert tally.other == []
        assert set(tally.accepted) == {b["incident_id"] for b in during}
        print(f"accepted again {time.monotonic() - healed_at:.1f} s after the restarts began "
              f"({tally.unavailable} more 503s while the producer reconnected)")
        # and a second retry of an accepted report is answered 202 without a new record
        repeat = await client.post("/api/v1/incidents", json=during[0], headers=bearer(token))
        assert repeat.status_code == 202, repeat.text

    ids = [first["incident_id"], *(b["incident_id"] for b in during)]
    shown = await _wait_present(clean_redis, ids, 60)
    assert shown == {b["incident_id"]: b["event_id"] for b in [first, *during]}
    # Each report is in the log at least once (the abandoned send may have landed after
    # the cluster healed, next to the retry's record): the read model counts it once.
    records = await consume_all(on_cluster, on_cluster.topic(INCIDENTS), expected=10**9,
                                timeout=6)
    copies: dict[str, int] = {}
    for record in records:
        event_id = json.loads(record.value)["event_id"]
        copies[event_id] = copies.get(event_id, 0) + 1
    assert set(copies) == {b["event_id"] for b in [first, *during]}
    print(f"records per event in the log: {sorted(copies.values())}")
    incidents = [k async for k in clean_redis.scan_iter(match=f"siaga:incident:*{tag}-*")]
    assert len(incidents) == len(ids)
    assert pipeline.worker.alive(), "the worker did not survive the outage"


# --------------------------------------------------------------------------- (b), (c)


@pytest.mark.parametrize("victim", ["broker", "controller"])
async def test_a_node_sigkilled_mid_stream_loses_no_accepted_report(
    victim: str, on_cluster: Settings, healthy: KafkaCluster, clean_redis: Redis,
    pipeline: Pipeline,
) -> None:
    """``broker``: the leader of the reports' partition (not the active controller) is
    SIGKILLed; ``controller``: the active controller is. While it is dead the pipeline must
    go on (reports accepted and in Redis with two nodes of three); then it is restarted.
    Every report is retried until accepted; what the API accepted is exactly what Redis
    shows, each with the event the API accepted."""
    base, token = pipeline.base, pipeline.token
    tag = f"{victim}-{uuid.uuid4().hex[:6]}"
    bodies = [_incident(tag, i) for i in range(400)]
    ids = [b["incident_id"] for b in bodies]
    controller = healthy.wait_for_controller()
    if victim == "controller":
        target = controller
    else:
        leader = await _leader(on_cluster, INCIDENTS, PROVINCE)
        target = leader if leader != controller else next(
            n for n in healthy.nodes if n != controller)
    # stock, shelters and headcounts in the province: plans are re-made under the fault
    disaster = province_disaster(PROVINCE, 40, updates=240, warehouses=3, teams=2, tag=tag)
    await produce_many(on_cluster, disaster.setup)
    tally = Tally()
    stream = asyncio.create_task(_stream_reports(base, token, bodies, rate=20, tally=tally))
    feeding = asyncio.create_task(_produce_through_faults(on_cluster, disaster.headcounts, 4))
    deadline = time.monotonic() + 60
    while len(await _present(clean_redis, ids[:60])) < 30:
        assert time.monotonic() < deadline and not stream.done(), "reports are not flowing"
        await asyncio.sleep(0.2)
    assert not stream.done()
    before = dict(tally.accepted)
    healthy.kill(target)
    killed_at = time.monotonic()
    successor = elected = None
    if victim == "controller":
        successor = await asyncio.to_thread(healthy.wait_for_controller, 60, target)
        elected = time.monotonic() - killed_at
        assert successor != target
    # the pipeline goes on with the node dead: 20 more reports accepted and in Redis
    first_202 = None
    while True:
        new = [i for i in tally.accepted if i not in before]
        if new and first_202 is None:
            first_202 = time.monotonic() - killed_at
        if len(new) >= 20 and len(await _present(clean_redis, new)) >= 20:
            break
        assert time.monotonic() - killed_at < 45, (
            f"with node {target} dead: {len(new)} accepted, pipeline stuck")
        assert not stream.done(), "the stream ended before the pipeline went on"
        await asyncio.sleep(0.2)
    flowing = time.monotonic() - killed_at
    assert target not in healthy.alive_nodes()
    assert not feeding.done(), "headcounts must still be flowing when the node is back"
    back = await asyncio.to_thread(healthy.restart, target)
    await stream
    await feeding
    assert tally.other == [], tally.other
    assert len(tally.accepted) == len(bodies), f"{len(bodies) - len(tally.accepted)} never accepted"

    started = time.monotonic()
    shown = await _wait_present(clean_redis, ids, 120)
    missing = sorted(set(ids) - set(shown))
    assert not missing, f"{len(missing)} accepted reports not in the read model: {missing[:10]}"
    assert shown == tally.accepted  # and each with the event the API accepted
    assert pipeline.worker.alive(), "the worker did not survive the fault"
    await wait_in_sync(healthy.bootstrap, on_cluster.topic(INCIDENTS), {1, 2, 3},
                       partitions=on_cluster.partitions, timeout=90)
    # every headcount is shown, and no plan made through the fault promised a unit twice
    last = {h.shelter_id: h.total for h in disaster.headcounts}
    deadline = time.monotonic() + 120
    while True:
        views = await readmodel.get_entities(clean_redis, "shelter", sorted(last), PROVINCE)
        if all(v and not v.get("plan_pending") and (v.get("headcount") or {}).get("total")
               == last[s] for s, v in views.items()):
            break
        assert time.monotonic() < deadline, "the province's last headcounts were not planned"
        await asyncio.sleep(0.5)
    await wait_quiet(clean_redis, quiet_for=3, timeout=120)
    plans = await assert_no_unit_promised_twice(on_cluster, await read_models(clean_redis))
    assert plans > 0, "the planners wrote nothing: the stock check checked nothing"
    print(f"\n{victim} (node {target}) SIGKILLed after {len(before)} accepted; "
          + (f"new controller node {successor} in {elected:.1f} s; " if elected else "")
          + f"first 202 {first_202:.1f} s after the kill, 20 more in Redis after "
          f"{flowing:.1f} s; restarted in {back:.1f} s; {tally.unavailable} answers 503, "
          f"{tally.refused} refused, slowest 202 {tally.slowest_202:.1f} s; all {len(ids)} "
          f"in Redis {time.monotonic() - started:.1f} s after the last was accepted")


def _recovery_start_offsets(log_text: str, changelog: str) -> dict[int, int]:
    """From faust's last "active offsets at start of reading" table in a worker's log: the
    offset each partition of ``changelog`` was read from (-1: from the beginning)."""
    marker = "active offsets at start of reading"
    table = log_text[log_text.rindex(marker):].split("standby offsets at start", 1)[0]
    offsets: dict[int, int] = {}
    current = None
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[1].lstrip("-").isdigit():
            continue
        name = cells[0]
        if name != "〃":
            current = name
        if current == changelog:
            offsets[int(cells[1])] = int(cells[2])
    return offsets


async def _produce_through_faults(settings: Settings, events: list[Any], rate: float) -> None:
    """Produce ``events`` at ``rate``/s with acks=all as a field client would: a send the
    cluster cannot acknowledge is retried until it is (the same event, so at most a
    duplicate, which the worker folds once)."""
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import KafkaError

    from siaga.catalogue import topic_for_event_type
    from siaga.events import encode_event

    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all",
                                request_timeout_ms=10_000)
    await producer.start()
    try:
        for event in events:
            while True:
                try:
                    await producer.send_and_wait(
                        settings.topic(topic_for_event_type(event.type).name),
                        encode_event(event), key=event.province_code.encode())
                    break
                except KafkaError:
                    await asyncio.sleep(0.5)
            await asyncio.sleep(1 / rate)
    finally:
        await producer.stop()


# --------------------------------------------------------------------------- (d) standby


def _shelters(tag: str, provinces: list[str], per_province: int) -> list[Any]:
    template = EXAMPLES[ev.ShelterRegistered]
    out = []
    for province in provinces:
        points = kabupaten_points(province)
        for i in range(per_province):
            lat, lon, code = points[i % len(points)]
            out.append(template.model_copy(update={
                "event_id": uuid.uuid4(), "occurred_at": datetime.now(UTC),
                "shelter_id": f"{tag}-{province}-{i}", "name": f"Pengungsian {province}-{i}",
                "location": ev.Location(lat=lat, lon=lon), "province_code": province,
                "kabupaten_code": code, "incident_id": None, "posko_id": f"posko-{province}",
            }))
    return out


def _incident_events(tag: str, provinces: list[str]) -> list[Any]:
    template = EXAMPLES[ev.IncidentReported]
    out = []
    for province in provinces:
        lat, lon, code = kabupaten_points(province)[0]
        out.append(template.model_copy(update={
            "event_id": uuid.uuid4(), "occurred_at": datetime.now(UTC),
            "incident_id": f"{tag}-{province}", "location": ev.Location(lat=lat, lon=lon),
            "province_code": province, "kabupaten_code": code, "posko_id": f"posko-{province}",
        }))
    return out


def _headcounts(shelters: list[ev.ShelterRegistered], total: int,
                at: datetime) -> list[Any]:
    template = EXAMPLES[ev.ShelterHeadcountReported]
    return [template.model_copy(update={
        "event_id": uuid.uuid4(), "occurred_at": at, "shelter_id": s.shelter_id,
        "province_code": s.province_code, "total": total + i, "infants": 0, "children": 0,
        "elderly": 0, "pregnant_lactating": 0, "disabled": 0, "posko_id": s.posko_id,
    }) for i, s in enumerate(shelters)]


def _provinces_on_every_partition(partitions: int, per_partition: int) -> list[str]:
    """Province codes whose records land on every one of ``partitions`` partitions."""
    from importlib import resources

    codes = sorted({line.split(",")[0] for line in resources.files("geo.data").joinpath(
        "provinces.csv").read_text().splitlines()[1:] if line})
    chosen: dict[int, list[str]] = {p: [] for p in range(partitions)}
    for code in codes:
        if kabupaten_points(code) and len(chosen[_partition_of(code, partitions)]) < per_partition:
            chosen[_partition_of(code, partitions)].append(code)
    assert all(len(c) == per_partition for c in chosen.values()), chosen
    return [code for codes_ in chosen.values() for code in codes_]


async def _totals(redis: Redis, shelters: list[ev.ShelterRegistered]) -> dict[str, Any]:
    found: list[dict[str, Any] | None] = []
    for start in range(0, len(shelters), 16):
        found += await asyncio.gather(*(
            readmodel.get_entity(redis, "shelter", s.shelter_id)
            for s in shelters[start : start + 16]))
    return {s.shelter_id: data for s, data in zip(shelters, found, strict=True) if data}


async def _wait_totals(redis: Redis, shelters: list[ev.ShelterRegistered],
                       want: dict[str, int], timeout: float) -> dict[str, int | None]:
    """Each shelter's headcount total in the read model, once all equal ``want`` (or after
    ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = {k: ((v.get("headcount") or {}).get("total"))
                 for k, v in (await _totals(redis, shelters)).items()}
        if shown == want or time.monotonic() > deadline:
            return shown
        await asyncio.sleep(0.25)


async def _ready_workers(redis: Redis, app_id: str, pids: set[int], timeout: float) -> float:
    """Wait until exactly the workers ``pids`` report ready, each holding partitions."""
    from siaga.workers import worker_status

    started = time.monotonic()
    while True:
        status = await worker_status(redis, app_id)
        ready = {int(str(w["worker_id"]).rsplit(":", 1)[1]) for w in status["workers"]
                 if w.get("ready") and w.get("partitions", 0) > 0}
        if ready == pids:
            return time.monotonic() - started
        assert time.monotonic() - started < timeout, (
            f"ready workers {ready}, wanted {pids}: {status['workers']}")
        await asyncio.sleep(0.25)


async def test_two_workers_one_sigkilled_the_survivor_takes_over_with_the_right_state(
    on_cluster: Settings, healthy: KafkaCluster, clean_redis: Redis,
) -> None:
    """Production profile (standby replicas on): worker A is SIGKILLed for good; B must
    take A's partitions over with the right state: after the takeover B applies new
    headcounts to shelters A registered, and ignores stale ones (which it can tell only from
    the versions in the taken-over state).

    Found here: with faust's memory store a standby copy did not shorten the takeover —
    that store deletes standby rows after each recovery and reports no offset, so B read the
    promoted changelogs from offset 0. Siaga's store (streams/entities.py KeepingStore)
    keeps them and the offset it holds: B must resume every partition from there. The
    takeover time is printed."""
    settings = on_cluster
    await ensure_topics(settings)
    provinces = _provinces_on_every_partition(settings.partitions, 2)
    shelters = _shelters(f"sb-{uuid.uuid4().hex[:6]}", provinces, per_province=5)
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    first = start_worker(settings, "worker-a")
    second = None
    try:
        second = start_worker(settings, "worker-b")
        await _ready_workers(clean_redis, settings.app_id, {first.pid, second.pid}, 120)
        await produce_many(settings, shelters)
        await produce_many(settings, _headcounts(shelters, 100, t0))
        want = {s.shelter_id: 100 + i for i, s in enumerate(shelters)}
        assert await _wait_totals(clean_redis, shelters, want, 90) == want
        await asyncio.sleep(3)  # standbys read the changelogs continuously; let them catch up

        # A dies; new headcounts for every shelter on every partition go in at once
        os.killpg(first.pid, signal.SIGKILL)
        first.proc.wait(timeout=10)
        killed_at = time.monotonic()
        await produce_many(settings, _headcounts(shelters, 200, t0 + timedelta(minutes=10)))
        want = {s.shelter_id: 200 + i for i, s in enumerate(shelters)}
        shown = await _wait_totals(clean_redis, shelters, want, 120)
        takeover = time.monotonic() - killed_at
        assert shown == want, {k: (want[k], shown.get(k)) for k in want if shown.get(k) != want[k]}
        # B consumes every partition of the other input topics too (an incident per province)
        incidents = _incident_events(f"in-{uuid.uuid4().hex[:6]}", provinces)
        await produce_many(settings, incidents)
        wanted = [i.incident_id for i in incidents]
        arrived = await _wait_present(clean_redis, wanted, 60)
        assert set(arrived) == set(wanted), f"not consumed after the takeover: " \
            f"{sorted(set(wanted) - set(arrived))}"
        alone = await _ready_workers(clean_redis, settings.app_id, {second.pid}, 60)

        # stale reports (older than what the taken-over state holds) change nothing; a new
        # shelter per province, behind them on the same partitions, shows they were read
        await produce_many(settings, _headcounts(shelters, 900, t0 + timedelta(minutes=5)))
        markers = _shelters(f"mk-{uuid.uuid4().hex[:6]}", provinces, per_province=1)
        await produce_many(settings, markers)
        await produce_many(settings, _headcounts(markers, 7, t0 + timedelta(minutes=20)))
        marker_want = {s.shelter_id: 7 + i for i, s in enumerate(markers)}
        assert await _wait_totals(clean_redis, markers, marker_want, 60) == marker_want
        assert await _wait_totals(clean_redis, shelters, want, 0) == want
        data = await _totals(clean_redis, shelters)
        for shelter in shelters:  # the registration A folded is still there
            assert data[shelter.shelter_id]["name"] == shelter.name
        assert second.alive()
    finally:
        for proc in (second, first):
            if proc is not None:
                proc.stop()
    log_text = second.log_path.read_text(errors="replace") if second.log_path else ""
    assert "Starting standby partitions" in log_text  # standbys were on (production profile)
    # no input record was committed past unprocessed (streams/offsets.py; one was, in CI)
    assert "it is lost" not in log_text
    # B took A's partitions over from its standby copies: the recovery after the kill
    # started every shelters-changelog partition after the offset B already held, none
    # from the beginning (-1), which faust's own memory store did (streams/entities.py)
    resumed = _recovery_start_offsets(log_text, settings.app_id + "-shelters-changelog")
    assert sorted(resumed) == list(range(settings.partitions)), resumed
    assert all(offset >= 0 for offset in resumed.values()), resumed
    print(f"\nworker A SIGKILLed: every partition's new headcounts in Redis after "
          f"{takeover:.1f} s (B alone and ready after {takeover + alone:.1f} s)")
