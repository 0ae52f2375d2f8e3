"""A team's kitchens in any province, on a real Redis with the read models written as the
projector writes them: GET /api/v1/teams/{id} lists the kitchens whose team_ids name the team
wherever they are (Palu 2018: the Makassar crew, registered in Sulawesi Selatan, ran the field
kitchen at the Palu mayor's office in Sulawesi Tengah), with the ingredient shipments on their
way to each; the team confirms such a delivery from its phone. A kitchen's team id means the
kitchen's own province's team when one of that id is registered there (ids are unique only
within a province)."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import pytest
import pytest_asyncio
from fastapi import HTTPException
from redis.asyncio import Redis

from api.routes.command_posts import DeliveryReceipt, confirm_delivery
from api.routes.teams import get_team
from siaga import events as ev
from siaga import readmodel
from siaga.tokens import make_principal

MAKASSAR, PALU, AMBIGUOUS = "tagana-7371-01", "tagana-7271-01", "tagana-kembar"
_versions = itertools.count(1)


@pytest_asyncio.fixture
async def seeded(redis: Redis) -> Redis:
    """The module's Redis (tests/unit/conftest.py) with the read models below."""
    await _seed(redis)
    return redis


async def _seed(redis: Redis) -> None:
    def put(entity: str, entity_id: str, province: str, **data: Any) -> dict[str, Any]:
        return {"entity": entity, "id": entity_id, "province_code": province, "score": 1.0,
                "version": f"{next(_versions):020d}", "deleted": False,
                "data": {"province_code": province, **data}}

    def kitchen(kitchen_id: str, province: str, name: str, teams: list[str]) -> dict[str, Any]:
        return put("kitchen", kitchen_id, province, kitchen_id=kitchen_id, name=name,
                   team_ids=teams, status="open", units=1, portions_per_cooking=2000,
                   cookings_per_day=3, capacity_per_day=6000,
                   location={"lat": -0.899, "lon": 119.883})

    def shipment(shipment_id: str, to: str, status: str, item: str, quantity: float,
                 unit: str, updated_at: str) -> dict[str, Any]:
        return put("shipment", shipment_id, "72", shipment_id=shipment_id, shelter_id=to,
                   status=status, item=item, quantity=quantity, unit=unit,
                   warehouse_id="gudang-dinsos-sulteng",
                   warehouse_name="Gudang Dinas Sosial Sulawesi Tengah", eta_hours=0.4,
                   updated_at=updated_at)

    changes = [
        put("team", MAKASSAR, "73", team_id=MAKASSAR, name="TAGANA Kota Makassar"),
        put("team", PALU, "72", team_id=PALU, name="TAGANA Kota Palu 1"),
        put("team", AMBIGUOUS, "72", team_id=AMBIGUOUS, name="TAGANA Kembar Palu"),
        put("team", AMBIGUOUS, "73", team_id=AMBIGUOUS, name="TAGANA Kembar Makassar"),
        kitchen("dapur-walikota", "72", "Dapur Umum Lapangan Kantor Wali Kota Palu", [MAKASSAR]),
        kitchen("dapur-losari", "73", "Dapur Umum Pantai Losari", [MAKASSAR]),
        kitchen("dapur-dinsos", "72", "Dapur Umum Kantor Dinas Sosial", [PALU, AMBIGUOUS]),
        shipment("shp-rice", "dapur-walikota", "dispatched", "rice", 2400, "kg",
                 "2018-10-04T01:00:00+00:00"),
        shipment("shp-lauk", "dapur-walikota", "confirmed", "side_dish", 9000, "pack",
                 "2018-10-04T00:30:00+00:00"),
        shipment("shp-water", "dapur-walikota", "delivered", "clean_water", 9000, "L",
                 "2018-10-03T22:00:00+00:00"),
        shipment("shp-dinsos", "dapur-dinsos", "dispatched", "rice", 2400, "kg",
                 "2018-10-04T01:00:00+00:00"),
    ]
    for change in changes:
        assert await readmodel.apply_change(redis, change)


