"""Roles and scopes over HTTP against a real `siaga api`, the real broker and Redis.

No write without a token (401); a token outside its scope gets 403; shipments move
only along their lifecycle (409); a retry with the same event id counts once.
Read models are written with `siaga.readmodel.apply_change`, as the projector does.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from siaga import readmodel
from siaga.kafka import ensure_topics
from siaga.local import ManagedProcess, free_port
from siaga.settings import Settings
from tests.conftest import Services
from tests.e2e.helpers import bearer, make_tokens
from tests.support import consume_all, start_api

pytestmark = pytest.mark.e2e

CAP_DIR = Path(__file__).resolve().parent / "cap"
SUFFIX = uuid.uuid4().hex[:6]
SHP_BEKASI = f"shp-bekasi-{SUFFIX}"
SHP_MAKASSAR = f"shp-makassar-{SUFFIX}"
SHELTER = f"shelter-cugenang-{SUFFIX}"
TASK = f"task-evac-{SUFFIX}"
TEAM = f"tagana-3203-{SUFFIX}"


@dataclass
class Stack:
    base: str
    tokens: dict[str, str]
    settings: Settings
    proc: ManagedProcess


@pytest.fixture(scope="module")
def stack(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One API process for the module (its tests only read and write their own ids)."""
    token = uuid.uuid4().hex[:10]
    settings = Settings(
        kafka_bootstrap_servers=services.bootstrap,
        redis_url=services.redis_url,
        kafka_profile="local",
        topic_prefix=f"t{token}",
        app_id=f"siaga-test-{token}",
        data_dir=tmp_path_factory.mktemp("api-roles") / "data",
        partitions=4,
        api_port=free_port(),
    )
    asyncio.run(ensure_topics(settings))
    proc, base = start_api(settings)
    try:
        yield Stack(base, make_tokens(services.redis_url), settings, proc)
    finally:
        proc.stop()


@pytest_asyncio.fixture
async def store(stack: Stack) -> AsyncIterator[Redis]:
    client = Redis.from_url(stack.settings.redis_url or "")
    try:
        yield client
    finally:
        await client.aclose()


_versions = iter(range(1, 1_000_000))


async def put(redis: Redis, entity: str, entity_id: str, data: dict[str, Any]) -> str | None:
    """Write a read-model entity exactly as the projector does."""
    return await readmodel.apply_change(
        redis,
        {
            "entity": entity,
            "id": entity_id,
            "province_code": data["province_code"],
            "version": f"{time.time_ns():020d}:{next(_versions):06d}",
            "score": time.time(),
            "data": data,
            "deleted": False,
        },
    )


def shipment(shipment_id: str, warehouse_id: str, province: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "shipment_id": shipment_id,
        "status": "proposed",
        "held": False,
        "warehouse_id": warehouse_id,
        "shelter_id": SHELTER,
        "item": "rice",
        "unit": "kg",
        "quantity": 400.0,
        "batches": [],
        "eta_hours": 3.5,
        "province_code": province,
        "origin": {"lat": -6.2383, "lon": 106.9756},
        "location": {"lat": -6.80, "lon": 107.06},
        "explanation": "rice for 1,240 people for 1 day (400 g/person/day)",
    }
    data.update(changes)
    return data


