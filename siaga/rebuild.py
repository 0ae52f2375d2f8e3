"""Rebuild the Redis read models from Kafka: ``siaga rebuild-readmodels``.

Kafka is the system of record. The projector's input (``siaga.state-changes``) holds
every change the processors made, each with a version; this command deletes the read
models (entities, indexes, geo sets, the live feed — never API tokens or the API's
idempotency keys) and applies the whole topic again from the beginning. Applying is
compare-and-set by version, so the result is the latest state of every entity.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import uuid

from aiokafka import AIOKafkaConsumer
from redis.asyncio import Redis

from siaga.catalogue import STATE_CHANGES
from siaga.readmodel import PREFIX, apply_changes, check_layout
from siaga.settings import Settings
from streams.changes import decode_changes

log = logging.getLogger(__name__)

# Keys under the prefix that are not read models and must survive a rebuild.
KEEP = (f"{PREFIX}:tokens", f"{PREFIX}:api:")


async def clear_read_models(redis: Redis) -> int:
    deleted = 0
    batch: list[bytes] = []
    async for key in redis.scan_iter(match=f"{PREFIX}:*", count=1000):
        if key.decode().startswith(KEEP):
            continue
        batch.append(key)
        if len(batch) >= 1000:
            deleted += await redis.delete(*batch)
            batch = []
    if batch:
        deleted += await redis.delete(*batch)
    return deleted


async def rebuild(settings: Settings, idle_seconds: float = 3.0, progress: bool = True) -> int:
    """Clear and re-project; returns the number of changes applied."""
    bootstrap, redis_url = settings.require_services()
    redis = Redis.from_url(redis_url)
    from siaga.settings import kafka_client_options

    consumer = AIOKafkaConsumer(
        settings.topic(STATE_CHANGES),
        **kafka_client_options(settings),
        bootstrap_servers=bootstrap,
        group_id=f"siaga-rebuild-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    applied = 0
    try:
        deleted = await clear_read_models(redis)
        if progress:
            _say(f"cleared {deleted} read-model keys")
        await check_layout(redis)  # empty now: marked with this layout
        await consumer.start()
        last_record = time.monotonic()
        # The end of the topic is where no record has arrived for idle_seconds (end
        # offsets are not trusted: the embedded broker reports them wrongly).
        while time.monotonic() - last_record < idle_seconds:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            changes = []
            for records in batch.values():
                for record in records:
                    try:
                        changes.extend(decode_changes(record.value))
                    except ValueError:
                        log.warning("skipping undecodable state change at offset %s", record.offset)
            if changes:
                await apply_changes(redis, changes)
                applied += len(changes)
                last_record = time.monotonic()
                if progress:
                    _say(f"applied {applied} changes…")
    finally:
        await consumer.stop()
        await redis.aclose()
    if progress:
        _say(f"done: {applied} changes applied")
    return applied


def _say(message: str) -> None:
    sys.stderr.write(f"[rebuild] {message}\n")
    sys.stderr.flush()


def main(settings: Settings) -> int:
    asyncio.run(rebuild(settings))
    return 0
