"""The coordinators' map (Leaflet, vendored; base map from Siaga's own data) in a real
headless Chromium, against the real API, broker, worker and Redis.

- the map opens fitted to the operation, and zooming with the wheel over Cianjur keeps
  Cianjur under the cursor (the old SVG map drifted away);
- clicking a shelter opens its panel (headcount by group, needs with planned / in transit /
  delivered, its shipments and teams) in Bahasa Indonesia, names not codes;
- a headcount posted over the API recolours the shelter's marker live (no reload);
- a shortfall is acted on from the decisions panel ("accept the risk with a note"): the
  decision comes back through the worker and shows on the shortfall;
- a national operation (2,000 shelters, 16,000 shipments) at 10 changes a second: no frame
  longer than 1 s and the 95th percentile under 500 ms while panning and zooming, and the
  map's own picture painted within 2 s of signing in (bounds and why: see the test).

Screenshots go to ``test-artifacts/`` (gitignored).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from redis import Redis

from siaga.local import ManagedProcess
from siaga.settings import Settings
from tests.e2e.helpers import bearer
from tests.e2e.test_dashboard_browser import ARTIFACTS, browser, sign_in  # noqa: F401

pytestmark = pytest.mark.e2e

CIANJUR = {"lat": -6.82, "lon": 107.14}


def _write(redis_url: str, changes: list[dict[str, Any]]) -> None:
    from redis.asyncio import Redis as AsyncRedis

    from siaga.readmodel import apply_changes

    async def write() -> None:
        redis = AsyncRedis.from_url(redis_url)
        try:
            for start in range(0, len(changes), 2000):
                await apply_changes(redis, changes[start:start + 2000])
        finally:
            await redis.aclose()

    # Playwright's sync API runs an event loop in this thread: write from another one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, write()).result()


def _clear_read_models(redis_url: str) -> None:
    """Other modules' stacks leave read models in the shared Redis (shelters near Cianjur
    among them, which would cluster with this test's shelter): start from none (tokens
    stay)."""
    from redis.asyncio import Redis as AsyncRedis

    from siaga.rebuild import clear_read_models

    async def clear() -> None:
        redis = AsyncRedis.from_url(redis_url)
        try:
            await clear_read_models(redis)
        finally:
            await redis.aclose()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, clear()).result()


def change(entity: str, entity_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"entity": entity, "id": entity_id, "province_code": data["province_code"],
            "version": f"{time.time_ns():020d}", "score": time.time(), "data": data}


def _wait(http: httpx.Client, path: str, found: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = http.get(path)
        if response.status_code == 200 and found(response.json()):
            return response.json()
        time.sleep(0.3)
    raise AssertionError(f"{path}: not there within {timeout} s")


def _shelter_screen_point(page: Any, key: str) -> dict[str, float]:
    return page.evaluate(
        """(key) => { const d = window.siagaDashboard; const m = d.markers.shelter.get(key);
        const p = d.map.latLngToContainerPoint(m.getLatLng()); const b = d.map.getContainer()
        .getBoundingClientRect(); return {x: p.x + b.left, y: p.y + b.top, w: b.width,
        h: b.height, left: b.left, top: b.top}; }""",
        key,
    )


def test_coordinator_finds_opens_and_decides_on_a_cianjur_shelter(
    api: str, worker: ManagedProcess, tokens: dict[str, str], browser: Any,  # noqa: F811
    settings: Settings,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    _clear_read_models(settings.redis_url or "")
    run = uuid.uuid4().hex[:6]
    shelter_id = f"sh-cugenang-{run}"
    post = httpx.Client(base_url=api, headers=bearer(tokens["command_post"]), timeout=15)
    reader = httpx.Client(base_url=api, headers=bearer(tokens["coordinator"]), timeout=15)
    incident = {"event_id": str(uuid.uuid4()), "incident_type": "earthquake",
                "location": {"lat": -6.84, "lon": 107.05}, "severity": 5, "displaced": 5389,
                "description": "Gempa M5.6 Cianjur"}
    assert post.post("/api/v1/incidents", json=incident).status_code == 202
    registered = post.post("/api/v1/shelters", json={
        "event_id": str(uuid.uuid4()), "shelter_id": shelter_id,
        "name": "Lapangan Desa Cugenang", "location": CIANJUR, "kabupaten_code": "32.03"})
    assert registered.status_code == 202, registered.text
    key = f"32/{shelter_id}"
    _wait(reader, "/api/v1/situation", lambda s: any(
        x["shelter_id"] == shelter_id for x in s["shelters"]))

    page = browser.new_page(viewport={"width": 1400, "height": 860})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text))
    sign_in(page, f"{api}/dasbor", tokens["coordinator"])
    page.wait_for_selector("#live-status.live", timeout=15_000)
    # vendored library and own base map only: nothing leaves the Siaga server
    assert all(u.startswith(api) for u in requests), [u for u in requests if not u.startswith(api)]
    assert page.evaluate("typeof L.markerClusterGroup") == "function"
    assert page.evaluate("window.siagaDashboard.map.getZoom()") >= 9  # fitted to the operation
    assert page.evaluate(
        f"window.siagaDashboard.map.getBounds().contains([{CIANJUR['lat']}, {CIANJUR['lon']}])")
    page.wait_for_selector(f"[data-entity='shelter'][data-key='{key}']", timeout=15_000)
    assert "u0" in (page.get_attribute(f"[data-key='{key}']", "class") or "")
    page.screenshot(path=str(ARTIFACTS / "map-opened-on-cianjur.png"))

    # zoom out to the national view, then wheel in over the shelter: it stays under the cursor
    page.evaluate("void window.siagaDashboard.map.setView([-2.5, 118], 5, {animate: false})")
    page.wait_for_timeout(300)
    for _ in range(14):
        point = _shelter_screen_point(page, key)
        page.mouse.move(point["x"], point["y"])
        page.mouse.wheel(0, -120)
        page.wait_for_timeout(350)
    zoom = page.evaluate("window.siagaDashboard.map.getZoom()")
    assert zoom >= 11, zoom
    point = _shelter_screen_point(page, key)
    assert point["left"] < point["x"] < point["left"] + point["w"]
    assert point["top"] < point["y"] < point["top"] + point["h"]
    assert page.evaluate(
        f"window.siagaDashboard.map.getBounds().contains([{CIANJUR['lat']}, {CIANJUR['lon']}])")
    page.screenshot(path=str(ARTIFACTS / "map-zoomed-into-cianjur.png"))

    # clicking the shelter opens its panel
    page.click(f"[data-entity='shelter'][data-key='{key}']")
    page.wait_for_selector(f"#detail[data-key='{key}']:not([hidden])")
    assert page.locator("#detail-title").inner_text() == "Lapangan Desa Cugenang"
    assert "Kabupaten Cianjur, Jawa Barat" in page.locator("#detail-body").inner_text()

    # a posted headcount recolours the marker live (no stock in this province: unmet need)
    page.evaluate("window.__sameDocument = true")
    headcount = post.post(f"/api/v1/shelters/{shelter_id}/headcounts", json={
        "event_id": str(uuid.uuid4()), "total": 640, "infants": 20, "children": 180,
        "elderly": 60, "pregnant_lactating": 15, "disabled": 8})
    assert headcount.status_code == 202, headcount.text
    page.wait_for_function(
        "(key) => !document.querySelector(`[data-key='${key}']`).classList.contains('u0')",
        arg=key, timeout=60_000)
    assert page.evaluate("window.__sameDocument") is True
    assert "u4" in (page.get_attribute(f"[data-key='{key}']", "class") or "")
    # the panel re-renders at most once a second: wait for the plan's needs, not only the
    # headcount (which can arrive a plan earlier)
    page.wait_for_function(
        "() => { const t = document.querySelector('#detail-body').innerText; "
        "return t.includes('640') && t.includes('Beras'); }", timeout=30_000)
    detail = page.locator("#detail-body").inner_text()
    assert "Bayi (<2 th) 20" in detail and "Lansia (60+) 60" in detail
    assert "Beras" in detail  # item names, not codes
    assert "Direncanakan" in detail and "Dalam perjalanan" in detail
    assert "drinking_water" not in detail and "rice" not in detail.split()
    # each shortfall explained from its rule and figures, in Indonesian (never the English)
    page.wait_for_function(
        "() => document.querySelector('#detail-body').innerText.includes("
        "'di Lapangan Desa Cugenang:')", timeout=30_000)
    detail = page.locator("#detail-body").inner_text()
    assert "missing at" not in detail and "people" not in detail
    page.screenshot(path=str(ARTIFACTS / "map-shelter-panel-recoloured.png"))

    # the decisions panel groups shortfalls by item; accept the risk for one item with a note
    page.wait_for_selector("#panel-shortfalls details.group", timeout=30_000)
    group = page.locator("#panel-shortfalls details.group").first
    group.locator("summary").click()
    item = group.get_attribute("data-item")
    assert group.get_attribute("data-group") == f"32|{item}"  # groups are per province
    group.locator("button[data-decision='risk_accepted']").click()
    page.fill("#decision-form textarea[name=note]", "Stok beras menyusul dari Bulog besok pagi")
    page.click("#decision-form button[type=submit]")
    page.wait_for_function("() => !document.querySelector('#decision-dialog').open")
    page.wait_for_function(
        "() => document.querySelector('#panel-shortfalls').innerText.includes('Risiko diterima')",
        timeout=60_000)
    shortfall = _wait(reader, "/api/v1/shortfalls", lambda s: any(
        x["shelter_id"] == shelter_id and x["item"] == item and x.get("decision")
        for x in s["items"]))
    decided = next(x for x in shortfall["items"]
                   if x["shelter_id"] == shelter_id and x["item"] == item)
    assert decided["decision"]["decision"] == "risk_accepted"
    assert decided["decision"]["note"] == "Stok beras menyusul dari Bulog besok pagi"
    # the timeline shows it, filtered to decisions (the page asks the server again)
    page.select_option("#timeline-entity", "decision")
    page.wait_for_selector("#timeline[data-loaded='decision']", timeout=15_000)
    assert "Risiko diterima" in page.locator("#panel-timeline").inner_text()
    assert page.locator("#panel-timeline li[data-entity='decision']").count() >= 1
    assert not page.locator("#panel-timeline li:not([data-entity='decision'])").count()
    page.screenshot(path=str(ARTIFACTS / "map-decision-recorded.png"))
    assert not errors, errors
    # Leaflet runs under the unchanged CSP (no inline script or style, no worker)
    assert not [m for m in console if "Content Security Policy" in m], console
    post.close()
    reader.close()


def _national(run: str, shelters: int, shipments: int) -> tuple[list[dict[str, Any]],
                                                                   list[str]]:
    """Shelters spread over Java to Sulawesi, warehouses, and shipments between them."""
    import random

    rnd = random.Random(7)
    out: list[dict[str, Any]] = []
    places = [(-6.9, 107.6, "32"), (-7.3, 112.7, "35"), (-7.0, 110.4, "33"),
              (-5.1, 119.4, "73"), (-0.9, 119.9, "72"), (-8.6, 116.1, "52")]
    warehouses = []
    for n, (lat, lon, province) in enumerate(places):
        wid = f"wh-{run}-{n}"
        warehouses.append((wid, province, {"lat": lat, "lon": lon}))
        out.append(change("warehouse", wid, {
            "warehouse_id": wid, "name": f"Gudang {n}", "kind": "regional",
            "location": {"lat": lat, "lon": lon}, "province_code": province, "released": True,
            "stock": [{"item": "rice", "unit": "kg", "on_hand": 90000, "reserved": 0,
                       "in_transit": 0}]}))
    shelter_keys = []
    for n in range(shelters):
        lat, lon, province = places[n % len(places)]
        sid = f"sh-{run}-{n}"
        location = {"lat": round(lat + rnd.uniform(-0.6, 0.6), 4),
                    "lon": round(lon + rnd.uniform(-0.8, 0.8), 4)}
        shelter_keys.append(f"{province}/{sid}")
        out.append(change("shelter", sid, {
            "shelter_id": sid, "name": f"Pengungsian {n}", "province_code": province,
            "location": location, "headcount": {"total": rnd.randint(50, 3000)},
            "unmet_share": round(rnd.random(), 2), "needs": []}))
    statuses = ("proposed", "confirmed", "dispatched", "delivered")
    for n in range(shipments):
        wid, province, origin = warehouses[n % len(warehouses)]
        target = out[len(warehouses) + rnd.randrange(shelters)]["data"]
        out.append(change("shipment", f"shp-{run}-{n}", {
            "shipment_id": f"shp-{run}-{n}", "status": statuses[n % 4], "held": False,
            "warehouse_id": wid, "warehouse_name": f"Gudang {n % len(warehouses)}",
            "shelter_id": target["shelter_id"], "shelter_name": target["name"], "item": "rice",
            "unit": "kg", "quantity": 100, "province_code": target["province_code"],
            "origin": origin, "location": target["location"]}))
    return out, shelter_keys


# Bounds for a loaded 2-core CI machine (figures in BENCHMARKS.md, "Coordinators' map"). At
# load 6-10 on this 2-core machine the page ran at p95 100-183 ms and at most 300-400 ms per
# frame under 10 changes/s, and painted the shelters 0.6 s after sign-in; at load 14-19 the
# p95 was 267 ms. A real stall is an order of magnitude above: Leaflet's own polylines for
# the shipments gave p95 3.5 s and 3-5 s per zoom step, a snapshot awaited whole painted the
# picture 5-7 s after sign-in. So: no frame over 1 s (the "page stalling"), p95 under
# 500 ms (about 2-3x what a loaded run needs, 7x under the stall), and the map's own picture
# painted within the 2 s of signing in (3x what the loaded run needed).
MAX_FRAME_MS = 1000
P95_FRAME_MS = 500
FIRST_PAINT_MS = 2000


@pytest.mark.timeout(900)
def test_national_operation_stays_fluid_at_ten_changes_a_second(
    api: str, tokens: dict[str, str], browser: Any, settings: Settings,  # noqa: F811
) -> None:
    """2,000 shelters and 16,000 shipments, 10 changes/s for ~15 s: every change reaches the
    map, no frame stalls (bounds above), the map's picture is painted within 2 s of signing
    in; the figures are printed for BENCHMARKS.md."""
    ARTIFACTS.mkdir(exist_ok=True)
    assert settings.redis_url
    run = uuid.uuid4().hex[:6]
    seed, shelter_keys = _national(run, 2000, 16000)
    _write(settings.redis_url, seed)
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    started = time.monotonic()
    sign_in(page, f"{api}/dasbor", tokens["coordinator_national"])
    ready_s = time.monotonic() - started
    page.wait_for_selector("#live-status.live", timeout=15_000)
    assert page.evaluate("window.siagaDashboard.state.shelter.size") >= 2000
    assert page.evaluate("window.siagaDashboard.state.shipment.size") >= 16000
    # delivered shipments (a quarter) are history: lines for the 12,000 still moving
    assert page.evaluate("window.siagaDashboard.shipmentLines.lines.size") >= 12000
    # clusters with counts at the national view
    page.evaluate("void window.siagaDashboard.map.setView([-4, 114], 5, {animate: false})")
    page.wait_for_selector(".cluster span")
    counts = [int(x) for x in page.locator(".cluster span").all_inner_texts()]
    assert sum(counts) >= 1500 and max(counts) > 1
    page.screenshot(path=str(ARTIFACTS / "map-national-clusters.png"))
    page.evaluate("void window.siagaDashboard.map.setView([-6.9, 107.6], 9, {animate: false})")

    page.evaluate("""() => { window.__long = []; new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__long.push(Math.round(e.duration)); })
      .observe({ type: "longtask" }); }""")

    def measure() -> dict[str, Any]:
        """Frame times while panning and zooming as a coordinator would, ~10 s."""
        page.evaluate("""() => { window.__frames = []; window.__stopFrames = false;
          let last = performance.now(); const tick = (now) => { window.__frames.push(now - last);
          last = now; if (!window.__stopFrames) requestAnimationFrame(tick); };
          requestAnimationFrame(tick); }""")
        for step in range(4):
            page.mouse.move(700, 430)
            page.mouse.wheel(0, -120 if step % 2 == 0 else 120)
            page.wait_for_timeout(1500)
            page.mouse.move(700, 430)
            page.mouse.down()
            page.mouse.move(600 if step % 2 == 0 else 800, 380, steps=10)
            page.mouse.up()
            page.wait_for_timeout(900)
        frames = sorted(page.evaluate("window.__stopFrames = true; window.__frames.slice(1)"))
        return {"frames": len(frames), "p50": round(frames[len(frames) // 2], 1),
                "p95": round(frames[int(len(frames) * 0.95)], 1),
                "p99": round(frames[int(len(frames) * 0.99)], 1),
                "max": round(frames[-1], 1),
                "over_50ms": sum(1 for f in frames if f > 50)}

    reference = measure()  # the same gestures with no changes arriving
    applied_before = page.evaluate("window.siagaDashboard.live.applied")
    stop = threading.Event()
    sent = {"n": 0}

    def changes() -> None:
        from redis.asyncio import Redis as AsyncRedis

        from siaga.readmodel import apply_changes

        async def loop() -> None:
            redis = AsyncRedis.from_url(settings.redis_url or "")
            try:
                n = 0
                while not stop.is_set() and n < 150:
                    shelter = seed[6 + (n * 37) % 2000]["data"]
                    shipment = seed[2006 + (n * 101) % 16000]["data"]
                    batch = [change("shelter", shelter["shelter_id"], dict(
                        shelter, unmet_share=round((n % 10) / 10, 2),
                        headcount={"total": 100 + n})) if n % 2 == 0 else
                        change("shipment", shipment["shipment_id"], dict(
                            shipment, status=("confirmed", "dispatched")[n % 4 // 2]))]
                    await apply_changes(redis, batch)
                    sent["n"] += 1
                    n += 1
                    await asyncio.sleep(0.1)
            finally:
                await redis.aclose()

        asyncio.run(loop())

    feeder = threading.Thread(target=changes)
    feeder.start()
    under_load = measure()
    stop.set()
    feeder.join()
    page.wait_for_function(
        f"() => window.siagaDashboard.live.applied >= {applied_before + sent['n']}",
        timeout=30_000)
    first_paint = page.evaluate(
        "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
    marks = page.evaluate("JSON.stringify(window.siagaDashboard.timings || {})")
    print(json.dumps({  # noqa: T201 - the figures BENCHMARKS.md records
        "shelters": 2000, "shipments": 16000, "changes_sent": sent["n"],
        "frame_ms_no_changes": reference, "frame_ms_10_changes_per_s": under_load,
        "p95_ratio": round(under_load["p95"] / max(reference["p95"], 0.1), 2),
        "sign_in_to_ready_s": round(ready_s, 2), "first_contentful_paint_ms": first_paint,
        "page_timings_ms": json.loads(marks),
        "long_tasks_ms": page.evaluate("window.__long"),
        "profile_ms": page.evaluate("window.siagaDashboard.prof")}))
    page.screenshot(path=str(ARTIFACTS / "map-national-live.png"))
    assert sent["n"] >= 100
    assert not errors, errors
    assert under_load["max"] <= MAX_FRAME_MS, under_load
    assert under_load["p95"] <= P95_FRAME_MS, under_load
    timings = json.loads(marks)
    # the map's own picture (base map, incidents, the 2,000 shelters) before the shipments
    assert timings["firstPaint"] < timings["snapshotFetched"], timings
    assert timings["firstPaint"] - timings["signedIn"] <= FIRST_PAINT_MS, timings
    Redis.from_url(settings.redis_url).flushdb()  # 18,000 entities are for this test only


def test_shortfall_decisions_are_checked_against_the_callers_scope(
    api: str, tokens: dict[str, str],
) -> None:
    """403 outside the caller's province or role, 404 naming the shelter without that
    shortfall, 422 naming the bad field; nothing is published for a refused request."""
    body = {"event_id": str(uuid.uuid4()), "province_code": "32", "item": "family_tent",
            "shelter_ids": ["sh-nowhere"], "decision": "donor_request", "note": "ke BAZNAS"}
    url = f"{api}/api/v1/shortfalls/decisions"
    other = httpx.post(url, json=body, headers=bearer(tokens["coordinator_other"]), timeout=10)
    assert other.status_code == 403 and "province_code" in other.text
    posko = httpx.post(url, json=body, headers=bearer(tokens["command_post"]), timeout=10)
    assert posko.status_code == 403
    missing = httpx.post(url, json=body, headers=bearer(tokens["coordinator"]), timeout=10)
    assert missing.status_code == 404
    assert missing.json()["detail"][0]["loc"] == ["body", "shelter_ids", 0]
    bad = httpx.post(url, json=dict(body, decision="ignore"),
                     headers=bearer(tokens["coordinator"]), timeout=10)
    assert bad.status_code == 422 and "decision" in bad.text
    empty = httpx.post(url, json=dict(body, note=""), headers=bearer(tokens["coordinator"]),
                       timeout=10)
    assert empty.status_code == 422 and "note" in empty.text