@pytest_asyncio.fixture
async def seeded(store: Redis) -> Redis:
    await put(
        store,
        "warehouse",
        "wh-bekasi-regional",
        {
            "warehouse_id": "wh-bekasi-regional",
            "name": "Gudang Regional Kemensos Bekasi",
            "kind": "regional",
            "location": {"lat": -6.2383, "lon": 106.9756},
            "province_code": "32",
            "kabupaten_code": "32.75",
            "released": True,
            "stock": [
                {
                    "item": "rice",
                    "unit": "kg",
                    "on_hand": 25000,
                    "reserved": 400,
                    "in_transit": 0,
                    "batches": [
                        {"batch_id": "B-rice-late", "quantity": 20000, "expires_on": "2099-01-01"},
                        {"batch_id": "B-rice-early", "quantity": 300, "expires_on": "2098-01-01"},
                    ],
                }
            ],
        },
    )
    await put(
        store,
        "shelter",
        SHELTER,
        {
            "shelter_id": SHELTER,
            "name": "Lapangan Desa Cibulakan",
            "location": {"lat": -6.80, "lon": 107.06},
            "province_code": "32",
            "kabupaten_code": "32.03",
            "posko_id": "posko-cianjur-kab",
            "headcount": {"total": 1240, "infants": 48, "children": 310, "elderly": 122},
            "needs": [{"item": "rice", "unit": "kg", "need": 496, "shortfall": 96}],
            "unmet_share": 0.19,
        },
    )
    await put(store, "shipment", SHP_BEKASI, shipment(SHP_BEKASI, "wh-bekasi-regional", "32"))
    await put(
        store,
        "shipment",
        SHP_MAKASSAR,
        shipment(SHP_MAKASSAR, "wh-makassar-regional", "73", origin={"lat": -5.13, "lon": 119.41}),
    )
    await put(
        store,
        "task",
        TASK,
        {"task_id": TASK, "kind": "evacuation", "province_code": "32", "target_id": SHELTER},
    )
    await put(
        store,
        "team",
        TEAM,
        {
            "team_id": TEAM,
            "name": "TAGANA Cianjur 1",
            "province_code": "32",
            "location": {"lat": -6.82, "lon": 107.14},
            "availability": "available",
        },
    )
    return store


def incident(posko_id: str = "posko-cianjur-kab", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "incident_type": "earthquake",
        "location": {"lat": -6.84, "lon": 107.05},
        "severity": 5,
        "displaced": 5389,
        "posko_id": posko_id,
    }
    body.update(changes)
    return body


def client(stack: Stack, who: str | None = None) -> httpx.Client:
    headers = bearer(stack.tokens[who]) if who else {}
    return httpx.Client(base_url=stack.base, timeout=15, headers=headers)


WRITES: list[tuple[str, dict[str, Any]]] = [
    ("/api/v1/incidents", incident()),
    ("/api/v1/shelters", {"shelter_id": "s1", "name": "x", "location": {"lat": -6.8, "lon": 107},
                          "posko_id": "posko-cianjur-kab"}),
    (f"/api/v1/shelters/{SHELTER}/headcounts", {"total": 10, "posko_id": "posko-cianjur-kab"}),
    (f"/api/v1/shipments/{SHP_BEKASI}/receipt", {"posko_id": "p", "quantity_received": 1}),
    (f"/api/v1/shipments/{SHP_BEKASI}/confirm", {"batches": [{"batch_id": "b", "quantity": 1}]}),
    (f"/api/v1/shipments/{SHP_BEKASI}/dispatch", {}),
    (f"/api/v1/shipments/{SHP_BEKASI}/cancel", {"reason": "x"}),
    (f"/api/v1/shipments/{SHP_BEKASI}/hold", {"reason": "x"}),
    ("/api/v1/dispatch/overrides", {"task_id": TASK, "team_id": TEAM, "action": "assign",
                                    "reason": "x"}),
    ("/api/v1/emergencies", {"declaration_id": "d1", "province_code": "32", "declared_by": "x"}),
]


