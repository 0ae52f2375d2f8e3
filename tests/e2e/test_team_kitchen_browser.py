"""A team running a public kitchen, on its phone page (/tim), in a real headless browser
against the real API, broker, worker and Redis: a coordinator opens a kitchen run by the team
near two shelters; the team's page shows the kitchen's shifts (cookings a day, portions per
cooking, capacity), the shelters it cooks for with the portions each needs a day, and lets the
team report the kitchen's status and the portions served at lunch — with no signal too (the
outbox sends it when the signal returns) — which reaches the kitchen's read model. In Bahasa
Indonesia, English as a choice. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from siaga import readmodel
from siaga.catalogue import TOPICS
from siaga.kafka import ensure_topics
from siaga.local import ManagedProcess
from siaga.settings import Settings
from tests.e2e.helpers import bearer, make_token
from tests.e2e.test_dashboard_browser import (  # noqa: F401 - browser is a fixture
    ARTIFACTS,
    assert_no_token_kept_or_sent,
    browser,
    sign_in,
)
from tests.support import consume_all

pytestmark = pytest.mark.e2e


def _until(check: Any, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.3)


def test_a_kitchen_team_sees_its_shifts_and_shelters_and_reports_a_meal_from_the_page(
    api: str, worker: ManagedProcess, tokens: dict[str, str], browser: Any,  # noqa: F811
    settings: Settings,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert settings.redis_url
    suffix = uuid.uuid4().hex[:8]
    team_id, kitchen_id = f"tagana-dapur-{suffix}", f"dapur-cugenang-{suffix}"
    big, small = f"sh-dapur-a-{suffix}", f"sh-dapur-b-{suffix}"
    phone = make_token(settings.redis_url, "team", team_id=team_id, province_code="32")
    coordinator = httpx.Client(base_url=api, headers=bearer(tokens["coordinator"]), timeout=10)
    assert coordinator.post("/api/v1/teams", json={
        "team_id": team_id, "name": "TAGANA Dapur Cugenang", "province_code": "32",
        "kabupaten_code": "32.03", "base": {"lat": -6.81, "lon": 107.07},
        "members": [{"name": "Euis", "role": "ketua"}, {"name": "Ujang"}],
        "skills": ["public_kitchen"], "rank": "madya"}).status_code == 202
    with httpx.Client(base_url=api, headers=bearer(tokens["command_post"]), timeout=10) as posko:
        for shelter, name, lat, total in ((big, "Lapangan Desa Sukamaju", -6.800, 300),
                                          (small, "Masjid Al-Ikhlas", -6.806, 200)):
            assert posko.post("/api/v1/shelters", json={
                "shelter_id": shelter, "name": name, "location": {"lat": lat, "lon": 107.06},
                "posko_id": "posko-cianjur-kab"}).status_code == 202
            _until(lambda s=shelter, t=total: posko.post(f"/api/v1/shelters/{s}/headcounts", json={
                "total": t, "posko_id": "posko-cianjur-kab"}).status_code == 202)
    _until(lambda: coordinator.get(f"/api/v1/teams/{team_id}").status_code == 200)
    opened = coordinator.post("/api/v1/kitchens", json={
        "kitchen_id": kitchen_id, "name": "Dapur Umum Lapangan Cugenang",
        "location": {"lat": -6.803, "lon": 107.062}, "team_ids": [team_id]})
    assert opened.status_code == 202, opened.text

    def kitchen() -> dict[str, Any] | None:
        r = coordinator.get(f"/api/v1/kitchens/{kitchen_id}")
        return r.json() if r.status_code == 200 else None

    # 300 + 200 people, three portions a day each
    _until(lambda: (kitchen() or {}).get("portions_needed_per_day") == 1500)

    context = browser.new_context(viewport={"width": 412, "height": 915}, locale="id-ID")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    urls = sign_in(page, f"{api}/tim", phone)
    card = page.locator(f"#kitchens article.kitchen[data-kitchen-id='{kitchen_id}']")
    card.wait_for(timeout=30_000)
    assert card.locator(".kitchen-name").inner_text() == "Dapur Umum Lapangan Cugenang"
    assert card.locator(".kitchen-status").inner_text() == "Buka"
    shifts = card.locator(".kitchen-shifts").inner_text()
    assert "3 kali sehari (pagi, siang, malam)" in shifts, shifts
    assert "2.000 porsi per masak" in shifts, shifts
    load = card.locator(".kitchen-load").inner_text()
    assert "Kapasitas 6.000 porsi/hari" in load and "Dibutuhkan 1.500 porsi/hari" in load, load
    assert "500 orang" in load, load
    rows = card.locator("table.kitchen-shelters tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).inner_text().split("\t") == ["Lapangan Desa Sukamaju", "900"]
    assert rows.nth(1).inner_text().split("\t") == ["Masjid Al-Ikhlas", "600"]
    assert card.locator(".kitchen-served").inner_text() == "Belum ada laporan makan."
    page.screenshot(path=str(ARTIFACTS / "tim-dapur.png"), full_page=True)

    form = card.locator("form.kitchen-report")
    # a meal without its portions: the page asks for them, nothing is queued
    form.locator("[name=meal]").select_option("siang")
    form.locator("button[type=submit]").click()
    assert form.locator(".error").inner_text() == "Isi jumlah porsi tersaji untuk waktu makan ini."
    assert page.locator("#queue li").count() == 0

    # lunch reported with no signal: it waits in the outbox, then goes when the signal returns
    context.set_offline(True)
    form.locator("[name=status]").select_option("open")
    form.locator("[name=portions_served]").fill("1450")
    form.locator("button[type=submit]").click()
    queued = page.locator("#queue li[data-state='queued']")
    queued.wait_for()
    assert "Laporan dapur Dapur Umum Lapangan Cugenang: Siang 1.450" in queued.inner_text()
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    queued.wait_for(state="detached", timeout=30_000)

    served = _until(lambda: ((kitchen() or {}).get("served_last_day") or {}).get("portions")
                    == 1450 and kitchen())
    day = served["served_last_day"]["day"]
    assert served["served"][day] == {"siang": 1450}
    card.locator(".kitchen-served", has_text="Siang 1.450").wait_for(timeout=30_000)
    line = card.locator(".kitchen-served").inner_text()
    # the day as people write it ("7 Oktober 2018"), not an ISO code
    y, m, d = (int(x) for x in day.split("-"))
    month = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember"][m - 1]
    assert line == f"Tersaji {d} {month} {y}: Siang 1.450", line

    text = page.locator("body").inner_text()
    for code in ("public_kitchen", "preparing", "portions_per", "undefined", "null", "NaN"):
        assert code not in text, code
    # English as a choice
    page.click("button.lang")
    shifts = card.locator(".kitchen-shifts").inner_text()
    assert "3 times a day (breakfast, lunch, dinner)" in shifts, shifts
    assert card.locator(".kitchen-served").inner_text().endswith(": Lunch 1,450")
    page.click("button.lang")
    page.screenshot(path=str(ARTIFACTS / "tim-dapur-served.png"), full_page=True)
    assert not errors, errors
    assert_no_token_kept_or_sent(page, urls, phone)
    context.close()

    # a phone whose team is not registered (yet): the page says so in Bahasa Indonesia
    stranger = make_token(settings.redis_url, "team", team_id=f"tagana-baru-{suffix}",
                          province_code="32")
    context = browser.new_context(viewport={"width": 412, "height": 915}, locale="id-ID")
    page = context.new_page()
    sign_in(page, f"{api}/tim", stranger)
    # said at once, and it stays said (the page's later renders keep it)
    assert page.locator("#team-error").inner_text(timeout=2_000) == (
        "Tim tidak ditemukan (belum terdaftar, atau salah ketik).")
    page.wait_for_timeout(11_000)  # past the next refresh
    assert page.locator("#team-error").inner_text(timeout=500) == (
        "Tim tidak ditemukan (belum terdaftar, atau salah ketik).")
    context.close()
    coordinator.close()


def _in_thread(coro: Any) -> Any:
    """Run a coroutine beside Playwright's sync API (which owns this thread's event loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _project(redis_url: str, changes: list[dict[str, Any]]) -> None:
    client = Redis.from_url(redis_url)
    try:
        for change in changes:
            assert await readmodel.apply_change(client, change)
    finally:
        await client.aclose()


