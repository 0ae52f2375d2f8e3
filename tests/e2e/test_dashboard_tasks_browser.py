"""The TAGANA task loop on the coordinators' dashboard, end to end: a real API, broker, worker
and Redis, and the dashboard in a headless Chromium. A coordinator registers a team, a
command post a shelter; the team's own phone (its token, over the API) reports itself
available, and the dashboard shows the task it was dispatched to; the team acknowledges,
leaves, arrives and finishes, and the dashboard shows each step as it comes (with its time),
and keeps the finished task after the team's assignment clears; a second task declined with
a reason shows the reason. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from siaga.local import ManagedProcess
from siaga.settings import Settings
from tests.e2e.helpers import bearer, make_token
from tests.e2e.test_dashboard_browser import ARTIFACTS, browser, sign_in  # noqa: F401

pytestmark = pytest.mark.e2e


def _until(check: Any, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.3)


@pytest.mark.timeout(600)
def test_each_step_of_a_task_shows_on_the_dashboard(
    api: str, worker: ManagedProcess, tokens: dict[str, str], browser: Any,  # noqa: F811
    settings: Settings,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert settings.redis_url
    suffix = uuid.uuid4().hex[:8]
    team_id, shelter, second = f"tagana-dl-{suffix}", f"sh-dl-{suffix}", f"sh-dl2-{suffix}"
    task_id = f"public_kitchen:{shelter}"
    phone = httpx.Client(base_url=api, timeout=15, headers=bearer(make_token(
        settings.redis_url, "team", team_id=team_id, province_code="32")))
    coordinator = httpx.Client(base_url=api, headers=bearer(tokens["coordinator"]), timeout=15)
    posko = httpx.Client(base_url=api, headers=bearer(tokens["command_post"]), timeout=15)
    assert coordinator.post("/api/v1/teams", json={
        "team_id": team_id, "name": "TAGANA Cugenang Satu", "province_code": "32",
        "kabupaten_code": "32.03", "base": {"lat": -6.81, "lon": 107.07},
        "members": [{"name": "Asep Sunandar", "role": "ketua"}, {"name": "Dedi"}],
        "skills": ["public_kitchen"], "rank": "madya"}).status_code == 202
    assert posko.post("/api/v1/shelters", json={
        "shelter_id": shelter, "name": "Lapangan Desa Sukamaju", "capacity": 500,
        "location": {"lat": -6.80, "lon": 107.06}, "posko_id": "posko-cianjur-kab",
    }).status_code == 202
    _until(lambda: posko.post(f"/api/v1/shelters/{shelter}/headcounts", json={
        "total": 300, "posko_id": "posko-cianjur-kab"}).status_code == 202)
    _until(lambda: phone.get(f"/api/v1/teams/{team_id}").status_code == 200)

    page = browser.new_page(viewport={"width": 1400, "height": 900}, timezone_id="Asia/Jakarta")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, f"{api}/dasbor", tokens["coordinator"])
    page.wait_for_selector("#live-status.live", timeout=15_000)

    # the team's phone: available; Siaga dispatches it to the shelter's kitchen task
    assert phone.post(f"/api/v1/teams/{team_id}/status", json={
        "availability": "available", "members_present": 2,
        "location": {"lat": -6.81, "lon": 107.07}}).status_code == 202
    row = f"#panel-tasks li[data-task='32/{task_id}']"
    team_row = f"{row} li[data-team='{team_id}']"
    page.wait_for_selector(f"{team_row}[data-step='dispatched']", timeout=90_000)
    text = page.locator(row).inner_text()
    assert "Dapur umum" in text and "Lapangan Desa Sukamaju" in text
    assert "ditugaskan, menunggu jawaban" in text
    page.screenshot(path=str(ARTIFACTS / "dashboard-task-dispatched.png"))

    # each step from the phone, each seen on the dashboard (live, no reload)
    page.evaluate("window.__sameDocument = true")
    names = {"acknowledged": "diterima tim", "en_route": "dalam perjalanan",
             "arrived": "tiba di lokasi", "done": "selesai"}
    for step, name in names.items():
        sent = phone.post(f"/api/v1/tasks/{task_id}/progress", json={
            "team_id": team_id, "status": step})
        assert sent.status_code == 202, sent.text
        page.wait_for_selector(f"{team_row}[data-step='{step}']", timeout=60_000)
        trail = page.locator(f"{team_row} .trail").inner_text()
        assert name in trail, (step, trail)
    assert page.evaluate("window.__sameDocument") is True
    page.wait_for_selector(f"{row}[data-status='done']", timeout=30_000)
    trail = page.locator(f"{team_row} .trail").inner_text()
    # every step kept, in order, with its time
    positions = [trail.index(n) for n in names.values()]
    assert positions == sorted(positions), trail
    assert trail.count(".") >= 4  # a time (HH.MM, WIB) after each step

    # the assignment clears; the dashboard still shows the task, done, and in the team's
    # history
    _until(lambda: (phone.get(f"/api/v1/teams/{team_id}").json().get("assignment") is None))
    page.wait_for_timeout(1500)
    assert page.locator(f"{row}[data-status='done']").count() == 1
    page.click(f"{team_row} a[data-entity='team']")
    page.wait_for_selector(f"#detail[data-key='32/{team_id}']:not([hidden])")
    page.wait_for_function(
        "() => !document.querySelector('#detail-body').innerText.includes('Penugasan:')",
        timeout=30_000)
    history = page.locator("#detail-body").inner_text()
    assert "Riwayat tugas" in history and "Lapangan Desa Sukamaju" in history
    assert "selesai" in history and "Keahlian: Dapur umum" in history
    page.screenshot(path=str(ARTIFACTS / "dashboard-task-done.png"))

    # a second shelter: the team, free again, is sent there and declines with a reason
    assert posko.post("/api/v1/shelters", json={
        "shelter_id": second, "name": "Masjid Al-Ikhlas", "capacity": 200,
        "location": {"lat": -6.805, "lon": 107.065}, "posko_id": "posko-cianjur-kab",
    }).status_code == 202
    _until(lambda: posko.post(f"/api/v1/shelters/{second}/headcounts", json={
        "total": 150, "posko_id": "posko-cianjur-kab"}).status_code == 202)
    second_row = f"#panel-tasks li[data-task='32/public_kitchen:{second}']"
    page.wait_for_selector(f"{second_row} li[data-team='{team_id}'][data-step='dispatched']",
                           timeout=90_000)
    assert phone.post(f"/api/v1/tasks/public_kitchen:{second}/progress", json={
        "team_id": team_id, "status": "declined",
        "reason": "anggota kelelahan"}).status_code == 202
    declined = f"{second_row} li[data-team='{team_id}'][data-step='declined']"
    page.wait_for_selector(declined, timeout=60_000)
    assert "ditolak" in page.locator(declined).inner_text()
    assert "anggota kelelahan" in page.locator(declined).inner_text()

    # the timeline, filtered to tasks, has the loop's steps
    page.select_option("#timeline-entity", "task")
    page.wait_for_selector("#timeline[data-loaded='task']", timeout=15_000)
    timeline = page.locator("#panel-timeline").inner_text()
    for name in ("tiba di lokasi", "selesai", "ditolak"):
        assert name in timeline, name
    assert "anggota kelelahan" in timeline

    body = page.locator("body").inner_text()
    for code in ("public_kitchen", "acknowledged", "en_route", "declined", "undefined"):
        assert code not in body, code
    page.screenshot(path=str(ARTIFACTS / "dashboard-task-declined.png"))
    assert not errors, errors
    for client in (phone, coordinator, posko):
        client.close()