def test_no_write_and_no_read_without_a_valid_token(stack: Stack, seeded: Redis) -> None:
    with client(stack) as anonymous:
        for path, body in WRITES:
            response = anonymous.post(path, json=body)
            assert response.status_code == 401, path
            assert response.headers["www-authenticate"].startswith("Bearer")
        response = anonymous.post(
            "/api/v1/alerts/cap",
            content=(CAP_DIR / "bmkg-cianjur-2022-11-21.xml").read_bytes(),
            headers={"Content-Type": "application/xml"},
        )
        assert response.status_code == 401
        for path in ("/api/v1/incidents", "/api/v1/situation", "/api/v1/export/shelters.csv"):
            assert anonymous.get(path).status_code == 401, path
        forged = anonymous.post(
            "/api/v1/incidents", json=incident(), headers=bearer("sg_not-a-real-token")
        )
        assert forged.status_code == 401
        assert forged.json()["detail"] == "unknown, expired or revoked token"
        # public: health, the pages, their static files, the map's provinces, the spec
        for path in ("/healthz", "/", "/dasbor", "/posko", "/gudang", "/static/dasbor.js",
                     "/api/v1/geo/provinces.geojson", "/openapi.json"):
            assert anonymous.get(path).status_code == 200, path


def test_command_post_reports_only_for_its_own_posko(stack: Stack) -> None:
    with client(stack, "command_post") as posko:
        assert posko.post("/api/v1/incidents", json=incident()).status_code == 202
        response = posko.post("/api/v1/incidents", json=incident(posko_id="posko-garut"))
        assert response.status_code == 403
        assert response.json()["detail"].startswith("posko_id:")
    with client(stack, "coordinator") as jabar, client(stack, "coordinator_other") as sulteng:
        assert jabar.post("/api/v1/incidents", json=incident()).status_code == 202
        response = sulteng.post("/api/v1/incidents", json=incident())
        assert response.status_code == 403
        assert response.json()["detail"].startswith("province_code:")
    with client(stack, "warehouse_staff") as staff:
        response = staff.post("/api/v1/incidents", json=incident())
        assert response.status_code == 403
        assert response.json()["detail"].startswith("role:")
    with client(stack, "admin") as admin:
        assert admin.post("/api/v1/incidents", json=incident()).status_code == 202


def test_shelter_and_headcount_are_scoped_to_the_posko(stack: Stack, seeded: Redis) -> None:
    with client(stack, "command_post") as posko, client(stack, "command_post_other") as other:
        body = {
            "shelter_id": f"shelter-new-{SUFFIX}",
            "name": "Masjid Agung Cianjur",
            "location": {"lat": -6.82, "lon": 107.14},
            "capacity": 800,
            "posko_id": "posko-cianjur-kab",
        }
        assert posko.post("/api/v1/shelters", json=body).status_code == 202
        headcount = {"total": 1240, "infants": 48, "children": 310, "elderly": 122,
                     "posko_id": "posko-cianjur-kab"}
        path = f"/api/v1/shelters/{SHELTER}/headcounts"
        assert posko.post(path, json=headcount).status_code == 202
        response = other.post(path, json={**headcount, "posko_id": "posko-garut"})
        assert response.status_code == 403
        assert response.json()["detail"].startswith("shelter_id:")
        too_many = posko.post(path, json={**headcount, "infants": 2000})
        assert too_many.status_code == 422
        unknown = posko.post(
            "/api/v1/shelters/shelter-nowhere/headcounts", json=headcount
        )
        assert unknown.status_code == 404
        assert unknown.json()["detail"].startswith("shelter_id:")


