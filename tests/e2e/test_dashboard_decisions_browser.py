"""The dashboard's decisions and panels in a real headless Chromium against a real `siaga api`
and Redis, on read models written as the projector writes them (no worker: what is checked
is what the page shows and what it asks the API, and that the API accepts it).

- a shortfall group carries the actions a coordinator takes on it: record a decision (split
  into requests of at most 500 shelters), hold the shipments proposed for it (national tier
  among them), override a dispatch of a team at its shelters, declare an emergency that
  releases a locked Lumbung Sosial; groups are per province (the same item in two provinces
  is two groups, opened and closed on their own);
- a kitchen's capacity shortfall is a group of its own, explained in Indonesian, whose action
  enlarges the kitchen; no request ever names a null shelter;
- the warehouse, team and shelter panels explain themselves (stock with expiry and why it is
  locked; skills, rank, hours, the assignment's reason; each need line's reason), the
  warehouse marker shows its stock; a task's declined and timed-out steps show;
- a shelter is found by name: the map zooms to it and opens its panel, also from a cluster.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from siaga.kafka import ensure_topics
from siaga.settings import Settings
from tests.e2e.test_dashboard_browser import ARTIFACTS, browser, sign_in  # noqa: F401
from tests.e2e.test_dashboard_map_browser import _clear_read_models, _write, change

pytestmark = pytest.mark.e2e

CUGENANG = {"lat": -6.82, "lon": 107.10}
BEKASI = {"lat": -6.2383, "lon": 106.9756}
MANY = 620  # shelters short of tents: more than one request's 500


def _why_short(missing: int, blocked: int = 0) -> dict[str, Any]:
    return {"rule": "no_eligible_stock_reachable", "figures": {
        "missing": missing, "unit": "kg", "item": "rice", "need": 768, "headcount": 640,
        "days": 3, "on_hand": 0, "in_transit": 0, "covered": 768 - missing,
        "eligible_reachable_stock": 0, "blocked": {"lumbung_not_released": blocked}}}


def _why_shipment(quantity: int, warehouse: str) -> dict[str, Any]:
    return {"rule": "shipment_planned", "figures": {
        "quantity": quantity, "unit": "L", "item": "drinking_water", "need": 5760,
        "headcount": 640, "days": 3, "on_hand": 0, "in_transit": 0, "warehouse_name": warehouse,
        "batches": [{"batch_id": "AIR-01", "quantity": quantity, "expires_on": "2027-06-01"}],
        "travel_hours": 2.5, "priority": 1.4, "vulnerable_share": 0.2, "severity": 5}}


def _why_need() -> dict[str, Any]:
    """A need row's own explanation (``need_from_headcount``), as the planner writes it."""
    return {"rule": "need_from_headcount", "figures": {
        "item": "rice", "unit": "kg", "need": 770.4, "quantity": 771, "days": 3, "on_hand": 0,
        "in_transit": 0, "profile_id": "bnpb-perka-7-2008", "lines": [
            {"group": "all", "people": 640, "rate": 0.4, "per": "person_day", "amount": 768,
             "sourced": True, "source": "Perka BNPB 7/2008 via InaSAFE: rice 0.4 kg/day"},
            {"group": "pregnant", "people": 10, "rate": 0.079, "per": "person_day",
             "amount": 2.37, "sourced": False,
             "source": "derived: Sphere 2018 +285 kcal/day for pregnant women"}]}}


