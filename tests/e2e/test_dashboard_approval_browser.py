"""The approval gate on the coordinators' dashboard, end to end (real API, broker, worker,
Redis; headless Chromium).

Jawa Barat has a shelter and, of its own, only the regional warehouse at Bekasi; Banten has a
spare TAGANA team. The national tier proposes rice and blankets from Bekasi and mobilises the
Banten team to set the shelter up; all of it waits for Jawa Barat's coordinator (the desk
cannot confirm the rice: 409 naming ``approval``). On the page the shortfall groups say
"menunggu persetujuan"; the coordinator approves the rice group (its shipment and the Banten
team) from the page and declines the blankets with a reason. The worker applies both: the
rice can be confirmed, the Banten team is dispatched at home with why, the blankets are
withdrawn and their shortfall shows the decline."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest

from siaga import events as ev
from siaga.local import ManagedProcess
from siaga.settings import Settings
from tests.e2e.helpers import bearer
from tests.e2e.test_dashboard_browser import ARTIFACTS, browser, sign_in  # noqa: F401
from tests.e2e.test_dashboard_map_browser import _clear_read_models
from tests.e2e.test_dashboard_tasks_browser import _until
from tests.support import produce_events

pytestmark = pytest.mark.e2e

S = uuid.uuid4().hex[:6]
SHELTER = f"sh-cugenang-{S}"
BEKASI = "wh-bekasi-regional"  # the warehouse_staff token's own warehouse (tests/e2e/helpers)
TEAM = f"tagana-serang-{S}"
SETUP = f"shelter_setup:{SHELTER}"


def _setup() -> list[ev.Envelope]:
    at = ev.utcnow() - timedelta(minutes=30)

    def env(source: str) -> dict[str, Any]:
        return {"event_id": uuid.uuid4(), "occurred_at": at, "source": source,
                "schema_version": 1}

    return [
        ev.ShelterRegistered(**env("posko:cugenang"), shelter_id=SHELTER,
                             name="Lapangan Desa Cugenang", location={"lat": -6.80, "lon": 107.06},
                             province_code="32", kabupaten_code="32.03", posko_id="posko-cugenang"),
        ev.ShelterHeadcountReported(**env("posko:cugenang"), shelter_id=SHELTER,
                                    province_code="32", total=400, posko_id="posko-cugenang"),
        ev.WarehouseRegistered(**env("kemensos"), warehouse_id=BEKASI,
                               name="Gudang Regional Kemensos Bekasi", kind="regional",
                               location={"lat": -6.30, "lon": 107.05}, province_code="32",
                               kabupaten_code="32.16"),
        *(ev.StockLevelReported(**env(f"warehouse:{BEKASI}"), warehouse_id=BEKASI,
                                province_code="32", item=item, batch_id=f"{BEKASI}-{item}-{S}",
                                quantity=qty, unit=unit)
          for item, qty, unit in (("rice", 20_000, "kg"), ("blanket", 2_000, "piece"))),
        ev.TeamStatusReported(**env("tagana:serang"), team_id=TEAM, name="TAGANA Serang Satu",
                              province_code="36", kabupaten_code="36.73",
                              location={"lat": -6.12, "lon": 106.15}, skills=["shelter_setup"],
                              members=10, availability="available"),
    ]


def _national(client: httpx.Client, item: str) -> dict[str, Any] | None:
    found = [s for s in client.get("/api/v1/shipments", params={"province_code": "32"}).json()
             ["items"] if s.get("tier") == "national" and s["item"] == item
             and s["shelter_id"] == SHELTER and s["status"] == "proposed"]
    return found[0] if found else None


def _confirm(desk: httpx.Client, shipment: dict[str, Any]) -> httpx.Response:
    return desk.post(f"/api/v1/shipments/{shipment['shipment_id']}/confirm", json={
        "event_id": str(uuid.uuid4()),
        "batches": [{"batch_id": b["batch_id"], "quantity": b["quantity"]}
                    for b in shipment["batches"]]})


def _submit(page: Any, reason: str | None = None) -> None:
    page.wait_for_selector("#decision-dialog[open]")
    if reason is not None:
        page.fill("#decision-form [name=reason]", reason)
    page.click("#decision-form button[type=submit]")
    page.wait_for_function("() => !document.querySelector('#decision-dialog').open",
                           timeout=60_000)
    assert page.locator("#decision-error").inner_text() == ""


@pytest.mark.timeout(600)
def test_a_coordinator_approves_and_declines_what_the_national_tier_sends_from_the_page(
    api: str, worker: ManagedProcess, tokens: dict[str, str], browser: Any,  # noqa: F811
    settings: Settings,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    # earlier modules planned the same warehouse (the desk token's own) to higher plan
    # sequences in the shared Redis: their views would outrank this worker's
    _clear_read_models(settings.redis_url or "")
    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        pool.submit(asyncio.run, produce_events(settings, _setup())).result()
    jabar = httpx.Client(base_url=api, headers=bearer(tokens["coordinator"]), timeout=15)
    admin = httpx.Client(base_url=api, headers=bearer(tokens["admin"]), timeout=15)
    desk = httpx.Client(base_url=api, headers=bearer(tokens["warehouse_staff"]), timeout=15)

    # the national tier proposes rice and blankets from Bekasi, and the Banten team: awaiting
    rice = _until(lambda: _national(jabar, "rice"), timeout=180)
    assert rice["approval"] == "awaiting"
    blanket = _until(lambda: _national(jabar, "blanket"), timeout=60)

    def banten_team_awaits() -> Any:
        tasks = jabar.get("/api/v1/situation", params={"include": "task"}).json()["tasks"]
        [found] = [t for t in tasks if t["task_id"] == SETUP] or [None]
        teams = (found or {}).get("national_teams") or []
        return teams if teams and teams[0]["approval"] == "awaiting" else None

    [team] = _until(banten_team_awaits, timeout=120)
    assert team["team_id"] == TEAM and team["name"] == "TAGANA Serang Satu"
    # the desk cannot confirm it before the approval
    refused = _confirm(desk, rice)
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"].startswith(f"approval: shipment {rice['shipment_id']}")
    # … and the desk's page says why in Bahasa Indonesia
    desk_page = browser.new_page()
    sign_in(desk_page, f"{api}/gudang", tokens["warehouse_staff"])
    said = desk_page.evaluate("(d) => SiagaErrors.describe({status: 409, detail: d})",
                              refused.json()["detail"])
    assert said == ("Tidak dapat diproses (Persetujuan): pengiriman tingkat nasional ini "
                    "menunggu persetujuan koordinator provinsi tujuan (atau ditolak olehnya).")
    desk_page.close()
    # nor is the Banten team dispatched: its phone shows no assignment
    banten = admin.get(f"/api/v1/teams/{TEAM}").json()
    assert banten["assignment"] is None

    page = browser.new_page(viewport={"width": 1400, "height": 900}, timezone_id="Asia/Jakarta")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, f"{api}/dasbor", tokens["coordinator"])
    page.wait_for_selector("#live-status.live", timeout=15_000)

    # ---- the rice group says it waits: one shipment and one team
    group = page.locator("details.group[data-group='32|rice']")
    group.wait_for(timeout=60_000)
    page.wait_for_selector("details.group[data-group='32|rice'] summary .pill.gate-awaiting",
                           timeout=60_000)
    assert "menunggu persetujuan (2)" in group.locator("summary").inner_text()
    group.locator("summary").click()
    gate = group.locator(".gate")
    assert "Menunggu persetujuan: 1 pengiriman, 1 tim" in gate.inner_text()
    assert "baru berjalan setelah disetujui koordinator provinsi ini" in group.inner_text()
    line = group.locator(f"ul.shipments li[data-shipment='32/{rice['shipment_id']}']")
    assert "menunggu persetujuan" in line.inner_text()
    national_team = group.locator(f"ul.national-teams li[data-team='{TEAM}']")
    assert "TAGANA Serang Satu" in national_team.inner_text()
    assert "Banten" in national_team.inner_text()
    page.screenshot(path=str(ARTIFACTS / "approval-awaiting.png"))

    # ---- approve the whole group from the page
    gate.locator("button[data-action='gate-approve-all']").click()
    assert "Setujui kiriman tingkat nasional" in page.locator("#decision-title").inner_text()
    _submit(page)
    [sent] = [p["body"] for p in page.evaluate("window.siagaDashboard.posted")
              if p["path"] == "/api/v1/escalations/decisions"]
    assert sent["decision"] == "approved" and sent["province_code"] == "32"
    assert sent["shipment_ids"] == [rice["shipment_id"]]
    assert sent["mobilisations"] == [{"task_id": SETUP, "team_id": TEAM}]

    # the worker applies it: approved, the rice covers the shortfall (the group goes), the
    # shelter's panel shows the shipment approved, and the desk may confirm it
    group.wait_for(state="detached", timeout=120_000)
    assert _until(lambda: (_national(jabar, "rice") or {}).get("approval") == "approved")
    page.fill("#shelter-search", "Cugenang")
    page.press("#shelter-search", "Enter")
    page.wait_for_selector(f"#detail[data-key='32/{SHELTER}']:not([hidden])", timeout=15_000)
    page.wait_for_selector("#detail-body .pill[data-approval='approved']", timeout=30_000)
    assert "disetujui" in page.locator("#detail-body").inner_text()
    confirmed = _confirm(desk, _national(jabar, "rice") or rice)
    assert confirmed.status_code == 202, confirmed.text
    # the Banten team is dispatched at home, with why it was chosen
    def dispatched() -> Any:
        view = admin.get(f"/api/v1/teams/{TEAM}").json()
        return view["assignment"] if view.get("assignment") else None

    assignment = _until(dispatched, timeout=180)
    assert assignment["task_id"] == SETUP and assignment["tier"] == "national"
    assert assignment["why"]["rule"] == "team_assigned"

    # ---- decline the blankets, one shipment, with a reason
    page.select_option("#group-by", "item")
    blankets = page.locator("details.group[data-group='32|blanket']")
    blankets.locator("summary").click()
    blankets.locator(f"li[data-shipment='32/{blanket['shipment_id']}'] "
                     "button[data-action='gate-decline']").click()
    page.click("#decision-form button[type=submit]")  # no reason yet: the page asks for one
    assert page.locator("#decision-dialog[open]").count() == 1
    _submit(page, reason="Selimut dari PMI tiba besok")
    page.wait_for_selector("details.group[data-group='32|blanket'] .hint.declined",
                           timeout=120_000)
    assert "Selimut dari PMI tiba besok" in blankets.inner_text()
    assert blankets.locator(f"li[data-shipment='32/{blanket['shipment_id']}']").count() == 0
    assert _national(jabar, "blanket") is None
    page.screenshot(path=str(ARTIFACTS / "approval-decided.png"))

    # Bahasa Indonesia: no codes on the page
    body = page.locator("body").inner_text()
    for code in ("awaiting", "approved", "declined", "not_required", "shelter_setup",
                 "undefined", "null"):
        assert code not in body, code
    assert not errors, errors
    for client in (jabar, admin, desk):
        client.close()
