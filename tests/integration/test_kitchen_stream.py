"""Public kitchens on the real broker, worker and Redis: a kitchen registered for Palu gets
the ingredients of the shelters it feeds (they get no rice of their own), its read model
shows capacity, load and portions served, people beyond its reach get a proposal to open a
kitchen near them, and a report from a team that does not run it is dead-lettered."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from siaga import events as ev
from siaga import readmodel
from siaga.catalogue import DEADLETTER
from siaga.local import ManagedProcess
from siaga.settings import Settings
from tests.support import consume_all, produce_events, wait_until

pytestmark = pytest.mark.integration

S = uuid.uuid4().hex[:6]
KITCHEN = f"dapur-dinsos-{S}"
NEAR = [(f"sh-balaroa-{S}", (-0.89, 119.86), 1200), (f"sh-kawatuna-{S}", (-0.92, 119.89), 800)]
FAR = [(f"sh-poso-{S}", (-1.39, 120.75), 2500)]
COOK, OTHER, SPARE = f"tagana-a-{S}", f"tagana-x-{S}", f"tagana-b-{S}"
WAREHOUSE = f"gudang-sulteng-{S}"


class Clock:
    def __init__(self) -> None:
        self.at = ev.utcnow() - timedelta(minutes=30)

    def next(self) -> datetime:
        self.at += timedelta(seconds=20)
        return self.at


def _env(clock: Clock, source: str) -> dict[str, Any]:
    return {"event_id": uuid.uuid4(), "occurred_at": clock.next(), "source": source,
            "schema_version": 1}


def _loc(p: tuple[float, float]) -> dict[str, float]:
    return {"lat": p[0], "lon": p[1]}


def _inputs(clock: Clock) -> list[ev.Envelope]:
    out: list[ev.Envelope] = []
    for shelter_id, where, total in NEAR + FAR:
        out += [
            ev.ShelterRegistered(**_env(clock, "posko:palu"), shelter_id=shelter_id,
                                 name=f"Pengungsian {shelter_id}", location=_loc(where),
                                 province_code="72", posko_id="posko-palu"),
            ev.ShelterHeadcountReported(**_env(clock, "posko:palu"), shelter_id=shelter_id,
                                        province_code="72", total=total, posko_id="posko-palu"),
        ]
    out.append(ev.WarehouseRegistered(
        **_env(clock, "kemensos"), warehouse_id=WAREHOUSE, name="Gudang Dinsos Sulteng",
        kind="provincial", location=_loc((-0.87, 119.88)), province_code="72"))
    for item, qty, unit in (("rice", 50000, "kg"), ("side_dish", 50000, "pack"),
                            ("cooking_fuel", 5000, "kg"), ("clean_water", 500000, "L"),
                            ("field_kitchen", 2, "unit")):
        out.append(ev.StockLevelReported(
            **_env(clock, f"warehouse:{WAREHOUSE}"), warehouse_id=WAREHOUSE,
            province_code="72", item=item, batch_id=f"{WAREHOUSE}-{item}", quantity=qty,
            unit=unit))
    for team_id in (COOK, OTHER, SPARE):
        out.append(ev.TeamStatusReported(
            **_env(clock, "tagana:palu"), team_id=team_id, province_code="72",
            location=_loc((-0.90, 119.87)), skills=["public_kitchen"], members=10,
            availability="available"))
    return out


def _kitchen(clock: Clock) -> ev.KitchenRegistered:
    return ev.KitchenRegistered(
        **_env(clock, "coordinator:coord-sulteng"), kitchen_id=KITCHEN,
        name="Dapur Umum Kantor Dinas Sosial Provinsi Sulawesi Tengah",
        location=_loc((-0.90, 119.87)), province_code="72", team_ids=[COOK],
        coordinator="coord-sulteng")


def _report(clock: Clock, team_id: str, portions: int, source: str | None = None) -> Any:
    return ev.KitchenStatusReported(
        **_env(clock, source or f"team:{team_id}"), kitchen_id=KITCHEN, province_code="72",
        team_id=team_id, status="open", meal="siang", portions_served=portions)


async def _until(redis: Redis, entity: str, entity_id: str, check: Any) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        found = await readmodel.get_entity(redis, entity, entity_id, "72")
        return found if found and check(found) else None

    result: dict[str, Any] = await wait_until(probe, timeout=90, interval=0.25)
    return result


async def test_a_kitchen_gets_the_ingredients_and_far_people_get_a_proposal(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    clock = Clock()
    await produce_events(settings, [*_inputs(clock), _kitchen(clock)])
    kitchen = await _until(redis, "kitchen", KITCHEN,
                           lambda k: k.get("portions_needed_per_day") == 6000)
    assert kitchen["capacity_per_day"] == 6000
    assert kitchen["shelter_ids"] == sorted(s for s, _, _ in NEAR)
    rice = next(i for i in kitchen["ingredients"] if i["item"] == "rice")
    assert rice["planned"] == 2400  # 6,000 portions x 0.1333 kg x 3 days

    shipments = await readmodel.list_entities(redis, "shipment", "72", 1000)
    rice_to = {s["shelter_id"]: s["quantity"] for s in shipments if s["item"] == "rice"}
    assert rice_to.get(KITCHEN) == 2400
    for shelter_id, _, _ in NEAR:
        assert shelter_id not in rice_to  # fed by the kitchen
    assert rice_to[FAR[0][0]] == 2500 * 0.4 * 3
    near = await readmodel.get_entity(redis, "shelter", NEAR[0][0], "72")
    assert near is not None and near["kitchen_id"] == KITCHEN

    proposal = await _until(redis, "kitchen_proposal", FAR[0][0], lambda p: True)
    assert proposal["warehouse_id"] == WAREHOUSE
    assert proposal["team_id"] in (OTHER, SPARE)
    assert proposal["portions_covered_per_day"] == 6000
    assert proposal["explanation"]["rule"] == "open_kitchen_max_coverage"

    # the kitchen's team reports lunch; another team's report is dead-lettered
    await produce_events(settings, [_report(clock, OTHER, 999), _report(clock, COOK, 1950)])
    kitchen = await _until(redis, "kitchen", KITCHEN,
                           lambda k: (k.get("served_last_day") or {}).get("portions") == 1950)
    parked = await consume_all(settings, settings.topic(DEADLETTER), expected=1, timeout=30)
    reasons = [json.loads(r.value)["reason"] for r in parked]
    assert any(f"team {OTHER} does not run kitchen" in r for r in reasons), reasons

    # the rice arrives at the kitchen: a posko cannot confirm it (a kitchen has no posko:
    # dead-lettered), the team running it can, and the kitchen keeps what it received
    rice_id = next(s["shipment_id"] for s in shipments
                   if s["item"] == "rice" and s["shelter_id"] == KITCHEN)
    rice_row = await readmodel.get_entity(redis, "shipment", rice_id, "72")
    assert rice_row is not None

    def move(status: str, source: str, **fields: Any) -> ev.ShipmentStatusChanged:
        return ev.ShipmentStatusChanged(
            **_env(clock, source), shipment_id=rice_id, province_code="72",
            warehouse_id=WAREHOUSE, status=status, **fields)

    picks = [{"batch_id": b["batch_id"], "quantity": b["quantity"]} for b in rice_row["batches"]]
    await produce_events(settings, [move("confirmed", f"warehouse_staff:{WAREHOUSE}",
                                         batches=picks),
                                    move("dispatched", f"warehouse_staff:{WAREHOUSE}")])
    await _until(redis, "shipment", rice_id, lambda s: s["status"] == "dispatched")
    await produce_events(settings, [
        move("delivered", "posko:posko-palu", quantity_received=2400),
        move("delivered", f"team:{OTHER}", quantity_received=2400),
        move("delivered", f"team:{COOK}", quantity_received=2390)])
    delivered = await _until(redis, "shipment", rice_id, lambda s: s["status"] == "delivered")
    assert delivered["quantity_received"] == 2390
    parked = await consume_all(settings, settings.topic(DEADLETTER), expected=3, timeout=30)
    reasons = [json.loads(r.value)["reason"] for r in parked]
    refused = [r for r in reasons if r.startswith(f"source: shipment {rice_id} goes to kitchen")]
    assert len(refused) == 2 and any("posko:posko-palu" in r for r in refused), reasons
    assert any(f"team:{OTHER}" in r for r in refused), reasons
