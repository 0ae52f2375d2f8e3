"""Topics ``siaga.state-changes`` and ``siaga.quick-views`` → Redis read models and the live
feed.

Two agents run the same step: one on the processors' and planners' changes, one on the
shelters agent's quick views (a report shown at once, :func:`streams.shelters.send_quick_views`),
so that a report is never queued behind a re-plan's thousands of changes. Versions decide
between the two lanes whatever the order of arrival.

At least once, end to end: a batch is acknowledged only after Redis took every change in
it. While Redis refuses writes (down, read-only, out of memory…) the batch is retried with
backoff and nothing after it is taken; the projector's writes are compare-and-set by
version, so a change applied twice is applied once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from siaga.catalogue import QUICK_VIEWS, STATE_CHANGES
from siaga.readmodel import apply_changes, check_layout
from streams.changes import decode_changes
from streams.deadletter import park
from streams.plumbing import run_batch
from streams.shelters import merge_outranked_plan_views

log = logging.getLogger(__name__)


def register(ctx: Any) -> None:
    layout_checked = False

    async def handle(events: Sequence[Any]) -> None:
        nonlocal layout_checked
        if not layout_checked:
            problem = await check_layout(ctx.redis)
            if problem:
                log.error("%s (entities written before it are missing from the dashboard)",
                          problem)
            layout_checked = True
        changes = []
        for event in events:
            try:
                changes.extend(decode_changes(event.value))
            except (ValueError, json.JSONDecodeError) as exc:
                await park(ctx, event, f"undecodable state change: {exc}")
        # a plan's shelter view older than the report shown merges into its quick view
        changes = await merge_outranked_plan_views(ctx.redis, changes)
        await apply_changes(ctx.redis, changes)
        from siaga.status import note_projected

        await note_projected(ctx.redis, events, changes)

    @ctx.app.agent(ctx.raw_topic(STATE_CHANGES), name="projector")
    async def projector(stream: Any) -> None:
        # Batches: one Redis round trip applies everything that arrived together.
        async for events in stream.take_events(1000, within=0.01):
            await run_batch(ctx, "projector", events, handle)

    async def handle_quick(events: Sequence[Any]) -> None:
        await handle(events)
        projected = ctx.quick_projected
        for event in events:
            if event.key:
                province = event.key.decode()
                projected[province] = max(projected.get(province, -1), event.message.offset)

    @ctx.app.agent(ctx.raw_topic(QUICK_VIEWS), name="quick-projector")
    async def quick_projector(stream: Any) -> None:
        async for events in stream.take_events(1000, within=0.01):
            await run_batch(ctx, "quick-projector", events, handle_quick)
