"""The command post's field form (/posko) in a real headless browser against the real API,
broker and worker: the list of sent and refused reports names what each report was
(Pengungsian, Penerimaan barang, Kejadian — never its code), and a report the server refuses
says why in Bahasa Indonesia, naming the field by its label; in English (as a choice) the
API's own detail. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from siaga.local import ManagedProcess
from tests.e2e.test_dashboard_browser import (  # noqa: F401 - browser is a fixture
    ARTIFACTS,
    browser,
    sign_in,
)

pytestmark = pytest.mark.e2e


def test_the_posko_outbox_names_reports_and_says_refusals_in_indonesian(
    api: str, worker: ManagedProcess, tokens: dict[str, str], browser: Any,  # noqa: F811
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    suffix = uuid.uuid4().hex[:8]
    context = browser.new_context(viewport={"width": 412, "height": 900}, locale="id-ID")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, f"{api}/posko", tokens["command_post"])

    # a shelter registered: sent, and listed by what it was
    page.click("[data-tab='shelter']")
    page.fill("#form-shelter [name=name]", "Lapangan Desa Cibulakan")
    page.fill("#form-shelter [name=shelter_id]", f"sh-cibulakan-{suffix}")
    page.fill("#form-shelter [name=lat]", "-6.80")
    page.fill("#form-shelter [name=lon]", "107.06")
    page.click("#form-shelter button[type=submit]")
    sent = page.locator("#queue li[data-state='sent']")
    sent.first.wait_for(timeout=30_000)
    assert sent.first.inner_text().startswith("Terkirim · Pengungsian · "), sent.first.inner_text()

    # a receipt for a shipment that does not exist: 404 naming shipment_id
    page.click("[data-tab='receipt']")
    page.fill("#form-receipt [name=shipment_id]", f"shp-tidak-ada-{suffix}")
    page.fill("#form-receipt [name=quantity_received]", "40")
    page.click("#form-receipt button[type=submit]")
    refused = page.locator("#queue li[data-state='rejected']")
    refused.first.wait_for(timeout=30_000)
    # an incident in Palu: outside this posko's province, 403 naming province_code
    page.click("[data-tab='incident']")
    page.fill("#form-incident [name=lat]", "-0.90")
    page.fill("#form-incident [name=lon]", "119.87")
    page.click("#form-incident button[type=submit]")
    page.wait_for_function(
        "() => document.querySelectorAll(\"#queue li[data-state='rejected']\").length === 2",
        timeout=30_000)
    receipt, incident = refused.nth(0), refused.nth(1)
    assert receipt.inner_text().startswith("Ditolak server · Penerimaan barang · ")
    assert receipt.locator(".error").inner_text() == (
        "ID pengiriman tidak ditemukan (belum terdaftar, atau salah ketik).")
    assert incident.inner_text().startswith("Ditolak server · Kejadian · ")
    assert incident.locator(".error").inner_text() == (
        "Tidak diizinkan (Provinsi): di luar wilayah kerja token ini.")
    queue = page.locator("#queue").inner_text()
    for code in ("shelter ", "receipt", "incident", "shipment_id", "province_code", "no shipment",
                 "works in province"):
        assert code not in queue, (code, queue)
    page.screenshot(path=str(ARTIFACTS / "posko-refused-id.png"))

    # English as a choice: the kinds' English names, the API's own detail
    page.click("button.lang")
    assert refused.nth(0).inner_text().startswith("Rejected by server · Delivery receipt · ")
    assert "shipment_id: no shipment" in refused.nth(0).locator(".error").inner_text()
    assert "province_code:" in refused.nth(1).locator(".error").inner_text()
    assert sent.first.inner_text().startswith("Sent · Shelters · ")
    page.click("button.lang")
    assert not errors, errors
    context.close()
