"""Publishing commands as events: the only way the API changes anything.

Every write carries a client-generated ``event_id``. The API remembers for a week
which event ids it accepted (with a fingerprint of the request), so a retry is
answered 202 again without publishing twice, and an id reused for a different
request gets 409. The stream workers deduplicate on ``event_id`` as well: they
are the authority; this only keeps retries cheap and their answers stable.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import HTTPException
from redis.asyncio import Redis

from siaga import tracing
from siaga.catalogue import topic_for_event_type
from siaga.events import Envelope, encode_event
from siaga.settings import Settings, kafka_client_options

log = logging.getLogger(__name__)

ACCEPTED_PREFIX = "siaga:api:accepted:"
ACCEPTED_TTL_SECONDS = 7 * 24 * 3600


UNAVAILABLE = (
    "Log peristiwa belum mengonfirmasi laporan ini dalam {seconds:g} detik; laporan belum "
    "diterima. Kirim ulang dengan event_id yang sama. / The event log did not acknowledge "
    "this report within {seconds:g} s; it is not accepted yet. Retry with the same event_id."
)
RETRY_AFTER_SECONDS = 5


def _unavailable(settings: Settings, reason: str) -> HTTPException:
    seconds = settings.publish_timeout_seconds
    return HTTPException(
        status_code=503,
        detail=f"{UNAVAILABLE.format(seconds=seconds)} ({reason})",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Done callback of a send abandoned at the deadline: read its outcome so asyncio does
    not log 'exception was never retrieved'; the record may still land later (harmless: the
    client retries with the same event_id and the workers deduplicate)."""
    if not task.cancelled() and task.exception() is not None:
        log.info("an abandoned send failed later: %s", task.exception())


async def publish(producer: AIOKafkaProducer, settings: Settings, event: Envelope) -> None:
    """Send an event to its topic, keyed by province, and wait for the broker's
    acknowledgement (acks=all: every in-sync replica, at least ``min.insync.replicas``).

    503 when the broker refuses it or does not acknowledge within
    ``settings.publish_timeout_seconds``: never 202 for an event the log does not hold.
    Without a deadline a send could wait forever — aiokafka retries a produce that the
    cluster cannot acknowledge (two of three brokers down) without end.
    """
    spec = topic_for_event_type(event.model_fields["type"].default)
    province_code: str = getattr(event, "province_code")  # noqa: B009 - every v1 event has it

    async def send() -> None:
        delivery = await producer.send(
            settings.topic(spec.name), value=encode_event(event), key=province_code.encode(),
            # the request's W3C trace (api/metrics.py), so the report can be followed
            headers=tracing.headers_for(tracing.child(tracing.CURRENT.get())),
        )
        await delivery

    sending = asyncio.ensure_future(send())
    try:
        # shield: the deadline ends the wait, not the send (a batch already handed to the
        # producer cannot be taken back anyway)
        await asyncio.wait_for(asyncio.shield(sending), settings.publish_timeout_seconds)
    except TimeoutError:
        sending.add_done_callback(_retrieve)
        log.warning(
            "event %s (%s) not acknowledged within %g s: 503",
            event.event_id, spec.name, settings.publish_timeout_seconds,
        )
        raise _unavailable(settings, "no acknowledgement") from None
    except KafkaError as exc:
        raise _unavailable(settings, f"{type(exc).__name__}: {exc}") from None
    traceparent = tracing.CURRENT.get()
    log.info("published %s to %s (trace %s)", event.event_id, settings.topic(spec.name),
             tracing.trace_id(traceparent),
             extra={"event_id": str(event.event_id), "traceparent": traceparent,
                    "province": province_code})


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