def _seed(run: str) -> dict[str, str]:
    shelter = f"sh-cug-{run}"
    team, other_team, kitchen = f"tagana-a-{run}", f"tagana-b-{run}", f"dapur-{run}"
    lumbung, regional = f"lumbung-{run}", f"wh-bekasi-{run}"
    task = f"evacuation:{shelter}"
    out = [
        change("shelter", shelter, {
            "shelter_id": shelter, "name": "Lapangan Desa Cugenang", "province_code": "32",
            "kabupaten_code": "32.03", "location": CUGENANG, "unmet_share": 0.6,
            "headcount": {"total": 640, "infants": 20, "elderly": 60},
            "needs": [{"item": "rice", "unit": "kg", "need": 768, "planned": 400,
                       "in_transit": 0, "delivered": 0, "shortfall": 368, "why": _why_need()},
                      {"item": "drinking_water", "unit": "L", "need": 5760, "planned": 5760,
                       "in_transit": 0, "delivered": 0, "shortfall": 0}]}),
        change("shortfall", f"{shelter}:rice", {
            "shortfall_id": f"{shelter}:rice", "shelter_id": shelter,
            "shelter_name": "Lapangan Desa Cugenang", "item": "rice", "unit": "kg",
            "missing": 368, "province_code": "32", "escalated": True,
            "location": CUGENANG, "why": _why_short(368, blocked=500)}),
        change("warehouse", regional, {
            "warehouse_id": regional, "name": "Gudang Regional Kemensos Bekasi",
            "kind": "regional", "province_code": "32", "kabupaten_code": "32.16",
            "location": BEKASI, "released": True,
            "stock": [{"item": "rice", "unit": "kg", "on_hand": 25000, "reserved": 400,
                       "in_transit": 0, "batches": [
                           {"batch_id": "BRS-01", "quantity": 25000,
                            "expires_on": "2027-09-01"}]},
                      {"item": "drinking_water", "unit": "L", "on_hand": 12000, "reserved": 0,
                       "in_transit": 0, "batches": [
                           {"batch_id": "AIR-01", "quantity": 12000,
                            "expires_on": "2026-12-20"}]}]}),
        change("warehouse", lumbung, {
            "warehouse_id": lumbung, "name": "Lumbung Sosial Cianjur", "kind": "lumbung_sosial",
            "province_code": "32", "kabupaten_code": "32.03", "released": False,
            "location": {"lat": -6.81, "lon": 107.14},
            "stock": [{"item": "rice", "unit": "kg", "on_hand": 500, "reserved": 0,
                       "in_transit": 0, "batches": []}]}),
        change("shipment", f"shp-nat-{run}", {
            "shipment_id": f"shp-nat-{run}", "status": "proposed", "held": False,
            "tier": "national", "warehouse_id": regional,
            "warehouse_name": "Gudang Regional Kemensos Bekasi", "shelter_id": shelter,
            "shelter_name": "Lapangan Desa Cugenang", "item": "rice", "unit": "kg",
            "quantity": 300, "province_code": "32", "origin": BEKASI, "location": CUGENANG}),
        change("shipment", f"shp-prov-{run}", {
            "shipment_id": f"shp-prov-{run}", "status": "proposed", "held": False,
            "tier": "province", "warehouse_id": regional,
            "warehouse_name": "Gudang Regional Kemensos Bekasi", "shelter_id": shelter,
            "shelter_name": "Lapangan Desa Cugenang", "item": "rice", "unit": "kg",
            "quantity": 100, "province_code": "32", "origin": BEKASI, "location": CUGENANG}),
        change("shipment", f"shp-air-{run}", {
            "shipment_id": f"shp-air-{run}", "status": "confirmed", "held": False,
            "tier": "province", "warehouse_id": regional,
            "warehouse_name": "Gudang Regional Kemensos Bekasi", "shelter_id": shelter,
            "shelter_name": "Lapangan Desa Cugenang", "item": "drinking_water", "unit": "L",
            "quantity": 5760, "province_code": "32", "origin": BEKASI, "location": CUGENANG,
            "why": _why_shipment(5760, "Gudang Regional Kemensos Bekasi")}),
        change("team", team, {
            "team_id": team, "name": "TAGANA Cianjur Satu", "province_code": "32",
            "kabupaten_code": "32.03", "location": {"lat": -6.80, "lon": 107.12},
            "members": 12, "members_present": 10, "rank": "madya", "availability": "assigned",
            "skills": ["public_kitchen", "evacuation"], "hours_on_duty": 5.5,
            "roster": [{"name": "Asep Sunandar", "role": "ketua"}, {"name": "Dedi"}],
            "assignment": {"task_id": task, "kind": "evacuation", "target_id": shelter,
                           "location": CUGENANG, "tier": "province", "eta_hours": 0.4,
                           "status": "en_route",
                           "times": {"dispatched": "2026-12-06T08:00:00+00:00",
                                     "acknowledged": "2026-12-06T08:02:00+00:00",
                                     "en_route": "2026-12-06T08:05:00+00:00"},
                           "why": {"rule": "team_assigned", "figures": {
                               "travel_hours": 0.4, "hours_on_duty": 5.5, "task_hours": 4,
                               "fatigue_limit_hours": 12, "tier": "province"}}}}),
        change("team", other_team, {
            "team_id": other_team, "name": "TAGANA Sukabumi Dua", "province_code": "32",
            "kabupaten_code": "32.02", "location": {"lat": -6.92, "lon": 106.93},
            "members": 8, "availability": "available", "skills": ["evacuation"],
            "assignment": None}),
        change("task", task, {
            "task_id": task, "kind": "evacuation", "target_id": shelter, "province_code": "32",
            "location": CUGENANG, "teams_required": 2, "assigned_team_ids": [team],
            "tier": "national", "uncovered": 1, "status": "en_route",
            "teams": [{"team_id": other_team, "name": "TAGANA Sukabumi Dua",
                       "status": "declined", "reason": "jalan tertutup longsor", "times": {
                           "dispatched": "2026-12-06T07:40:00+00:00",
                           "declined": "2026-12-06T07:45:00+00:00"}},
                      {"team_id": f"tagana-c-{run}", "name": "TAGANA Garut Tiga",
                       "status": "timed_out", "reason": "not acknowledged in time",
                       "times": {"dispatched": "2026-12-06T07:20:00+00:00"}},
                      {"team_id": team, "name": "TAGANA Cianjur Satu", "status": "en_route",
                       "reason": None, "times": {
                           "dispatched": "2026-12-06T08:00:00+00:00",
                           "acknowledged": "2026-12-06T08:02:00+00:00",
                           "en_route": "2026-12-06T08:05:00+00:00"}}]}),
        change("kitchen", kitchen, {
            "kitchen_id": kitchen, "name": "Dapur Umum Pendopo Cianjur", "province_code": "32",
            "kabupaten_code": "32.03", "location": {"lat": -6.82, "lon": 107.14},
            "status": "open", "units": 1, "portions_per_cooking": 2000, "cookings_per_day": 3,
            "team_ids": [team], "capacity_per_day": 6000, "portions_needed_per_day": 9000,
            "portions_cooked_per_day": 6000, "people_served": 3000, "shelters_served": 1,
            "shelter_ids": [shelter], "load_share": 1.5,
            "shortfall": {"rule": "kitchen_capacity_below_portions_needed", "figures": {
                "capacity_per_day": 6000, "portions_needed_per_day": 9000,
                "portions_missing_per_day": 3000, "units": 1, "portions_per_cooking": 2000,
                "cookings_per_day": 3, "people_served": 3000, "units_missing": 1,
                "meals_per_person_per_day": 3}}}),
        change("shortfall", f"{kitchen}:portions", {
            "shortfall_id": f"{kitchen}:portions", "kitchen_id": kitchen, "shelter_id": None,
            "shelter_name": "Dapur Umum Pendopo Cianjur", "item": "portions",
            "unit": "porsi/hari", "missing": 3000, "need": 9000, "province_code": "32",
            "escalated": False, "location": {"lat": -6.82, "lon": 107.14},
            "explanation": "Dapur umum … kurang 3000 porsi",
            "reason": {"rule": "kitchen_capacity_below_portions_needed", "figures": {
                "capacity_per_day": 6000, "portions_needed_per_day": 9000,
                "portions_missing_per_day": 3000, "units": 1, "portions_per_cooking": 2000,
                "cookings_per_day": 3, "people_served": 3000, "units_missing": 1,
                "meals_per_person_per_day": 3}}}),
        # the same item short in Sulawesi Tengah: a group of its own
        change("shelter", f"sh-palu-{run}", {
            "shelter_id": f"sh-palu-{run}", "name": "Lapangan Vatulemo", "province_code": "72",
            "kabupaten_code": "72.71", "location": {"lat": -0.90, "lon": 119.87},
            "unmet_share": 0.9, "headcount": {"total": 900}, "needs": []}),
        change("shortfall", f"sh-palu-{run}:family_tent", {
            "shortfall_id": f"sh-palu-{run}:family_tent", "shelter_id": f"sh-palu-{run}",
            "shelter_name": "Lapangan Vatulemo", "item": "family_tent", "unit": "piece",
            "missing": 80, "province_code": "72", "escalated": True,
            "location": {"lat": -0.90, "lon": 119.87}}),
    ]
    import random

    rnd = random.Random(3)
    for n in range(MANY):
        sid = f"sh-uji-{run}-{n}"
        at = {"lat": round(-6.82 + rnd.uniform(-0.25, 0.25), 4),
              "lon": round(107.10 + rnd.uniform(-0.3, 0.3), 4)}
        out.append(change("shelter", sid, {
            "shelter_id": sid, "name": f"Pengungsian Uji {n}", "province_code": "32",
            "kabupaten_code": "32.03", "location": at, "unmet_share": 0.8,
            "headcount": {"total": 50}, "needs": []}))
        out.append(change("shortfall", f"{sid}:family_tent", {
            "shortfall_id": f"{sid}:family_tent", "shelter_id": sid,
            "shelter_name": f"Pengungsian Uji {n}", "item": "family_tent", "unit": "piece",
            "missing": 10, "province_code": "32", "escalated": True, "location": at}))
    return {"shelter": shelter, "team": team, "other_team": other_team, "kitchen": kitchen,
            "task": task, "lumbung": lumbung, "regional": regional, "changes": out}


