"""Issue 14's "done when", tried as a coordinator would on the Cianjur 2022 replay: the real
replay through Kafka, the worker and Redis, the dashboard in a real headless Chromium. The
map opens on Cianjur; every shelter of the replay is found by its name and its panel opens;
a shortfall is acted on from the decisions panel and the decision comes back on it."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from siaga.local import ManagedProcess
from siaga.settings import Settings
from tests.e2e.helpers import bearer
from tests.e2e.test_dashboard_browser import ARTIFACTS, browser, sign_in  # noqa: F401
from tests.e2e.test_dashboard_map_browser import _clear_read_models

pytestmark = pytest.mark.e2e

CIANJUR = (-6.82, 107.14)


def _replay(settings: Settings) -> None:
    from siaga.replay import replay

    # Playwright's sync API runs an event loop in this thread: replay from another one
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, replay(settings, "cianjur-2022", speed=0,
                                        realtime_base=True)).result()


def _planned_shelters(reader: httpx.Client, timeout: float = 240) -> list[dict[str, Any]]:
    """The replay's shelters once each shows a plan's needs (not only a quick view)."""
    deadline = time.monotonic() + timeout
    shelters: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        answer = reader.get("/api/v1/situation", params={"province_code": "32"})
        if answer.status_code == 200:
            shelters = [s for s in answer.json()["shelters"] if s["shelter_id"].startswith("cjr-")]
            if len(shelters) >= 25 and all(s.get("needs") and not s.get("plan_pending")
                                           for s in shelters):
                return shelters
        time.sleep(1)
    raise AssertionError(f"the replay's shelters were not planned: {len(shelters)} found")


@pytest.mark.timeout(600)
def test_on_the_cianjur_replay_every_shelter_is_found_opened_and_a_shortfall_decided(
    api: str, worker: ManagedProcess, tokens: dict[str, str], browser: Any,  # noqa: F811
    settings: Settings,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    _clear_read_models(settings.redis_url or "")
    _replay(settings)
    reader = httpx.Client(base_url=api, headers=bearer(tokens["coordinator"]), timeout=30)
    shelters = _planned_shelters(reader)
    names = {f"32/{s['shelter_id']}": s["name"] for s in shelters}
    assert len(set(names.values())) == len(names)  # names tell them apart

    page = browser.new_page(viewport={"width": 1400, "height": 860})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, f"{api}/dasbor", tokens["coordinator"])
    page.wait_for_selector("#live-status.live", timeout=15_000)
    # the map opens on the operation: Cianjur in view, zoomed in from the national view
    page.wait_for_function("() => window.siagaDashboard && "
                           "window.siagaDashboard.markers.shelter.size >= 25", timeout=30_000)
    assert page.evaluate("window.siagaDashboard.map.getZoom()") >= 8
    assert page.evaluate(
        f"window.siagaDashboard.map.getBounds().contains([{CIANJUR[0]}, {CIANJUR[1]}])")
    page.screenshot(path=str(ARTIFACTS / "cianjur-replay-opened.png"))

    # every shelter can be found by its name and opened
    for key, name in sorted(names.items()):
        page.fill("#shelter-search", name)
        page.wait_for_selector(f"#search-results a[data-key='{key}']", timeout=10_000)
        page.click(f"#search-results a[data-key='{key}']")
        page.wait_for_selector(f"#detail[data-key='{key}']:not([hidden])", timeout=15_000)
        assert page.locator("#detail-title").inner_text() == name
        detail = page.locator("#detail-body").inner_text()
        assert "Cianjur" in detail or "Sukabumi" in detail or "Jawa Barat" in detail, detail
    page.screenshot(path=str(ARTIFACTS / "cianjur-replay-shelter-panel.png"))

    # a shortfall acted on from the decisions panel: ask donors, with a note; it comes back
    page.wait_for_selector("#panel-shortfalls details.group", timeout=30_000)
    group = page.locator("#panel-shortfalls details.group").first
    group.locator("summary").click()
    item = group.get_attribute("data-item")
    note = f"Permintaan ke BAZNAS {uuid.uuid4().hex[:6]}"
    group.locator("button[data-decision='donor_request']").first.click()
    page.fill("#decision-form textarea[name=note]", note)
    page.click("#decision-form button[type=submit]")
    page.wait_for_function("() => !document.querySelector('#decision-dialog').open")
    page.wait_for_function(
        "() => document.querySelector('#panel-shortfalls').innerText.includes("
        "'Permintaan ke donatur dicatat')", timeout=60_000)
    deadline = time.monotonic() + 60
    while True:
        decided = [x for x in reader.get("/api/v1/shortfalls").json()["items"]
                   if x["item"] == item and (x.get("decision") or {}).get("note") == note]
        if decided:
            break
        assert time.monotonic() < deadline, "the decision did not come back on the shortfall"
        time.sleep(0.5)
    assert decided[0]["decision"]["decision"] == "donor_request"
    page.screenshot(path=str(ARTIFACTS / "cianjur-replay-decision.png"))
    assert errors == []
