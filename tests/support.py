"""Helpers shared by the integration and end-to-end tests."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from siaga.local import ManagedProcess, spawn
from siaga.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def child_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA_")}
    env.update(settings.as_env())
    return env


def wait_for_log(proc: ManagedProcess, needle: str, timeout: float = 90) -> None:
    assert proc.log_path is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.log_path.exists() and needle in proc.log_path.read_text(errors="replace"):
            return
        if not proc.alive():
            break
        time.sleep(0.1)
    tail = proc.log_path.read_text(errors="replace")[-3000:] if proc.log_path.exists() else ""
    raise AssertionError(f"{proc.name} never logged {needle!r}:\n{tail}")


def start_worker(settings: Settings, name: str = "worker") -> ManagedProcess:
    """A real `siaga worker` process; returns once faust says the worker is ready."""
    proc = spawn(
        name,
        [sys.executable, "-m", "siaga.cli", "worker"],
        settings.data_dir / "logs" / f"{name}.log",
        env=child_env(settings),
        cwd=ROOT,
    )
    wait_for_log(proc, "Worker ready")
    if settings.plan_processes:
        wait_for_log(proc, "planning process ready")  # plans need not wait for its start
    return proc


def start_api(settings: Settings) -> tuple[ManagedProcess, str]:
    """A real `siaga api` (uvicorn) process; returns it and its base URL once healthy."""
    import urllib.request

    proc = spawn(
        "api",
        [sys.executable, "-m", "siaga.cli", "api"],
        settings.data_dir / "logs" / "api.log",
        env=child_env(settings),
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{settings.api_port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return proc, base
        except OSError:
            pass
        if not proc.alive():
            break
        time.sleep(0.2)
    proc.stop()
    raise AssertionError(f"api not healthy: {proc.log_path and proc.log_path.read_text()[-3000:]}")


async def wait_until(predicate: Any, timeout: float = 10, interval: float = 0.05) -> Any:
    """Poll an async predicate until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


