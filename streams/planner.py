"""Topic ``siaga.replan``: re-plan a province when anything about it changed.

Input agents ask for a re-plan after every batch; requests that arrive within
``COALESCE_SECONDS`` are coalesced, and a province whose inputs have not changed since its
last plan (same digest) is skipped. The plan is made in a thread (a province of thousands
of shelters takes longer than the event loop may stand still: heartbeats and other agents
go on meanwhile). Outputs are sent and acknowledged before the plan's entities are written,
so a crash in between re-plans and re-sends (with the same ids and versions) instead of
losing them. Every record stays small: read-model changes travel in records of at most
:data:`MAX_RECORD_BYTES`, escalations one entity per record.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from siaga.catalogue import ESCALATIONS, NATIONAL_RESULTS, STATE_CHANGES
from streams.changes import MAX_RECORD_BYTES, make_change, pack, shelter_version, unpack
from streams.deadletter import deadletter_record, park
from streams.entities import entity_table
from streams.outputs import output_record, output_topic
from streams.planning import PlanningOptions, plan_province
from streams.plumbing import (
    BATCH_WITHIN,
    Writes,
    paced,
    request_replan,
    run_batch,
    unless_stopping,
)
from streams.store import (
    ALL_TABLES,
    INPUT_TABLES,
    Loaded,
    ProvinceWrites,
    memory_hashes,
    province_rows,
    province_writes,
    register_tables,
)

log = logging.getLogger(__name__)

COALESCE_SECONDS = 0.2
# A burst (a posko uploading its backlog, a replay) reaches a province over a second or two;
# planning after its first 0.2 s and again for the rest costs a large province one whole plan
# more (2–3 s of CPU at 2,000 shelters) and sends every changed view twice. So a plan waits
# until the province's inputs have been still for SETTLE_QUIET seconds — at most
# SETTLE_SHARE x its last plan's time, and never more than SETTLE_MAX: a 25-shelter province
# (plans of 0.07 s) waits ~0.02 s, a 2,000-shelter one up to 0.6 s.
SETTLE_QUIET = 0.2
SETTLE_SHARE = 0.25
SETTLE_MAX = 1.0
NATIONAL_KEY = "00"
# How long a plan's views wait for the quick views of the reports it read to be shown
# (normally they are, long before the plan is made; see quick_views_shown).
QUICK_WAIT = 2.0

def chunk_changes(changes: list[dict[str, Any]], limit: int = MAX_RECORD_BYTES) -> list[bytes]:
    """Read-model changes packed into records of at most ``limit`` bytes."""
    return pack(changes, limit, field="changes")


class Replanned:
    """A plan made in the thread: what to send and what to write."""

    def __init__(self, loaded: Loaded, outcome: Any, writes: ProvinceWrites,
                 changes: list[bytes], seconds: float) -> None:
        self.loaded = loaded
        self.outcome = outcome
        self.writes = writes
        self.changes = changes
        self.seconds = seconds


def _version(entity: str, data: dict[str, Any] | None, seq: int, version: str,
             at: float) -> str:
    """A view's version: the plan's sequence; shelter views, which the shelters agent also
    writes (quick views), order first by the shelter's newest accepted report."""
    if entity != "shelter":
        return version
    if data is None:  # a removal outranks every report already made
        return shelter_version(datetime.fromtimestamp(max(at, time.time()), UTC).isoformat(),
                               seq)
    return shelter_version(data.get("accepted_at"), seq)


def make_plan(loaded: Loaded, opts: PlanningOptions) -> Replanned:
    """Pure and blocking (runs in a thread): plan a province."""
    started = time.perf_counter()
    state = loaded.state
    previous = loaded.previous
    outcome = plan_province(state, previous, opts)
    writes = province_writes(loaded, outcome)
    seq = outcome.plan["seq"]
    version = f"{seq:020d}"
    at = datetime.fromisoformat(outcome.plan["planned_at"]).timestamp()
    province = state.province_code
    changes = [
        make_change(entity, entity_id, province, _version(entity, data, seq, version, at),
                    data or {}, at, deleted=data is None)
        for entity, entity_id, data in outcome.entities
    ]
    return Replanned(loaded, outcome, writes, chunk_changes(changes),
                     time.perf_counter() - started)


