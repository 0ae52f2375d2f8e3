"""Ids are unique only within a province: two provinces' shelters with one id never collide.

Against a real `siaga api` and Redis; read models written with `siaga.readmodel.apply_change`
as the projector writes them (issue 12, item 7).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from siaga import readmodel
from tests.e2e.helpers import bearer
from tests.e2e.test_api_roles import Stack, stack, store  # noqa: F401  (module fixtures)

pytestmark = pytest.mark.e2e

SHARED_ID = f"pos-{uuid.uuid4().hex[:6]}"  # one id, used in Jawa Barat and in Jawa Timur
_versions = iter(range(1, 1_000_000))


def _change(entity_id: str, data: dict[str, Any], deleted: bool = False) -> dict[str, Any]:
    return {
        "entity": "shelter",
        "id": entity_id,
        "province_code": data["province_code"],
        "version": f"{time.time_ns():020d}:{next(_versions):06d}",
        "score": time.time(),
        "data": data,
        "deleted": deleted,
    }


def _shelter(province: str, name: str, posko: str, lat: float, lon: float) -> dict[str, Any]:
    return {
        "shelter_id": SHARED_ID, "name": name, "province_code": province,
        "location": {"lat": lat, "lon": lon}, "posko_id": posko,
        "headcount": {"total": 100},
    }


WEST = _shelter("32", "Balai Desa Cibulakan", "posko-cianjur-kab", -6.80, 107.06)
EAST = _shelter("35", "SD Negeri Sumberwuluh", "posko-lumajang", -8.16, 113.02)


async def test_two_provinces_keep_their_own_entity_under_one_id(store: Redis) -> None:  # noqa: F811
    await readmodel.apply_changes(store, [_change(SHARED_ID, WEST), _change(SHARED_ID, EAST)])
    assert (await readmodel.get_entity(store, "shelter", SHARED_ID, "32"))["name"] == WEST["name"]
    assert (await readmodel.get_entity(store, "shelter", SHARED_ID, "35"))["name"] == EAST["name"]
    assert await readmodel.provinces_of(store, "shelter", SHARED_ID) == ["32", "35"]
    with pytest.raises(readmodel.AmbiguousId) as raised:
        await readmodel.get_entity(store, "shelter", SHARED_ID)
    assert raised.value.provinces == ["32", "35"]
    # the caller's own province settles it
    preferred = await readmodel.get_entity(store, "shelter", SHARED_ID, prefer="35")
    assert preferred["name"] == EAST["name"]
    # each province's listing holds its own one; the national index holds both
    west = await readmodel.list_entities(store, "shelter", "32", limit=20000)
    east = await readmodel.list_entities(store, "shelter", "35", limit=20000)
    assert [s["name"] for s in west if s["shelter_id"] == SHARED_ID] == [WEST["name"]]
    assert [s["name"] for s in east if s["shelter_id"] == SHARED_ID] == [EAST["name"]]
    national = await readmodel.list_entities(store, "shelter", limit=100000)
    assert sorted(s["province_code"] for s in national if s["shelter_id"] == SHARED_ID) == [
        "32", "35"]
    # deleting one leaves the other, and the id is unambiguous again
    await readmodel.apply_change(store, _change(SHARED_ID, EAST, deleted=True))
    assert await readmodel.provinces_of(store, "shelter", SHARED_ID) == ["32"]
    assert (await readmodel.get_entity(store, "shelter", SHARED_ID))["name"] == WEST["name"]
    # put the east one back for the HTTP test below
    await readmodel.apply_change(store, _change(SHARED_ID, EAST))


async def test_over_http_a_shared_id_is_named_by_province(stack: Stack, store: Redis) -> None:  # noqa: F811
    await readmodel.apply_changes(store, [_change(SHARED_ID, WEST), _change(SHARED_ID, EAST)])
    with httpx.Client(base_url=stack.base, timeout=15) as http:
        # a command post of Jawa Timur reports a headcount for ITS shelter of that id
        post = http.post(
            f"/api/v1/shelters/{SHARED_ID}/headcounts",
            json={"event_id": str(uuid.uuid4()), "total": 120, "posko_id": "posko-lumajang"},
            headers=bearer(stack.tokens["command_post_lumajang"]),
        )
        assert post.status_code == 202, post.text
        # a Jawa Barat post may not report for the Jawa Timur one by naming its province
        refused = http.post(
            f"/api/v1/shelters/{SHARED_ID}/headcounts",
            json={"event_id": str(uuid.uuid4()), "total": 120, "province_code": "35",
                  "posko_id": "posko-cianjur-kab"},
            headers=bearer(stack.tokens["command_post"]),
        )
        assert refused.status_code == 403, refused.text
        # a national coordinator transferring by id alone must name the province
        transfer = http.post(
            f"/api/v1/shelters/{SHARED_ID}/transfer",
            json={"event_id": str(uuid.uuid4()), "posko_id": "posko-garut"},
            headers=bearer(stack.tokens["coordinator_national"]),
        )
        assert transfer.status_code == 409, transfer.text
        detail = transfer.json()["detail"][0]
        assert detail["loc"][-1] == "province_code" and detail["provinces"] == ["32", "35"]
        # the Jawa Barat coordinator's own province settles it
        mine = http.post(
            f"/api/v1/shelters/{SHARED_ID}/transfer",
            json={"event_id": str(uuid.uuid4()), "posko_id": "posko-garut"},
            headers=bearer(stack.tokens["coordinator"]),
        )
        assert mine.status_code == 202, mine.text
