"""The pages in a real headless browser (Debian's Chromium driven by Playwright).

The dashboard shows an incident posted over the API on its map without a reload;
the field form queues a report while offline and sends it when the connection
returns, and keeps a report the server refused for the user to fix. Pages sign in
through their form (the token is exchanged for an HttpOnly session cookie and never
appears in a URL). Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from siaga.local import ManagedProcess
from siaga.settings import Settings
from tests.e2e.helpers import bearer
from tests.support import ROOT

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("SIAGA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def save_failure_screenshots(chromium: Any, test_name: str) -> list[Path]:
    """A screenshot of every page still open in ``chromium`` (and its HTML next to it),
    named after the failed test, in ``test-artifacts/``: what the page showed when the test
    failed."""
    ARTIFACTS.mkdir(exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in test_name)[:120]
    saved: list[Path] = []
    pages = [p for context in chromium.contexts for p in context.pages if not p.is_closed()]
    for n, page in enumerate(pages):
        path = ARTIFACTS / f"FAILED-{safe}-{n}.png"
        try:
            page.screenshot(path=str(path), full_page=True, timeout=15_000)
            path.with_suffix(".html").write_text(page.content())
        except Exception as exc:  # noqa: BLE001 - a page that cannot be drawn says why
            path.with_suffix(".txt").write_text(f"no screenshot: {exc}\n")
            continue
        saved.append(path)
    return saved


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Chromium for one test. When the test fails, every page it left open is saved to
    ``test-artifacts/FAILED-<test>-<n>.png`` before the browser closes (the session's
    failure count has moved by then: the call's report is logged before teardown)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `apt-get install -y chromium`")
    failed_before = request.session.testsfailed
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            if request.session.testsfailed > failed_before:
                save_failure_screenshots(chromium, request.node.name)
            chromium.close()


def sign_in(page: Any, url: str, token: str) -> list[str]:
    """Open a page, sign in through its form as a person would; returns every URL the page
    requested (so a test can check that no token ever travelled in one)."""
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.goto(url)
    page.wait_for_selector("#login #token-input", timeout=30_000)
    page.fill("#token-input", token)
    page.click("#login button[type=submit]")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    return urls


def assert_no_token_kept_or_sent(page: Any, urls: list[str], token: str) -> None:
    assert not [u for u in urls if token in u or "token=" in u]
    assert token not in page.url
    assert token not in (page.evaluate("JSON.stringify(localStorage)") or "")
    assert "siaga_session" not in page.evaluate("document.cookie")  # HttpOnly
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["siaga_session"]["httpOnly"] is True
    assert cookies["siaga_session"]["sameSite"] == "Strict"
    assert token not in json.dumps(list(cookies.values()))


def _seed(redis_url: str) -> None:
    """Shelters, a warehouse, a team on a task and shipments, written as the projector does."""
    from redis.asyncio import Redis

    from siaga.readmodel import apply_change

    def change(entity: str, entity_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"entity": entity, "id": entity_id, "province_code": data["province_code"],
                "version": f"{time.time_ns():020d}", "score": time.time(), "data": data}

    bekasi = {"lat": -6.2383, "lon": 106.9756}
    entities = [
        change("warehouse", "wh-bekasi-regional", {
            "warehouse_id": "wh-bekasi-regional", "name": "Gudang Regional Kemensos Bekasi",
            "kind": "regional", "location": bekasi, "province_code": "32", "released": True,
            "stock": [{"item": "rice", "unit": "kg", "on_hand": 25000, "reserved": 400,
                       "in_transit": 0, "batches": []}]}),
        change("team", "tagana-3203-01", {
            "team_id": "tagana-3203-01", "name": "TAGANA Cianjur 1", "province_code": "32",
            "location": {"lat": -6.70, "lon": 107.30}, "members": 12, "availability": "assigned",
            "assignment": {"task_id": "task-1", "kind": "evacuation", "target_id": "sh-1",
                           "location": {"lat": -6.80, "lon": 107.06}, "eta_hours": 0.8}}),
        change("shortfall", "sh-2:family_tent", {
            "shortfall_id": "sh-2:family_tent", "shelter_id": "sh-2", "item": "family_tent",
            "unit": "piece", "missing": 120, "province_code": "32", "escalated": True,
            "location": {"lat": -6.90, "lon": 107.12},
            "explanation": "no tents left in Jawa Barat stores"}),
    ]
    for n, (lat, lon, share, total) in enumerate(
        [(-6.80, 107.06, 0.1, 1240), (-6.90, 107.12, 0.9, 2300), (-6.76, 107.20, 0.5, 600)]
    ):
        entities.append(change("shelter", f"sh-{n + 1}", {
            "shelter_id": f"sh-{n + 1}", "name": f"Pengungsian {n + 1}", "province_code": "32",
            "location": {"lat": lat, "lon": lon}, "headcount": {"total": total},
            "unmet_share": share}))
    for status, quantity in (("dispatched", 400), ("proposed", 120)):
        entities.append(change("shipment", f"shp-{status}", {
            "shipment_id": f"shp-{status}", "status": status, "held": False,
            "warehouse_id": "wh-bekasi-regional", "shelter_id": "sh-1", "item": "rice",
            "unit": "kg", "quantity": quantity, "province_code": "32", "origin": bekasi,
            "location": {"lat": -6.80, "lon": 107.06}, "eta_hours": 3.5}))

    async def write() -> None:
        redis = Redis.from_url(redis_url)
        try:
            for entity in entities:
                await apply_change(redis, entity)
        finally:
            await redis.aclose()

    # Playwright's sync API runs an event loop in this thread: write from another one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, write()).result()


def _incident(posko_id: str) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "incident_type": "earthquake",
        "location": {"lat": -6.84, "lon": 107.05},
        "severity": 5,
        "displaced": 5389,
        "posko_id": posko_id,
        "description": "Gempa M5.6 Cianjur, kedalaman 10 km",
    }


def test_dashboard_shows_a_posted_incident_on_the_map_without_a_reload(
    api: str, worker: ManagedProcess, tokens: dict[str, str], browser: Any, settings: Settings
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert settings.redis_url
    _seed(settings.redis_url)
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    token = tokens["coordinator_national"]
    urls = sign_in(page, f"{api}/dasbor", token)
    page.wait_for_selector("#live-status.live", timeout=15_000)  # EventSource, cookie only
    # the base map comes from Siaga itself: 38 provinces on the Leaflet map
    assert page.evaluate("window.siagaDashboard.layers.provinces.getLayers().length") == 38
    assert_no_token_kept_or_sent(page, urls, token)
    assert page.get_attribute("#csv-shelters", "href") == "/api/v1/export/shelters.csv"
    assert page.locator("header h1").inner_text() == "Dasbor koordinator"
    # Redis is shared by the session's tests: look for this test's own entities
    for shelter in ("sh-1", "sh-2", "sh-3"):
        assert page.evaluate(f"window.siagaDashboard.markers.shelter.has('32/{shelter}')")
    assert page.locator("[data-entity='warehouse'][data-key='32/wh-bekasi-regional']").count() == 1
    assert page.locator("[data-entity='team'][data-key='32/tagana-3203-01']").count() == 1
    assert page.evaluate(
        "window.siagaDashboard.markers.team.get('32/tagana-3203-01').getLayers().length") == 2
    assert page.evaluate(
        "window.siagaDashboard.shipmentLines.lines.get('32/shp-dispatched').style") == "dispatched"
    assert "Tenda keluarga" in page.locator("#panel-shortfalls").inner_text()  # names, not codes
    assert "Gudang Regional Kemensos Bekasi" in page.locator("#panel-inflight").inner_text()
    page.evaluate("window.__sameDocument = true")

    body = _incident("posko-cianjur-kab")
    response = httpx.post(
        f"{api}/api/v1/incidents", json=body, headers=bearer(tokens["command_post"]), timeout=10
    )
    assert response.status_code == 202
    marker = f"[data-entity='incident'][data-key='32/{body['event_id']}']"
    page.wait_for_selector(marker, timeout=30_000)  # first record waits for partitions
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    # (the side panels re-render at most once a second: the list may follow the marker)
    page.wait_for_function(
        "() => document.querySelector('#panel-incidents').innerText.includes('Gempa bumi')",
        timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"))

    page.locator("button.lang").click()
    assert page.locator("header h1").inner_text() == "Coordinators' dashboard"
    assert "Earthquake" in page.locator("#panel-incidents").inner_text()
    page.screenshot(path=str(ARTIFACTS / "dashboard-en.png"))
    assert not errors, errors
    assert not [u for u in urls if token in u or "token=" in u]

    # a fresh browser signing in with a wrong token is told so in Indonesian
    stranger = browser.new_page()
    stranger.goto(f"{api}/dasbor")
    stranger.wait_for_selector("#login #token-input", timeout=30_000)
    stranger.fill("#token-input", "sg_salah")
    stranger.click("#login button[type=submit]")
    stranger.wait_for_function(
        "() => document.querySelector('#login .error').textContent.length > 0")
    assert "Token tidak dikenal" in stranger.locator("#login .error").inner_text()
    stranger.close()


def test_field_form_queues_offline_and_sends_once_when_back_online(
    api: str, worker: ManagedProcess, tokens: dict[str, str], browser: Any
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 412, "height": 900})  # a phone
    page = context.new_page()
    urls = sign_in(page, f"{api}/posko", tokens["command_post"])

    context.set_offline(True)
    page.fill("#form-incident [name=lat]", "-6.80")
    page.fill("#form-incident [name=lon]", "107.06")
    page.select_option("#form-incident [name=incident_type]", "landslide")
    page.fill("#form-incident [name=displaced]", "310")
    # observed needs: picked from the catalogue by name (offline too), not typed as codes
    page.click("#form-incident #add-need")
    need = page.locator("#form-incident .need-row").nth(0)
    assert "Air minum" in need.locator(".need-item").inner_text()
    need.locator(".need-item").select_option("drinking_water")
    need.locator(".need-quantity").fill("500")
    assert need.locator(".need-unit").inner_text() == "liter"
    page.click("#form-incident #add-need")
    page.locator("#form-incident .need-row").nth(1).locator(".need-item").select_option(
        "family_tent")
    page.click("#form-incident button[type=submit]")
    page.wait_for_selector("#queue li[data-state='queued']")
    outbox = json.loads(page.evaluate("localStorage.getItem('siaga.outbox')"))
    assert len(outbox) == 1
    event_id = outbox[0]["body"]["event_id"]
    assert outbox[0]["body"]["observed_needs"] == [
        {"item": "drinking_water", "quantity": 500, "unit": "L"}, {"item": "family_tent"}]
    assert page.locator("#form-incident .need-row").count() == 0  # the form starts afresh
    page.screenshot(path=str(ARTIFACTS / "posko-offline.png"))

    context.set_offline(False)
    page.wait_for_selector(f"#queue li[data-state='sent'][data-event-id='{event_id}']")
    assert json.loads(page.evaluate("localStorage.getItem('siaga.outbox')")) == []

    with httpx.Client(base_url=api, headers=bearer(tokens["command_post"]), timeout=10) as http:
        # a retry of the same post (same event id) is accepted again and counts once
        assert http.post("/api/v1/incidents", json=outbox[0]["body"]).status_code == 202
        for _ in range(300):
            items = http.get("/api/v1/incidents").json()["items"]
            if any(i["incident_id"] == event_id for i in items):
                break
            page.wait_for_timeout(100)
        listed = [i for i in http.get("/api/v1/incidents").json()["items"]
                  if i["incident_id"] == event_id]
        assert len(listed) == 1
        assert listed[0]["incident_type"] == "landslide"
        assert listed[0]["posko_id"] == "posko-cianjur-kab"  # from the token, not the page
    page.screenshot(path=str(ARTIFACTS / "posko-sent.png"))

    # a report the server refuses (Palu is outside this posko's province) stays in the
    # outbox with the reason, and the user fixes it instead of losing it
    page.fill("#form-incident [name=lat]", "-0.90")
    page.fill("#form-incident [name=lon]", "119.87")
    page.fill("#form-incident [name=displaced]", "77")
    page.click("#form-incident button[type=submit]")
    refused = page.locator("#queue li[data-state='rejected']")
    refused.wait_for(timeout=15_000)
    assert "Tidak diizinkan (Provinsi)" in refused.inner_text()  # in Bahasa Indonesia
    assert "403" in refused.inner_text()
    kept = json.loads(page.evaluate("localStorage.getItem('siaga.outbox')"))
    assert len(kept) == 1 and kept[0]["rejected"]["status"] == 403
    page.wait_for_timeout(16_000)  # the 15 s flush neither drops it nor resends it blindly
    assert page.locator("#queue li[data-state='rejected']").count() == 1
    page.screenshot(path=str(ARTIFACTS / "posko-refused.png"))
    refused.locator("button.fix").click()
    assert page.input_value("#form-incident [name=lat]") == "-0.90"
    assert page.input_value("#form-incident [name=displaced]") == "77"
    assert json.loads(page.evaluate("localStorage.getItem('siaga.outbox')")) == []
    page.fill("#form-incident [name=lat]", "-6.80")
    page.fill("#form-incident [name=lon]", "107.06")
    page.click("#form-incident button[type=submit]")
    page.wait_for_function(
        "() => JSON.parse(localStorage.getItem('siaga.outbox')).length === 0 && "
        "document.querySelectorAll(\"#queue li[data-state='sent']\").length >= 2",
        timeout=15_000,
    )
    assert page.locator("#queue li[data-state='rejected']").count() == 0

    # a shelter registered from this phone is offered by its name on the headcount form
    page.click("[data-tab='shelter']")
    page.fill("#form-shelter [name=name]", "Lapangan Desa Cibulakan")
    page.fill("#form-shelter [name=shelter_id]", "sh-cibulakan-01")
    page.fill("#form-shelter [name=lat]", "-6.80")
    page.fill("#form-shelter [name=lon]", "107.06")
    page.click("#form-shelter button[type=submit]")
    page.click("[data-tab='headcount']")
    assert page.locator("#known-shelters option[value='sh-cibulakan-01']").get_attribute(
        "label") == "Lapangan Desa Cibulakan"
    page.fill("#form-headcount [name=shelter_id]", "sh-cibulakan-01")
    assert page.inner_text("#headcount-shelter-name") == "Lapangan Desa Cibulakan"
    assert_no_token_kept_or_sent(page, urls, tokens["command_post"])
    context.close()


def test_a_failed_browser_test_leaves_a_screenshot_of_its_pages(tmp_path: Path) -> None:
    """The ``browser`` fixture saves what a failed test's pages showed (and nothing for a
    test that passed): run two such tests in a pytest of their own."""
    import subprocess
    import sys

    run = uuid.uuid4().hex[:8]
    failing, passing = f"test_fails_on_purpose_{run}", f"test_passes_{run}"
    (tmp_path / f"test_artefacts_{run}.py").write_text(
        "from tests.e2e.test_dashboard_browser import browser  # noqa: F401\n\n\n"
        f"def {failing}(browser):\n"
        "    page = browser.new_page()\n"
        "    page.set_content('<h1>Siaga uji gagal</h1>')\n"
        "    assert False, 'on purpose'\n\n\n"
        f"def {passing}(browser):\n"
        "    browser.new_page().set_content('<p>ok</p>')\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(tmp_path), "-q", "-p", "no:cacheprovider",
         "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    try:
        assert "1 failed, 1 passed" in result.stdout, result.stdout[-2000:]
        png = ARTIFACTS / f"FAILED-{failing}-0.png"
        assert png.exists() and png.read_bytes()[:4] == b"\x89PNG"
        assert "Siaga uji gagal" in png.with_suffix(".html").read_text()
        assert not list(ARTIFACTS.glob(f"FAILED-{passing}*"))
    finally:
        for leftover in ARTIFACTS.glob(f"FAILED-*{run}*"):
            leftover.unlink()
