"""Public kitchens on the coordinators' dashboard, end to end (real API, broker, worker, Redis;
headless Chromium): Sulawesi Tengah's coordinator sees the kitchen it opened on the map with
its capacity and load, its panel (shelters served, teams, portions served per meal), the
kitchen's capacity shortfall explained as such (never the code ``portions``), and the plan's
proposal to open the next kitchen where people are beyond reach — which it approves from
the page; the approved kitchen then appears on the map and the proposal goes."""

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
from tests.e2e.helpers import bearer, make_token
from tests.e2e.test_dashboard_browser import ARTIFACTS, browser, sign_in  # noqa: F401
from tests.e2e.test_dashboard_tasks_browser import _until
from tests.support import produce_events

pytestmark = pytest.mark.e2e

S = uuid.uuid4().hex[:6]
KITCHEN = f"dapur-dinsos-{S}"
# near the kitchen: 2,700 people, 8,100 portions a day for a 6,000-portion kitchen
NEAR = [(f"sh-balaroa-{S}", "Perumnas Balaroa", (-0.89, 119.86), 1200),
        (f"sh-kawatuna-{S}", "Lasoani Kawatuna", (-0.92, 119.89), 1500)]
FAR = (f"sh-poso-{S}", "Lapangan Sintuwu Maroso Poso", (-1.39, 120.75), 2500)
COOK, SPARE = f"tagana-masak-{S}", f"tagana-cadangan-{S}"
WAREHOUSE = f"gudang-sulteng-{S}"
PALU = {"lat": -0.90, "lon": 119.87}


def _setup() -> list[ev.Envelope]:
    at = ev.utcnow() - timedelta(minutes=30)

    def env(source: str) -> dict[str, Any]:
        return {"event_id": uuid.uuid4(), "occurred_at": at, "source": source,
                "schema_version": 1}

    out: list[ev.Envelope] = []
    for shelter_id, name, (lat, lon), total in [*NEAR, FAR]:
        out += [
            ev.ShelterRegistered(**env("posko:palu"), shelter_id=shelter_id, name=name,
                                 location={"lat": lat, "lon": lon}, province_code="72",
                                 posko_id="posko-palu"),
            ev.ShelterHeadcountReported(**env("posko:palu"), shelter_id=shelter_id,
                                        province_code="72", total=total, posko_id="posko-palu"),
        ]
    out.append(ev.WarehouseRegistered(
        **env("kemensos"), warehouse_id=WAREHOUSE, name="Gudang Dinsos Sulawesi Tengah",
        kind="provincial", location={"lat": -0.87, "lon": 119.88}, province_code="72"))
    for item, qty, unit in (("rice", 50000, "kg"), ("field_kitchen", 1, "unit")):
        out.append(ev.StockLevelReported(
            **env(f"warehouse:{WAREHOUSE}"), warehouse_id=WAREHOUSE, province_code="72",
            item=item, batch_id=f"{WAREHOUSE}-{item}", quantity=qty, unit=unit))
    for team_id in (COOK, SPARE):
        out.append(ev.TeamStatusReported(
            **env("tagana:palu"), team_id=team_id, province_code="72", location=PALU,
            skills=["public_kitchen"], members=10, availability="available"))
    return out


