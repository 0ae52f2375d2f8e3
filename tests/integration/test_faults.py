"""The system stays up and loses nothing: Redis refusing writes while events flow, a record
that cannot be processed, a worker restarted."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from siaga import events as ev
from siaga.catalogue import EXAMPLES
from siaga.local import ManagedProcess
from siaga.readmodel import entity_key
from siaga.settings import Settings
from siaga.synthetic import kabupaten_points
from tests.support import produce_many

pytestmark = [pytest.mark.integration]


def _incidents(n: int, tag: str) -> list[ev.IncidentReported]:
    points = kabupaten_points("32")
    template = EXAMPLES[ev.IncidentReported]
    out = []
    for i in range(n):
        lat, lon, code = points[i % len(points)]
        out.append(template.model_copy(update={
            "event_id": uuid.uuid4(), "occurred_at": datetime.now(UTC),
            "incident_id": f"{tag}-{i}", "location": ev.Location(lat=lat, lon=lon),
            "kabupaten_code": code,
        }))
    return out


async def _count(redis: Redis, ids: list[str]) -> int:
    pipe = redis.pipeline(transaction=False)
    for incident_id in ids:
        pipe.hexists(entity_key("incident", incident_id, "32"), "json")
    return sum(1 for present in await pipe.execute() if present)


async def test_redis_refusing_writes_for_10_s_while_1000_events_flow_loses_none(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    tag = f"outage-{uuid.uuid4().hex[:6]}"
    incidents = _incidents(1000, tag)
    ids = [i.incident_id for i in incidents]
    # 200 before, 600 during the outage, 200 after it
    await produce_many(settings, incidents[:200])
    deadline = time.monotonic() + 30
    while await _count(redis, ids[:200]) < 200:
        assert time.monotonic() < deadline, "the first 200 never arrived"
        await asyncio.sleep(0.2)

    # Redis refuses every write (NOREPLICAS) while reads still answer
    await redis.config_set("min-replicas-to-write", 1)
    try:
        with pytest.raises(ResponseError, match="NOREPLICAS"):
            await redis.set(f"{tag}:probe", "1")
        before = await _count(redis, ids)
        started = time.monotonic()
        for start in range(200, 800, 100):
            await produce_many(settings, incidents[start : start + 100])
            await asyncio.sleep(1.4)
        # the events were flowing during the outage and none got through to Redis
        assert time.monotonic() - started >= 8
        assert await _count(redis, ids) == before
        assert worker.alive()
    finally:
        await redis.config_set("min-replicas-to-write", 0)
    await produce_many(settings, incidents[800:])

    deadline = time.monotonic() + 60
    while (present := await _count(redis, ids)) < 1000:
        assert time.monotonic() < deadline, f"only {present} of 1000 incidents in the read models"
        await asyncio.sleep(0.5)
    assert worker.alive()


async def test_a_record_failing_three_times_is_dead_lettered_and_the_rest_flow(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    """A state change the projector cannot write (Redis refuses its position) is retried,
    parked with the reason and its original bytes; the changes after it are applied."""
    from aiokafka import AIOKafkaProducer

    from siaga.catalogue import DEADLETTER, STATE_CHANGES
    from streams.changes import encode_change, make_change
    from tests.support import consume_all

    bad = make_change("shelter", "poison", "32", "1", {"location": {"lat": 91.0, "lon": 500.0}},
                      1.0)
    good = make_change("shelter", "fine", "32", "1", {"location": {"lat": -6.9, "lon": 107.6}},
                       1.0)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        topic = settings.topic(STATE_CHANGES)
        await producer.send_and_wait(topic, encode_change(bad), key=b"32")
        await producer.send_and_wait(topic, encode_change(good), key=b"32")
    finally:
        await producer.stop()
    parked = await consume_all(settings, settings.topic(DEADLETTER), expected=1, timeout=30)
    records = [json.loads(r.value) for r in parked]
    assert any("processing failed 3 times" in r["reason"] for r in records), records
    import base64

    assert any(base64.b64decode(r["value_b64"]) == encode_change(bad) for r in records)
    deadline = time.monotonic() + 20
    while not await redis.hexists(entity_key("shelter", "fine", "32"), "json"):
        assert time.monotonic() < deadline, "the change after the poison record never arrived"
        await asyncio.sleep(0.2)
    assert worker.alive()


async def test_a_future_dated_record_is_dead_lettered_and_the_next_correct_one_applies(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    """A phone with its clock four days ahead: its report is parked naming occurred_at; it
    does not freeze the incident, and the correct report after it is applied."""
    from datetime import timedelta

    from siaga.catalogue import DEADLETTER
    from tests.support import consume_all

    tag = f"clock-{uuid.uuid4().hex[:6]}"
    wrong, right = _incidents(2, tag)
    wrong = wrong.model_copy(update={"occurred_at": datetime.now(UTC) + timedelta(days=4),
                                     "affected": 1})
    right = right.model_copy(update={"incident_id": wrong.incident_id, "affected": 2})
    await produce_many(settings, [wrong, right])
    parked = await consume_all(settings, settings.topic(DEADLETTER), expected=1, timeout=30)
    reasons = [json.loads(r.value)["reason"] for r in parked]
    assert any(r.startswith("occurred_at:") and "ahead" in r for r in reasons), reasons
    deadline = time.monotonic() + 20
    while True:
        raw = await redis.hget(entity_key("incident", wrong.incident_id, "32"), "json")
        if raw and json.loads(raw)["affected"] == 2:
            break
        assert time.monotonic() < deadline, f"the correct report was not applied: {raw!r}"
        await asyncio.sleep(0.2)


async def _refuse_produce(settings: Settings, topics: list[str], refuse: bool) -> None:
    """The broker refuses every produce request to these topics (MESSAGE_TOO_LARGE: the
    topic accepts no record over 16 bytes) or accepts them again."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        replies = await admin.alter_configs([
            ConfigResource(ConfigResourceType.TOPIC, topic,
                           configs={"max.message.bytes": "16" if refuse else "1048588"})
            for topic in topics
        ])
        errors = [r for reply in replies for r in reply.resources if r[0] != 0]
        assert not errors, errors
    finally:
        await admin.close()


