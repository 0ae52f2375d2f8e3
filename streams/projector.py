"""Topic ``siaga.state-changes`` → Redis read models and the live feed."""

from __future__ import annotations

import json
import logging
from typing import Any

from siaga.catalogue import STATE_CHANGES
from siaga.readmodel import apply_changes
from streams.changes import decode_changes
from streams.deadletter import park

log = logging.getLogger(__name__)


def register(ctx: Any) -> None:
    @ctx.app.agent(ctx.raw_topic(STATE_CHANGES), name="projector")
    async def projector(stream: Any) -> None:
        # Batches: one Redis round trip applies everything that arrived together.
        async for events in stream.take_events(1000, within=0.01):
            changes = []
            for event in events:
                try:
                    changes.extend(decode_changes(event.value))
                except (ValueError, json.JSONDecodeError) as exc:
                    await park(ctx, event, f"undecodable state change: {exc}")
            await apply_changes(ctx.redis, changes)
