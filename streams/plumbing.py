"""The shared loop of every agent: batches that are retried, never lost, never acked early.

Faust acks the records of a ``take_events`` batch when the agent leaves the batch, also
when it raised (the generator's ``finally`` acks them) — so an agent here never raises
out of a batch. :func:`run_batch` retries a batch:

- a *transient* failure (Redis refusing writes or unreachable, the broker not
  acknowledging) is retried for as long as it lasts, with backoff: nothing is skipped;
- any other failure falls back to one record at a time, and a record whose processing
  fails :data:`MAX_ATTEMPTS` times goes to the dead-letter topic with the reason and its
  original bytes, and processing goes on.

Input agents (:func:`register_ingest`) decode each record, fold it into the one entity
it concerns (per-entity tables, see :mod:`streams.entities`) and ask for a re-plan of
the provinces they touched.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from siaga import metrics, tracing
from siaga.catalogue import REPLAN, STATE_CHANGES
from siaga.events import Envelope, InvalidRecord, check_not_future, decode_event
from streams.changes import encode_change
from streams.deadletter import park
from streams.entities import entity_table

log = logging.getLogger(__name__)
T = TypeVar("T")
_Item = TypeVar("_Item")

BATCH_SIZE = 500
BATCH_WITHIN = 0.05  # seconds: how long a batch may wait to fill
MAX_ATTEMPTS = 3
BACKOFF_MAX = 5.0

# (entities of one table, event) -> changed entity or None
Reducer = Callable[[dict[str, Any], Any], Any]
# Extra per-event work (e.g. emit a state change); returns the send's future, if any.
AfterApply = Callable[[Any, Any], Awaitable[Any]]

_TRANSIENT_REDIS_REPLIES = (
    "NOREPLICAS", "READONLY", "MISCONF", "OOM", "LOADING", "MASTERDOWN", "CLUSTERDOWN",
    "TRYAGAIN", "BUSY",
)


def is_transient(exc: BaseException) -> bool:
    """A failure of the services around us that goes away by waiting, not a bad record."""
    from aiokafka.errors import KafkaError
    from redis import exceptions as redis_errors

    if isinstance(exc, redis_errors.ResponseError):
        # pipelines and scripts wrap the server's reply ("Command # 1 (EVALSHA …) of
        # pipeline caused error: (… NOREPLICAS Not enough good replicas …)")
        words = set(re.findall(r"[A-Z]{3,}", str(exc)))
        return bool(words & set(_TRANSIENT_REDIS_REPLIES))
    if isinstance(exc, redis_errors.RedisError | KafkaError | OSError | asyncio.TimeoutError):
        return True
    return False


class Health:
    """What a worker knows of its own state, for readiness reports."""

    def __init__(self) -> None:
        self.failing_since: float | None = None
        self.last_error: str | None = None

    def failed(self, exc: BaseException) -> None:
        if self.failing_since is None:
            self.failing_since = time.monotonic()
        self.last_error = f"{type(exc).__name__}: {exc}"

    def recovered(self) -> None:
        self.failing_since = None


async def run_batch(
    ctx: Any,
    name: str,
    events: Sequence[Any],
    handle: Callable[[Sequence[Any]], Awaitable[None]],
) -> None:
    """Process ``events`` with ``handle`` until it succeeds (see the module docstring).

    Cancelled (the worker stopping — a SIGTERM, a rebalance that stops the agent) before the
    batch is done, its records are withheld from faust's acknowledgement: faust acks a
    ``take_events`` batch when the agent leaves it, also when it is cancelled, and then
    commits at shutdown — a graceful stop in the middle of a batch lost records whose rows
    were never written (a takeover bench left one shelter's report unapplied). Withheld
    records stay uncommitted and are processed again by whoever gets the partition."""
    if _stopping(ctx):
        # a batch taken while the worker stops: left to whoever gets the partition next
        withhold_acks(events)
        return
    try:
        await _run_batch(ctx, name, events, handle)
    except Stopping:
        # a plan given up (unless_stopping): the batch is left to the next owner, and the
        # agent goes on quietly to the end of its stream (not a crash faust restarts it for)
        withhold_acks(events)
    except asyncio.CancelledError:
        withhold_acks(events)
        raise


class Stopping(asyncio.CancelledError):
    """A plan given up because the worker is stopping (:func:`unless_stopping`)."""


def _stopping(ctx: Any) -> bool:
    app = getattr(ctx, "app", None)
    return bool(app is not None and getattr(app, "should_stop", False))


async def unless_stopping(ctx: Any, awaitable: Awaitable[T]) -> T:
    """Await ``awaitable`` (a plan in the planning process), or give it up as soon as the
    worker begins to stop: raises :class:`Stopping`, so that :func:`run_batch` withholds the
    batch's records from acknowledgement and whoever gets the partition next processes them
    again. faust waits for every record in hand before it stops, and a
    national plan of 38 provinces takes 5-7 s: stops ran past the 10 s ``siaga run`` gives a
    worker and were killed."""
    task = asyncio.ensure_future(awaitable)
    while True:
        done, _ = await asyncio.wait({task}, timeout=STOP_POLL)
        if done:
            return task.result()
        if _stopping(ctx):
            task.cancel()
            log.info("the worker is stopping: a plan in the making is given up (its input "
                     "is processed again after the restart)")
            raise Stopping("the worker is stopping")


STOP_POLL = 0.1


def withhold_acks(events: Sequence[Any]) -> None:
    """Mark ``events`` so that faust's own acknowledgement of them registers nothing: their
    offsets are never committed (a gap faust's commit does not pass) and the consumer does
    not wait for them at shutdown."""
    for event in events:
        message = getattr(event, "message", None)
        if message is not None:
            message.acked = True


async def _run_batch(
    ctx: Any,
    name: str,
    events: Sequence[Any],
    handle: Callable[[Sequence[Any]], Awaitable[None]],
) -> None:
    delay = 0.1
    while True:
        try:
            await tracing.traced(events, handle)
            ctx.health.recovered()
            metrics.count_processed(ctx, events)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - classified below; never escapes
            if is_transient(exc):
                ctx.health.failed(exc)
                log.warning("%s: %s: %s; retrying in %.1f s", name, type(exc).__name__, exc,
                            delay)
                await _after_kafka_error(ctx, exc)
                await asyncio.sleep(delay)
                delay = min(BACKOFF_MAX, delay * 2)
                continue
            if len(events) == 1:
                await _retry_one(ctx, name, events[0], handle, exc)
                return
            log.warning("%s: batch of %d failed (%s: %s); processing one record at a time",
                        name, len(events), type(exc).__name__, exc)
            for event in events:
                await _run_batch(ctx, name, [event], handle)
            return


async def _after_kafka_error(ctx: Any, exc: BaseException) -> None:
    from aiokafka.errors import KafkaError

    if isinstance(exc, KafkaError) and hasattr(ctx, "reset_producer"):
        await ctx.reset_producer()


async def _retry_one(
    ctx: Any, name: str, event: Any, handle: Callable[[Sequence[Any]], Awaitable[None]],
    first: BaseException,
) -> None:
    error: BaseException = first
    attempt = 1
    delay = 0.1
    while attempt < MAX_ATTEMPTS:
        await asyncio.sleep(delay)
        try:
            await tracing.traced([event], handle)
            metrics.count_processed(ctx, [event])
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            if is_transient(exc):
                ctx.health.failed(exc)
                await _after_kafka_error(ctx, exc)
                delay = min(BACKOFF_MAX, delay * 2)
                continue  # the services are down: not this record's fault
            error = exc
            attempt += 1
    log.error("%s: record failed %d times, dead-lettered", name, MAX_ATTEMPTS,
              exc_info=(type(error), error, error.__traceback__))
    await park_reliably(
        ctx, event, f"processing failed {MAX_ATTEMPTS} times: {type(error).__name__}: {error}"
    )


async def park_reliably(ctx: Any, event: Any, reason: str) -> None:
    """Dead-letter a record; waits for the broker rather than dropping it."""
    delay = 0.1
    while True:
        try:
            await park(ctx, event, reason)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            log.warning("dead-letter send failed (%s); retrying", exc)
            await asyncio.sleep(delay)
            delay = min(BACKOFF_MAX, delay * 2)


def accepted_time(event: Any) -> datetime:
    """When the receiving side got the record: the Kafka record's timestamp, never later
    than this worker's clock (a client may set a record's timestamp too)."""
    now = datetime.now(UTC)
    timestamp = getattr(event.message, "timestamp", None)
    if not timestamp:
        return now
    at = datetime.fromtimestamp(float(timestamp), UTC)
    return min(at, now)


def decode_for(event: Any, allowed: tuple[str, ...]) -> Envelope:
    """Decode a faust event's value, check its key is its province code and its time is not
    more than the tolerance ahead of when it was received (then it counts as received)."""
    decoded = decode_event(event.value, allowed=allowed)
    province = getattr(decoded, "province_code", None)
    if event.key is None or province is None or event.key != province.encode():
        raise InvalidRecord(
            f"key: record key {event.key!r} must equal province_code {province!r}"
        )
    accepted = accepted_time(event)
    check_not_future(decoded.occurred_at, accepted)
    if decoded.occurred_at > accepted:
        # A clock a little ahead (within the tolerance) must not let this report outrank
        # the ones after it: it counts as of when it was received.
        decoded = decoded.model_copy(update={"occurred_at": accepted})
    return decoded


async def request_replan(ctx: Any, provinces: set[str], cause: str) -> None:
    futures = [
        await ctx.send(
            REPLAN, province.encode(),
            json.dumps({"province": province, "cause": cause}).encode(),
        )
        for province in sorted(provinces)
    ]
    await asyncio.gather(*futures)


async def send_change(ctx: Any, change: dict[str, Any], topic: str = STATE_CHANGES) -> Any:
    return await ctx.send(topic, change["province_code"].encode(), encode_change(change))


class Writes:
    """A batch's table writes: read-through, one changelog record per changed entity."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self._pending: dict[tuple[str, str, str], Any] = {}

    def get(self, table: str, province: str, entity_id: str) -> Any:
        key = (table, province, entity_id)
        if key in self._pending:
            return self._pending[key]
        return entity_table(self.ctx, table).get_row(province, entity_id)

    def put(self, table: str, province: str, entity_id: str, value: Any) -> None:
        self._pending[(table, province, entity_id)] = value

    def flush(self) -> int:
        for (table, province, entity_id), value in self._pending.items():
            if value is None:
                entity_table(self.ctx, table).remove(province, entity_id)
            else:
                entity_table(self.ctx, table).put(province, entity_id, value)
        count = len(self._pending)
        self._pending.clear()
        return count

    async def flush_paced(self) -> int:
        """:meth:`flush`, :data:`WRITE_CHUNK` rows at a time after faust's producer buffer
        has drained to :data:`EBB` (see :func:`producer_ebb`)."""
        items = list(self._pending.items())
        self._pending.clear()
        async for (table, province, entity_id), value in paced(self.ctx, items):
            if value is None:
                entity_table(self.ctx, table).remove(province, entity_id)
            else:
                entity_table(self.ctx, table).put(province, entity_id, value)
        return len(items)


#: A handler lets the event loop go after this much work (streams/looplag.py measures it).
SHARE_EVERY = 0.02


class LoopShare:
    """Call ``await share()`` between steps of a long loop: it lets the event loop go (heartbeats,
    quick views, the other agents) once :data:`SHARE_EVERY` seconds of work have passed since
    the last time, and costs a clock read otherwise. Issue 10: no handler holds the loop for
    more than about 100 ms; a batch of 1,000 records each holding dozens of entities did."""

    __slots__ = ("every", "since")

    def __init__(self, every: float = SHARE_EVERY) -> None:
        self.every = every
        self.since = time.perf_counter()

    async def __call__(self) -> None:
        if time.perf_counter() - self.since >= self.every:
            await asyncio.sleep(0)
            self.since = time.perf_counter()


# Rows are written this many at a time, each time after faust's producer buffer has drained
# to EBB: faust holds *every* input message of the worker while that buffer has more than
# BUFFER_MAX records (the conductor's wait_until_ebb; faust's own limit is 100, raised in
# streams/app.py). A 2,000-shelter re-plan writes 20,000–45,000 rows and the national tier
# thousands of escalations: put at once they stalled all ingest for the whole drain (and the
# national tier, fed one record at a time, re-planned a dozen times per province plan).
# EBB + WRITE_CHUNK stays under BUFFER_MAX, so bulk writes never hold input back. With
# faust's 100 (chunks of 40 after an ebb to 50) a write-back went at about 2,500 rows/s,
# a pause of the loop per 40 rows: the plan after a burst over 2,000 shelters wrote its
# 38,557 rows in 9.7 s, and the province's next plan waited for them.
BUFFER_MAX = 1000
WRITE_CHUNK = 400
EBB = 500


async def paced(ctx: Any, items: Sequence[_Item]) -> AsyncIterator[_Item]:
    """``items`` one by one, for a loop that writes each to a table: :data:`WRITE_CHUNK` at a
    time after faust's producer buffer has drained to :data:`EBB` (:func:`producer_ebb`),
    letting the event loop go between them (:class:`LoopShare`). Bulk writes (a plan's
    write-back, a batch's flush) go through it."""
    share = LoopShare()
    for start in range(0, len(items), WRITE_CHUNK):
        await producer_ebb(ctx)
        for item in items[start : start + WRITE_CHUNK]:
            yield item
            await share()


async def producer_ebb(ctx: Any) -> None:
    """Yield to the loop until faust's producer buffer holds at most :data:`EBB` records."""
    await asyncio.sleep(0)
    app = getattr(ctx, "app", None)
    if app is None:
        return
    buffer = app.producer.buffer
    while buffer.size > EBB:
        await asyncio.sleep(0.002)


def fold(
    writes: Writes, table: str, province: str, entity_id: str, event: Any,
    reducer: Reducer, decoded: Any,
) -> dict[str, Any] | None:
    """Fold one decoded event into the one entity it concerns: ``reducer(view, decoded)``
    changes the view ``{entity_id: row}`` (or raises InvalidRecord); the changed row, stamped
    with when the event was accepted, is queued in ``writes``. None when nothing changed."""
    current = writes.get(table, province, entity_id)
    view = {} if current is None else {entity_id: current}
    if reducer(view, decoded) is None:
        return None
    row = stamp_accepted(view[entity_id], accepted_time(event))
    writes.put(table, province, entity_id, row)
    return row


def stamp_accepted(row: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The row with the newest accepted time of its events (the plan clock reads these)."""
    iso = at.isoformat()
    if str(row.get("accepted_at") or "") >= iso:
        return row
    return dict(row, accepted_at=iso)


@dataclass(frozen=True)
class Route:
    """Where one event type goes: the table, the entity it concerns, and how it folds in."""

    table: str
    entity_id: Callable[[Any], str]
    reducer: Reducer
    after_apply: AfterApply | None = None


# Extra work on a batch's changed rows, once per batch (e.g. quick read-model views); returns
# the sends' futures.
AfterBatch = Callable[[Any, list[tuple[str, dict[str, Any]]]], Awaitable[list[Any]]]


def register_ingest(
    ctx: Any, topic: str, routes: dict[str, Route], replan: bool = True,
    after_batch: AfterBatch | None = None,
) -> None:
    """One agent for ``topic``: each event folds into the one entity it concerns.
    ``after_batch`` gets the batch's changed rows as ``(table, row)`` (newest per entity)."""
    for route in routes.values():
        entity_table(ctx, route.table)
    allowed = tuple(routes)

    async def handle(events: Sequence[Any]) -> None:
        writes = Writes(ctx)
        provinces: set[str] = set()
        follow_ups: list[tuple[AfterApply, Any, Any]] = []
        changed: dict[tuple[str, str, str], dict[str, Any]] = {}
        share = LoopShare()
        for event in events:
            await share()
            try:
                decoded = decode_for(event, allowed)
            except InvalidRecord as exc:
                await park(ctx, event, exc.reason)
                continue
            route = routes[decoded.type]  # type: ignore[attr-defined]
            province = decoded.province_code  # type: ignore[attr-defined]
            try:
                row = fold(writes, route.table, province, route.entity_id(decoded), event,
                           route.reducer, decoded)
            except InvalidRecord as exc:
                await park(ctx, event, exc.reason)
                continue
            provinces.add(province)
            tracing.log_event(log, "folded", event, decoded)
            if row is None:
                continue
            changed[(route.table, province, route.entity_id(decoded))] = row
            if route.after_apply is not None:
                follow_ups.append((route.after_apply, decoded, row))
        # Follow-ups (e.g. an incident's read-model change) are acknowledged before the
        # tables change: a batch retried after a failure here folds to the same rows and
        # sends them again (the projector keeps the newest version), never loses them.
        acks = [await handler(decoded, row) for handler, decoded, row in follow_ups]
        if after_batch is not None and changed:
            acks += await after_batch(ctx, [(key[0], row) for key, row in changed.items()])
        await asyncio.gather(*(a for a in acks if a is not None))
        await writes.flush_paced()
        # Always ask, even when nothing changed: a crash between the table write and this
        # send must not lose the re-plan when the batch is redelivered.
        if replan and provinces:
            await request_replan(ctx, provinces, topic)

    async def agent(stream: Any) -> None:
        async for events in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN):
            await run_batch(ctx, topic, events, handle)

    ctx.app.agent(ctx.raw_topic(topic), name=topic)(agent)
