"""The warehouse desk (/gudang) and the waybill (/gudang/surat-jalan) in a real headless browser.

Everything is real: a warehouse and its stock reach the broker as the warehouse system would
send them, a command post registers a shelter and its headcount over HTTP, the worker plans a
shipment; warehouse staff then see it appear on their desk, confirm it with the suggested
first-expiry-first batch, mark it dispatched and open its printable waybill. Screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from siaga.events import StockLevelReported, WarehouseRegistered
from siaga.local import ManagedProcess
from siaga.settings import Settings
from tests.e2e.helpers import bearer, make_token
from tests.e2e.test_dashboard_browser import (  # noqa: F401 - browser is a fixture
    ARTIFACTS,
    assert_no_token_kept_or_sent,
    browser,
    sign_in,
)
from tests.support import produce_events

pytestmark = pytest.mark.e2e

BANDUNG = {"lat": -6.914, "lon": 107.609}


def _envelope() -> dict[str, Any]:
    return {"event_id": uuid.uuid4(), "occurred_at": datetime.now(UTC),
            "source": "test:warehouse-system", "schema_version": 1}


def test_desk_confirms_the_first_expiring_batch_dispatches_and_prints_the_waybill(
    api: str, worker: ManagedProcess, tokens: dict[str, str], browser: Any,  # noqa: F811
    settings: Settings,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert settings.redis_url
    suffix = uuid.uuid4().hex[:8]
    warehouse, shelter = f"wh-desk-{suffix}", f"sh-desk-{suffix}"
    early, late = f"B-{suffix}-early", f"B-{suffix}-late"
    staff = make_token(settings.redis_url, "warehouse_staff", warehouse_id=warehouse)

    # the warehouse system reports a provincial store with two rice batches; the one that
    # expires first is listed second so the suggestion cannot just follow report order
    events = [
        WarehouseRegistered(**_envelope(), warehouse_id=warehouse, name="Gudang Uji Bandung",
                            kind="provincial", location=BANDUNG, province_code="32"),
        StockLevelReported(**_envelope(), warehouse_id=warehouse, province_code="32",
                           item="rice", batch_id=late, quantity=5000, unit="kg",
                           expires_on=date(2028, 6, 1)),
        StockLevelReported(**_envelope(), warehouse_id=warehouse, province_code="32",
                           item="rice", batch_id=early, quantity=5000, unit="kg",
                           expires_on=date(2027, 9, 1)),
    ]
    # Playwright's sync API runs an event loop in this thread: produce from another one
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, produce_events(settings, events)).result()
    with httpx.Client(base_url=api, headers=bearer(tokens["command_post"]), timeout=10) as posko:
        assert posko.post("/api/v1/shelters", json={
            "shelter_id": shelter, "name": "Pengungsian Uji", "capacity": 400,
            "location": {"lat": -6.920, "lon": 107.600}, "posko_id": "posko-cianjur-kab",
        }).status_code == 202
        headcount = {"total": 300, "infants": 12, "children": 80, "elderly": 25,
                     "posko_id": "posko-cianjur-kab"}
        deadline = time.monotonic() + 60  # the API knows the shelter once the worker has it
        while (status := posko.post(f"/api/v1/shelters/{shelter}/headcounts",
                                    json=headcount).status_code) == 404:
            assert time.monotonic() < deadline, "shelter never registered"
            time.sleep(0.2)
        assert status == 202

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.dismiss())
    urls = sign_in(page, f"{api}/gudang", staff)
    assert page.locator("#warehouse-id").input_value() == warehouse
    assert page.locator("#warehouse-id").get_attribute("readonly") is not None  # staff: own only

    # the worker plans; the live feed makes the desk reload by itself
    proposed = page.locator("section[data-status='proposed'] .shipment-card",
                            has_text="Pengungsian Uji").filter(has_text="Beras")
    proposed.first.wait_for(timeout=60_000)
    assert "Gudang Uji Bandung" in page.locator("#warehouse-name").inner_text()
    shipment_id = proposed.first.get_attribute("data-id")
    assert shipment_id

    proposed.first.get_by_role("button").first.click()  # confirm: opens the pick form
    form = proposed.first.locator("form.picks")
    form.wait_for()
    batch_inputs = form.locator("[name=batch_id]")
    assert batch_inputs.first.input_value() == early  # first expiry first
    page.screenshot(path=str(ARTIFACTS / "desk-confirm.png"))
    form.locator("button[type=submit]").click()

    card = f".shipment-card[data-id='{shipment_id}']"
    confirmed = page.locator(f"section[data-status='confirmed'] {card}")
    confirmed.wait_for(timeout=30_000)
    confirmed.get_by_role("button").first.click()  # dispatch
    dispatched = page.locator(f"section[data-status='dispatched'] {card}")
    dispatched.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "desk-dispatched.png"))

    with httpx.Client(base_url=api, headers=bearer(staff), timeout=10) as http:
        shipment = http.get(f"/api/v1/shipments/{shipment_id}").json()
    assert shipment["status"] == "dispatched"
    assert [b["batch_id"] for b in shipment["batches"]] == [early]
    # the dispatch is a line on the item's stock card: the batch, what left, where to
    with httpx.Client(base_url=api, headers=bearer(staff), timeout=10) as http:
        deadline = time.monotonic() + 30
        while True:
            card = http.get(f"/api/v1/warehouses/{warehouse}/stock-card",
                            params={"item": "rice"}).json()
            if "dispatch" in [m["kind"] for m in card["items"]]:
                break
            assert time.monotonic() < deadline, "no stock-card line for the dispatch"
            time.sleep(0.3)
    # newest first: the dispatch, then the warehouse system's two stock levels
    assert [m["kind"] for m in card["items"]] == ["dispatch", "level_reported", "level_reported"]
    line = card["items"][0]
    assert (line["kind"], line["batch_id"], line["shipment_id"]) == ("dispatch", early, shipment_id)
    left = shipment["quantity"]
    assert line["change"] == -left and line["balance"] == 5000 - left
    assert line["shelter_name"] == "Pengungsian Uji"

    # the waybill opens in a new tab of the same browser: the session cookie signs it in
    waybill = context.new_page()
    waybill.on("pageerror", lambda exc: errors.append(str(exc)))
    waybill.goto(f"{api}/gudang/surat-jalan?id={shipment_id}")
    waybill.wait_for_selector("body[data-ready='1']", timeout=30_000)
    text = waybill.locator("#waybill").inner_text()
    assert shipment_id in text and warehouse in text and shelter in text
    assert "Beras" in text and "rice" not in text  # the item's name, never its code
    assert early in text and late not in text
    assert "null" not in text and "undefined" not in text
    waybill.screenshot(path=str(ARTIFACTS / "waybill.png"))
    assert not errors, errors
    assert_no_token_kept_or_sent(page, urls, staff)
    context.close()
