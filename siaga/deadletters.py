"""Dead letters you can work with: list, show and replay what the workers parked.

A dead letter (``streams/deadletter.py``) keeps the reason, where the record came from
(topic, partition, offset), its key and its original bytes. Each is named here by where it
lies on the dead-letter topic, ``<partition>-<offset>`` (e.g. ``2-17``).

Replay re-produces the original bytes (or, with ``value``, the corrected bytes) with the
original key to the original topic, once the cause is fixed (a device's clock, a worker
that now understands a schema version, a corrected record). It is idempotent by event id:
what was replayed is remembered in Redis (:data:`REPLAYED_KEY`, field = the record's
``event_id``, or its dead-letter id when the bytes carry none) once the broker has
acknowledged the send, so replaying it again does nothing unless forced — and the workers
deduplicate on ``event_id`` anyway (a crash between the send and the mark sends it twice,
never loses it).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from siaga import tracing
from siaga.catalogue import DEADLETTER
from siaga.metrics import reason_kind, short_topic
from siaga.settings import Settings, kafka_client_options

REPLAYED_KEY = "siaga:deadletters:replayed"


class DeadLetterError(Exception):
    """A dead letter that is not there, or an unusable filter."""


@dataclass
class DeadLetter:
    id: str
    reason: str
    reason_kind: str
    topic: str
    partition: int | None
    offset: int | None
    key: str | None
    event_id: str | None
    event_type: str | None
    failed_at: str | None
    size: int

    def summary(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Parked:
    letter: DeadLetter
    value: bytes | None
    full_topic: str


def _parse(partition: int, offset: int, raw: bytes | None, prefix: str) -> Parked:
    try:
        parked = json.loads(raw or b"")
        if not isinstance(parked, dict):
            raise ValueError
    except ValueError:
        parked = {"reason": "unreadable dead letter", "topic": "unknown"}
    value = None
    if parked.get("value_b64") is not None:
        try:
            value = base64.b64decode(parked["value_b64"])
        except (ValueError, TypeError):
            value = None
    event_id = event_type = None
    try:
        payload = json.loads(value) if value else None
        if isinstance(payload, dict):
            event_id = str(payload["event_id"]) if payload.get("event_id") else None
            event_type = str(payload["type"]) if payload.get("type") else None
    except (ValueError, UnicodeDecodeError):
        pass
    full_topic = str(parked.get("topic") or "unknown")
    reason = str(parked.get("reason") or "")
    letter = DeadLetter(
        id=f"{partition}-{offset}",
        reason=reason,
        reason_kind=reason_kind(reason),
        topic=short_topic(full_topic, prefix),
        partition=parked.get("partition"),
        offset=parked.get("offset"),
        key=parked.get("key"),
        event_id=event_id,
        event_type=event_type,
        failed_at=parked.get("failed_at"),
        size=len(value or b""),
    )
    return Parked(letter, value, full_topic)


def _parse_time(value: str | datetime | None, name: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise DeadLetterError(
            f"{name}: {value!r} is not an ISO time (e.g. 2026-12-01T10:00:00+00:00)"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _matches(letter: DeadLetter, topic: str | None, reason: str | None,
             since: datetime | None, until: datetime | None) -> bool:
    if topic and letter.topic != topic:
        return False
    if reason and reason.lower() not in letter.reason.lower():
        return False
    if since or until:
        try:
            at = datetime.fromisoformat(letter.failed_at or "")
        except ValueError:
            return False
        if since and at < since:
            return False
        if until and at > until:
            return False
    return True


async def read_all(settings: Settings, timeout: float = 30.0) -> list[Parked]:
    """Every record on the dead-letter topic, oldest first per partition."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.require_kafka(), enable_auto_commit=False, group_id=None,
        **kafka_client_options(settings),
    )
    await consumer.start()
    out: list[Parked] = []
    try:
        topic = settings.topic(DEADLETTER)
        cluster = await consumer._client.fetch_all_metadata()
        tps = [TopicPartition(topic, p) for p in sorted(cluster.partitions_for_topic(topic)
                                                        or ())]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        positions = {tp: 0 for tp in tps}
        deadline = time.monotonic() + timeout
        while any(positions[tp] < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise DeadLetterError(f"could not read {topic} within {timeout:g} s")
            batch = await consumer.getmany(timeout_ms=300, max_records=5000)
            for tp, records in batch.items():
                for record in records:
                    out.append(_parse(tp.partition, record.offset, record.value,
                                      settings.topic_prefix))
                    positions[tp] = record.offset + 1
    finally:
        await consumer.stop()
    return out


async def list_deadletters(
    settings: Settings, *, topic: str | None = None, reason: str | None = None,
    since: str | datetime | None = None, until: str | datetime | None = None,
    limit: int = 100,
) -> list[DeadLetter]:
    """Dead letters, newest first, filtered by source topic (short name, e.g.
    ``shelters``), reason (a case-insensitive part of it) and when they were parked."""
    after = _parse_time(since, "since")
    before = _parse_time(until, "until")
    letters = [p.letter for p in await read_all(settings)
               if _matches(p.letter, topic, reason, after, before)]
    letters.sort(key=lambda letter: (letter.failed_at or "", letter.id), reverse=True)
    return letters[:limit]


async def show(settings: Settings, letter_id: str) -> dict[str, Any]:
    """One dead letter with its original bytes (as text when they are UTF-8)."""
    parked = _find(await read_all(settings), letter_id)
    value = parked.value
    text: str | None
    try:
        text = value.decode("utf-8") if value is not None else None
    except UnicodeDecodeError:
        text = None
    return dict(
        parked.letter.summary(),
        original_topic=parked.full_topic,
        value=text,
        value_b64=None if value is None or text is not None else base64.b64encode(value).decode(),
    )


def _find(records: list[Parked], letter_id: str) -> Parked:
    for parked in records:
        if parked.letter.id == letter_id:
            return parked
    raise DeadLetterError(f"id: no dead letter {letter_id!r} (ids look like 2-17: "
                          "partition-offset on the dead-letter topic)")


async def replay(
    settings: Settings, redis: Any, letter_ids: list[str], *, value: bytes | None = None,
    force: bool = False,
) -> list[dict[str, Any]]:
    """Re-produce dead letters to their original topics; returns one outcome per id:
    ``{"id", "event_id", "topic", "replayed": bool, "why"}``."""
    from aiokafka import AIOKafkaProducer

    if value is not None and len(letter_ids) != 1:
        raise DeadLetterError("value: a corrected value replaces exactly one dead letter")
    records = await read_all(settings)
    chosen = [_find(records, letter_id) for letter_id in letter_ids]
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.require_kafka(), acks="all",
        **kafka_client_options(settings),
    )
    await producer.start()
    try:
        return await replay_parked(settings, redis, producer, chosen, value=value, force=force)
    finally:
        await asyncio.wait_for(producer.stop(), timeout=10)


