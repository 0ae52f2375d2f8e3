"""Publishing commands as events: the only way the API changes anything.

Every write carries a client-generated ``event_id``. The API remembers for a week
which event ids it accepted (with a fingerprint of the request), so a retry is
answered 202 again without publishing twice, and an id reused for a different
request gets 409. The stream workers deduplicate on ``event_id`` as well: they
are the authority; this only keeps retries cheap and their answers stable.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import HTTPException
from redis.asyncio import Redis

from siaga.catalogue import topic_for_event_type
from siaga.events import Envelope, encode_event
from siaga.settings import Settings, kafka_client_options

ACCEPTED_PREFIX = "siaga:api:accepted:"
ACCEPTED_TTL_SECONDS = 7 * 24 * 3600


async def publish(producer: AIOKafkaProducer, settings: Settings, event: Envelope) -> None:
    """Send an event to its topic, keyed by province; 503 if the broker cannot take it."""
    spec = topic_for_event_type(event.model_fields["type"].default)
    province_code: str = getattr(event, "province_code")  # noqa: B009 - every v1 event has it
    try:
        await producer.send_and_wait(
            settings.topic(spec.name), value=encode_event(event), key=province_code.encode()
        )
    except KafkaError as exc:
        raise HTTPException(
            status_code=503, detail=f"event log unavailable, retry with the same event_id: {exc}"
        ) from None


def fingerprint(*parts: str) -> str:
    """What a request asked for, so a reused event id can be told from a retry."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class Publisher:
    def __init__(self, producer: AIOKafkaProducer, redis: Redis, settings: Settings) -> None:
        self.producer = producer
        self.redis = redis
        self.settings = settings

    async def already_accepted(self, event_id: uuid.UUID, request_fingerprint: str) -> bool:
        """True for a retry of an accepted request; 409 when the id was used for another."""
        seen = await self.redis.get(f"{ACCEPTED_PREFIX}{event_id}")
        if seen is None:
            return False
        if (seen.decode() if isinstance(seen, bytes) else str(seen)) != request_fingerprint:
            raise HTTPException(
                status_code=409,
                detail=f"event_id: {event_id} was already used for a different request; "
                "generate a new id for a new report",
            )
        return True

    async def publish(self, event: Envelope, request_fingerprint: str) -> None:
        await publish(self.producer, self.settings, event)
        await self.redis.set(
            f"{ACCEPTED_PREFIX}{event.event_id}", request_fingerprint, ex=ACCEPTED_TTL_SECONDS
        )


def producer_options(settings: Settings) -> dict[str, Any]:
    """The API producer's authentication (SASL/SCRAM, TLS) from settings."""
    return kafka_client_options(settings)
