"""Palu 2018 replayed through the planner (`siaga.replay`, real broker, worker, Redis and API),
checked against what docs/kitchens.md claims of it:

- the eight kitchens of the replay are in the read models and the situation snapshot with
  their capacity (one Dumlap: 6,000 portions a day) and load (portions needed a day by the
  shelters they serve; the Wali Kota field kitchen 47,801, seven units short);
- ingredients go to the kitchens, not to the shelters they feed: rice, side dishes, cooking
  fuel and clean water for what each kitchen can cook are planned to the kitchen, side dishes
  never to a fed shelter, and a fed shelter gets only the rice of the portions its overloaded
  kitchen cannot cook (rice is conserved: kitchen + shelters = what the shelters would need);
- people the running kitchens cannot feed get a proposal to open one more kitchen — at
  Posko Pengungsian Jono Oge, with the provincial store's Dumlap and the free Gorontalo crew,
  covering 6,000 portions a day — which the coordinator approves: the kitchen opens with the
  proposal's unit, team, store and shelters, and the proposal disappears.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from siaga.local import ManagedProcess
from siaga.replay import replay
from siaga.settings import Settings
from tests.e2e.helpers import bearer, make_token
from tests.support import read_models, wait_quiet

pytestmark = pytest.mark.integration

KITCHENS = {"dapur-dinsos-sulteng", "dapur-rujab-gubernur", "dapur-lasoani-kawatuna",
            "dapur-lapangan-walikota", "dapur-perumnas-balaroa", "dapur-siranindi",
            "dapur-donggala-banawa", "dapur-sigi-biromaru"}
INGREDIENTS = ("rice", "side_dish", "cooking_fuel", "clean_water")


def _by(models: dict[str, Any], entity: str) -> dict[str, dict[str, Any]]:
    return {key.split("/", 1)[1]: data for key, data in models.items()
            if key.startswith(f"{entity}:72/")}


async def test_palu_replay_plans_kitchens_ingredients_and_the_next_kitchen(
    settings: Settings, redis: Redis, worker: ManagedProcess, api: str,
) -> None:
    assert settings.redis_url
    stats = await replay(settings, "palu-2018", speed=0)
    assert stats.per_type.get("kitchen.registered") == len(KITCHENS)
    await wait_quiet(redis, quiet_for=8, timeout=300)
    models = await read_models(redis)
    kitchens, shelters = _by(models, "kitchen"), _by(models, "shelter")
    shipments = [d for k, d in models.items() if k.startswith("shipment:72/")]

    # --- kitchens with capacity and load, in the read models and the snapshot
    assert set(kitchens) == KITCHENS
    assert sum(s["headcount"]["total"] for s in shelters.values()) == 70821
    for kitchen_id, k in kitchens.items():
        assert k["status"] == "open" and k["capacity_per_day"] == 6000, kitchen_id
        assert k["portions_needed_per_day"] >= 6000, kitchen_id  # loaded 1.0-8x
        assert k["load_share"] == round(k["portions_needed_per_day"] / 6000, 3)
        assert k["portions_cooked_per_day"] == 6000
        assert sum(s["portions_per_day"] for s in k["shelters"]) == k["portions_needed_per_day"]
    walikota = kitchens["dapur-lapangan-walikota"]
    assert walikota["portions_needed_per_day"] == 47801
    assert walikota["shortfall"]["figures"]["units_missing"] == 7
    assert max(k["load_share"] for k in kitchens.values()) < 8.0
    coordinator = make_token(settings.redis_url, "coordinator", province_code="72")
    with httpx.Client(base_url=api, headers=bearer(coordinator), timeout=30) as http:
        snapshot = http.get("/api/v1/situation").json()
        listed = {k["kitchen_id"]: k for k in snapshot["kitchens"]}
        assert set(listed) == KITCHENS
        assert all(k["capacity_per_day"] == 6000 for k in listed.values())
        assert snapshot["summary"]["kitchen_capacity_per_day"] == 48_000
        assert snapshot["summary"]["kitchen_portions_needed_per_day"] == sum(
            k["portions_needed_per_day"] for k in kitchens.values())
        assert any(p.get("proposal_id") for p in snapshot["kitchen_proposals"])

        # --- ingredients to the kitchens, not to the shelters they feed
        # what a view's "planned" counts: units proposed, confirmed or on the road (a proposal
        # a later plan withdrew stays in the read models, cancelled, as history; whether the
        # replay's plans withdrew one depends on when the national results came in)
        planned: dict[tuple[str, str], float] = defaultdict(float)
        for s in shipments:
            if s["status"] in ("proposed", "confirmed", "dispatched"):
                planned[(s["shelter_id"], s["item"])] += s["quantity"]
        fed = {sid: s["kitchen_id"] for sid, s in shelters.items() if s.get("kitchen_id")}
        assert set(fed.values()) == KITCHENS
        for kitchen_id, k in kitchens.items():
            need = {i["item"]: i for i in k["ingredients"]}
            assert set(need) == set(INGREDIENTS), kitchen_id
            # 6,000 portions a day cooked for 3 days: 0.1333 kg of rice a portion
            assert need["rice"]["need"] == pytest.approx(2400), kitchen_id
            for item in ("rice", "side_dish"):
                assert planned[(kitchen_id, item)] > 0, (kitchen_id, item)
                assert planned[(kitchen_id, item)] == need[item]["planned"], (kitchen_id, item)
            # rice is conserved: the kitchen's plus its shelters' = what they would need
            served = [sid for sid, kid in fed.items() if kid == kitchen_id]
            shelter_rice = sum(n["need"] for sid in served for n in shelters[sid]["needs"]
                               if n["item"] == "rice")
            uncooked = k["portions_needed_per_day"] - k["portions_cooked_per_day"]
            per_portion = need["rice"]["need"] / k["portions_cooked_per_day"]
            assert shelter_rice == pytest.approx(uncooked * per_portion, abs=len(served)), \
                kitchen_id
        for sid in fed:
            assert planned.get((sid, "side_dish"), 0) == 0, sid  # cooked by the kitchen
            full = next(n for n in shelters[sid]["needs"] if n["item"] == "rice")
            assert full["need"] < shelters[sid]["headcount"]["total"] * 0.4 * 3, sid

        # --- the next kitchen where the running ones cannot feed everyone
        proposals = _by(models, "kitchen_proposal")
        proposal = proposals["palu-jono-oge"]
        assert proposal["site"]["name"] == "Posko Pengungsian Jono Oge, Kec. Sigi Biromaru"
        assert proposal["warehouse_id"] == "dinsos-sulteng-palu"
        assert proposal["team_id"] == "tagana-7571-02"  # the Gorontalo crew left free
        assert proposal["portions_covered_per_day"] == 6000
        assert proposal["explanation"]["rule"] == "open_kitchen_max_coverage"
        assert proposal["explanation"]["figures"]["portions_unfed_per_day"] > 6000
        assert "palu-jono-oge" in proposal["shelter_ids"]

        approved = http.post("/api/v1/kitchen-proposals/palu-jono-oge/approve",
                             json={"event_id": str(uuid.uuid4())})
        assert approved.status_code == 202, approved.text
        deadline = time.monotonic() + 120
        while True:
            opened = http.get("/api/v1/kitchens/dapur-palu-jono-oge")
            gone = "palu-jono-oge" not in [
                (p.get("site") or {}).get("site_id") for p in
                http.get("/api/v1/kitchen-proposals", params={"province_code": "72"}).json()[
                    "items"]]
            if opened.status_code == 200 and opened.json().get("capacity_per_day") and gone:
                break
            assert time.monotonic() < deadline, "the approved kitchen did not open"
            time.sleep(0.5)
    new = opened.json()
    assert new["name"] == "Dapur Umum Posko Pengungsian Jono Oge, Kec. Sigi Biromaru"
    assert new["team_ids"] == ["tagana-7571-02"]
    assert new["warehouse_id"] == "dinsos-sulteng-palu"
    assert new["proposal_id"] == "open-kitchen:palu-jono-oge"
    assert (new["units"], new["portions_per_cooking"], new["cookings_per_day"]) == (1, 2000, 3)
    assert new["assigned_shelter_ids"] == sorted(proposal["shelter_ids"])
    assert new["capacity_per_day"] == 6000
    assert "palu-jono-oge" in [s["shelter_id"] for s in new["shelters"]]