def shipment_writes(
    read: dict[str, Any], planned: dict[str, Any], current: dict[str, Any]
) -> dict[str, Any]:
    """The planner's shipment writes that still apply to the table as it is now.

    ``read`` is what the planner started from, ``planned`` its writes (None = remove),
    ``current`` the rows now. A shipment someone else changed meanwhile (confirmed, held,
    delivered…) keeps their change — its own re-plan follows; the planner's proposals,
    updates and withdrawals apply everywhere else.
    """
    return {
        shipment_id: row
        for shipment_id, row in planned.items()
        if current.get(shipment_id) == read.get(shipment_id)
    }


async def write_back(
    ctx: Any, province: str, read_shipments: dict[str, Any], writes: ProvinceWrites
) -> tuple[int, int]:
    """Write the entities a re-plan changed; yields to the loop between chunks. Returns the
    rows written, and how many of them were input-table writes (shipments).
    ``read_shipments`` are the shipment rows the plan was made from."""
    count = 0
    inputs = 0
    items: list[tuple[str, str, Any]] = [
        (table, entity_id, row)
        for table, rows in writes.planner.items()
        for entity_id, row in rows.items()
    ]
    # Shipments: the shipments agent may have moved one (confirmed, held, delivered…) while
    # the plan was made or its outputs acknowledged: such a shipment keeps that change (its
    # own re-plan follows); the planner's changes apply everywhere else.
    shipments = entity_table(ctx, "shipments")
    current = {sid: shipments.get_row(province, sid) for sid in writes.shipments}
    for shipment_id, row in shipment_writes(read_shipments, writes.shipments, current).items():
        items.append(("shipments", shipment_id, row))
    async for table, entity_id, row in paced(ctx, items):
        target = entity_table(ctx, table)
        if row is None:
            if target.get_row(province, entity_id) is None:
                continue
            target.remove(province, entity_id)
        else:
            target.put(province, entity_id, row)
        # the planning process applied this write to its copy already
        target.forget_changed(province, entity_id)
        count += 1
        inputs += table in INPUT_TABLES
    return count, inputs


def input_revision(ctx: Any, province: str) -> tuple[tuple[tuple[int, int], int], ...]:
    """Where a province's inputs stand (equal = nothing changed since)."""
    return tuple(entity_table(ctx, name).revision(province) for name in INPUT_TABLES)


async def settle(ctx: Any, province: str) -> float:
    """Wait until the province's inputs have been still for :data:`SETTLE_QUIET` seconds, at
    most :data:`SETTLE_SHARE` x its last plan's time (:data:`SETTLE_MAX` at most). A first
    plan does not wait, nor one that goes on from a plan whose inputs kept changing while it
    was made (:func:`streaming`): a steady stream or a long burst never goes still, and
    the wait only added to each plan's latency (a 2,000-shelter province planned every
    ~4.8 s under 100 headcounts/s, 0.9 s of it waiting). Returns the seconds waited."""
    limit = min(SETTLE_MAX, SETTLE_SHARE * ctx.plan_seconds.get(province, 0.0))
    if limit <= 0 or streaming(ctx, province):
        return 0.0
    started = time.monotonic()
    last, still_since = input_revision(ctx, province), started
    while (now := time.monotonic()) - started < limit:
        if now - still_since >= SETTLE_QUIET:
            break
        await asyncio.sleep(min(0.05, limit - (now - started)))
        revision = input_revision(ctx, province)
        if revision != last:
            last, still_since = revision, time.monotonic()
    return time.monotonic() - started


#: A plan follows on from the province's last one when it starts within this many seconds of
#: the last one's end (its outputs sent and written): it was asked for while that one ran.
STREAM_GAP = 1.0


def streaming(ctx: Any, province: str) -> bool:
    """Whether the province's inputs are streaming in: they changed while its last plan was
    made, and this plan follows right on from that one. After a pause, the next change
    starts a new burst, which is waited for (its first plan would otherwise see only the
    burst's first moments, and a second whole plan follow for the rest)."""
    last = getattr(ctx, "plan_streaming", {}).get(province)
    return last is not None and last[0] and time.monotonic() - last[1] < STREAM_GAP


