"""The incidents agent on the real broker: bad records are parked, good ones flow on."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from siaga import readmodel
from siaga.catalogue import DEADLETTER, EXAMPLES
from siaga.events import IncidentReported, encode_event
from siaga.local import ManagedProcess
from siaga.settings import Settings
from tests.support import consume_all, wait_until

pytestmark = pytest.mark.integration


def _incident(**changes: Any) -> IncidentReported:
    base = EXAMPLES[IncidentReported]
    return base.model_copy(
        update={"event_id": uuid.uuid4(), "incident_id": f"inc-{uuid.uuid4().hex[:8]}", **changes}
    )


async def _produce(settings: Settings, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(settings.topic("incidents"), value=value, key=key)
    finally:
        await producer.stop()


async def test_bad_records_go_to_dead_letter_and_the_next_valid_one_is_processed(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    valid = _incident()
    unknown_version = json.loads(encode_event(_incident()))
    unknown_version["schema_version"] = 99
    missing_field = json.loads(encode_event(_incident()))
    del missing_field["incident_type"]
    bad = [
        b"{this is not json",
        json.dumps(unknown_version).encode(),
        json.dumps(missing_field).encode(),
    ]
    await _produce(settings, [(b"32", value) for value in bad] + [(b"32", encode_event(valid))])

    stored = await wait_until(
        lambda: readmodel.get_entity(redis, "incident", valid.incident_id), timeout=20
    )
    assert stored["incident_id"] == valid.incident_id
    assert stored["displaced"] == valid.displaced

    parked = await consume_all(settings, settings.topic(DEADLETTER), expected=3)
    reasons = [json.loads(record.value)["reason"] for record in parked]
    originals = [base64.b64decode(json.loads(record.value)["value_b64"]) for record in parked]
    assert len(parked) == 3
    assert any(reason.startswith("not valid JSON") for reason in reasons)
    assert any("schema_version: unknown version 99" in reason for reason in reasons)
    assert any("incident_type: Field required" in reason for reason in reasons)
    assert sorted(originals) == sorted(bad)
    topics = {json.loads(record.value)["topic"] for record in parked}
    assert topics == {settings.topic("incidents")}


async def test_same_event_twice_yields_one_incident_and_one_feed_entry(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    report = _incident()
    marker = _incident()
    raw = encode_event(report)
    await _produce(settings, [(b"32", raw), (b"32", raw), (b"32", encode_event(marker))])
    await wait_until(lambda: readmodel.get_entity(redis, "incident", marker.incident_id), 20)

    incidents = await readmodel.list_entities(redis, "incident")
    assert [i["incident_id"] for i in incidents].count(report.incident_id) == 1
    feed = await redis.xrange(readmodel.FEED)
    ids = [fields[b"id"].decode() for _, fields in feed]
    assert ids.count(report.incident_id) == 1


async def test_an_older_report_never_overwrites_a_newer_one(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    from datetime import timedelta

    newer = _incident(displaced=73862)
    older = newer.model_copy(
        update={
            "event_id": uuid.uuid4(),
            "displaced": 5389,
            "occurred_at": newer.occurred_at - timedelta(days=4),
        }
    )
    marker = _incident()
    await _produce(
        settings,
        [(b"32", encode_event(newer)), (b"32", encode_event(older)), (b"32", encode_event(marker))],
    )
    await wait_until(lambda: readmodel.get_entity(redis, "incident", marker.incident_id), 20)
    stored = await readmodel.get_entity(redis, "incident", newer.incident_id)
    assert stored is not None and stored["displaced"] == 73862


async def test_record_keyed_by_another_province_is_dead_lettered(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    misfiled = _incident()
    marker = _incident()
    await _produce(settings, [(b"31", encode_event(misfiled)), (b"32", encode_event(marker))])
    await wait_until(lambda: readmodel.get_entity(redis, "incident", marker.incident_id), 20)
    parked = await consume_all(settings, settings.topic(DEADLETTER), expected=1)
    assert len(parked) == 1
    assert "key" in json.loads(parked[0].value)["reason"]
    assert await readmodel.get_entity(redis, "incident", misfiled.incident_id) is None