def test_warehouse_staff_cannot_touch_another_warehouses_shipments(
    stack: Stack, seeded: Redis
) -> None:
    confirm = {"batches": [{"batch_id": "B-rice-early", "quantity": 300},
                           {"batch_id": "B-rice-late", "quantity": 100}]}
    with client(stack, "warehouse_staff") as bekasi:
        response = bekasi.post(f"/api/v1/shipments/{SHP_MAKASSAR}/confirm", json=confirm)
        assert response.status_code == 403
        assert response.json()["detail"].startswith("warehouse_id:")
        assert bekasi.post(f"/api/v1/shipments/{SHP_MAKASSAR}/cancel",
                           json={"reason": "x"}).status_code == 403
        assert bekasi.get("/api/v1/warehouses/wh-makassar-regional/shipments").status_code == 403
        desk = bekasi.get("/api/v1/warehouses/wh-bekasi-regional/shipments").json()
        assert SHP_BEKASI in [s["shipment_id"] for s in desk["by_status"]["proposed"]]
        assert SHP_MAKASSAR not in json.dumps(desk)
        pick = bekasi.get(f"/api/v1/shipments/{SHP_BEKASI}/pick-suggestion").json()
        assert [b["batch_id"] for b in pick["batches"]] == ["B-rice-early", "B-rice-late"]
        assert bekasi.get(f"/api/v1/shipments/{SHP_BEKASI}/waybill").json()["lines"]
        assert bekasi.post(f"/api/v1/shipments/{SHP_BEKASI}/confirm",
                           json=confirm).status_code == 202
    with client(stack, "warehouse_staff_other") as makassar:
        assert makassar.post(f"/api/v1/shipments/{SHP_BEKASI}/dispatch",
                             json={}).status_code == 403
    with client(stack, "command_post") as posko:
        response = posko.post(f"/api/v1/shipments/{SHP_BEKASI}/confirm", json=confirm)
        assert response.status_code == 403


def test_shipment_lifecycle_is_checked_409_and_unknown_is_404(
    stack: Stack, seeded: Redis
) -> None:
    with client(stack, "warehouse_staff") as staff:
        response = staff.post(f"/api/v1/shipments/{SHP_BEKASI}/dispatch", json={})
        assert response.status_code == 409
        assert response.json()["detail"].startswith("status:")
        response = staff.post("/api/v1/shipments/shp-nope/dispatch", json={})
        assert response.status_code == 404
        assert response.json()["detail"].startswith("shipment_id:")
        over = staff.post(f"/api/v1/shipments/{SHP_BEKASI}/confirm",
                          json={"batches": [{"batch_id": "B-rice-late", "quantity": 9999}]})
        assert over.status_code == 422
        assert over.json()["detail"][0]["loc"] == ["body", "batches"]
        ghost = staff.post(f"/api/v1/shipments/{SHP_BEKASI}/confirm",
                           json={"batches": [{"batch_id": "B-ghost", "quantity": 1}]})
        assert ghost.status_code == 422
        assert ghost.json()["detail"][0]["loc"] == ["body", "batches", 0, "batch_id"]
        no_reason = staff.post(f"/api/v1/shipments/{SHP_BEKASI}/cancel", json={})
        assert no_reason.status_code == 422
        assert no_reason.json()["detail"][0]["loc"] == ["body", "reason"]


async def test_dispatched_shipment_can_be_received_only_by_its_posko(
    stack: Stack, seeded: Redis
) -> None:
    shp = f"shp-dispatched-{SUFFIX}"
    await put(seeded, "shipment", shp,
              shipment(shp, "wh-bekasi-regional", "32", status="dispatched"))
    receipt = {"posko_id": "posko-cianjur-kab", "quantity_received": 380, "note": "20 kg basah"}
    with client(stack, "command_post_other") as other:
        response = other.post(f"/api/v1/shipments/{shp}/receipt",
                              json={**receipt, "posko_id": "posko-garut"})
        assert response.status_code == 403
    with client(stack, "command_post") as posko:
        assert posko.post(f"/api/v1/shipments/{shp}/receipt", json=receipt).status_code == 202
        response = posko.post(f"/api/v1/shipments/{SHP_BEKASI}/receipt", json=receipt)
        assert response.status_code == 409  # proposed, not dispatched
    records = await consume_all(stack.settings, stack.settings.topic("shipments"), 10**6, 5)
    delivered = [json.loads(r.value) for r in records]
    delivered = [r for r in delivered if r["shipment_id"] == shp]
    assert delivered[0]["status"] == "delivered"
    assert delivered[0]["quantity_received"] == 380
    assert delivered[0]["source"] == "posko:posko-cianjur-kab"