def _posted(page: Any, path: str) -> list[dict[str, Any]]:
    return [p["body"] for p in page.evaluate("window.siagaDashboard.posted")
            if p["path"].startswith(path)]


def _submit(page: Any, **fields: str) -> None:
    """Fill the page's action dialog and send it; waits until the API accepted it."""
    page.wait_for_selector("#decision-dialog[open]")
    for name, value in fields.items():
        target = f"#decision-form [name={name}]"
        if page.locator(target).evaluate("n => n.tagName") == "SELECT":
            page.select_option(target, value)
        else:
            page.fill(target, value)
    page.click("#decision-form button[type=submit]")
    page.wait_for_function("() => !document.querySelector('#decision-dialog').open",
                           timeout=60_000)
    assert page.locator("#decision-error").inner_text() == ""


@pytest.mark.timeout(600)
def test_a_coordinator_acts_on_shortfalls_and_reads_the_panels(
    api: str, tokens: dict[str, str], settings: Settings, browser: Any,  # noqa: F811
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert settings.redis_url
    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        pool.submit(asyncio.run, ensure_topics(settings)).result()  # requests are published
    _clear_read_models(settings.redis_url)
    run = uuid.uuid4().hex[:6]
    seeded = _seed(run)
    _write(settings.redis_url, seeded["changes"])
    shelter_key = f"32/{seeded['shelter']}"
    page = browser.new_page(viewport={"width": 1400, "height": 900}, timezone_id="Asia/Jakarta")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, f"{api}/dasbor", tokens["coordinator_national"])
    page.wait_for_selector("#live-status.live", timeout=15_000)

    # ---- groups are per province: tents short in Jawa Barat and in Sulawesi Tengah
    jabar = page.locator("details.group[data-group='32|family_tent']")
    sulteng = page.locator("details.group[data-group='72|family_tent']")
    assert jabar.count() == 1 and sulteng.count() == 1
    assert "Jawa Barat" in jabar.locator("summary").inner_text()
    assert "Sulawesi Tengah" in sulteng.locator("summary").inner_text()
    jabar.locator("summary").click()
    assert jabar.evaluate("d => d.open") and not sulteng.evaluate("d => d.open")
    page.wait_for_timeout(1500)  # a later render keeps each group's own state
    page.select_option("#group-by", "kabupaten")
    page.select_option("#group-by", "item")
    jabar = page.locator("details.group[data-group='32|family_tent']")
    sulteng = page.locator("details.group[data-group='72|family_tent']")
    assert jabar.evaluate("d => d.open") and not sulteng.evaluate("d => d.open")

    # ---- a decision on 620 shelters: two requests (500 + 120), both accepted
    jabar.locator("button[data-decision='risk_accepted']").click()
    _submit(page, note="Tenda dari BNPB tiba lusa")
    decisions = _posted(page, "/api/v1/shortfalls/decisions")
    assert sorted(len(d["shelter_ids"]) for d in decisions) == [120, 500]
    assert len({i for d in decisions for i in d["shelter_ids"]}) == MANY
    assert {d["province_code"] for d in decisions} == {"32"}
    assert len({d["event_id"] for d in decisions}) == 2

    # ---- the rice group: escalation, shipments, tasks and the actions on them
    rice = page.locator("details.group[data-group='32|rice']")
    rice.locator("summary").click()
    text = rice.inner_text()
    assert "Dieskalasi ke tingkat nasional: 1/1" in text
    assert "usulan tingkat nasional" in text and "Gudang Regional Kemensos Bekasi" in text
    assert "tingkat nasional" in rice.locator("ul.shipments").inner_text()
    # the task at this shelter: declined with its reason, timed out, a team on the way
    task = rice.locator(f"ul.tasks li[data-task='32/{seeded['task']}']")
    assert "ditolak" in task.inner_text() and "jalan tertutup longsor" in task.inner_text()
    assert "tidak dijawab" in task.inner_text() and "dalam perjalanan" in task.inner_text()
    assert "dimobilisasi dari provinsi lain" in task.inner_text()
    # hold both proposed shipments for this shortfall
    rice.locator("button[data-action='hold-all']").click()
    _submit(page, reason="Menunggu konfirmasi jalur Puncak")
    holds = [p for p in page.evaluate("window.siagaDashboard.posted")
             if p["path"].endswith("/hold")]
    assert sorted(p["path"] for p in holds) == sorted(
        f"/api/v1/shipments/{s}/hold" for s in (f"shp-nat-{run}", f"shp-prov-{run}"))
    assert all(p["body"]["held"] is True for p in holds)
    # override the dispatch from the task at the shelter: another team
    task.locator("button[data-action='override']").click()
    assert page.locator("#decision-form [name=task_id]").input_value() == seeded["task"]
    _submit(page, team_id=seeded["other_team"], action="assign",
            reason="Tim Sukabumi sudah di Cugenang")
    [override] = _posted(page, "/api/v1/dispatch/overrides")
    assert override["task_id"] == seeded["task"] and override["team_id"] == seeded["other_team"]
    # the Lumbung Sosial locked in Cianjur: declare the emergency from the shortfall
    rice.locator("button[data-action='declare']").click()
    options = page.locator("#decision-form [name=area] option").all_inner_texts()
    assert "Kabupaten Cianjur" in options and any("Seluruh provinsi" in o for o in options)
    _submit(page, area="32.03", declared_by="Bupati Cianjur", reference="SK 360/2022")
    [declared] = _posted(page, "/api/v1/emergencies")
    assert declared["kabupaten_code"] == "32.03" and declared["province_code"] == "32"
    page.screenshot(path=str(ARTIFACTS / "decisions-on-a-shortfall.png"))

    # ---- a kitchen's capacity shortfall: its own group, explained, enlarged from there
    kitchen_group = page.locator("details.group[data-group='32|portions']")
    assert kitchen_group.count() == 1
    kitchen_group.locator("summary").click()
    text = kitchen_group.inner_text()
    assert "Kapasitas dapur umum" in text and "Dapur Umum Pendopo Cianjur" in text
    assert "kurang 3.000 porsi sehari, perlu 1 unit Dumlap lagi" in text
    assert "portions" not in text and kitchen_group.locator("[data-decision]").count() == 0
    kitchen_group.locator("button[data-action='add-units']").click()
    _submit(page)
    [enlarged] = _posted(page, "/api/v1/kitchens")
    assert enlarged["kitchen_id"] == seeded["kitchen"] and enlarged["units"] == 2
    assert enlarged["team_ids"] == [seeded["team"]]
    everything = page.evaluate("JSON.stringify(window.siagaDashboard.posted)")
    assert "null" not in everything.replace('"reference":null', "")

    # ---- the tasks card: each team's step, kept with the reasons
    card = page.locator(f"#panel-tasks li[data-task='32/{seeded['task']}']")
    page.select_option("#group-by", "item")  # (a render: the card shows what it knows)
    assert "berangkat" not in card.inner_text()
    assert "dalam perjalanan 15.05" in card.inner_text()  # 08:05 UTC, in WIB
    assert card.locator("li[data-step='declined']").count() == 1
    assert card.locator("li[data-step='timed_out']").count() == 1

    # ---- the warehouse: its stock on the map, and a panel that explains
    regional = page.locator(f"[data-entity='warehouse'][data-key='32/{seeded['regional']}']")
    regional.hover()
    tip = page.locator(".leaflet-tooltip").first
    tip.wait_for()
    assert "Beras 25.000 kg" in tip.inner_text() and "Air minum" in tip.inner_text()
    regional.click()
    page.wait_for_selector(f"#detail[data-key='32/{seeded['regional']}']:not([hidden])")
    detail = page.locator("#detail-body").inner_text()
    assert "2026-12-20" in detail and "kedaluwarsa < 75 hari" in detail
    assert "Pengiriman keluar" in detail and "tingkat nasional" in detail
    page.evaluate(f"void window.siagaDashboard.markers.warehouse.get('32/{seeded['lumbung']}')"
                  ".fire('click')")
    page.wait_for_selector(f"#detail[data-key='32/{seeded['lumbung']}']")
    detail = page.locator("#detail-body").inner_text()
    assert "setelah status tanggap darurat ditetapkan untuk Kabupaten Cianjur" in detail

    # ---- the team: names of skills and rank, hours, why it was sent, its task history
    page.evaluate(f"void window.siagaDashboard.markers.team.get('32/{seeded['team']}')"
                  ".getLayers()[0].fire('click')")
    page.wait_for_selector(f"#detail[data-key='32/{seeded['team']}']")
    detail = page.locator("#detail-body").inner_text()
    assert "Keahlian: Dapur umum, Evakuasi" in detail and "Madya" in detail
    assert "10 hadir" in detail and "Asep Sunandar" in detail
    assert "Jam bertugas: 5,5 jam" in detail
    assert "0,4 jam perjalanan" in detail and "dalam batas 12 jam" in detail
    assert "Riwayat tugas" in detail and "Lapangan Desa Cugenang" in detail

    # ---- find a shelter by name: zoom, open; also one inside a cluster
    page.evaluate("void window.siagaDashboard.map.setView([-2.5, 118], 5, {animate: false})")
    page.fill("#shelter-search", "cugenang")
    page.wait_for_selector(f"#search-results a[data-key='{shelter_key}']")
    assert "Lapangan Desa Cugenang" in page.locator("#search-results").inner_text()
    page.press("#shelter-search", "Enter")
    page.wait_for_selector(f"#detail[data-key='{shelter_key}']:not([hidden])", timeout=15_000)
    assert page.locator("#detail-title").inner_text() == "Lapangan Desa Cugenang"
    assert page.evaluate("window.siagaDashboard.map.getZoom()") >= 13
    assert page.evaluate(f"window.siagaDashboard.map.getBounds().contains("
                         f"[{CUGENANG['lat']}, {CUGENANG['lon']}])")
    page.wait_for_selector(f".shelter-dot.found[data-key='{shelter_key}']")
    # each need line says why: the shortfall's reason, the planned shipment's
    detail = page.locator("#detail-body").inner_text()
    assert "Kurang 368 kg Beras di Lapangan Desa Cugenang" in detail
    assert "dari Gudang Regional Kemensos Bekasi (batch AIR-01" in detail
    # … and how the need itself was worked out: rate × people × days, the profile, the
    # assumption marked (its English source note only on the English page)
    assert ("Kebutuhan 770,4 kg Beras: 640 orang × 0,4 kg/orang/hari × 3 hari = 768 + "
            "10 ibu hamil × 0,079 kg/orang/hari × 3 hari = 2,37* (Perka BNPB 7/2008); 0 sudah "
            "ada, 0 dalam perjalanan: masih perlu 771. * angka asumsi, belum bersumber.") in detail
    assert "InaSAFE" not in detail
    page.locator("button.lang").click()
    page.wait_for_function("() => document.querySelector('#detail-body').innerText"
                           ".includes('Need 770.4 kg of Rice')")
    detail = page.locator("#detail-body").inner_text()
    assert ("640 people × 0.4 kg per person a day × 3 day(s) = 768 + 10 pregnant women × "
            "0.079 kg per person a day × 3 day(s) = 2.37*") in detail
    assert "Sources: Perka BNPB 7/2008 via InaSAFE: rice 0.4 kg/day; derived: Sphere" in detail
    page.locator("button.lang").click()
    page.wait_for_function("() => document.querySelector('#detail-body').innerText"
                           ".includes('Kebutuhan 770,4 kg Beras')")
    assert "dilayani" not in detail or "Dapur" in detail
    page.screenshot(path=str(ARTIFACTS / "search-found-shelter.png"))
    page.evaluate("void window.siagaDashboard.map.setView([-2.5, 118], 5, {animate: false})")
    page.fill("#shelter-search", "Pengungsian Uji 417")
    page.click(f"#search-results a[data-key='32/sh-uji-{run}-417']")
    page.wait_for_selector(f"#detail[data-key='32/sh-uji-{run}-417']:not([hidden])",
                           timeout=20_000)
    page.wait_for_selector(f".shelter-dot.found[data-key='32/sh-uji-{run}-417']")
    page.fill("#shelter-search", "tidak ada yang bernama begini")
    assert "Tidak ada pengungsian dengan nama itu." in page.locator("#search-results").inner_text()

    # Bahasa Indonesia: no codes of the read models on the page
    body = page.locator("body").inner_text()
    for code in ("family_tent", "public_kitchen", "portions", "timed_out", "en_route",
                 "lumbung_sosial", "undefined", "null", "NaN"):
        assert code not in body, code
    assert not errors, errors
