"""The waybill (surat jalan) of ingredients shipped to a public kitchen, over HTTP and in a real
headless browser: the destination is the kitchen by its name and address (kabupaten/kota and
province) — not its bare id, as when the waybill looked the destination up only as a shelter —
and a shelter's waybill still names the shelter. Read models are seeded as the projector
writes them; the API is the real one."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from siaga import readmodel
from siaga.settings import Settings
from tests.e2e.helpers import bearer, make_token
from tests.e2e.test_dashboard_browser import (  # noqa: F401 - browser is a fixture
    ARTIFACTS,
    browser,
    sign_in,
)

pytestmark = pytest.mark.e2e

S = uuid.uuid4().hex[:6]
WAREHOUSE, KITCHEN, SHELTER = f"gudang-palu-{S}", f"dapur-walikota-{S}", f"sh-talise-{S}"
TO_KITCHEN, TO_SHELTER = f"shp-dapur-{S}", f"shp-talise-{S}"


def _seed(redis_url: str) -> None:
    def change(entity: str, entity_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"entity": entity, "id": entity_id, "province_code": "72", "score": time.time(),
                "version": f"{time.time_ns():020d}", "deleted": False,
                "data": {"province_code": "72", **data}}

    shipment = {"status": "confirmed", "held": False, "warehouse_id": WAREHOUSE, "item": "rice",
                "unit": "kg", "quantity": 2400.0, "eta_hours": 0.3,
                "batches": [{"batch_id": f"B-{S}", "quantity": 2400, "expires_on": "2027-01-31"}]}
    changes = [
        change("warehouse", WAREHOUSE, {"warehouse_id": WAREHOUSE, "kind": "provincial",
                                        "name": "Gudang Dinas Sosial Sulawesi Tengah",
                                        "location": {"lat": -0.87, "lon": 119.88}}),
        change("kitchen", KITCHEN, {"kitchen_id": KITCHEN, "team_ids": ["tagana-7371-01"],
                                    "name": "Dapur Umum Lapangan Kantor Wali Kota Palu",
                                    "location": {"lat": -0.899, "lon": 119.883}}),
        change("shelter", SHELTER, {"shelter_id": SHELTER, "name": "Pengungsian Talise",
                                    "posko_id": "posko-palu",
                                    "location": {"lat": -0.875, "lon": 119.88}}),
        change("shipment", TO_KITCHEN, {"shipment_id": TO_KITCHEN, **shipment,
                                        "shelter_id": KITCHEN}),
        change("shipment", TO_SHELTER, {"shipment_id": TO_SHELTER, **shipment,
                                        "shelter_id": SHELTER}),
    ]

    async def write() -> None:
        from redis.asyncio import Redis

        client = Redis.from_url(redis_url)
        try:
            for item in changes:
                await readmodel.apply_change(client, item)
        finally:
            await client.aclose()

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's loop
        pool.submit(asyncio.run, write()).result()


def test_a_kitchens_waybill_names_the_kitchen_and_its_address(
    api: str, browser: Any, settings: Settings,  # noqa: F811
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert settings.redis_url
    _seed(settings.redis_url)
    staff = make_token(settings.redis_url, "warehouse_staff", warehouse_id=WAREHOUSE)
    with httpx.Client(base_url=api, headers=bearer(staff), timeout=10) as http:
        data = http.get(f"/api/v1/shipments/{TO_KITCHEN}/waybill").json()
        assert data["destination"] == {
            "kind": "kitchen", "id": KITCHEN, "name": "Dapur Umum Lapangan Kantor Wali Kota Palu",
            "location": {"lat": -0.899, "lon": 119.883},
            "address": {"kabupaten_code": "72.71", "kabupaten_name": "Kota Palu",
                        "province_code": "72", "province_name": "Sulawesi Tengah"}}
        assert data["shelter"]["name"] == "Dapur Umum Lapangan Kantor Wali Kota Palu"
        assert data["warehouse"]["address"]["kabupaten_name"] == "Kota Palu"
        to_shelter = http.get(f"/api/v1/shipments/{TO_SHELTER}/waybill").json()
        assert to_shelter["destination"]["kind"] == "shelter"
        assert to_shelter["destination"]["name"] == "Pengungsian Talise"

    context = browser.new_context(viewport={"width": 1000, "height": 900}, locale="id-ID")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, f"{api}/gudang/surat-jalan?id={TO_KITCHEN}", staff)
    destination = page.locator("#waybill-destination").inner_text()
    assert destination.startswith(
        f"Tujuan: Dapur Umum Lapangan Kantor Wali Kota Palu (dapur umum, {KITCHEN})"
        " · Kota Palu, Sulawesi Tengah"), destination
    assert "Gudang Dinas Sosial Sulawesi Tengah" in page.locator("#waybill-origin").inner_text()
    text = page.locator("#waybill").inner_text()
    assert "Beras" in text and "null" not in text and "undefined" not in text
    page.screenshot(path=str(ARTIFACTS / "waybill-kitchen.png"))
    page.goto(f"{api}/gudang/surat-jalan?id={TO_SHELTER}")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert page.locator("#waybill-destination").inner_text().startswith(
        f"Tujuan: Pengungsian Talise (pengungsian, {SHELTER}) · Kota Palu, Sulawesi Tengah")
    assert not errors, errors
    context.close()
