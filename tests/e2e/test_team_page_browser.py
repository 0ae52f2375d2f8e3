"""The TAGANA team page (/tim) in a real headless browser, against the real API, broker,
worker and Redis: a coordinator registers the team, a command post its shelter; on the team
leader's phone the team reports itself available, sees its assignment (in Bahasa
Indonesia, with the shelter's name, and why it was sent — the planner's rule and figures in the
page's language), accepts it, leaves and arrives with no signal (the
outbox sends both when the signal returns, in order), and finishes; each step reaches the
read models the dashboard reads. Screenshots go to ``test-artifacts/``."""

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


def _until(check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.3)


def test_a_team_runs_its_task_loop_on_the_phone_page_also_offline(
    api: str, worker: ManagedProcess, tokens: dict[str, str], browser: Any,  # noqa: F811
    settings: Settings,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert settings.redis_url
    suffix = uuid.uuid4().hex[:8]
    team_id, shelter = f"tagana-tim-{suffix}", f"sh-tim-{suffix}"
    task_id = f"public_kitchen:{shelter}"
    phone = make_token(settings.redis_url, "team", team_id=team_id, province_code="32")
    coordinator = httpx.Client(base_url=api, headers=bearer(tokens["coordinator"]), timeout=10)
    with httpx.Client(base_url=api, headers=bearer(tokens["command_post"]), timeout=10) as posko:
        assert coordinator.post("/api/v1/teams", json={
            "team_id": team_id, "name": "TAGANA Cugenang Satu", "province_code": "32",
            "kabupaten_code": "32.03", "base": {"lat": -6.81, "lon": 107.07},
            "members": [{"name": "Asep Sunandar", "role": "ketua"}, {"name": "Dedi"},
                        {"name": "Siti"}],
            "skills": ["public_kitchen"], "rank": "madya"}).status_code == 202
        assert posko.post("/api/v1/shelters", json={
            "shelter_id": shelter, "name": "Lapangan Desa Sukamaju", "capacity": 500,
            "location": {"lat": -6.80, "lon": 107.06}, "posko_id": "posko-cianjur-kab",
        }).status_code == 202
        _until(lambda: posko.post(f"/api/v1/shelters/{shelter}/headcounts", json={
            "total": 300, "posko_id": "posko-cianjur-kab"}).status_code == 202)

    def team_view() -> dict[str, Any] | None:
        response = coordinator.get(f"/api/v1/teams/{team_id}")
        return response.json() if response.status_code == 200 else None

    _until(team_view)

    context = browser.new_context(viewport={"width": 412, "height": 915}, locale="id-ID")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    urls = sign_in(page, f"{api}/tim", phone)
    assert page.locator("#team-id").input_value() == team_id
    assert page.locator("#team-id").get_attribute("readonly") is not None  # its own team only
    assert page.locator("#team-name").inner_text() == "TAGANA Cugenang Satu"
    assert page.locator("#team-availability").inner_text() == "Lepas tugas"

    # the team reports itself available; Siaga dispatches it to the shelter's kitchen
    page.fill("#form-status [name=members_present]", "3")
    page.select_option("#form-status [name=availability]", "available")
    page.click("#form-status button[type=submit]")
    page.locator("#task-status[data-status='dispatched']").wait_for(timeout=60_000)
    assert page.locator("#task-kind").inner_text() == "Dapur umum"
    assert page.locator("#task-target").inner_text() == "Lapangan Desa Sukamaju"
    # why it was sent: the planner's rule and figures, said in Bahasa Indonesia with names
    why = page.locator("#task-why").inner_text()
    assert why.startswith("TAGANA Cugenang Satu ke Dapur umum di Lapangan Desa Sukamaju: "), why
    assert "jam perjalanan" in why and "dalam batas 12 jam; tingkat kabupaten/kota." in why, why
    for english in ("team", "travel", "tier", "province", "national", "h on duty"):
        assert english not in why, (english, why)
    page.click("button.lang")
    why_en = page.locator("#task-why").inner_text()
    assert why_en.startswith("TAGANA Cugenang Satu to Public kitchen at Lapangan Desa Sukamaju: ")
    assert "h travel" in why_en and "kabupaten" in why_en, why_en
    page.click("button.lang")
    page.screenshot(path=str(ARTIFACTS / "tim-dispatched.png"))

    def server_step(step: str) -> Any:
        def check() -> Any:
            view = team_view()
            assignment = (view or {}).get("assignment") or {}
            return view if assignment.get("status") == step else None
        return _until(check)

    page.click("button.step[data-step='acknowledged']")
    page.locator("#task-status[data-status='acknowledged']").wait_for()
    server_step("acknowledged")

    # no signal on the road: both steps wait in the outbox, the page moves on meanwhile
    context.set_offline(True)
    page.click("button.step[data-step='en_route']")
    page.locator("#task-status[data-status='en_route']").wait_for()
    page.click("button.step[data-step='arrived']")
    page.locator("#task-status[data-status='arrived']").wait_for()
    assert page.locator("#queue li[data-state='queued']").count() == 2
    assert "menunggu sinyal" in page.locator("#assignment").inner_text()
    page.screenshot(path=str(ARTIFACTS / "tim-offline.png"))
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.locator("#queue li[data-state='queued']").first.wait_for(state="detached",
                                                               timeout=30_000)
    assert page.locator("#queue li[data-state='sent']").count() >= 4
    view = server_step("arrived")
    task = view["task"]
    assert task["task_id"] == task_id and task["status"] == "arrived"
    assert [t["team_id"] for t in task["teams"]] == [team_id]
    assert set(task["teams"][0]["times"]) == {"dispatched", "acknowledged", "en_route",
                                             "arrived"}

    page.click("button.step[data-step='done']")

    def finished() -> Any:
        view = team_view()
        return view if view and view["assignment"] is None else None

    view = _until(finished)
    # the duty period began when the team accepted (the loop's seconds round to 0.0 h)
    assert view["team"]["on_duty_since"] == task["teams"][0]["times"]["acknowledged"]
    # the task as the dashboard reads it (the coordinators' situation snapshot)
    tasks = coordinator.get("/api/v1/situation").json()["tasks"]
    [done] = [t for t in tasks if t["task_id"] == task_id]
    assert done["status"] == "done" and done["teams"][0]["status"] == "done"
    page.locator("#assignment-body", has_text="Belum ada tugas").wait_for(timeout=30_000)

    # a second shelter: the team, free again, is sent there and declines with a reason
    second = f"sh-tim2-{suffix}"
    with httpx.Client(base_url=api, headers=bearer(tokens["command_post"]), timeout=10) as posko:
        assert posko.post("/api/v1/shelters", json={
            "shelter_id": second, "name": "Masjid Al-Ikhlas", "capacity": 200,
            "location": {"lat": -6.805, "lon": 107.065}, "posko_id": "posko-cianjur-kab",
        }).status_code == 202
        _until(lambda: posko.post(f"/api/v1/shelters/{second}/headcounts", json={
            "total": 150, "posko_id": "posko-cianjur-kab"}).status_code == 202)
    page.locator("#task-target", has_text="Masjid Al-Ikhlas").wait_for(timeout=60_000)
    page.click("form.decline button[type=submit]")  # no reason yet: the page asks for one
    assert page.locator("form.decline .error").inner_text() == "Tulis alasan menolak."
    page.fill("form.decline [name=reason]", "anggota kelelahan")
    page.click("form.decline button[type=submit]")

    def declined() -> Any:
        tasks = coordinator.get("/api/v1/situation").json()["tasks"]
        found = [t for t in tasks if t["task_id"] == f"public_kitchen:{second}"]
        teams = found[0]["teams"] if found else []
        return found[0] if teams and teams[0]["status"] == "declined" else None

    task = _until(declined)
    assert task["teams"][0]["reason"] == "anggota kelelahan"
    assert task["status"] == "unassigned" and task["assigned_team_ids"] == []
    # … and the national tier does not send the same team back to it
    page.locator("#assignment-body", has_text="Belum ada tugas").wait_for(timeout=30_000)

    # Bahasa Indonesia: no codes or English words of the loop on the page
    text = page.locator("body").inner_text()
    for code in ("public_kitchen", "acknowledged", "en_route", "off_duty", "undefined", "null"):
        assert code not in text, code
    page.screenshot(path=str(ARTIFACTS / "tim-done.png"))
    assert not errors, errors
    assert_no_token_kept_or_sent(page, urls, phone)
    context.close()
    coordinator.close()
