"""Goods received on the warehouse desk (/gudang) in a real headless browser, as staff do it.

A coordinator has registered the warehouse. Its staff sign in, receive a donation of rice
through the desk's form, print the goods-received note (the donor's receipt), see the stock
by item and the item's stock card (who and why), count the batch short through the count
form, write off damaged sacks through the write-off form (more than the batch holds is
refused, said in Bahasa Indonesia naming the field) and see the line on the stock card; people
arrive nearby and the plan's shipment card explains itself in Bahasa
Indonesia — names, never item codes — and in English after the language toggle.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from siaga.local import ManagedProcess
from siaga.settings import Settings
from tests.e2e.helpers import bearer, make_token
from tests.e2e.test_dashboard_browser import (  # noqa: F401 - browser is a fixture
    ARTIFACTS,
    assert_no_token_kept_or_sent,
    browser,
    sign_in,
)

pytestmark = pytest.mark.e2e

BANDUNG = {"lat": -6.914, "lon": 107.609}
CODES = ("rice", "drinking_water", "childrens_food", "clean_water", "family_kit")


def test_staff_receive_a_donation_on_the_desk_print_its_note_and_count_it(
    api: str, worker: ManagedProcess, tokens: dict[str, str], browser: Any,  # noqa: F811
    settings: Settings,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert settings.redis_url
    suffix = uuid.uuid4().hex[:8]
    warehouse, batch, shelter = f"wh-gr-{suffix}", f"DON-{suffix}", f"sh-gr-{suffix}"
    staff = make_token(settings.redis_url, "warehouse_staff", warehouse_id=warehouse)
    with httpx.Client(base_url=api, headers=bearer(tokens["coordinator"]), timeout=15) as coord:
        assert coord.post("/api/v1/warehouses", json={
            "warehouse_id": warehouse, "name": "Gudang Dinsos Kota Bandung", "kind": "kabupaten",
            "location": BANDUNG}).status_code == 202
        deadline = time.monotonic() + 90
        while coord.get(f"/api/v1/warehouses/{warehouse}").status_code != 200:
            assert time.monotonic() < deadline, "warehouse never registered"
            time.sleep(0.3)

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    urls = sign_in(page, f"{api}/gudang", staff)
    assert "Gudang Dinsos Kota Bandung" in page.locator("#warehouse-name").inner_text()

    # receive a donation: the donor field appears for a donation and is required
    form = page.locator("#form-receive")
    assert "Beras (kg)" in form.locator("[name=item]").inner_text()  # names, not codes
    form.locator("[name=item]").select_option("rice")
    form.locator("[name=batch_id]").fill(batch)
    form.locator("[name=quantity]").fill("2500")
    form.locator("[name=expires_on]").fill("2030-06-01")
    form.locator("[name=source]").select_option("donation")
    assert form.locator("[name=donor]").is_visible()
    form.locator("[name=donor]").fill("Paguyuban Pasundan")
    form.locator("[name=document_number]").fill("BAST-12/XII/2026")
    form.locator("[name=received_by]").fill("Rina Oktaviani")
    form.locator("button[type=submit]").click()

    # the goods-received note, which for a donation is the donor's receipt too
    page.locator("#print-note").click()
    page.wait_for_selector("#note[data-ready='1']", timeout=60_000)
    note = page.locator("#note").inner_text()
    for expected in ("Tanda terima donasi", "Paguyuban Pasundan", "BAST-12/XII/2026", "Beras",
                     "2.500 kg", batch, "Gudang Dinsos Kota Bandung", "Rina Oktaviani"):
        assert expected in note, (expected, note)
    assert "rice" not in note and "null" not in note and "undefined" not in note
    page.screenshot(path=str(ARTIFACTS / "desk-goods-received-note.png"))
    page.locator("#note button.secondary").click()  # back to the desk

    # the stock by item (the worker's plan view) and the item's stock card
    row = page.locator("#stock-table tr[data-item='rice']")
    row.wait_for(timeout=60_000)
    assert "Beras" in row.inner_text() and "2.500 kg" in row.inner_text()
    row.get_by_role("button").click()
    line = page.locator("#stock-card tr[data-kind='receipt']")
    line.wait_for(timeout=30_000)
    text = line.inner_text()
    assert "Donasi: Paguyuban Pasundan" in text and "Rina Oktaviani" in text and "+2.500 kg" in text

    # count the batch short through the count form: the card gains the adjustment
    page.locator("#tabs [data-tab='count']").click()
    count = page.locator("#form-count")
    count.locator("[name=item]").select_option("rice")
    count.locator("[name=batch_id]").select_option(batch)
    count.locator("[name=counted]").fill("2400")
    count.locator("[name=reason]").fill("opname: 2 karung basah")
    count.locator("[name=counted_by]").fill("Dedi")
    count.locator("button[type=submit]").click()
    adjustment = page.locator("#stock-card tr[data-kind='count']")
    adjustment.wait_for(timeout=60_000)
    assert "-100 kg" in adjustment.inner_text() and "Dedi" in adjustment.inner_text()

    # write off more than the batch holds: refused, said in Bahasa Indonesia naming the field
    page.locator("#tabs [data-tab='write_off']").click()
    write_off = page.locator("#form-write_off")

    def fill_write_off(quantity: str) -> None:
        write_off.locator("[name=item]").select_option("rice")
        write_off.locator("[name=batch_id]").select_option(batch)
        write_off.locator("[name=quantity]").fill(quantity)
        write_off.locator("[name=reason_code]").select_option("damaged")
        write_off.locator("[name=reason]").fill("karung sobek terkena hujan")
        write_off.locator("[name=written_off_by]").fill("Siti Aminah")
        write_off.locator("[name=document_number]").fill("BA-HAPUS-07")
        write_off.locator("button[type=submit]").click()

    fill_write_off("9000")
    refused = write_off.locator(".result .error")
    refused.wait_for(timeout=15_000)
    assert refused.inner_text() == (
        "Ditolak: Jumlah: melebihi yang ada di batch, atau tidak sah."), refused.inner_text()
    assert not page.locator("#stock-card tr[data-kind='write_off']").count()
    # write off what was damaged: the stock card gains the line, with who, why and the document
    fill_write_off("150")
    written_off = page.locator("#stock-card tr[data-kind='write_off']")
    written_off.wait_for(timeout=60_000)
    text = written_off.inner_text()
    for expected in ("Hapus buku", batch, "-150 kg", "2.250 kg", "Siti Aminah", "Rusak",
                     "karung sobek terkena hujan", "BA-HAPUS-07"):
        assert expected in text, (expected, text)
    assert "damaged" not in text and "write_off" not in text
    page.screenshot(path=str(ARTIFACTS / "desk-stock-card.png"))

    # people arrive nearby: the shipment card says why, in Bahasa Indonesia, with names
    with httpx.Client(base_url=api, headers=bearer(tokens["command_post"]), timeout=15) as posko:
        assert posko.post("/api/v1/shelters", json={
            "shelter_id": shelter, "name": "Pengungsian GOR Pajajaran", "capacity": 800,
            "location": {"lat": -6.905, "lon": 107.598}, "posko_id": "posko-cianjur-kab",
        }).status_code == 202
        deadline = time.monotonic() + 60
        while posko.post(f"/api/v1/shelters/{shelter}/headcounts", json={
                "total": 400, "children": 90, "posko_id": "posko-cianjur-kab"}).status_code != 202:
            assert time.monotonic() < deadline, "shelter never registered"
            time.sleep(0.3)
    proposed = page.locator("section[data-status='proposed'] .shipment-card",
                            has_text="Pengungsian GOR Pajajaran").filter(has_text="Beras")
    proposed.first.wait_for(timeout=90_000)
    shipment_id = proposed.first.get_attribute("data-id")
    card = page.locator(f".shipment-card[data-id='{shipment_id}']")
    why = card.locator(".why").inner_text()
    assert "Beras ke Pengungsian GOR Pajajaran" in why and "kebutuhan" in why, why
    assert "Gudang Dinsos Kota Bandung" in why and " need " not in why, why
    desk_text = page.locator("#app").inner_text()
    assert not [code for code in CODES if code in desk_text], desk_text
    assert shelter not in card.inner_text()  # the shelter's name, not its id
    page.screenshot(path=str(ARTIFACTS / "desk-explained.png"))

    page.locator("header .lang").click()  # English
    english = card.locator(".why")
    deadline = time.monotonic() + 10
    while "of Rice to" not in english.inner_text():
        assert time.monotonic() < deadline, english.inner_text()
        time.sleep(0.2)
    assert not errors, errors
    assert_no_token_kept_or_sent(page, urls, staff)
    context.close()