async def replan_province(ctx: Any, province: str, opts: PlanningOptions) -> bool:
    """Re-plan one province; returns False when its inputs had not changed since its last
    plan in this process (a restarted or newly assigned worker plans once)."""
    planned = ctx.planned_revisions
    if planned.get(province) == input_revision(ctx, province):
        return False
    settled = await settle(ctx, province)
    before = input_revision(ctx, province)
    started = time.perf_counter()
    # rows are read on the loop (a dict per table); assembling and planning in the planning
    # process (streams/planpool.py), so that ingest goes on at full speed meanwhile
    rows = province_rows(ctx, province)
    # taken with the rows (no await between): what changed since the planning process's copy
    changed = {name: entity_table(ctx, name).take_changed(province) for name in ALL_TABLES}
    epochs = tuple(entity_table(ctx, name).epoch_of(province) for name in ALL_TABLES)
    memory = dict(memory_hashes(ctx, province))
    # every report in these rows has its quick view acknowledged (the shelters agent writes
    # its rows only then): up to here, they are shown before this plan's views
    quick_mark = ctx.quick_acked.get(province)
    # a shelter shown by a quick view gets this plan's view whether or not it changed
    quick = ctx.quick_viewed.pop(province, set())
    for shelter_id in quick:
        memory.pop(f"shelter:{shelter_id}", None)
    steps: dict[str, float] = {"settled": settled}
    try:
        done, written = await _plan_and_send(ctx, province, rows, memory, opts,
                                             changed, epochs, quick_mark, steps)
    except BaseException:
        # not sent: the retry's plan sends these views again
        ctx.quick_viewed.setdefault(province, set()).update(quick)
        # its writes may not all be written back: the planning process's copy has them
        ctx.plan_pool.forget(province)
        raise
    hashes = memory_hashes(ctx, province)
    hashes.clear()
    hashes.update(done.memory)
    # the plan's own shipment writes do not call for another plan; anything else does
    after = input_revision(ctx, province)
    changed_meanwhile = sum(a[1] for a in after) - sum(b[1] for b in before) - written[1]
    if changed_meanwhile == 0 and [a[0] for a in after] == [b[0] for b in before]:
        planned[province] = after
    else:
        planned.pop(province, None)
    from siaga.metrics import observe_replan

    ctx.plan_seconds[province] = done.seconds
    observe_replan(province, time.perf_counter() - started, done.seconds, done.entities)
    log.info(
        "re-planned province %s (plan %s) in %.3f s: %d changes, %d events, %d escalations, "
        "%d rows written, %d rows sent to the planning process (s: %s)",
        province, done.plan_id, done.seconds, done.entities, len(done.events),
        len(done.writes.escalation), written[0], done.rows_sent,
        ", ".join(f"{k} {v:.2f}" for k, v in steps.items()),
    )
    return True


