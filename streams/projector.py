"""Topics ``siaga.state-changes`` and ``siaga.quick-views`` → Redis read models and the live
feed.

Two agents run the same step: one on the processors' and planners' changes, one on the
shelters agent's quick views (a report shown at once, :func:`streams.shelters.send_quick_views`),
so that a report is never queued behind a re-plan's thousands of changes. Versions decide
between the two lanes whatever the order of arrival.

A batch is written :data:`PROJECT_SLICE` changes at a time (one Redis round trip each), so
that no batch holds the event loop for long. At least once, end to end: a batch is
acknowledged only after Redis took every change in it. While Redis refuses writes (down,
read-only, out of memory…) the batch is retried with backoff and nothing after it is taken;
the projector's writes are compare-and-set by version, so a change applied twice is applied once.
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
from streams.plumbing import LoopShare, run_batch
from streams.shelters import merge_outranked_plan_views

log = logging.getLogger(__name__)

# Changes decoded, merged and written in one go before the loop is let go: a batch of a
# re-plan's records holds 20,000 changes and more at 2,000 shelters, and decoding, encoding
# and packing them all at once held the event loop for seconds (the quick views of the
# reports coming in meanwhile waited behind it; streams/looplag.py).
PROJECT_SLICE = 500


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
        changes: list[dict[str, Any]] = []
        share = LoopShare()
        for event in events:
            await share()  # a batch of a re-plan's records is 20,000 changes and more
            try:
                changes.extend(decode_changes(event.value))
            except (ValueError, json.JSONDecodeError) as exc:
                await park(ctx, event, f"undecodable state change: {exc}")
        applied: list[dict[str, Any]] = []
        for start in range(0, len(changes), PROJECT_SLICE):
            # a plan's shelter view older than the report shown merges into its quick view
            # (the slices before this one are in Redis already: it reads them there)
            part = await merge_outranked_plan_views(
                ctx.redis, changes[start : start + PROJECT_SLICE])
            await apply_changes(ctx.redis, part)
            applied.extend(part)
        from siaga.status import note_projected

        await note_projected(ctx.redis, events, applied)

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
