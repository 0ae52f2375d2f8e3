"""The shared loop of every input agent: decode, fold into a province table, ask for a re-plan.

An input agent reads its topic in small batches (``take_events``) so that a burst
of events for one province costs one table write per province, not one per
event. Every record that cannot be decoded, or whose key is not its province
code, is parked on the dead-letter topic with the reason; the rest flow on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from siaga.catalogue import REPLAN, STATE_CHANGES
from siaga.events import Envelope, InvalidRecord, decode_event
from streams.changes import encode_change
from streams.deadletter import park

log = logging.getLogger(__name__)

BATCH_SIZE = 500
BATCH_WITHIN = 0.05  # seconds: how long a batch may wait to fill

# (province state of one table, event) -> changed entity or None
Reducer = Callable[[dict[str, Any], Any], Any]
# Extra per-event work after the table write (e.g. emit a state change).
AfterApply = Callable[[Any, Any], Awaitable[None]]


def province_table(ctx: Any, name: str) -> Any:
    """A faust table keyed by province code.

    Keys are the raw UTF-8 bytes of the code (use :func:`pkey`) and the producer's
    partitioner places changelog records, so a province's table entries live on the
    same partition number as its input events (all topics share the key bytes and
    partition count) wherever the write happens — also in batched or timed work.
    """
    if name not in ctx.tables:
        ctx.tables[name] = ctx.app.Table(
            name,
            default=dict,
            partitions=ctx.settings.partitions,
            key_type=bytes,
            use_partitioner=True,
        )
    return ctx.tables[name]


def pkey(province_code: str) -> bytes:
    """Table key for a province."""
    return province_code.encode()


def decode_for(event: Any, allowed: tuple[str, ...]) -> Envelope:
    """Decode a faust event's value and check its key is its province code."""
    decoded = decode_event(event.value, allowed=allowed)
    province = getattr(decoded, "province_code", None)
    if event.key is None or province is None or event.key != province.encode():
        raise InvalidRecord(
            f"key: record key {event.key!r} must equal province_code {province!r}"
        )
    return decoded


async def request_replan(ctx: Any, provinces: set[str], cause: str) -> None:
    topic = ctx.raw_topic(REPLAN)
    for province in sorted(provinces):
        await topic.send(
            key=province.encode(), value=json.dumps({"province": province, "cause": cause}).encode()
        )


async def send_change(ctx: Any, change: dict[str, Any]) -> None:
    await ctx.raw_topic(STATE_CHANGES).send(
        key=change["province_code"].encode(), value=encode_change(change)
    )


def register_ingest(
    ctx: Any,
    topic: str,
    handlers: dict[str, tuple[str, Reducer]],
    after_apply: dict[str, AfterApply] | None = None,
    replan: bool = True,
) -> None:
    """One agent for ``topic``: each event type folds into the table named for it."""
    tables = {event_type: province_table(ctx, table) for event_type, (table, _) in handlers.items()}
    allowed = tuple(handlers)
    after_apply = after_apply or {}

    async def agent(stream: Any) -> None:
        async for events in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN):
            touched: dict[tuple[str, str], dict[str, Any]] = {}
            provinces: set[str] = set()
            follow_ups: list[tuple[AfterApply, Any, Any]] = []
            for event in events:
                try:
                    decoded = decode_for(event, allowed)
                except InvalidRecord as exc:
                    await park(ctx, event, exc.reason)
                    continue
                event_type = decoded.type  # type: ignore[attr-defined]
                table_name, reducer = handlers[event_type]
                province = decoded.province_code  # type: ignore[attr-defined]
                key = (table_name, province)
                if key not in touched:
                    touched[key] = dict(tables[event_type][pkey(province)])
                provinces.add(province)
                try:
                    changed = reducer(touched[key], decoded)
                except InvalidRecord as exc:
                    await park(ctx, event, exc.reason)
                    continue
                if changed is not None and event_type in after_apply:
                    follow_ups.append((after_apply[event_type], decoded, changed))
            for (table_name, province), state in touched.items():
                ctx.tables[table_name][pkey(province)] = state
            for handler, decoded, changed in follow_ups:
                await handler(decoded, changed)
            # Always ask, even when nothing changed: a crash between the table write
            # and this send must not lose the re-plan when the batch is redelivered.
            if replan and provinces:
                await request_replan(ctx, provinces, topic)

    ctx.app.agent(ctx.raw_topic(topic), name=topic)(agent)
