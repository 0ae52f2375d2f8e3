"""Public kitchens as the users make them, over HTTP → Kafka → worker → Redis → HTTP.

Sulawesi Tengah's coordinator opens a kitchen in Palu; the kitchen's read model shows its
capacity and the portions its shelters need, the situation snapshot lists it; its team reports
lunch from its own phone (another team's phone cannot); the plan proposes a kitchen for the
people beyond its reach, and the coordinator approves the proposal, which opens that kitchen.
A coordinator of another province, a location outside the province and an unknown team are
refused naming the field.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from siaga import events as ev
from siaga.local import ManagedProcess
from siaga.settings import Settings
from tests.e2e.helpers import bearer, make_token
from tests.support import produce_events

pytestmark = pytest.mark.e2e

S = uuid.uuid4().hex[:6]
KITCHEN = f"dapur-dinsos-{S}"
NEAR = [(f"sh-balaroa-{S}", (-0.89, 119.86), 1200), (f"sh-kawatuna-{S}", (-0.92, 119.89), 800)]
FAR = (f"sh-poso-{S}", (-1.39, 120.75), 2500)
COOK, SPARE = f"tagana-a-{S}", f"tagana-b-{S}"
WAREHOUSE = f"gudang-sulteng-{S}"
PALU = {"lat": -0.90, "lon": 119.87}


def _wait(fetch: Any, timeout: float = 120, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what} not met within {timeout} s"
        time.sleep(0.3)


def _field_of(response: httpx.Response) -> str:
    detail = response.json()["detail"]
    return detail if isinstance(detail, str) else ".".join(map(str, detail[0]["loc"]))


def _setup() -> list[ev.Envelope]:
    at = ev.utcnow() - timedelta(minutes=30)

    def env(source: str) -> dict[str, Any]:
        return {"event_id": uuid.uuid4(), "occurred_at": at, "source": source,
                "schema_version": 1}

    out: list[ev.Envelope] = []
    for shelter_id, (lat, lon), total in [*NEAR, FAR]:
        out += [
            ev.ShelterRegistered(**env("posko:palu"), shelter_id=shelter_id,
                                 name=f"Pengungsian {shelter_id}", location={"lat": lat,
                                                                             "lon": lon},
                                 province_code="72", posko_id="posko-palu"),
            ev.ShelterHeadcountReported(**env("posko:palu"), shelter_id=shelter_id,
                                        province_code="72", total=total, posko_id="posko-palu"),
        ]
    out.append(ev.WarehouseRegistered(
        **env("kemensos"), warehouse_id=WAREHOUSE, name="Gudang Dinsos Sulteng",
        kind="provincial", location={"lat": -0.87, "lon": 119.88}, province_code="72"))
    for item, qty, unit in (("rice", 50000, "kg"), ("field_kitchen", 1, "unit")):
        out.append(ev.StockLevelReported(
            **env(f"warehouse:{WAREHOUSE}"), warehouse_id=WAREHOUSE, province_code="72",
            item=item, batch_id=f"{WAREHOUSE}-{item}", quantity=qty, unit=unit))
    for team_id in (COOK, SPARE):
        out.append(ev.TeamStatusReported(
            **env("tagana:palu"), team_id=team_id, province_code="72", location=PALU,
            skills=["public_kitchen"], members=10, availability="available"))
    return out


def _kitchen_body(**fields: Any) -> dict[str, Any]:
    body = {"event_id": str(uuid.uuid4()), "kitchen_id": KITCHEN,
            "name": "Dapur Umum Kantor Dinas Sosial Provinsi Sulawesi Tengah",
            "location": PALU, "team_ids": [COOK]}
    body.update(fields)
    return body


def test_a_coordinator_opens_a_kitchen_its_team_reports_and_a_proposal_is_approved(
    api: str, worker: ManagedProcess, tokens: dict[str, str], settings: Settings,
) -> None:
    assert settings.redis_url
    asyncio.run(produce_events(settings, _setup()))
    cook_phone = make_token(settings.redis_url, "team", team_id=COOK, province_code="72")
    spare_phone = make_token(settings.redis_url, "team", team_id=SPARE, province_code="72")
    with (httpx.Client(base_url=api, headers=bearer(tokens["coordinator_other"]),
                       timeout=15) as sulteng,
          httpx.Client(base_url=api, headers=bearer(tokens["coordinator"]), timeout=15) as jabar,
          httpx.Client(base_url=api, headers=bearer(cook_phone), timeout=15) as cook,
          httpx.Client(base_url=api, headers=bearer(spare_phone), timeout=15) as spare):
        _wait(lambda: sulteng.get(f"/api/v1/teams/{COOK}").status_code == 200,
              what="the team in the read model")
        # refused, naming the field
        other = jabar.post("/api/v1/kitchens", json=_kitchen_body())
        assert other.status_code == 403 and "province_code" in _field_of(other)
        outside = sulteng.post("/api/v1/kitchens", json=_kitchen_body(
            location={"lat": -6.84, "lon": 107.05}, province_code="72"))
        assert outside.status_code == 422 and _field_of(outside) == "body.province_code"
        unknown = sulteng.post("/api/v1/kitchens", json=_kitchen_body(team_ids=["nobody"]))
        assert unknown.status_code == 422 and _field_of(unknown) == "body.team_ids"
        _wait(lambda: sulteng.get("/api/v1/situation").json()["summary"]["shelters"] >= 3,
              what="the shelters in the read model")
        clash = sulteng.post("/api/v1/kitchens", json=_kitchen_body(kitchen_id=NEAR[0][0]))
        assert clash.status_code == 422 and _field_of(clash) == "body.kitchen_id"

        opened = sulteng.post("/api/v1/kitchens", json=_kitchen_body())
        assert opened.status_code == 202, opened.text

        def loaded() -> dict[str, Any] | None:
            r = sulteng.get(f"/api/v1/kitchens/{KITCHEN}")
            body = r.json() if r.status_code == 200 else {}
            return body if body.get("portions_needed_per_day") == 6000 else None

        kitchen = _wait(loaded, what="the kitchen's load")
        assert kitchen["capacity_per_day"] == 6000
        assert kitchen["shelter_ids"] == sorted(s for s, _, _ in NEAR)
        snapshot = sulteng.get("/api/v1/situation").json()
        assert KITCHEN in [k["kitchen_id"] for k in snapshot["kitchens"]]
        assert snapshot["summary"]["kitchen_capacity_per_day"] >= 6000

        # the cook's phone reports lunch; the spare team's phone cannot report for it
        lunch = {"event_id": str(uuid.uuid4()), "team_id": COOK, "status": "open",
                 "meal": "siang", "portions_served": 1950}
        forged = spare.post(f"/api/v1/kitchens/{KITCHEN}/reports", json=lunch)
        assert forged.status_code == 403 and "team_id" in _field_of(forged)
        assert cook.post(f"/api/v1/kitchens/{KITCHEN}/reports", json=lunch).status_code == 202
        _wait(lambda: (sulteng.get(f"/api/v1/kitchens/{KITCHEN}").json().get(
            "served_last_day") or {}).get("portions") == 1950, what="lunch in the read model")

        # beyond reach: a proposal at the far shelter, approved by the coordinator
        def proposed() -> dict[str, Any] | None:
            items = sulteng.get("/api/v1/kitchen-proposals",
                                params={"province_code": "72"}).json()["items"]
            return next((p for p in items if (p.get("site") or {}).get("site_id") == FAR[0]),
                        None)

        proposal = _wait(proposed, what="a proposal to open a kitchen")
        assert proposal["team_id"] == SPARE and proposal["warehouse_id"] == WAREHOUSE
        approved = sulteng.post(f"/api/v1/kitchen-proposals/{FAR[0]}/approve",
                                json={"event_id": str(uuid.uuid4())})
        assert approved.status_code == 202, approved.text
        new = _wait(lambda: sulteng.get(f"/api/v1/kitchens/dapur-{FAR[0]}").status_code == 200
                    and sulteng.get(f"/api/v1/kitchens/dapur-{FAR[0]}").json(),
                    what="the approved kitchen")
        assert new["team_ids"] == [SPARE] and new["warehouse_id"] == WAREHOUSE
        _wait(lambda: proposed() is None, what="the proposal gone once the kitchen opened")
