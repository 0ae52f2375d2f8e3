"""The coordinators' timeline of changes, served from the live feed (``GET /api/v1/timeline``)
by a real `siaga api` on a real Redis: newest first, filtered by kind, province,
kabupaten/kota (a shipment's or shortfall's is its shelter's) and time, a page at a time
with a cursor, a coordinator's decision told apart from a re-plan that carries it along,
and a provincial coordinator kept to its own province."""

from __future__ import annotations

import asyncio
import time
import uuid
import zoneinfo
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from siaga.settings import Settings
from tests.e2e.helpers import bearer
from tests.e2e.test_dashboard_browser import ARTIFACTS, browser, sign_in  # noqa: F401

pytestmark = pytest.mark.e2e


def _apply(redis_url: str, changes: list[dict[str, Any]]) -> None:
    from redis.asyncio import Redis

    from siaga.readmodel import apply_changes

    async def write() -> None:
        redis = Redis.from_url(redis_url)
        try:
            await apply_changes(redis, changes)
        finally:
            await redis.aclose()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, write()).result()


def _change(entity: str, entity_id: str, data: dict[str, Any],
            deleted: bool = False) -> dict[str, Any]:
    return {"entity": entity, "id": entity_id, "province_code": data["province_code"],
            "version": f"{time.time_ns():020d}", "score": time.time(), "deleted": deleted,
            "data": data}


