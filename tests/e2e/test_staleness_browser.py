"""The person who decides is told when the picture is old: in a real headless browser, the
dashboard shows no banner while the worker keeps up, and a banner in Bahasa Indonesia
within the set limit once the worker is stopped; each panel says how old its figures are.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from siaga.local import ManagedProcess
from siaga.settings import Settings
from tests.e2e.helpers import bearer
from tests.e2e.test_dashboard_browser import ARTIFACTS, browser, sign_in  # noqa: F401

pytestmark = pytest.mark.e2e

STALE_AFTER = 6.0
POLL = 3.0  # staleness.js reads /healthz every 3 s


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"stale_after_seconds": STALE_AFTER})


def test_the_dashboard_says_its_picture_is_stale_when_the_worker_is_stopped(
    api: str, worker: ManagedProcess, tokens: dict[str, str], browser: Any,  # noqa: F811
    settings: Settings,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    # something on a panel, so it has an age
    body = {"event_id": str(uuid.uuid4()),
            "incident_type": "earthquake", "location": {"lat": -6.84, "lon": 107.05},
            "severity": 5, "displaced": 100, "posko_id": "posko-cianjur-kab",
            "description": "Gempa uji"}
    response = httpx.post(f"{api}/api/v1/incidents", json=body, timeout=15,
                          headers=bearer(tokens["command_post"]))
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + 60
    while httpx.get(f"{api}/healthz", timeout=10).json()["picture"]["stale"]:
        assert time.monotonic() < deadline, "the picture never became current"
        time.sleep(0.5)

    page = browser.new_page(viewport={"width": 1400, "height": 860})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, f"{api}/dasbor", tokens["coordinator_national"])
    page.wait_for_selector("#panel-incidents ~ .siaga-age, section .siaga-age",
                           timeout=15_000)
    time.sleep(POLL + 0.5)
    banner = page.locator("#siaga-stale")
    assert banner.count() == 1 and banner.is_hidden(), banner.inner_text()
    ages = page.locator("section .siaga-age").all_inner_texts()
    assert any(text.startswith("Data: ") and "lalu" in text for text in ages), ages

    worker.stop()
    stopped = time.monotonic()
    page.wait_for_selector("#siaga-stale:not([hidden])",
                           timeout=int((STALE_AFTER + 2 * POLL + 5) * 1000))
    took = time.monotonic() - stopped
    text = banner.inner_text()
    assert text.startswith("Perhatian: gambaran ini mungkin sudah tertinggal."), text
    assert "batas 6 detik" in text, text
    assert took <= STALE_AFTER + 2 * POLL + 5, took
    # and says why: nobody is processing (the worker's last report is older than the limit)
    page.wait_for_function(
        "document.getElementById('siaga-stale').textContent.includes("
        "'pengolah data tidak melapor')", timeout=int((STALE_AFTER + 2 * POLL + 5) * 1000))
    page.screenshot(path=str(ARTIFACTS / "dashboard-stale.png"))

    page.locator("button.lang").click()
    page.wait_for_function(
        "document.getElementById('siaga-stale').textContent.startsWith('Warning')",
        timeout=5_000)
    assert not errors, errors