async def _plan_and_send(
    ctx: Any, province: str, rows: dict[str, Any], memory: dict[str, str],
    opts: PlanningOptions, changed: dict[str, set[str]], epochs: tuple[Any, ...],
    quick_mark: int | None = None, steps: dict[str, float] | None = None,
) -> tuple[Any, tuple[int, int]]:
    """Plan in the planning process, send its outputs, write its rows back; returns the plan
    and (rows written, of which input-table rows). ``steps``: the seconds each step took
    (waiting for the planning process, for the quick views, sending, writing)."""
    steps = {} if steps is None else steps
    mark = time.perf_counter()

    def step(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        steps[name] = now - mark
        mark = now

    at_start = input_revision(ctx, province)  # the rows were read just now (no await since)
    done = await unless_stopping(
        ctx, ctx.plan_pool.plan(province, rows, memory, opts, changed, epochs))
    step("planning")
    changed_while_planning = input_revision(ctx, province) != at_start
    at = datetime.fromisoformat(done.planned_at)
    key = province.encode()
    await quick_views_shown(ctx, province, quick_mark)
    step("quick views")
    futures = []
    # read-model changes first: what the dashboard shows does not wait for the rest
    for record in done.changes:
        futures.append(await ctx.send(STATE_CHANGES, key, record))
    for event in done.events:
        futures.append(
            await ctx.send(output_topic(event["type"]), key,
                           output_record(event, done.plan_id, province, at))
        )
    for record in pack(done.writes.escalation):
        futures.append(await ctx.send(ESCALATIONS, NATIONAL_KEY.encode(), record))
    await asyncio.gather(*futures)
    step("sending")
    written = await write_back(ctx, province, rows["shipments"], done.writes)
    step("writing")
    # whether the next plan settles first (:func:`streaming`)
    ctx.plan_streaming[province] = (changed_while_planning, time.monotonic())
    return done, written


async def quick_views_shown(ctx: Any, province: str, mark: int | None,
                            limit: float = QUICK_WAIT) -> bool:
    """Wait until the quick views up to offset ``mark`` are projected, at most ``limit``
    seconds; whether they are.

    Quick views and a plan's views travel on two lanes (streams/projector.py) and versions
    decide between them whatever the order of arrival: a plan's view of a report always
    wins over the report's quick view. So a plan's view projected first would make its
    quick view be refused — the report shown only once its plan is, and never with
    ``plan_pending``. Waiting here keeps the order a command post expects: the report at
    once, then the plan that answers it. Both lanes of a province are on the same worker
    (keyed by province, co-partitioned), so this waits only for this worker's own quick
    projector — normally done long before the plan is made."""
    if mark is None:
        return True
    projected = ctx.quick_projected
    started = time.monotonic()
    while projected.get(province, -1) < mark:
        if time.monotonic() - started >= limit:
            log.info("quick views of province %s up to offset %d not shown after %.1f s: "
                     "sending the plan's views", province, mark, limit)
            return False
        await asyncio.sleep(0.01)
    return True


class PlanFailed(Exception):
    """A plan that cannot be made from this state (parked; the next change re-plans)."""


async def replan_safely(ctx: Any, province: str, opts: PlanningOptions) -> None:
    """Re-plan one province; a plan that cannot be made (bad data, a bug) is parked with its
    reason after three attempts and the province is re-planned on its next change.
    Transient failures (the broker not acknowledging) are retried by :func:`run_batch`."""
    from geo import GeoError
    from logistics.errors import LogisticsError

    try:
        await replan_province(ctx, province, opts)
    except (LogisticsError, GeoError, ValueError, KeyError, TypeError) as exc:
        raise PlanFailed(f"re-plan of province {province} failed: {type(exc).__name__}: "
                         f"{exc}") from exc


def register(ctx: Any) -> None:
    opts = PlanningOptions(
        profile_id=ctx.settings.needs_profile,
        days_of_cover=ctx.settings.days_of_cover,
        replan_threshold=ctx.settings.replan_threshold,
    )
    register_tables(ctx)

    async def handle(events: Sequence[Any]) -> None:
        provinces = sorted({e.key.decode() for e in events if e.key})
        # Provinces are independent: while one plans in its thread or waits for the broker
        # to acknowledge its outputs, the next one plans.
        results = await asyncio.gather(
            *(replan_safely(ctx, p, opts) for p in provinces), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]

    @ctx.app.agent(ctx.raw_topic("replan"), name="planner")
    async def planner(stream: Any) -> None:
        async for events in stream.take_events(10_000, within=COALESCE_SECONDS):
            # run_batch retries a failed province alone, then parks its request
            by_province: dict[bytes, Any] = {}
            for event in events:
                if event.key:
                    # the oldest request: the plan's state changes carry when the oldest
                    # report it answers was produced (siaga_projection_lag_seconds)
                    by_province.setdefault(event.key, event)
            await run_batch(ctx, "planner", list(by_province.values()), handle)

    async def handle_results(events: Sequence[Any]) -> None:
        writes = Writes(ctx)
        provinces: set[str] = set()
        for event in events:
            try:
                results = [
                    (str(r["province_code"]), int(r["seq"]), f"{r['kind']}|{r['id']}", r["data"])
                    for r in unpack(event.value)
                ]
            except (ValueError, KeyError, TypeError) as exc:
                await park(ctx, event, f"undecodable national result: {exc}")
                continue
            for province, seq, entity_id, data in results:
                current = writes.get("national", province, entity_id)
                if current is not None and int(current["seq"]) >= seq:
                    continue
                writes.put("national", province, entity_id,
                           None if data is None else {"seq": seq, "data": data})
                provinces.add(province)
        await writes.flush_paced()
        if provinces:
            await request_replan(ctx, provinces, "national")

    @ctx.app.agent(ctx.raw_topic(NATIONAL_RESULTS), name="national-results")
    async def national_results(stream: Any) -> None:
        async for events in stream.take_events(1000, within=BATCH_WITHIN):
            await run_batch(ctx, "national-results", events, handle_results)


__all__ = ["chunk_changes", "deadletter_record", "make_plan", "replan_province"]
