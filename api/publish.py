"""Publishing commands as events: the only way the API changes anything."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import HTTPException

from siaga.catalogue import topic_for_event_type
from siaga.events import Envelope, encode_event
from siaga.settings import Settings


async def publish(producer: AIOKafkaProducer, settings: Settings, event: Envelope) -> None:
    """Send an event to its topic, keyed by province; 503 if the broker cannot take it."""
    spec = topic_for_event_type(event.model_fields["type"].default)
    province_code: str = event.province_code  # every v1 event carries it
    try:
        await producer.send_and_wait(
            settings.topic(spec.name), value=encode_event(event), key=province_code.encode()
        )
    except KafkaError as exc:
        raise HTTPException(
            status_code=503, detail=f"event log unavailable, retry with the same event_id: {exc}"
        ) from None