async def test_the_broker_refusing_produce_for_10_s_while_1000_events_flow_loses_none(
    settings: Settings, redis: Redis, worker: ManagedProcess, services: object
) -> None:
    """Every topic Siaga's worker writes its own records to (state changes, re-plan requests,
    outputs, escalations, dead letters) refuses produce requests for 10 s while input keeps
    arriving; afterwards every event is in the read models."""
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import KafkaError

    from siaga.catalogue import INTERNAL_TOPICS

    if getattr(services, "kind", "") != "kafka":
        pytest.fail("needs Apache Kafka (topic configs); run without SIAGA_TEST_BROKER=tansu")
    tag = f"refuse-{uuid.uuid4().hex[:6]}"
    incidents = _incidents(1000, tag)
    ids = [i.incident_id for i in incidents]
    await produce_many(settings, incidents[:200])
    deadline = time.monotonic() + 30
    while await _count(redis, ids[:200]) < 200:
        assert time.monotonic() < deadline, "the first 200 never arrived"
        await asyncio.sleep(0.2)

    refused = sorted(settings.topic(name) for name in INTERNAL_TOPICS)
    await _refuse_produce(settings, refused, True)
    try:
        # the broker applies a topic's new configuration shortly after acknowledging it (a
        # first probe was once accepted): wait until every refused topic refuses
        probe = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all",
                                 request_timeout_ms=5000)
        await probe.start()
        try:
            deadline = time.monotonic() + 20
            waiting = list(refused)
            while waiting:
                try:
                    await probe.send_and_wait(waiting[0], b"{" + b" " * 64 + b"}", key=b"00")
                except KafkaError:
                    waiting.pop(0)
                    continue
                assert time.monotonic() < deadline, f"{waiting[0]} still takes produce requests"
                await asyncio.sleep(0.2)
        finally:
            await probe.stop()
        before = await _count(redis, ids)
        started = time.monotonic()
        for start in range(200, 800, 100):
            await produce_many(settings, incidents[start : start + 100])
            await asyncio.sleep(1.7)
        assert time.monotonic() - started >= 8
        assert await _count(redis, ids) == before, "nothing may get through while refused"
        assert worker.alive()
    finally:
        await _refuse_produce(settings, refused, False)
    await produce_many(settings, incidents[800:])
    deadline = time.monotonic() + 90
    while (present := await _count(redis, ids)) < 1000:
        assert time.monotonic() < deadline, f"only {present} of 1000 incidents in the read models"
        await asyncio.sleep(0.5)
    assert worker.alive()