@pytest.mark.timeout(600)
def test_kitchens_and_a_proposal_show_and_the_proposal_is_approved_from_the_page(
    api: str, worker: ManagedProcess, tokens: dict[str, str], browser: Any,  # noqa: F811
    settings: Settings,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert settings.redis_url
    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        pool.submit(asyncio.run, produce_events(settings, _setup())).result()
    sulteng = httpx.Client(base_url=api, headers=bearer(tokens["coordinator_other"]), timeout=15)
    cook = httpx.Client(base_url=api, timeout=15, headers=bearer(make_token(
        settings.redis_url, "team", team_id=COOK, province_code="72")))
    _until(lambda: sulteng.get(f"/api/v1/teams/{COOK}").status_code == 200)
    _until(lambda: sulteng.get("/api/v1/situation").json()["summary"]["shelters"] >= 3)
    opened = sulteng.post("/api/v1/kitchens", json={
        "event_id": str(uuid.uuid4()), "kitchen_id": KITCHEN,
        "name": "Dapur Umum Kantor Dinas Sosial Sulawesi Tengah", "location": PALU,
        "team_ids": [COOK]})
    assert opened.status_code == 202, opened.text
    _until(lambda: sulteng.get(f"/api/v1/kitchens/{KITCHEN}").status_code == 200
           and sulteng.get(f"/api/v1/kitchens/{KITCHEN}").json().get(
               "portions_needed_per_day") == 8100, timeout=120)
    assert cook.post(f"/api/v1/kitchens/{KITCHEN}/reports", json={
        "event_id": str(uuid.uuid4()), "team_id": COOK, "status": "open", "meal": "siang",
        "portions_served": 1950}).status_code == 202

    page = browser.new_page(viewport={"width": 1400, "height": 900}, timezone_id="Asia/Makassar")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, f"{api}/dasbor", tokens["coordinator_other"])
    page.wait_for_selector("#live-status.live", timeout=15_000)

    # the kitchen on the map, with its capacity and load
    marker = f"[data-entity='kitchen'][data-key='72/{KITCHEN}']"
    page.wait_for_selector(marker, timeout=30_000)
    assert "u4" in (page.get_attribute(marker, "class") or "")  # over capacity: red
    page.hover(marker)
    tip = page.locator(".leaflet-tooltip").first
    tip.wait_for()
    assert "6.000 porsi/hari" in tip.inner_text() and "dibutuhkan 8.100" in tip.inner_text()
    card = page.locator(f"#panel-kitchens li[data-kitchen='72/{KITCHEN}']")
    assert "Beban 135%" in card.inner_text() and "2.700 orang dilayani" in card.inner_text()

    # its panel: capacity, load, shelters, teams, portions served at lunch
    page.click(marker)
    page.wait_for_selector(f"#detail[data-key='72/{KITCHEN}']:not([hidden])")
    page.wait_for_function(
        "() => document.querySelector('#detail-body').innerText.includes('1.950')",
        timeout=60_000)
    detail = page.locator("#detail-body").inner_text()
    assert "Kapasitas: 6.000 porsi/hari" in detail and "Dibutuhkan: 8.100" in detail
    assert "Perumnas Balaroa" in detail and "Lasoani Kawatuna" in detail
    assert "Dijalankan oleh" in detail and "Porsi tersaji" in detail
    assert "kurang 2.100 porsi sehari, perlu 1 unit Dumlap lagi" in detail
    assert "Bahan masakan" in detail and "Beras" in detail
    # each ingredient's figure with its source, in Bahasa Indonesia (never the English note)
    assert "Sumber angka:" in detail and "asumsi" in detail
    assert "assumption" not in detail
    page.screenshot(path=str(ARTIFACTS / "kitchen-panel.png"))

    # the capacity shortfall: a kitchen group, explained, never the code as a label
    group = page.locator("details.group[data-group='72|portions']")
    group.wait_for(timeout=30_000)
    assert "Kapasitas dapur umum" in group.locator("summary").inner_text()
    group.locator("summary").click()
    assert "memasak 6.000 porsi sehari" in group.inner_text()
    assert group.locator("[data-decision]").count() == 0

    # the proposal to open the next kitchen, where people are beyond reach
    proposal = page.locator(f"#panel-kitchen-proposals li[data-proposal='72/{FAR[0]}']")
    proposal.wait_for(timeout=120_000)
    text = proposal.inner_text()
    assert "Lapangan Sintuwu Maroso Poso" in text and "akan memasak 6.000 porsi/hari" in text
    assert "Unit Dumlap dari Gudang Dinsos Sulawesi Tengah" in text
    assert "Dapur umum di Lapangan Sintuwu Maroso Poso akan memasak" in text
    assert page.locator(f"[data-entity='kitchen_proposal'][data-key='72/{FAR[0]}']").count() == 1
    page.screenshot(path=str(ARTIFACTS / "kitchen-proposal.png"))
    proposal.locator("button[data-action='approve']").click()
    page.wait_for_selector("#decision-dialog[open]")
    assert page.input_value("#decision-form [name=name]") == \
        "Dapur Umum Lapangan Sintuwu Maroso Poso"
    page.click("#decision-form button[type=submit]")
    page.wait_for_function("() => !document.querySelector('#decision-dialog').open",
                           timeout=30_000)
    assert page.locator("#decision-error").inner_text() == ""

    # approved: the new kitchen opens on the map, and the proposal goes
    page.wait_for_selector(f"[data-entity='kitchen'][data-key='72/dapur-{FAR[0]}']",
                           timeout=120_000)
    page.wait_for_selector(f"[data-entity='kitchen_proposal'][data-key='72/{FAR[0]}']",
                           state="detached", timeout=120_000)
    new = sulteng.get(f"/api/v1/kitchens/dapur-{FAR[0]}").json()
    assert new["team_ids"] == [SPARE] and new["warehouse_id"] == WAREHOUSE
    assert new["name"] == "Dapur Umum Lapangan Sintuwu Maroso Poso"
    page.screenshot(path=str(ARTIFACTS / "kitchen-approved.png"))

    body = page.locator("body").inner_text()
    for code in ("portions", "public_kitchen", "field_kitchen", "undefined", "null"):
        assert code not in body, code
    assert not errors, errors
    sulteng.close()
    cook.close()
