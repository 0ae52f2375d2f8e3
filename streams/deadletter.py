"""Park records that cannot be processed on the dead-letter topic, with the reason."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime
from typing import Any

from siaga.catalogue import DEADLETTER

log = logging.getLogger(__name__)


def deadletter_record(
    reason: str, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None
) -> bytes:
    return json.dumps(
        {
            "reason": reason,
            "topic": topic,
            "partition": partition,
            "offset": offset,
            "key": key.decode("utf-8", "replace") if key is not None else None,
            "value_b64": base64.b64encode(value).decode() if value is not None else None,
            "failed_at": datetime.now(UTC).isoformat(),
        }
    ).encode()


def event_id_of(value: bytes | None) -> str | None:
    """The ``event_id`` of a record's JSON value, when it has one (for the log line)."""
    try:
        payload = json.loads(value or b"")
    except (ValueError, UnicodeDecodeError):
        return None
    found = payload.get("event_id") if isinstance(payload, dict) else None
    return str(found) if found else None


async def park(ctx: Any, event: Any, reason: str) -> None:
    """Send the record behind a faust ``event`` to the dead-letter topic and log it with its
    event id and trace (structured fields in the JSON logs: ``event_id``, ``traceparent``,
    ``trace_id``, ``topic``, ``partition``, ``offset``, ``reason``)."""
    from siaga import tracing

    message = event.message
    event_id = event_id_of(event.value)
    traceparent = tracing.from_headers(getattr(event, "headers", None)) or tracing.CURRENT.get()
    log.warning(
        "dead-lettered %s[%s]@%s (event %s, trace %s): %s", message.topic, message.partition,
        message.offset, event_id or "-", tracing.trace_id(traceparent) or "-", reason,
        extra={"event_id": event_id, "traceparent": traceparent, "topic": str(message.topic),
               "partition": message.partition, "offset": message.offset, "reason": reason},
    )
    future = await ctx.send(
        DEADLETTER,
        event.key,
        deadletter_record(
            reason, message.topic, message.partition, message.offset, event.key, event.value
        ),
    )
    await future
    from siaga.metrics import count_deadlettered

    count_deadlettered(ctx, str(message.topic), reason)
