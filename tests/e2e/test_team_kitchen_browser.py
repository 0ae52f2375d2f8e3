"""A team running a public kitchen, on its phone page (/tim), in a real headless browser
against the real API, broker, worker and Redis: a coordinator opens a kitchen run by the team
near two shelters; the team's page shows the kitchen's shifts (cookings a day, portions per
cooking, capacity), the shelters it cooks for with the portions each needs a day, and lets the
team report the kitchen's status and the portions served at lunch — with no signal too (the
outbox sends it when the signal returns) — which reaches the kitchen's read model. In Bahasa
Indonesia, English as a choice. Screenshots go to ``test-artifacts/``."""

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
