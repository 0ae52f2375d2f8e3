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


async def park(ctx: Any, event: Any, reason: str) -> None:
    """Send the record behind a faust ``event`` to the dead-letter topic and log it."""
    message = event.message
    log.warning(
        "dead-lettered %s[%s]@%s: %s", message.topic, message.partition, message.offset, reason
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
