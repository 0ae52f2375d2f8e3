"""The projector's compare-and-set write keeps two small sets besides its indexes, on a real
Redis: the kitchens each team runs (in any province), and the shipments in flight to each
shelter or kitchen. They change only with an applied change, so a redelivered or
out-of-order change moves neither an entity nor its sets backwards, and the feed still gets
one entry per applied change."""

from __future__ import annotations

import itertools
from typing import Any

from redis.asyncio import Redis

from siaga import readmodel

_versions = itertools.count(1)




def change(entity: str, entity_id: str, province: str, data: dict[str, Any] | None,
           version: int | None = None, deleted: bool = False) -> dict[str, Any]:
    return {"entity": entity, "id": entity_id, "province_code": province, "score": 1.0,
            "version": f"{next(_versions) if version is None else version:020d}",
            "deleted": deleted, "data": data}


def shipment(shipment_id: str, status: str, to: str = "dapur-a") -> dict[str, Any]:
    return {"shipment_id": shipment_id, "status": status, "shelter_id": to, "item": "rice",
            "quantity": 2400, "unit": "kg", "warehouse_id": "gudang-palu",
            "province_code": "72"}


async def in_flight(redis: Redis, to: str = "dapur-a") -> list[str]:
    """The shipments in flight to ``to``: what the API reads, and the set itself agrees (the
    read also checks each shipment's status; the set must not depend on that)."""
    read = sorted(s["shipment_id"] for s in await readmodel.shipments_to(redis, "72", to))
    members = await redis.smembers(readmodel.shipments_to_key("72", to))
    assert sorted(readmodel.split_member(m)[1] for m in members) == read
    return read


async def feed_length(redis: Redis) -> int:
    return int(await redis.xlen(readmodel.FEED))


async def test_a_shipment_is_in_its_destinations_set_only_while_in_flight(redis: Redis) -> None:
    apply = readmodel.apply_change
    assert await apply(redis, change("shipment", "shp-1", "72", shipment("shp-1", "proposed")))
    assert await in_flight(redis) == []
    await apply(redis, change("shipment", "shp-1", "72", shipment("shp-1", "confirmed")))
    await apply(redis, change("shipment", "shp-2", "72", shipment("shp-2", "dispatched")))
    await apply(redis, change("shipment", "shp-3", "72", shipment("shp-3", "dispatched",
                                                                  to="sh-talise")))
    assert await in_flight(redis) == ["shp-1", "shp-2"]
    assert await in_flight(redis, "sh-talise") == ["shp-3"]
    # the same id in another province is another shipment, to another province's kitchen
    await apply(redis, change("shipment", "shp-1", "73", {**shipment("shp-1", "dispatched"),
                                                          "province_code": "73"}))
    assert await in_flight(redis) == ["shp-1", "shp-2"]
    assert [s["province_code"] for s in await readmodel.shipments_to(redis, "73", "dapur-a")] \
        == ["73"]

    delivered = 10**15
    await apply(redis, change("shipment", "shp-2", "72", shipment("shp-2", "delivered"),
                              version=delivered))
    assert await in_flight(redis) == ["shp-1"]
    # a redelivered older change (dispatched) is refused whole: no entry on the feed, and
    # the shipment does not go back into the set it left
    before = await feed_length(redis)
    assert await apply(redis, change("shipment", "shp-2", "72", shipment("shp-2", "dispatched"),
                                     version=delivered - 1)) is None
    assert await apply(redis, change("shipment", "shp-2", "72", shipment("shp-2", "delivered"),
                                     version=delivered)) is None
    assert await feed_length(redis) == before
    assert await in_flight(redis) == ["shp-1"]
    assert (await readmodel.get_entity(redis, "shipment", "shp-2", "72") or {})["status"] \
        == "delivered"

    await apply(redis, change("shipment", "shp-1", "72", shipment("shp-1", "cancelled")))
    assert await in_flight(redis) == []
    # a deletion that carries the shipment takes it out of its set too
    await apply(redis, change("shipment", "shp-3", "72", shipment("shp-3", "dispatched",
                                                                  to="sh-talise"),
                              deleted=True))
    assert await in_flight(redis, "sh-talise") == []
    assert not await redis.smembers(readmodel.shipments_to_key("72", "sh-talise"))


async def test_a_kitchen_is_found_by_each_of_its_teams_in_any_province(redis: Redis) -> None:
    apply = readmodel.apply_change

    def kitchen(kitchen_id: str, province: str, teams: list[str]) -> dict[str, Any]:
        return change("kitchen", kitchen_id, province, {
            "kitchen_id": kitchen_id, "province_code": province, "team_ids": teams,
            "name": kitchen_id})

    await apply(redis, kitchen("dapur-walikota", "72", ["tagana-7371-01", "tagana-7271-01"]))
    await apply(redis, kitchen("dapur-makassar", "73", ["tagana-7371-01"]))
    await apply(redis, kitchen("dapur-sigi", "72", ["tagana-7210-01"]))

    async def of(team: str) -> list[tuple[str, str]]:
        return [(k["province_code"], k["kitchen_id"])
                for k in await readmodel.kitchens_of_team(redis, team)]

    assert await of("tagana-7371-01") == [("72", "dapur-walikota"), ("73", "dapur-makassar")]
    assert await of("tagana-7271-01") == [("72", "dapur-walikota")]
    assert await of("tagana-0000-00") == []
    # the kitchen's teams change: the team that left no longer finds it
    await apply(redis, kitchen("dapur-walikota", "72", ["tagana-7271-01"]))
    assert await of("tagana-7371-01") == [("73", "dapur-makassar")]
    assert await of("tagana-7271-01") == [("72", "dapur-walikota")]
    # the plain indexes are as before: one entry per applied change, where-sets, provinces
    assert await feed_length(redis) == 4
    assert await readmodel.provinces_of(redis, "kitchen", "dapur-walikota") == ["72"]
    assert len(await readmodel.list_entities(redis, "kitchen", "72")) == 2