def _change(entity: str, entity_id: str, province: str, **data: Any) -> dict[str, Any]:
    return {"entity": entity, "id": entity_id, "province_code": province, "score": time.time(),
            "version": f"{time.time_ns():020d}", "deleted": False,
            "data": {"province_code": province, **data}}


def test_a_kitchen_team_of_another_province_receives_ingredients_from_its_page(
    api: str, tokens: dict[str, str], browser: Any, settings: Settings,  # noqa: F811
) -> None:
    """Palu 2018: the Makassar crew (a team of Sulawesi Selatan, 73) runs the field kitchen at
    the Palu mayor's office (Sulawesi Tengah, 72). Its page shows that kitchen, the ingredients
    on their way to it (by name, with quantity and warehouse), and confirms the rice when it
    arrives — queued with no signal, sent when the signal returns — as the team's own receipt
    (source ``team:<id>``) of the quantity actually received. Read models are seeded as the
    projector writes them; the API and the broker are real."""
    ARTIFACTS.mkdir(exist_ok=True)
    assert settings.redis_url
    _in_thread(ensure_topics(settings))
    s = uuid.uuid4().hex[:6]
    team_id, kitchen_id = f"tagana-7371-{s}", f"dapur-walikota-{s}"
    rice, lauk, water = f"shp-beras-{s}", f"shp-lauk-{s}", f"shp-air-{s}"
    sent_from = {"warehouse_id": f"gudang-sulteng-{s}",
                 "warehouse_name": "Gudang Dinas Sosial Sulawesi Tengah"}
    rice_row = {"shipment_id": rice, "shelter_id": kitchen_id, "status": "dispatched",
                "item": "rice", "unit": "kg", "quantity": 2400, "eta_hours": 0.4, **sent_from}
    _in_thread(_project(settings.redis_url, [
        _change("team", team_id, "73", team_id=team_id, name="TAGANA Kota Makassar",
                availability="assigned", members=12, skills=["public_kitchen"]),
        _change("kitchen", kitchen_id, "72", kitchen_id=kitchen_id, team_ids=[team_id],
                name="Dapur Umum Lapangan Kantor Wali Kota Palu", status="open", units=1,
                portions_per_cooking=2000, cookings_per_day=3, capacity_per_day=6000,
                portions_needed_per_day=6000, people_served=2000, shelters_served=1,
                shelters=[{"shelter_id": f"sh-talise-{s}", "name": "Pengungsian Talise",
                           "portions_per_day": 6000}],
                location={"lat": -0.899, "lon": 119.883}),
        _change("shipment", rice, "72", **rice_row),
        _change("shipment", lauk, "72", shipment_id=lauk, shelter_id=kitchen_id,
                status="confirmed", item="side_dish", unit="pack", quantity=9000,
                **sent_from),
        _change("shipment", water, "72", shipment_id=water, shelter_id=kitchen_id,
                status="delivered", item="clean_water", unit="L", quantity=9000,
                **sent_from),
    ]))
    phone = make_token(settings.redis_url, "team", team_id=team_id, province_code="73")

    context = browser.new_context(viewport={"width": 412, "height": 915}, locale="id-ID")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    urls = sign_in(page, f"{api}/tim", phone)
    card = page.locator(f"#kitchens article.kitchen[data-kitchen-id='{kitchen_id}']")
    card.wait_for(timeout=30_000)
    assert card.locator(".kitchen-name").inner_text() == "Dapur Umum Lapangan Kantor Wali Kota Palu"
    rows = card.locator("ul.kitchen-incoming li.incoming")
    assert rows.count() == 2  # the delivered water is no longer on its way
    on_road = card.locator(f"li.incoming[data-shipment-id='{rice}']")
    assert on_road.locator(".incoming-what").inner_text() == "Beras 2.400 kg"
    assert on_road.locator(".incoming-status").inner_text() == "Dalam perjalanan"
    assert on_road.locator(".incoming-from").inner_text() == (
        "dari Gudang Dinas Sosial Sulawesi Tengah · Perkiraan perjalanan 0,4 jam")
    packing = card.locator(f"li.incoming[data-shipment-id='{lauk}']")
    assert packing.locator(".incoming-what").inner_text() == "Lauk pauk siap saji 9.000 bungkus"
    assert packing.locator(".incoming-status").inner_text() == "Disiapkan gudang"
    assert packing.locator("button.receive").count() == 0  # not on the road yet
    page.screenshot(path=str(ARTIFACTS / "tim-dapur-kiriman.png"), full_page=True)

    # received with no signal: 2,350 kg of the 2,400 (two sacks wet); queued, then sent
    form = on_road.locator("form.receipt")
    assert form.locator("[name=quantity_received]").input_value() == "2400"
    form.locator("[name=quantity_received]").fill("")
    form.locator("button.receive").click()
    assert form.locator(".error").inner_text() == "Isi jumlah yang diterima."
    assert page.locator("#queue li").count() == 0
    context.set_offline(True)
    form.locator("[name=quantity_received]").fill("2350")
    form.locator("[name=note]").fill("2 karung basah")
    form.locator("button.receive").click()
    queued = page.locator("#queue li[data-state='queued']")
    queued.wait_for()
    assert "Penerimaan bahan Dapur Umum Lapangan Kantor Wali Kota Palu: Beras 2.350 kg" in \
        queued.inner_text()
    assert on_road.locator(".receipt-state").inner_text() == "Penerimaan menunggu sinyal"
    assert on_road.locator("button.receive").count() == 0  # one receipt, not two
    event_id = page.evaluate(
        "JSON.parse(localStorage.getItem('siaga.tim.outbox'))[0].body.event_id")
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    queued.wait_for(state="detached", timeout=30_000)
    assert on_road.locator(".receipt-state").inner_text() == "Penerimaan terkirim"

    topic = next(t for t in TOPICS if t.name == "shipments")
    records = _in_thread(consume_all(settings, settings.topic(topic.name), expected=1))
    (value,) = [json.loads(r.value) for r in records]
    assert (value["type"], value["event_id"], value["shipment_id"], value["status"],
            value["quantity_received"], value["reason"], value["source"],
            value["province_code"]) == (
        "shipment.status_changed", event_id, rice, "delivered", 2350, "2 karung basah",
        f"team:{team_id}", "72")
    assert records[0].key == b"72"

    # the worker records the delivery: the rice is no longer on its way
    _in_thread(_project(settings.redis_url, [
        _change("shipment", rice, "72", **{**rice_row, "status": "delivered",
                                           "quantity_received": 2350})]))
    page.evaluate("window.dispatchEvent(new Event('online'))")  # refreshes the view
    on_road.wait_for(state="detached", timeout=30_000)
    assert rows.count() == 1

    text = page.locator("body").inner_text()
    for code in ("side_dish", "clean_water", "dispatched", "confirmed", "undefined", "null",
                 "NaN", "gudang-sulteng"):
        assert code not in text, code
    page.click("button.lang")  # English as a choice
    assert packing.locator(".incoming-what").inner_text() == "Ready side dish 9,000 pack"
    assert packing.locator(".incoming-status").inner_text() == "Being packed at the warehouse"
    assert card.locator("h4", has_text="Ingredient deliveries").count() == 1
    page.click("button.lang")
    assert not errors, errors
    assert_no_token_kept_or_sent(page, urls, phone)
    context.close()