async def consume_all(settings: Settings, topic: str, expected: int, timeout: float = 20) -> list[
    Any
]:
    """Read ``expected`` records from a topic from the beginning (fresh consumer group)."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        while len(records) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for messages in batch.values():
                records.extend(messages)
    finally:
        await consumer.stop()
    return records


def load_json(raw: bytes) -> Any:
    return json.loads(raw)


async def read_models(redis: Any) -> dict[str, Any]:
    """Every entity the projector wrote, as {"entity:province/id": data} (deleted ones left
    out)."""
    out: dict[str, Any] = {}
    async for raw_key in redis.scan_iter(match="siaga:*:*", count=1000):
        key = raw_key.decode()
        parts = key.split(":", 2)
        if len(parts) != 3 or parts[1] in ("geo", "feed"):
            continue
        if await redis.type(raw_key) != b"hash":
            continue
        raw = await redis.hget(raw_key, "json")
        if raw:
            out[f"{parts[1]}:{parts[2]}"] = json.loads(raw)
    return out


async def wait_quiet(redis: Any, quiet_for: float = 5.0, timeout: float = 120.0) -> int:
    """Wait until the live feed has not grown for ``quiet_for`` seconds; returns its length."""
    from siaga.readmodel import FEED

    deadline = time.monotonic() + timeout
    last = -1
    last_change = time.monotonic()
    while time.monotonic() < deadline:
        length = int(await redis.xlen(FEED))
        if length != last:
            last, last_change = length, time.monotonic()
        elif length > 0 and time.monotonic() - last_change >= quiet_for:
            return length
        await asyncio.sleep(0.2)
    raise AssertionError(f"feed still changing after {timeout} s (length {last})")


async def produce_events(settings: Settings, events: list[Any]) -> None:
    """Produce wire events to their topics, keyed by province, as a producer client would."""
    from aiokafka import AIOKafkaProducer

    from siaga.catalogue import topic_for_event_type
    from siaga.events import encode_event

    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for event in events:
            topic = settings.topic(topic_for_event_type(event.type).name)
            await producer.send_and_wait(
                topic, encode_event(event), key=event.province_code.encode()
            )
    finally:
        await producer.stop()


async def produce_many(settings: Settings, events: list[Any]) -> None:
    """Produce many wire events quickly (batched, acknowledged at the end), keyed by
    province, in order per province."""
    from aiokafka import AIOKafkaProducer

    from siaga.catalogue import topic_for_event_type
    from siaga.events import encode_event

    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, linger_ms=5)
    await producer.start()
    try:
        futures = [
            await producer.send(
                settings.topic(topic_for_event_type(event.type).name), encode_event(event),
                key=event.province_code.encode())
            for event in events
        ]
        await producer.flush()
        for future in futures:
            await future
    finally:
        await producer.stop()


async def assert_no_unit_promised_twice(settings: Settings, models: dict[str, Any]) -> int:
    """Over every record the planners ever wrote to the plans topic: the proposals still
    open never promise a stock batch more than the read model says it holds, and they are
    exactly the shipments the read model shows as proposed. ``models`` is
    :func:`read_models` after the system went quiet. Returns how many plan records there
    were (a test should expect some)."""
    from collections import defaultdict

    from siaga.catalogue import PLANS

    records = await consume_all(settings, settings.topic(PLANS), expected=10**9, timeout=8)
    open_now: dict[str, dict[str, Any]] = {}
    for record in records:
        event = json.loads(record.value)
        if event["type"] == "shipment.proposal_withdrawn":
            open_now.pop(event["shipment_id"], None)
        else:
            open_now[event["shipment_id"]] = event
    promised: dict[tuple[str, str], int] = defaultdict(int)
    for event in open_now.values():
        for batch in event["batches"]:
            promised[(event["warehouse_id"], batch["batch_id"])] += batch["quantity"]
    on_hand = {
        (w["warehouse_id"], b["batch_id"]): b["quantity"]
        for key, w in models.items()
        if key.startswith("warehouse:")
        for row in w["stock"]
        for b in row["batches"]
    }
    for key, quantity in promised.items():
        assert quantity <= on_hand[key], (key, quantity, on_hand[key])
    # what the planners currently propose is exactly what the read model shows
    proposed = {
        k.split(":", 1)[1].split("/", 1)[1]  # "shipment:province/id"
        for k, v in models.items()
        if k.startswith("shipment:") and v["status"] == "proposed"
    }
    assert proposed == set(open_now), (sorted(proposed - set(open_now))[:5],
                                       sorted(set(open_now) - proposed)[:5])
    return len(records)


async def shelter_totals(
    redis: Any, shelter_ids: list[str], province_code: str | None = None,
    planned: bool = False,
) -> dict[str, int | None]:
    """Each shelter's headcount total as the read model shows it (None: not there yet).
    ``planned``: only as a plan's view shows it (a quick view of the shelters agent, which
    shows a report before its re-plan, counts as None)."""
    from siaga.readmodel import get_entities

    shown = await get_entities(redis, "shelter", shelter_ids, province_code)
    out: dict[str, int | None] = {}
    for shelter_id in shelter_ids:
        view = shown[shelter_id] or {}
        count = view.get("headcount") or {}
        out[shelter_id] = None if planned and view.get("plan_pending") else count.get("total")
    return out


async def largest_records(settings: Settings, timeout: float = 20) -> dict[str, int]:
    """The largest record value (bytes) on every topic of this test: the catalogue's topics
    and the worker's changelogs."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics()
                  if t.startswith(settings.topic_prefix + ".") or t.startswith(settings.app_id)]
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"sizes-{uuid.uuid4().hex[:8]}", auto_offset_reset="earliest",
        enable_auto_commit=False, max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024)
    await consumer.start()
    sizes: dict[str, int] = {t: 0 for t in topics}
    try:
        idle_since = time.monotonic()
        deadline = time.monotonic() + timeout * 10
        while time.monotonic() - idle_since < 3 and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            if batch:
                idle_since = time.monotonic()
            for tp, messages in batch.items():
                for message in messages:
                    size = len(message.value or b"")
                    if size > sizes[tp.topic]:
                        sizes[tp.topic] = size
    finally:
        await consumer.stop()
    return sizes