async def replay_parked(
    settings: Settings, redis: Any, producer: Any, chosen: list[Parked], *,
    value: bytes | None = None, force: bool = False,
) -> list[dict[str, Any]]:
    """Send each of ``chosen`` with ``producer`` (:func:`replay`). A record is marked
    replayed only once the broker has acknowledged it: a crash (or Ctrl-C) before that
    leaves it unmarked, to be replayed again; one after the send but before the mark may
    send it twice, which the workers' deduplication on ``event_id`` absorbs."""
    outcomes: list[dict[str, Any]] = []
    for parked in chosen:
        letter = parked.letter
        identity = letter.event_id or f"deadletter:{letter.id}"
        outcome = {"id": letter.id, "event_id": letter.event_id, "topic": letter.topic}
        if parked.full_topic == "unknown" or not parked.full_topic.startswith(
            settings.topic_prefix + "."
        ):
            outcomes.append(dict(outcome, replayed=False,
                                 why=f"its topic {parked.full_topic!r} is not Siaga's"))
            continue
        body = value if value is not None else parked.value
        if body is None:
            outcomes.append(dict(outcome, replayed=False, why="it has no value"))
            continue
        if not force and await redis.hexists(REPLAYED_KEY, identity):
            outcomes.append(dict(outcome, replayed=False, why="already replayed"))
            continue
        # a trace of its own, so the replayed record can be followed in the logs
        traceparent = tracing.child(None, f"replay {parked.full_topic}")
        await producer.send_and_wait(
            parked.full_topic, value=body,
            key=letter.key.encode() if letter.key is not None else None,
            headers=tracing.headers_for(traceparent),
        )
        # acknowledged by the broker: only now is it replayed
        await redis.hset(REPLAYED_KEY, identity, _now())
        outcomes.append(dict(outcome, replayed=True, why="sent to " + parked.full_topic,
                             trace_id=tracing.trace_id(traceparent)))
    return outcomes


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
