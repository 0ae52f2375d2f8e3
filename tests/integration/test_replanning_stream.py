"""Re-planning on the real broker: a replayed disaster flows to plans, dispatches and read
models; duplicates change nothing; the shipment lifecycle moves stock."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from siaga import events as ev
from siaga.catalogue import DEADLETTER, PLANS
from siaga.local import ManagedProcess
from siaga.replay import replay
from siaga.settings import Settings
from tests.support import consume_all, produce_events, read_models, wait_quiet, wait_until

pytestmark = pytest.mark.integration


def _of(models: dict[str, Any], entity: str) -> dict[str, Any]:
    # keys are "entity:province/id"; these tests replay one province, ids are unique in it
    return {k.split(":", 1)[1].split("/", 1)[1]: v for k, v in models.items()
            if k.startswith(entity + ":")}


async def test_replayed_disaster_flows_to_plans_dispatches_and_read_models(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    await replay(settings, "cianjur-2022", speed=0)
    await wait_quiet(redis)
    models = await read_models(redis)
    shelters, shipments = _of(models, "shelter"), _of(models, "shipment")
    assert len(shelters) == 25
    assert len(_of(models, "warehouse")) == 6
    assert all(s["headcount"]["total"] > 0 for s in shelters.values())
    assert all(s["needs"] for s in shelters.values())
    # local stores propose shipments; what they cannot cover escalates to the national
    # tier, which plans from the regional warehouse (Bekasi)
    tiers = {s["tier"] for s in shipments.values() if s["status"] == "proposed"}
    assert tiers == {"province", "national"}
    national = [s for s in shipments.values() if s["tier"] == "national"]
    assert {s["warehouse_id"] for s in national} == {"kemensos-bekasi"}
    assert all(s["explanation"] for s in shipments.values())
    # teams dispatched, and tasks that still lack teams are visible
    assigned = [t for t in _of(models, "team").values() if t["assignment"]]
    assert assigned and all(t["assignment"]["tier"] for t in assigned)
    assert _of(models, "task")
    # Lumbung Sosial released by the emergency declaration for Cianjur only
    lumbung = [w for w in _of(models, "warehouse").values() if w["kind"] == "lumbung_sosial"]
    assert {w["kabupaten_code"]: w["released"] for w in lumbung}["32.03"] is True
    # the plan never promises a batch more than it holds
    _assert_no_batch_overcommitted(_of(models, "warehouse"), shipments.values())
    # every output event the planners wrote satisfies its published schema
    await _assert_outputs_match_their_schemas(settings)


async def _assert_outputs_match_their_schemas(settings: Settings) -> None:
    from pathlib import Path

    import jsonschema

    from siaga.catalogue import OUTPUT_SPECS, event_type_name

    docs = Path(__file__).resolve().parents[2] / "docs" / "schemas"
    seen: dict[str, int] = defaultdict(int)
    for spec in OUTPUT_SPECS:
        schemas = {event_type_name(m): json.loads((docs / f"{event_type_name(m)}.v1.json")
                                                  .read_text()) for m in spec.event_types}
        records = await consume_all(settings, settings.topic(spec.name), expected=10**9,
                                    timeout=5)
        for record in records:
            event = json.loads(record.value)
            assert event["type"] in schemas, (spec.name, event["type"])
            jsonschema.validate(event, schemas[event["type"]])
            assert record.key == event["province_code"].encode()
            seen[event["type"]] += 1
    # the Cianjur replay proposes shipments, dispatches teams and finds shortfalls
    assert seen["shipment.proposed"] and seen["team.dispatched"], dict(seen)
    assert seen["supply_shortfall.detected"], dict(seen)


def _assert_no_batch_overcommitted(warehouses: dict[str, Any], shipments: Any) -> None:
    promised: dict[tuple[str, str], float] = defaultdict(float)
    for s in shipments:
        if s["status"] in ("proposed", "confirmed"):
            for b in s["batches"]:
                promised[(s["warehouse_id"], b["batch_id"])] += b["quantity"]
    on_hand = {
        (w["warehouse_id"], b["batch_id"]): b["quantity"]
        for w in warehouses.values()
        for row in w["stock"]
        for b in row["batches"]
    }
    for key, quantity in promised.items():
        assert quantity <= on_hand[key], (key, quantity, on_hand[key])


async def test_replaying_the_whole_input_twice_gives_the_same_state(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    await replay(settings, "semeru-2021", speed=0)
    feed_once = await wait_quiet(redis)
    once = await read_models(redis)
    plans_once = await consume_all(settings, settings.topic(PLANS), expected=10**9, timeout=5)

    await replay(settings, "semeru-2021", speed=0)
    feed_twice = await wait_quiet(redis)
    twice = await read_models(redis)
    plans_twice = await consume_all(settings, settings.topic(PLANS), expected=10**9, timeout=5)

    keys = set(once) | set(twice)
    diff = {k: (once.get(k), twice.get(k)) for k in keys if once.get(k) != twice.get(k)}
    assert not diff, json.dumps(diff, indent=1, default=str)[:3000]
    assert feed_twice == feed_once, "the duplicate input produced read-model updates"
    assert len(plans_twice) == len(plans_once), "the duplicate input produced new plan events"
    assert len(once) > 50


async def test_shipment_lifecycle_moves_stock_and_records_a_short_delivery(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    await replay(settings, "semeru-2021", speed=0)
    await wait_quiet(redis)
    models = await read_models(redis)
    shipment = next(
        s for s in sorted(_of(models, "shipment").values(), key=lambda s: s["shipment_id"])
        if s["status"] == "proposed" and s["tier"] == "province"
    )
    sid, wid = shipment["shipment_id"], shipment["warehouse_id"]
    qty = shipment["quantity"]
    base = dict(source="warehouse:test", schema_version=1, shipment_id=sid,
                province_code=shipment["province_code"], warehouse_id=wid)
    t0 = max(s["updated_at"] for s in _of(models, "shipment").values())
    from datetime import datetime

    at = datetime.fromisoformat(t0)

    def stock_row(models: dict[str, Any]) -> dict[str, Any]:
        return next(r for r in _of(models, "warehouse")[wid]["stock"] if r["item"] ==
                    shipment["item"])

    on_hand_before = stock_row(models)["on_hand"]
    confirm = ev.ShipmentStatusChanged(
        event_id=uuid.uuid4(), occurred_at=at + timedelta(minutes=1), status="confirmed",
        batches=[{"batch_id": b["batch_id"], "quantity": b["quantity"]}
                 for b in shipment["batches"]], **base)
    await produce_events(settings, [confirm, confirm])  # a retry must count once

    async def status_is(status: str) -> Any:
        data = _of(await read_models(redis), "shipment").get(sid)
        return data if data and data["status"] == status else None

    await wait_until(lambda: status_is("confirmed"), 20)
    models = await read_models(redis)
    assert stock_row(models)["reserved"] >= qty
    assert stock_row(models)["on_hand"] == on_hand_before

    dispatched = ev.ShipmentStatusChanged(
        event_id=uuid.uuid4(), occurred_at=at + timedelta(minutes=2), status="dispatched", **base)
    await produce_events(settings, [dispatched])
    await wait_until(lambda: status_is("dispatched"), 20)
    models = await read_models(redis)
    assert stock_row(models)["on_hand"] == on_hand_before - qty, (
        shipment, _of(models, "shipment")[sid], stock_row(models))
    assert stock_row(models)["in_transit"] >= qty

    short = max(0, qty - 10)
    delivered = ev.ShipmentStatusChanged(
        event_id=uuid.uuid4(), occurred_at=at + timedelta(minutes=3), status="delivered",
        quantity_received=short, **base)
    await produce_events(settings, [delivered])
    done = await wait_until(lambda: status_is("delivered"), 20)
    assert done["quantity_received"] == short
    assert done["difference"] == short - qty

    # an illegal move is parked with the reason, and nothing changes
    again = ev.ShipmentStatusChanged(
        event_id=uuid.uuid4(), occurred_at=at + timedelta(minutes=4), status="dispatched", **base)
    await produce_events(settings, [again])
    parked = await consume_all(settings, settings.topic(DEADLETTER), expected=1, timeout=20)
    reasons = [json.loads(r.value)["reason"] for r in parked]
    # a delivered shipment has left the working state: the move names it as no longer open
    assert any(f"no open shipment '{sid}'" in r for r in reasons), reasons
    assert (await status_is("delivered")) is not None


async def test_read_models_rebuilt_from_kafka_equal_the_live_ones(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    from siaga.rebuild import rebuild

    await replay(settings, "semeru-2021", speed=0)
    await wait_quiet(redis)
    live = await read_models(redis)
    await redis.set("siaga:tokens:sentinel", "keep")  # not a read model: must survive
    await redis.flushdb()
    await redis.set("siaga:tokens:sentinel", "keep")
    assert await read_models(redis) == {}

    applied = await rebuild(settings, idle_seconds=2, progress=False)

    assert applied > 0
    assert await read_models(redis) == live
    assert await redis.get("siaga:tokens:sentinel") == b"keep"
