"""Topic ``siaga.replan``: re-plan a province when anything about it changed.

Input agents ask for a re-plan after every batch; requests that arrive within
``COALESCE_SECONDS`` are coalesced, and a province whose inputs have not changed
since its last plan (same digest) is skipped. Outputs are sent and acknowledged
before the plan is written, so a crash in between re-plans and re-sends (with the
same ids and versions) instead of losing them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime
from typing import Any

from geo import GeoError
from logistics.errors import LogisticsError
from siaga.catalogue import ESCALATIONS, NATIONAL_RESULTS, REPLAN, STATE_CHANGES
from streams.changes import encode_changes, make_change
from streams.deadletter import deadletter_record
from streams.outputs import output_record, output_topic
from streams.planning import PlanningOptions, ProvinceState, plan_province
from streams.plumbing import pkey, province_table

log = logging.getLogger(__name__)

COALESCE_SECONDS = 0.2
# A re-plan's read-model changes travel in few records (one produce request each): a
# province's changes fit well under Kafka's default 1 MB record limit at this size.
CHANGES_PER_RECORD = 200
NATIONAL_KEY = "00"
STATE_TABLES = (
    "shelters",
    "warehouses",
    "teams",
    "shipments",
    "incidents",
    "declarations",
    "overrides",
    "national",
)


def merge_shipments(
    read: dict[str, Any], planned: dict[str, Any], current: dict[str, Any]
) -> dict[str, Any]:
    """The planner's shipment changes applied to the table as it is now.

    ``read`` is what the planner started from, ``planned`` what it wants, ``current`` the
    table after the planner's awaits. A shipment someone else changed meanwhile keeps
    their change; the planner's proposals, updates and withdrawals apply everywhere else.
    """
    result = dict(current)
    for shipment_id, shipment in planned.items():
        if shipment_id not in read and shipment_id not in current:
            result[shipment_id] = shipment
        elif current.get(shipment_id) == read.get(shipment_id):
            result[shipment_id] = shipment
    for shipment_id in read.keys() - planned.keys():
        if current.get(shipment_id) == read.get(shipment_id):
            result.pop(shipment_id, None)
    return result


def load_state(ctx: Any, province: str) -> ProvinceState:
    return ProvinceState(
        province,
        **{name: dict(province_table(ctx, name)[pkey(province)]) for name in STATE_TABLES},
    )


async def replan_province(ctx: Any, province: str, opts: PlanningOptions) -> bool:
    """Re-plan one province; returns False when nothing had changed."""
    plans = province_table(ctx, "plans")
    state = load_state(ctx, province)
    previous = dict(plans[pkey(province)])
    if previous.get("digest") == state.digest():
        return False
    outcome = plan_province(state, previous, opts)
    seq = outcome.plan["seq"]
    version = f"{seq:020d}"
    at = datetime.fromisoformat(outcome.plan["planned_at"])
    plan_id = outcome.plan["plan"]["plan_id"]
    key = province.encode()
    futures = []
    changes = [
        make_change(
            entity, entity_id, province, version, data or {}, at.timestamp(), deleted=data is None
        )
        for entity, entity_id, data in outcome.entities
    ]
    for start in range(0, len(changes), CHANGES_PER_RECORD):
        futures.append(
            await ctx.raw_topic(STATE_CHANGES).send(
                key=key, value=encode_changes(changes[start : start + CHANGES_PER_RECORD])
            )
        )
    for event in outcome.events:
        futures.append(
            await ctx.raw_topic(output_topic(event["type"])).send(
                key=key, value=output_record(event, plan_id, province, at)
            )
        )
    futures.append(
        await ctx.raw_topic(ESCALATIONS).send(
            key=NATIONAL_KEY.encode(), value=json.dumps(outcome.escalation).encode()
        )
    )
    await asyncio.gather(*futures)
    # While the outputs were acknowledged, the shipments agent may have moved a shipment
    # (confirmed, held…): merge instead of overwriting, and record the digest of the state
    # this plan was made from, so such a change still triggers its own re-plan.
    shipments_table = province_table(ctx, "shipments")
    current = dict(shipments_table[pkey(province)])
    shipments_table[pkey(province)] = merge_shipments(state.shipments, outcome.shipments, current)
    state.shipments = outcome.shipments
    plans[pkey(province)] = {**outcome.plan, "digest": state.digest()}
    log.info(
        "re-planned province %s (plan %s): %d changes, %d events",
        province,
        plan_id,
        len(outcome.entities),
        len(outcome.events),
    )
    return True


async def replan_safely(ctx: Any, province: str, opts: PlanningOptions) -> None:
    """Re-plan one province; a plan that cannot be made is parked with its reason and the
    province is re-planned on its next change."""
    try:
        await replan_province(ctx, province, opts)
    except (LogisticsError, GeoError, ValueError, KeyError) as exc:
        log.exception("re-plan of province %s failed", province)
        await ctx.raw_topic("deadletter").send(
            key=province.encode(),
            value=deadletter_record(
                f"re-plan failed: {type(exc).__name__}: {exc}",
                ctx.settings.topic(REPLAN),
                -1,
                -1,
                province.encode(),
                None,
            ),
        )

def register(ctx: Any) -> None:
    opts = PlanningOptions(
        profile_id=ctx.settings.needs_profile,
        days_of_cover=ctx.settings.days_of_cover,
        replan_threshold=ctx.settings.replan_threshold,
    )
    for name in (*STATE_TABLES, "plans"):
        province_table(ctx, name)

    @ctx.app.agent(ctx.raw_topic(REPLAN), name="planner")
    async def planner(stream: Any) -> None:
        async for events in stream.take_events(10_000, within=COALESCE_SECONDS):
            provinces = sorted({e.key.decode() for e in events if e.key})
            # Provinces are independent: while one waits for the broker to acknowledge its
            # outputs, the next one plans.
            await asyncio.gather(*(replan_safely(ctx, p, opts) for p in provinces))

    @ctx.app.agent(ctx.raw_topic(NATIONAL_RESULTS), name="national-results")
    async def national_results(stream: Any) -> None:
        table = province_table(ctx, "national")
        async for events in stream.take_events(1000, within=0.05):
            provinces = set()
            for event in events:
                result = json.loads(event.value)
                province = result["province_code"]
                current = dict(table[pkey(province)])
                if int(current.get("seq", 0)) < int(result["seq"]):
                    table[pkey(province)] = result
                provinces.add(province)
            topic = ctx.raw_topic(REPLAN)
            for province in sorted(provinces):
                await topic.send(key=province.encode(), value=b'{"cause":"national"}')