class FakePublisher:
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def already_accepted(self, event_id: uuid.UUID, fingerprint: str) -> bool:
        return False

    async def publish(self, event: Any, fingerprint: str) -> None:
        self.events.append(event)


def phone(team_id: str, province: str) -> Any:
    return make_principal("team", team_id=team_id, province_code=province)


async def test_a_team_sees_the_kitchens_it_runs_in_another_province_with_their_shipments(
    seeded: Redis,
) -> None:
    redis = seeded
    view = await get_team(principal=phone(MAKASSAR, "73"), redis=redis, team_id=MAKASSAR)
    kitchens = {(k["province_code"], k["kitchen_id"]): k for k in view["kitchens"]}
    assert sorted(kitchens) == [("72", "dapur-walikota"), ("73", "dapur-losari")]
    walikota = kitchens[("72", "dapur-walikota")]
    assert walikota["name"] == "Dapur Umum Lapangan Kantor Wali Kota Palu"
    # on their way, dispatched first; the delivered one is no longer incoming
    assert [(s["shipment_id"], s["status"], s["item"], s["quantity"], s["unit"])
            for s in walikota["incoming"]] == [
        ("shp-rice", "dispatched", "rice", 2400, "kg"),
        ("shp-lauk", "confirmed", "side_dish", 9000, "pack")]
    assert walikota["incoming"][0]["warehouse_name"] == "Gudang Dinas Sosial Sulawesi Tengah"
    assert kitchens[("73", "dapur-losari")]["incoming"] == []
    # a coordinator of the team's province reads the same
    coordinator = make_principal("coordinator", province_code="73", label="coord-sulsel")
    same = await get_team(principal=coordinator, redis=redis, team_id=MAKASSAR)
    assert [k["kitchen_id"] for k in same["kitchens"]] == ["dapur-walikota", "dapur-losari"]


async def test_a_kitchens_team_id_means_its_own_provinces_team_when_there_is_one(
    seeded: Redis,
) -> None:
    redis = seeded
    # two teams "tagana-kembar": the Palu kitchen that names it is run by the Palu one
    palu = await get_team(principal=phone(AMBIGUOUS, "72"), redis=redis, team_id=AMBIGUOUS)
    assert [k["kitchen_id"] for k in palu["kitchens"]] == ["dapur-dinsos"]
    makassar = await get_team(principal=phone(AMBIGUOUS, "73"), redis=redis,
                              team_id=AMBIGUOUS)
    assert makassar["kitchens"] == []
    own = await get_team(principal=phone(PALU, "72"), redis=redis, team_id=PALU)
    assert [k["kitchen_id"] for k in own["kitchens"]] == ["dapur-dinsos"]
    assert [s["shipment_id"] for s in own["kitchens"][0]["incoming"]] == ["shp-dinsos"]


async def test_the_team_of_another_province_confirms_its_kitchens_delivery(
    seeded: Redis,
) -> None:
    redis = seeded
    publisher: Any = FakePublisher()
    body = DeliveryReceipt(quantity_received=2350, note="2 karung basah")
    accepted = await confirm_delivery(body=body, principal=phone(MAKASSAR, "73"),
                                      publisher=publisher, redis=redis, shipment_id="shp-rice")
    (event,) = publisher.events
    assert isinstance(event, ev.ShipmentStatusChanged)
    assert accepted.event_id == event.event_id == body.event_id
    assert (event.source, event.province_code, event.status, event.quantity_received) == (
        f"team:{MAKASSAR}", "72", "delivered", 2350)

    refused = [
        # a team that does not run the kitchen
        (phone(PALU, "72"), "shp-rice", "team_id"),
        # the other "tagana-kembar": the Palu kitchen's is the Palu team of that id
        (phone(AMBIGUOUS, "73"), "shp-dinsos", "province_code"),
        # not yet on the road: nothing to receive
        (phone(MAKASSAR, "73"), "shp-lauk", "status"),
    ]
    for principal, shipment_id, field in refused:
        with pytest.raises(HTTPException) as caught:
            await confirm_delivery(body=DeliveryReceipt(quantity_received=1),
                                   principal=principal, publisher=publisher, redis=redis,
                                   shipment_id=shipment_id)
        assert str(caught.value.detail).startswith(f"{field}:"), caught.value.detail
    assert len(publisher.events) == 1
    # the Palu team of that id may
    await confirm_delivery(body=DeliveryReceipt(quantity_received=2400),
                           principal=phone(AMBIGUOUS, "72"), publisher=publisher, redis=redis,
                           shipment_id="shp-dinsos")
    assert publisher.events[-1].source == f"team:{AMBIGUOUS}"


