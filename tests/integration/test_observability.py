"""Observability against the real broker, Redis and a real worker process: the worker's
metrics move by exactly the records sent, the pipeline's lag as Kafka sees it returns to
zero after a burst, and a parked record can be listed, shown and replayed after a fix."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from siaga import deadletters as dl
from siaga import events as ev
from siaga.catalogue import EXAMPLES
from siaga.local import ManagedProcess
from siaga.pipeline import PipelineView
from siaga.readmodel import entity_key
from siaga.settings import Settings
from siaga.synthetic import kabupaten_points
from siaga.workers import worker_status
from tests.support import produce_many, wait_until

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


async def _metrics_url(redis: Redis, settings: Settings) -> str:
    async def port() -> int | None:
        status = await worker_status(redis, settings.app_id)
        for entry in status["workers"]:
            found = (entry.get("detail") or {}).get("metrics_port")
            if found:
                return int(found)
        return None

    return f"http://127.0.0.1:{await wait_until(port, timeout=30)}/metrics"


def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def _cli(settings: Settings, *args: str) -> str:
    import sys

    from tests.support import ROOT, child_env

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "siaga.cli", *args, cwd=ROOT, env=child_env(settings),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def _send_raw(settings: Settings, topic: str, key: bytes, value: bytes,
                    timestamp_ms: int | None = None) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, timestamp_ms=timestamp_ms)
    finally:
        await producer.stop()


async def test_counters_move_by_exactly_the_records_sent_and_a_parked_record_replays(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    url = await _metrics_url(redis, settings)
    before = await asyncio.to_thread(_scrape, url)
    tag = f"obs-{uuid.uuid4().hex[:6]}"
    good = _incidents(7, tag)
    await produce_many(settings, good)
    topic = settings.topic("incidents")
    # undecodable bytes, and a valid report whose record a gateway stamped an hour early
    # (its clock was wrong): parked as "occurred_at ... ahead"; fixed, it can be replayed
    await _send_raw(settings, topic, b"32", b"{not json")
    late = _incidents(1, tag + "-late")[0]
    await _send_raw(settings, topic, b"32", ev.encode_event(late),
                    timestamp_ms=int((time.time() - 3600) * 1000))

    async def all_counted() -> dict[Any, float] | None:
        now = await asyncio.to_thread(_scrape, url)
        moved = (_value(now, "siaga_events_processed_total", topic="incidents")
                 - _value(before, "siaga_events_processed_total", topic="incidents"))
        return now if moved >= 9 else None

    after = await wait_until(all_counted, timeout=60, interval=0.3)
    await asyncio.sleep(1.5)  # nothing more arrives
    after = await asyncio.to_thread(_scrape, url)

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert moved("siaga_events_processed_total", topic="incidents") == 9
    assert moved("siaga_deadlettered_total", topic="incidents", reason="not valid JSON") == 1
    assert moved("siaga_deadlettered_total", topic="incidents", reason="occurred_at") == 1

    async def replanned() -> bool:
        now = await asyncio.to_thread(_scrape, url)
        return (_value(now, "siaga_replan_seconds_count", province="32") >= 1
                and _value(now, "siaga_plan_size_count", province="32") >= 1
                and _value(now, "siaga_projection_lag_seconds_count") >= 1)

    await wait_until(replanned, timeout=60, interval=0.5)

    # the pipeline's view from Kafka counts the same dead letters by reason
    view = PipelineView(settings)
    await view.start()
    try:
        snapshot = await view.refresh()
    finally:
        await view.stop()
    parked_counts = {(r["topic"], r["reason"]): r["count"] for r in snapshot["deadletters"]}
    assert parked_counts == {("incidents", "not valid JSON"): 1, ("incidents", "occurred_at"): 1}

    letters = await dl.list_deadletters(settings, topic="incidents")
    assert len(letters) == 2
    # the same through the command line, and on the duty screen
    listed = await _cli(settings, "deadletter", "list", "--topic", "incidents", "--json")
    assert sorted(x["id"] for x in json.loads(listed)) == sorted(x.id for x in letters)
    screen = json.loads(await _cli(settings, "status", "--json"))
    assert {(r["topic"], r["reason"]): r["count"] for r in screen["kafka"]["deadletters"]} == (
        parked_counts)
    assert screen["plans"].get("32")  # the province's last plan time
    assert "incident" in screen["picture"]["panels"]
    text = await _cli(settings, "status")
    assert "dead letters: 2" in text and "last plan per province:" in text
    # the worker said where its metrics are when it started
    assert worker.log_path is not None
    worker_log = worker.log_path.read_text(errors="replace")
    assert f"metrics on {url}" in worker_log
    # and logged the parked report with its event id
    assert any("dead-lettered" in line and str(late.event_id) in line
               for line in worker_log.splitlines()), worker_log[-3000:]
    assert [x.id for x in await dl.list_deadletters(settings, reason="NOT VALID")] == [
        next(x.id for x in letters if x.reason_kind == "not valid JSON")]
    assert await dl.list_deadletters(settings, topic="shelters") == []
    assert await dl.list_deadletters(settings, since="2999-01-01T00:00:00+00:00") == []
    late_letter = next(x for x in letters if x.reason_kind == "occurred_at")
    assert late_letter.event_id == str(late.event_id)
    shown = await dl.show(settings, late_letter.id)
    assert json.loads(shown["value"])["incident_id"] == late.incident_id
    assert shown["original_topic"] == topic

    key = entity_key("incident", late.incident_id, "32")
    assert not await redis.hexists(key, "json")
    outcome = await dl.replay(settings, redis, [late_letter.id])
    assert outcome[0]["replayed"] is True, outcome
    replay_trace = outcome[0]["trace_id"]

    async def projected() -> bool:
        return bool(await redis.hexists(key, "json"))

    await wait_until(projected, timeout=30)
    # the replayed record carried a trace of its own: the worker logged it when folding it
    assert replay_trace in worker.log_path.read_text(errors="replace")
    again = await dl.replay(settings, redis, [late_letter.id])
    assert again[0]["replayed"] is False and again[0]["why"] == "already replayed"

    # the undecodable one, replayed with its corrected bytes
    broken = next(x for x in letters if x.reason_kind == "not valid JSON")
    fixed = _incidents(1, tag + "-fixed")[0]
    result = await dl.replay(settings, redis, [broken.id], value=ev.encode_event(fixed))
    assert result[0]["replayed"] is True
    fixed_key = entity_key("incident", fixed.incident_id, "32")

    async def fixed_projected() -> bool:
        return bool(await redis.hexists(fixed_key, "json"))

    await wait_until(fixed_projected, timeout=30)
    final = await asyncio.to_thread(_scrape, url)
    assert (_value(final, "siaga_events_processed_total", topic="incidents")
            - _value(before, "siaga_events_processed_total", topic="incidents")) == 11
    assert (_value(final, "siaga_deadlettered_total", topic="incidents", reason="occurred_at")
            - _value(before, "siaga_deadlettered_total", topic="incidents",
                     reason="occurred_at")) == 1


async def test_projection_lag_is_timed_from_the_report_not_from_the_last_hop(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    """A report produced 20 s ago (its record's timestamp) is on the dashboard 20 s after it
    was produced, whatever the last hop (state change → Redis) took: the incident's own
    change and the re-plan's changes both count from the report."""
    url = await _metrics_url(redis, settings)
    before = await asyncio.to_thread(_scrape, url)
    report = _incidents(1, f"lag-{uuid.uuid4().hex[:6]}")[0].model_copy(
        update={"occurred_at": datetime.now(UTC) - timedelta(seconds=30)})
    await _send_raw(settings, settings.topic("incidents"), b"32", ev.encode_event(report),
                    timestamp_ms=int((time.time() - 20) * 1000))

    def moved(now: dict[Any, float], name: str, **labels: str) -> float:
        return _value(now, name, **labels) - _value(before, name, **labels)

    async def projected_and_planned() -> bool:
        now = await asyncio.to_thread(_scrape, url)
        return (moved(now, "siaga_replan_seconds_count", province="32") >= 1
                and moved(now, "siaga_projection_lag_seconds_count") >= 2)

    await wait_until(projected_and_planned, timeout=60, interval=0.3)
    await asyncio.sleep(1.5)
    after = await asyncio.to_thread(_scrape, url)
    count = moved(after, "siaga_projection_lag_seconds_count")
    assert count >= 2
    # every observation is at least the 20 s since the report was produced
    assert moved(after, "siaga_projection_lag_seconds_bucket", le="10.0") == 0
    assert moved(after, "siaga_projection_lag_seconds_bucket", le="60.0") == count
    assert moved(after, "siaga_projection_lag_seconds_sum") >= 20 * count


async def test_lag_read_from_kafka_returns_to_zero_after_a_burst(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    url = await _metrics_url(redis, settings)
    view = PipelineView(settings)
    await view.start()
    try:
        burst = _incidents(300, f"burst-{uuid.uuid4().hex[:6]}")
        # the worker paused (its process group stopped for the second this takes), so the
        # lag is read before it committed any of the burst: it used to race the worker
        os.killpg(worker.pid, signal.SIGSTOP)
        try:
            await produce_many(settings, burst)
            first = await view.refresh()
        finally:
            os.killpg(worker.pid, signal.SIGCONT)
        ends = sum(r["end"] for r in first["lag"] if r["topic"] == "incidents")
        incidents_lag = sum(r["lag"] for r in first["lag"] if r["topic"] == "incidents")
        assert incidents_lag >= 300  # the whole burst waits for the group
        assert first["total_lag"] >= incidents_lag
        assert ends >= 300  # the burst is on the topic the group consumes

        seen: list[Any] = []

        async def caught_up() -> dict[str, Any] | None:
            snapshot = await view.refresh()
            seen[:] = [[r for r in snapshot["lag"] if r["lag"]]]
            rows = [r for r in snapshot["lag"] if r["topic"] == "incidents"]
            # every topic the workers consume, downstream ones too (re-plans, state changes)
            done = snapshot["total_lag"] == 0
            return snapshot if done and sum(r["end"] for r in rows) >= 300 else None

        try:
            snapshot = await wait_until(caught_up, timeout=300, interval=0.5)
        except AssertionError:
            raise AssertionError(f"lag never returned to 0: {seen}") from None
        assert {r["topic"] for r in snapshot["lag"]} >= {"incidents", "replan", "state-changes"}
    finally:
        await view.stop()

    async def worker_says_zero() -> bool:
        samples = await asyncio.to_thread(_scrape, url)
        lags = [v for (name, labels), v in samples.items()
                if name == "siaga_consumer_lag" and ("topic", "incidents") in labels]
        return bool(lags) and all(v == 0 for v in lags)

    await wait_until(worker_says_zero, timeout=30, interval=0.5)


async def test_the_pipeline_view_reads_lag_and_dead_letters_on_tansu_too(
    tansu_settings: Settings,
) -> None:
    """The light local broker answers the pipeline view as well (asked for explicit
    partitions: its reply to "all of the group's offsets" is one aiokafka cannot parse)."""
    from aiokafka import AIOKafkaConsumer

    from siaga.kafka import ensure_topics
    from streams.deadletter import deadletter_record

    settings = tansu_settings
    await ensure_topics(settings)
    topic = settings.topic("incidents")
    for _ in range(3):
        await _send_raw(settings, topic, b"32", b"{}")
    parked = deadletter_record("not valid JSON: x", topic, 0, 0, b"32", b"{")
    await _send_raw(settings, settings.topic("deadletter"), b"32", parked)
    # the workers' group has read one of the three records
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap_servers,
                                group_id=settings.app_id, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
        from aiokafka import TopicPartition
        from aiokafka.structs import OffsetAndMetadata

        tp = TopicPartition(record.topic, record.partition)
        await consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "")})
    finally:
        await consumer.stop()
    view = PipelineView(settings)
    await view.start()
    try:
        snapshot = await view.refresh()
    finally:
        await view.stop()
    incidents = [r for r in snapshot["lag"] if r["topic"] == "incidents"]
    assert sum(r["lag"] for r in incidents) == 2, incidents
    assert snapshot["deadletters"] == [
        {"topic": "incidents", "reason": "not valid JSON", "count": 1}]