def test_coordinator_holds_and_overrides_only_in_their_province(
    stack: Stack, seeded: Redis
) -> None:
    hold = {"held": True, "reason": "jalan ke Cugenang tertutup longsor"}
    with client(stack, "coordinator_other") as sulteng:
        response = sulteng.post(f"/api/v1/shipments/{SHP_BEKASI}/hold", json=hold)
        assert response.status_code == 403
        assert response.json()["detail"].startswith("province_code:")
    with client(stack, "warehouse_staff") as staff:
        assert staff.post(f"/api/v1/shipments/{SHP_BEKASI}/hold", json=hold).status_code == 403
    with client(stack, "coordinator") as jabar, client(stack, "coordinator_national") as pusat:
        assert jabar.post(f"/api/v1/shipments/{SHP_BEKASI}/hold", json=hold).status_code == 202
        assert pusat.post(f"/api/v1/shipments/{SHP_MAKASSAR}/hold", json=hold).status_code == 202
        override = {"task_id": TASK, "team_id": TEAM, "action": "assign",
                    "reason": "tim mengenal medan"}
        assert jabar.post("/api/v1/dispatch/overrides", json=override).status_code == 202
        missing = jabar.post("/api/v1/dispatch/overrides", json={**override, "task_id": "t-x"})
        assert missing.status_code == 404
        assert missing.json()["detail"].startswith("task_id:")
        declaration = {"declaration_id": f"sk-{SUFFIX}", "province_code": "32",
                       "kabupaten_code": "32.03", "declared_by": "Bupati Cianjur"}
        assert jabar.post("/api/v1/emergencies", json=declaration).status_code == 202
        wrong = jabar.post("/api/v1/emergencies", json={**declaration, "kabupaten_code": "72.03"})
        assert wrong.status_code == 422
    with client(stack, "coordinator_other") as sulteng:
        assert sulteng.post("/api/v1/dispatch/overrides", json=override).status_code == 403


async def test_retry_counts_once_and_a_reused_id_for_another_request_is_409(
    stack: Stack,
) -> None:
    body = incident(incident_id=f"retry-{SUFFIX}")
    with client(stack, "command_post") as posko:
        first = posko.post("/api/v1/incidents", json=body)
        again = posko.post("/api/v1/incidents", json=body)
        assert first.status_code == again.status_code == 202
        assert first.json() == again.json()
        clash = posko.post("/api/v1/incidents", json={**body, "severity": 2})
        assert clash.status_code == 409
        assert clash.json()["detail"].startswith("event_id:")
    records = await consume_all(stack.settings, stack.settings.topic("incidents"), 10**6, 5)
    ids = [json.loads(r.value)["event_id"] for r in records]
    assert ids.count(body["event_id"]) == 1


async def test_bmkg_cap_alert_becomes_one_incident_event(stack: Stack) -> None:
    xml = (CAP_DIR / "bmkg-palu-2018-09-28.xml").read_bytes()
    headers = {"Content-Type": "application/xml"}
    with client(stack, "alert_feed") as feed:
        first = feed.post("/api/v1/alerts/cap", content=xml, headers=headers)
        assert first.status_code == 202, first.text
        again = feed.post("/api/v1/alerts/cap", content=xml, headers=headers)
        assert again.status_code == 202
        accepted = first.json()
        assert accepted == again.json()
        assert accepted["province_code"] == "72"
        assert accepted["severity"] == 5
        assert accepted["incident_id"] == "cap-Indonesia-InaTEWS-earthquakes-20180928180244"
    records = await consume_all(stack.settings, stack.settings.topic("incidents"), 10**6, 5)
    events = [json.loads(r.value) for r in records]
    mine = [e for e in events if e["event_id"] == accepted["event_id"]]
    assert len(mine) == 1
    event = mine[0]
    assert event["incident_type"] == "earthquake"
    assert event["kabupaten_code"] == "72.03"
    assert event["occurred_at"].startswith("2018-09-28T10:02:44")
    assert event["location"] == {"lat": -0.18, "lon": 119.85}
    assert "M7.4" in event["description"] and "kedalaman 10 km" in event["description"]
    assert event["source"] == "cap:info_inatews@bmkg.go.id"