def _all(http: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """Every row, page by page (the cursor goes on until None)."""
    rows: list[dict[str, Any]] = []
    cursor = None
    for _ in range(200):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = http.get("/api/v1/timeline", params=query)
        assert page.status_code == 200, page.text
        body = page.json()
        rows += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return rows
    raise AssertionError("the cursor never ended")


def test_timeline_is_served_filtered_paginated_and_scoped(
    api: str, tokens: dict[str, str], settings: Settings,
) -> None:
    assert settings.redis_url
    from redis import Redis

    from siaga.readmodel import FEED

    Redis.from_url(settings.redis_url).delete(FEED)  # other modules' changes: not this test's
    run = uuid.uuid4().hex[:6]
    cugenang, palu = f"sh-tl-cug-{run}", f"sh-tl-palu-{run}"
    shelter = {"shelter_id": cugenang, "name": "Lapangan Cugenang", "province_code": "32",
               "kabupaten_code": "32.03", "location": {"lat": -6.82, "lon": 107.1},
               "headcount": {"total": 300}, "unmet_share": 0.5,
               "needs": [{"item": "rice", "need": 360.0}] * 30}  # a big entity: summarized
    _apply(settings.redis_url, [
        _change("shelter", cugenang, shelter),
        _change("shelter", palu, {"shelter_id": palu, "name": "Lapangan Vatulemo",
                                  "province_code": "72", "kabupaten_code": "72.71",
                                  "location": {"lat": -0.9, "lon": 119.87},
                                  "headcount": {"total": 800}}),
    ])
    time.sleep(0.05)
    middle = datetime.now(UTC)
    time.sleep(0.05)
    shortfall = {"shortfall_id": f"{cugenang}:rice", "shelter_id": cugenang, "item": "rice",
                 "unit": "kg", "missing": 120, "province_code": "32", "decision": None}
    decision = {"decision": "risk_accepted", "note": "Bulog besok", "coordinator": "Rina",
                "at": datetime.now(UTC).isoformat(), "version": "00001"}
    _apply(settings.redis_url, [
        _change("shelter", cugenang, dict(shelter, headcount={"total": 640})),
        _change("shipment", f"shp-tl-{run}", {
            "shipment_id": f"shp-tl-{run}", "status": "proposed", "shelter_id": cugenang,
            "shelter_name": "Lapangan Cugenang", "item": "rice", "unit": "kg",
            "quantity": 400, "province_code": "32"}),
        _change("shortfall", f"{cugenang}:rice", shortfall),
    ])
    _apply(settings.redis_url, [
        _change("shortfall", f"{cugenang}:rice", dict(shortfall, decision=decision)),
    ])
    _apply(settings.redis_url, [  # a re-plan: the same decision carried along
        _change("shortfall", f"{cugenang}:rice", dict(shortfall, missing=80, decision=decision)),
        _change("shelter", palu, {"shelter_id": palu, "name": "Lapangan Vatulemo",
                                  "province_code": "72", "kabupaten_code": "72.71",
                                  "location": {"lat": -0.9, "lon": 119.87},
                                  "headcount": {"total": 900}}),
    ])
    national = httpx.Client(base_url=api, headers=bearer(tokens["coordinator_national"]),
                            timeout=15)

    # newest first, summaries of after and before, the shelter's big needs list left out
    newest = national.get("/api/v1/timeline", params={"limit": 3}).json()
    assert [r["id"] for r in newest["items"]] == [palu, f"{cugenang}:rice", f"{cugenang}:rice"]
    assert newest["items"][0]["data"]["headcount"] == {"total": 900}
    assert newest["items"][0]["before"]["headcount"] == {"total": 800}
    assert newest["items"][0]["kabupaten_code"] == "72.71"
    assert newest["next_cursor"] and newest["reaches_back_to"]
    # the decision is a decision; the re-plan carrying it along is a shortfall change
    assert [r["kind"] for r in newest["items"][1:]] == ["shortfall", "decision"]
    assert newest["items"][2]["data"]["decision"]["note"] == "Bulog besok"

    # paginated: pages of 2 give every row once, in order, the same as one big page
    everything = _all(national, limit=500)
    paged = _all(national, limit=2)
    assert [r["seq"] for r in paged] == [r["seq"] for r in everything]
    assert len({r["seq"] for r in paged}) == len(paged) >= 7
    seqs = [tuple(int(x) for x in r["seq"].split("-")) for r in everything]
    assert seqs == sorted(seqs, reverse=True)

    # by kind
    decisions = _all(national, kind="decision")
    assert [r["id"] for r in decisions] == [f"{cugenang}:rice"]
    kinds = {r["kind"] for r in _all(national, kind=["shelter", "shipment"])}
    assert kinds == {"shelter", "shipment"}
    # by kabupaten: the shipment and shortfall count in their shelter's kabupaten
    in_cianjur = _all(national, kabupaten_code="32.03")
    assert {r["entity"] for r in in_cianjur} == {"shelter", "shipment", "shortfall"}
    assert all(r["kabupaten_code"] == "32.03" for r in in_cianjur)
    assert not [r for r in in_cianjur if r["id"] == palu]
    # by province
    assert {r["id"] for r in _all(national, province_code="72")} == {palu}
    # by time: since the middle leaves out the first two registrations
    later = _all(national, since=middle.isoformat())
    assert len(later) == len(everything) - 2
    earlier = _all(national, until=middle.isoformat())
    assert {r["id"] for r in earlier} == {cugenang, palu} and len(earlier) == 2

    # scope: a provincial coordinator sees its own province only, 403 for another
    other = httpx.Client(base_url=api, headers=bearer(tokens["coordinator_other"]), timeout=15)
    assert {r["province_code"] for r in _all(other)} == {"72"}
    refused = other.get("/api/v1/timeline", params={"province_code": "32"})
    assert refused.status_code == 403 and "province_code" in refused.text
    refused = other.get("/api/v1/timeline", params={"kabupaten_code": "32.03"})
    assert refused.status_code == 403
    # bad filters name the field
    bad = national.get("/api/v1/timeline",
                       params={"province_code": "72", "kabupaten_code": "32.03"})
    assert bad.status_code == 422 and "kabupaten_code" in bad.text
    bad = national.get("/api/v1/timeline", params={"kind": "plan"})
    assert bad.status_code == 422 and "kind" in bad.text
    bad = national.get("/api/v1/timeline", params={"cursor": "x"})
    assert bad.status_code == 422
    bad = national.get("/api/v1/timeline", params={"cursor": "99999999999999999999-0"})
    assert bad.status_code == 422 and "cursor" in bad.text
    # edges the fuzzer found (500s before): nothing is older than the feed's first id, and
    # a time before 1970 is the feed's beginning (since) or before it (until)
    assert national.get("/api/v1/timeline", params={"cursor": "0-0"}).json()["count"] == 0
    early = national.get("/api/v1/timeline", params={"since": "0910-08-22T17:56:29-20:49"})
    assert early.status_code == 200 and early.json()["count"] > 0
    assert national.get("/api/v1/timeline",
                        params={"until": "1900-01-01T00:00:00Z"}).json()["count"] == 0
    assert httpx.get(f"{api}/api/v1/timeline", timeout=10).status_code == 401
    national.close()
    other.close()


def test_the_dashboard_shows_the_served_timeline_on_load_and_after_a_reload(
    api: str, tokens: dict[str, str], settings: Settings, browser: Any,  # noqa: F811
) -> None:
    """Changes made before the page opened are on its timeline at once (and again after a
    reload), in Bahasa Indonesia with names; the kabupaten/kota and time filters ask the
    server; "more" pages back."""
    assert settings.redis_url
    from redis import Redis

    from siaga.readmodel import FEED

    Redis.from_url(settings.redis_url).delete(FEED)
    run = uuid.uuid4().hex[:6]
    cianjur, sukabumi = f"sh-tlb-cj-{run}", f"sh-tlb-sb-{run}"

    def shelter(sid: str, name: str, kab: str, total: int, at: dict[str, float]) -> Any:
        return _change("shelter", sid, {"shelter_id": sid, "name": name, "province_code": "32",
                                        "kabupaten_code": kab, "location": at,
                                        "headcount": {"total": total}, "unmet_share": 0.2})

    # 130 early changes at Sukabumi, then (a second later) the Cianjur ones
    _apply(settings.redis_url, [shelter(sukabumi, "GOR Palabuhanratu", "32.02", 100 + n,
                                        {"lat": -6.98, "lon": 106.54}) for n in range(130)])
    time.sleep(1.2)
    middle = datetime.now(UTC)
    time.sleep(1.2)
    _apply(settings.redis_url, [
        shelter(cianjur, "Lapangan Desa Cugenang", "32.03", 640, {"lat": -6.82, "lon": 107.1}),
        _change("shortfall", f"{cianjur}:family_tent", {
            "shortfall_id": f"{cianjur}:family_tent", "shelter_id": cianjur,
            "shelter_name": "Lapangan Desa Cugenang", "item": "family_tent", "unit": "piece",
            "missing": 120, "province_code": "32"}),
    ])
    page = browser.new_page(viewport={"width": 1400, "height": 900}, timezone_id="Asia/Jakarta")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, f"{api}/dasbor", tokens["coordinator_national"])
    page.wait_for_selector("#timeline[data-loaded='all']", timeout=15_000)

    def rows() -> list[str]:
        return page.locator("#panel-timeline li").all_inner_texts()

    first = rows()
    assert len(first) == 100  # a page; the rest behind "more"
    assert "Lapangan Desa Cugenang" in first[0] and "Tenda keluarga" in first[0]
    assert "Kabupaten Cianjur" in first[0]
    assert "Pengungsi 640" in first[1]
    assert "family_tent" not in " ".join(first) and "shortfall" not in " ".join(first)
    page.click("#timeline-more")
    page.wait_for_function("() => document.querySelectorAll('#panel-timeline li').length >= 132")
    assert page.locator("#timeline-more").is_hidden()
    page.screenshot(path=str(ARTIFACTS / "timeline-on-load.png"))

    # a reload: the same timeline, from the server
    page.reload()
    page.wait_for_selector("#timeline[data-loaded='all']", timeout=30_000)
    assert rows()[:2] == first[:2]

    # by kabupaten/kota, by name in the select (never a code)
    assert page.locator("#timeline-kabupaten option[value='32.03']").inner_text() == \
        "Kabupaten Cianjur"
    page.select_option("#timeline-kabupaten", "32.03")
    page.wait_for_selector("#timeline[data-loaded='all|32.03']", timeout=15_000)
    only = rows()
    assert len(only) == 2 and all("Kabupaten Cianjur" in r for r in only)
    page.select_option("#timeline-kabupaten", "")
    # by time: up to the middle, only Sukabumi's changes
    jakarta = middle.astimezone(zoneinfo.ZoneInfo("Asia/Jakarta"))
    page.fill("#timeline-until", jakarta.strftime("%Y-%m-%dT%H:%M:%S"))
    page.dispatch_event("#timeline-until", "change")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#panel-timeline li')].every("
        "(li) => li.innerText.includes('GOR Palabuhanratu'))", timeout=15_000)
    assert not [r for r in rows() if "Cugenang" in r]
    assert not errors, errors