async def test_the_team_of_another_province_reports_its_kitchens_meals(seeded: Redis) -> None:
    redis = seeded
    from api.routes.kitchens import KitchenReport, report_kitchen

    publisher: Any = FakePublisher()
    body = KitchenReport(event_id=uuid.uuid4(), team_id=MAKASSAR, status="open", meal="siang",
                         portions_served=1900)
    await report_kitchen(body=body, principal=phone(MAKASSAR, "73"), publisher=publisher,
                         redis=redis, kitchen_id="dapur-walikota")
    [event] = publisher.events
    assert (event.province_code, event.kitchen_id, event.team_id, event.source) == (
        "72", "dapur-walikota", MAKASSAR, f"team:{MAKASSAR}")
    # the Makassar team of a twin id does not run the Palu kitchen that names the Palu twin
    with pytest.raises(HTTPException) as refused:
        await report_kitchen(
            body=KitchenReport(event_id=uuid.uuid4(), team_id=AMBIGUOUS, status="open"),
            principal=phone(AMBIGUOUS, "73"), publisher=publisher, redis=redis,
            kitchen_id="dapur-dinsos")
    assert refused.value.status_code == 403
    assert "province_code" in str(refused.value.detail)
    # and a team the kitchen does not name at all is told so, naming team_id
    with pytest.raises(HTTPException) as unknown:
        await report_kitchen(
            body=KitchenReport(event_id=uuid.uuid4(), team_id=PALU, status="open"),
            principal=phone(PALU, "72"), publisher=publisher, redis=redis,
            kitchen_id="dapur-walikota")
    assert unknown.value.status_code == 422
    assert len(publisher.events) == 1


async def test_a_team_mobilised_to_another_province_sees_that_provinces_task(
    seeded: Redis,
) -> None:
    redis = seeded
    # the national tier sent TAGANA Kota Makassar (73) to a task of Sulawesi Tengah (72):
    # the task and its shelter are looked up there, not in Makassar's province, where a task
    # of the same id may exist (ids are unique only within a province)
    def put(entity: str, entity_id: str, province: str, **data: Any) -> dict[str, Any]:
        return {"entity": entity, "id": entity_id, "province_code": province, "score": 1.0,
                "version": f"{next(_versions):020d}", "deleted": False,
                "data": {"province_code": province, **data}}

    for change in (
        put("team", MAKASSAR, "73", team_id=MAKASSAR, name="TAGANA Kota Makassar",
            availability="assigned",
            assignment={"task_id": "shelter_setup:posko-balaroa", "kind": "shelter_setup",
                        "target_id": "posko-balaroa", "tier": "national",
                        "task_province": "72", "status": "dispatched"}),
        put("task", "shelter_setup:posko-balaroa", "72", task_id="shelter_setup:posko-balaroa",
            kind="shelter_setup", concerns_id="posko-balaroa", status="dispatched"),
        put("task", "shelter_setup:posko-balaroa", "73", task_id="shelter_setup:posko-balaroa",
            kind="shelter_setup", concerns_id="posko-balaroa", status="unassigned"),
        put("shelter", "posko-balaroa", "72", shelter_id="posko-balaroa",
            name="Pengungsian Perumnas Balaroa", location={"lat": -0.905, "lon": 119.84}),
    ):
        assert await readmodel.apply_change(redis, change)
    view = await get_team(principal=phone(MAKASSAR, "73"), redis=redis, team_id=MAKASSAR)
    assert view["task"]["province_code"] == "72" and view["task"]["status"] == "dispatched"
    assert view["target"]["name"] == "Pengungsian Perumnas Balaroa"