def test_malformed_or_non_cap_documents_get_a_clear_4xx(stack: Stack) -> None:
    xml = (CAP_DIR / "bmkg-cianjur-2022-11-21.xml").read_bytes()
    with client(stack, "alert_feed") as jabar:
        as_json = jabar.post("/api/v1/alerts/cap", json={"identifier": "x"})
        assert as_json.status_code == 415
        bomb = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "bbbbbbbb">]><a>&b;</a>'
        response = jabar.post("/api/v1/alerts/cap", content=bomb,
                              headers={"Content-Type": "application/xml"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "document"]
        rss = b"<rss><channel/></rss>"
        response = jabar.post("/api/v1/alerts/cap", content=rss,
                              headers={"Content-Type": "text/xml"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "alert"]
        offshore = xml.replace(b"-6.84,107.05 0", b"-30.0,80.0 0")
        response = jabar.post("/api/v1/alerts/cap", content=offshore,
                              headers={"Content-Type": "application/xml"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "info", "area"]
        huge = xml.replace(b"</alert>", b"<!--" + b"x" * 300_000 + b"--></alert>")
        response = jabar.post("/api/v1/alerts/cap", content=huge,
                              headers={"Content-Type": "application/xml"})
        assert response.status_code == 413
        # a UTF-16 document: no ASCII "<!DOCTYPE" bytes for a naive check to find
        bomb16 = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY b "bbbb">]>'
                  '<a>&b;</a>').encode("utf-16")
        assert b"<!DOCTYPE" not in bomb16
        response = jabar.post("/api/v1/alerts/cap", content=bomb16,
                              headers={"Content-Type": "application/xml"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "document"]
        for bad in (b"abc,def 0", b"-6.84 0"):
            response = jabar.post("/api/v1/alerts/cap", content=xml.replace(b"-6.84,107.05 0", bad),
                                  headers={"Content-Type": "application/xml"})
            assert response.status_code == 422, response.text
            assert response.json()["detail"][0]["loc"] == ["body", "info", "area", "circle"]
        forged = xml.replace(b"info_inatews@bmkg.go.id</sender>", b"bmkg@evil.example</sender>")
        response = jabar.post("/api/v1/alerts/cap", content=forged,
                              headers={"Content-Type": "application/xml"})
        assert response.status_code == 403
        assert response.json()["detail"].startswith("sender:")
    # an official alert comes from the alert feed (or an admin), never a command post
    for who in ("command_post", "coordinator", "coordinator_national", "warehouse_staff"):
        with client(stack, who) as other:
            response = other.post("/api/v1/alerts/cap", content=xml,
                                  headers={"Content-Type": "application/xml"})
            assert response.status_code == 403, who
            assert response.json()["detail"].startswith("role:")


def test_situation_snapshot_and_hxl_exports(stack: Stack, seeded: Redis) -> None:
    with client(stack, "coordinator") as jabar:
        snapshot = jabar.get("/api/v1/situation").json()
        assert snapshot["cursor"] != "0-0"
        assert SHELTER in [s["shelter_id"] for s in snapshot["shelters"]]
        assert snapshot["summary"]["displaced_in_shelters"] >= 1240
        me = jabar.get("/api/v1/me").json()
        assert me == {"role": "coordinator", "scope": {"province_code": "32"},
                      "label": "test coordinator"}
    token = stack.tokens["warehouse_staff"]
    with client(stack) as browser:  # a download link carries the session cookie, not a token
        refused = browser.get(f"/api/v1/export/shelters.csv?access_token={token}")
        assert refused.status_code == 401
        assert token not in refused.text
        signed_in = browser.post("/api/v1/session", headers=bearer(token))
        assert signed_in.status_code == 200
        cookie = signed_in.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert token not in cookie
        csv_text = browser.get("/api/v1/export/shelters.csv").text
        header, tags = csv_text.splitlines()[:2]
        assert header.startswith("shelter_id,name,province_code")
        assert tags.startswith("#loc+code,#loc+name,#adm1+code,#adm1+name,#adm2+code")
        assert f"{SHELTER},Lapangan Desa Cibulakan,32,Jawa Barat,32.03" in csv_text
        needs = browser.get("/api/v1/export/needs.csv").text
        assert "#value+unmet" in needs and f"{SHELTER}," in needs
        stock = browser.get("/api/v1/export/stock.csv").text
        assert "wh-bekasi-regional" in stock and "#value+onhand" in stock


class _Sse:
    """A minimal SSE reader over httpx (what EventSource does)."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.aiter_lines()

    async def next_change(self, timeout: float = 10) -> tuple[str, dict[str, Any]]:
        async def read() -> tuple[str, dict[str, Any]]:
            event_id, kind, data = "", "", ""
            async for line in self.lines:
                if line.startswith("id: "):
                    event_id = line[4:]
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
                elif line == "" and kind == "change":
                    return event_id, json.loads(data)
            raise AssertionError("stream ended")

        return await asyncio.wait_for(read(), timeout)


async def test_live_stream_resumes_after_a_reconnect_without_losing_updates(
    stack: Stack, store: Redis
) -> None:
    headers = bearer(stack.tokens["coordinator"])
    ids = [f"inc-live-{SUFFIX}-{n}" for n in range(4)]

    def item(n: int) -> dict[str, Any]:
        return {"incident_id": ids[n], "province_code": "32", "severity": 3,
                "location": {"lat": -6.84, "lon": 107.05}}

    async with httpx.AsyncClient(base_url=stack.base, timeout=30, headers=headers) as http:
        cursor = (await http.get("/api/v1/situation")).json()["cursor"]
        async with http.stream("GET", f"/api/v1/live?after={cursor}") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            sse = _Sse(response)
            await put(store, "incident", ids[0], item(0))
            last_seen, change = await sse.next_change()
            assert change["entity"] == "incident" and change["id"] == ids[0]
            assert change["data"]["severity"] == 3
        # disconnected: two updates happen meanwhile
        await put(store, "incident", ids[1], item(1))
        await put(store, "incident", ids[2], item(2))
        async with http.stream(
            "GET", f"/api/v1/live?after={cursor}", headers={"Last-Event-ID": last_seen}
        ) as response:
            sse = _Sse(response)
            got = [(await sse.next_change())[1]["id"] for _ in range(2)]
            assert got == ids[1:3]  # Last-Event-ID wins over ?after, nothing repeated
            await put(store, "incident", ids[3], item(3))
            assert (await sse.next_change())[1]["id"] == ids[3]


def test_demo_tokens_are_written_for_every_role_and_work(stack: Stack, tmp_path: Path) -> None:
    from api.tokens_cli import create_demo_tokens

    demo = create_demo_tokens(stack.settings.model_copy(update={"data_dir": tmp_path}))
    on_disk = json.loads((tmp_path / "demo-tokens.json").read_text())
    assert on_disk == demo
    assert sorted(demo) == ["admin", "command_post", "coordinator", "team", "warehouse_staff"]
    for role, token in demo.items():
        me = httpx.get(f"{stack.base}/api/v1/me", headers=bearer(token), timeout=10).json()
        assert me["role"] == role
    assert httpx.get(f"{stack.base}/api/v1/me", headers=bearer(demo["command_post"]),
                     timeout=10).json()["scope"] == {"posko_id": "posko-cugenang",
                                                     "province_code": "32"}
    # a configured Redis (not one `siaga run` started) never gets demo tokens
    elsewhere = tmp_path / "configured"
    assert create_demo_tokens(
        stack.settings.model_copy(update={"data_dir": elsewhere}), own_redis=False
    ) == {}
    assert not (elsewhere / "demo-tokens.json").exists()
