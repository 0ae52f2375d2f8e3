"""Issue 12 over HTTP, against a real `siaga api`, the real broker and Redis.

Tried as a new user would: a command post acts only for itself and in its territory; a
shelter or incident belongs to its posko (a coordinator transfers it); official alerts
come only from the alert feed (see test_api_roles); tokens never travel in URLs and never
reach the access log; pages sign in once for an HttpOnly cookie; failed sign-ins, writes
and live connections are throttled; lists paginate; every answer carries the security
headers and the pages run no inline script or style.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from siaga import tokens as tokenstore
from siaga.kafka import ensure_topics
from siaga.local import ManagedProcess, free_port
from siaga.settings import Settings
from tests.conftest import Services
from tests.e2e.helpers import bearer, make_token, make_tokens
from tests.e2e.test_api_roles import put
from tests.support import consume_all, start_api

pytestmark = pytest.mark.e2e

SUFFIX = uuid.uuid4().hex[:6]
CIANJUR = {"lat": -6.84, "lon": 107.05}  # 32.03
BANDUNG = {"lat": -6.914, "lon": 107.609}  # Jawa Barat, Kota Bandung 32.73
PALU = {"lat": -0.90, "lon": 119.87}  # Sulawesi Tengah, 72
WRITES_PER_MINUTE = 40
LIVE_PER_TOKEN = 2


@dataclass
class Stack:
    base: str
    tokens: dict[str, str]
    settings: Settings
    proc: ManagedProcess


@pytest.fixture(scope="module")
def stack(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    token = uuid.uuid4().hex[:10]
    settings = Settings(
        kafka_bootstrap_servers=services.bootstrap,
        redis_url=services.redis_url,
        kafka_profile="local",
        topic_prefix=f"t{token}",
        app_id=f"siaga-test-{token}",
        data_dir=tmp_path_factory.mktemp("api-security") / "data",
        partitions=4,
        api_port=free_port(),
        writes_per_minute=WRITES_PER_MINUTE,
        live_connections_per_token=LIVE_PER_TOKEN,
    )
    asyncio.run(ensure_topics(settings))
    proc, base = start_api(settings)
    try:
        yield Stack(base, make_tokens(services.redis_url), settings, proc)
    finally:
        proc.stop()


@pytest_asyncio.fixture
async def store(stack: Stack) -> AsyncIterator[Redis]:
    client = Redis.from_url(stack.settings.redis_url or "")
    try:
        yield client
    finally:
        await client.aclose()


def client(stack: Stack, who: str | None = None) -> httpx.Client:
    headers = bearer(stack.tokens[who]) if who else {}
    return httpx.Client(base_url=stack.base, timeout=15, headers=headers)


def incident(location: dict[str, float] = CIANJUR, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"event_id": str(uuid.uuid4()), "incident_type": "earthquake",
                            "location": location, "severity": 4}
    body.update(changes)
    return body


def shelter_body(shelter_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"event_id": str(uuid.uuid4()), "shelter_id": shelter_id,
                            "name": "Masjid Agung", "location": {"lat": -6.82, "lon": 107.14}}
    body.update(changes)
    return body


def test_a_command_post_writes_only_in_its_territory(stack: Stack) -> None:
    with client(stack, "command_post") as jabar_posko:  # posko-cianjur-kab, province 32
        far = jabar_posko.post("/api/v1/incidents", json=incident(PALU))
        assert far.status_code == 403
        assert far.json()["detail"].startswith("province_code:")
        shelter = jabar_posko.post("/api/v1/shelters", json=shelter_body(
            f"sh-palu-{SUFFIX}", location=PALU))
        assert shelter.status_code == 403
        assert shelter.json()["detail"].startswith("province_code:")
        assert jabar_posko.post("/api/v1/incidents", json=incident(BANDUNG)).status_code == 202
    with client(stack, "command_post_cianjur_only") as cugenang:  # kabupaten 32.03 only
        response = cugenang.post("/api/v1/incidents", json=incident(BANDUNG))
        assert response.status_code == 403
        assert response.json()["detail"].startswith("kabupaten_code:")
        # a kabupaten code in the body does not move the point: geo decides
        lying = cugenang.post("/api/v1/incidents",
                              json=incident(BANDUNG, kabupaten_code="32.03"))
        assert lying.status_code == 403
        assert cugenang.post("/api/v1/incidents", json=incident(CIANJUR)).status_code == 202


async def test_the_posko_defaults_from_the_token(stack: Stack) -> None:
    body = incident(incident_id=f"inc-default-{SUFFIX}")
    with client(stack, "command_post") as posko:
        assert posko.post("/api/v1/incidents", json=body).status_code == 202
    with client(stack, "coordinator") as jabar:
        missing = jabar.post("/api/v1/incidents", json=incident())
        assert missing.status_code == 422
        assert missing.json()["detail"][0]["loc"] == ["body", "posko_id"]
    records = await consume_all(stack.settings, stack.settings.topic("incidents"), 10**6, 5)
    mine = [json.loads(r.value) for r in records if json.loads(r.value)["event_id"] ==
            body["event_id"]]
    assert len(mine) == 1
    assert mine[0]["posko_id"] == "posko-cianjur-kab"
    assert mine[0]["source"] == "posko:posko-cianjur-kab"


async def test_another_posko_cannot_take_over_a_shelter_or_incident(
    stack: Stack, store: Redis
) -> None:
    shelter_id, incident_id = f"sh-owned-{SUFFIX}", f"inc-owned-{SUFFIX}"
    await put(store, "shelter", shelter_id, {
        "shelter_id": shelter_id, "name": "Lapangan Desa Cibulakan", "posko_id":
        "posko-cianjur-kab", "province_code": "32", "kabupaten_code": "32.03",
        "location": {"lat": -6.80, "lon": 107.06}, "capacity": 500})
    await put(store, "incident", incident_id, {
        "incident_id": incident_id, "incident_type": "landslide", "posko_id":
        "posko-cianjur-kab", "province_code": "32", "kabupaten_code": "32.03",
        "location": CIANJUR, "severity": 3, "displaced": 120, "observed_needs": []})
    with client(stack, "command_post_other") as garut:  # same province, another posko
        taken = garut.post("/api/v1/shelters", json=shelter_body(shelter_id))
        assert taken.status_code == 403
        assert taken.json()["detail"].startswith("shelter_id:")
        assert "posko-cianjur-kab" in taken.json()["detail"]
        count = garut.post(f"/api/v1/shelters/{shelter_id}/headcounts", json={"total": 9})
        assert count.status_code == 403
        assert count.json()["detail"].startswith("shelter_id:")
        update = garut.post("/api/v1/incidents", json=incident(incident_id=incident_id))
        assert update.status_code == 403
        assert update.json()["detail"].startswith("incident_id:")
        # a command post cannot transfer
        assert garut.post(f"/api/v1/shelters/{shelter_id}/transfer",
                          json={"posko_id": "posko-garut"}).status_code == 403
    with client(stack, "command_post") as owner:
        assert owner.post(f"/api/v1/shelters/{shelter_id}/headcounts",
                          json={"total": 400}).status_code == 202
        assert owner.post("/api/v1/incidents",
                          json=incident(incident_id=incident_id)).status_code == 202
    with client(stack, "coordinator") as jabar:
        # a coordinator writes for the owner, not for another posko
        other = jabar.post("/api/v1/shelters", json=shelter_body(shelter_id,
                                                                 posko_id="posko-garut"))
        assert other.status_code == 403
        assert jabar.post(f"/api/v1/shelters/{shelter_id}/headcounts",
                          json={"total": 410}).status_code == 202
    with client(stack, "coordinator_other") as sulteng:
        refused = sulteng.post(f"/api/v1/shelters/{shelter_id}/transfer",
                               json={"posko_id": "posko-garut"})
        assert refused.status_code == 403
        assert refused.json()["detail"].startswith("province_code:")
    with client(stack, "coordinator") as jabar:
        moved = jabar.post(f"/api/v1/shelters/{shelter_id}/transfer",
                           json={"posko_id": "posko-garut"})
        assert moved.status_code == 202, moved.text
        moved_incident = jabar.post(f"/api/v1/incidents/{incident_id}/transfer",
                                    json={"posko_id": "posko-garut"})
        assert moved_incident.status_code == 202, moved_incident.text
        assert jabar.post("/api/v1/shelters/sh-nowhere/transfer",
                          json={"posko_id": "posko-garut"}).status_code == 404
    shelters = await consume_all(stack.settings, stack.settings.topic("shelters"), 10**6, 5)
    transfer = [json.loads(r.value) for r in shelters
                if json.loads(r.value)["event_id"] == moved.json()["event_id"]]
    assert transfer and transfer[0]["posko_id"] == "posko-garut"
    assert transfer[0]["source"].startswith("transfer:")
    assert transfer[0]["name"] == "Lapangan Desa Cibulakan"  # the registration, re-issued
    incidents = await consume_all(stack.settings, stack.settings.topic("incidents"), 10**6, 5)
    handed = [json.loads(r.value) for r in incidents
              if json.loads(r.value)["event_id"] == moved_incident.json()["event_id"]]
    assert handed and handed[0]["posko_id"] == "posko-garut"
    assert handed[0]["incident_type"] == "landslide" and handed[0]["displaced"] == 120


# -- headers and pages ------------------------------------------------------------------

PAGES = ("/", "/dasbor", "/posko", "/gudang", "/gudang/surat-jalan")


def test_every_answer_carries_the_security_headers(stack: Stack) -> None:
    with client(stack) as anonymous:
        answers = [anonymous.get(path) for path in (
            *PAGES, "/static/dasbor.js", "/static/siaga.css", "/healthz", "/openapi.json",
            "/api/v1/me", "/api/v1/nowhere", "/posko/sw.js")]
        answers.append(anonymous.post("/api/v1/incidents", content=b"x" * 300_000))  # 413
    for response in answers:
        where = f"{response.request.url.path} ({response.status_code})"
        csp = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in csp, where
        assert "frame-ancestors 'none'" in csp, where
        assert "'unsafe-inline'" not in csp, where
        assert response.headers.get("x-content-type-options") == "nosniff", where
        assert response.headers.get("x-frame-options") == "DENY", where
        assert response.headers.get("referrer-policy") == "no-referrer", where
    assert {r.status_code for r in answers} >= {200, 401, 404, 413}


class _Inline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "style":
            self.found.append("<style>")
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        self.found += [f"{tag} {n}=" for n in names if n == "style" or n.startswith("on")]
        if tag == "a" and any((v or "").startswith("javascript:") for _, v in attrs):
            self.found.append("javascript: link")


def test_pages_have_no_inline_scripts_or_styles(stack: Stack) -> None:
    with client(stack) as anonymous:
        for path in PAGES:
            parser = _Inline()
            parser.feed(anonymous.get(path).text)
            assert parser.found == [], (path, parser.found)


# -- tokens never in URLs, never in the log -------------------------------------------


def test_a_token_in_a_query_string_is_refused_on_every_route(stack: Stack) -> None:
    token = stack.tokens["coordinator"]
    with client(stack) as anonymous:
        for path in ("/dasbor", "/posko", "/api/v1/me", "/api/v1/situation", "/healthz",
                     "/api/v1/export/shelters.csv", "/static/common.js", "/api/v1/live"):
            for name in ("token", "access_token"):
                response = anonymous.get(f"{path}?{name}={token}")
                assert response.status_code == 401, (path, name)
                assert token not in response.text
        assert anonymous.post(f"/api/v1/incidents?access_token={token}",
                              json=incident(posko_id="posko-cianjur-kab")).status_code == 401
        assert anonymous.get(f"/api/v1/me?x=1&Access_Token={token}").status_code == 401
    log = stack.proc.log_path.read_text() if stack.proc.log_path else ""
    assert "GET /dasbor?token=" in log  # the request was logged …
    assert token not in log  # … without the token


def test_pages_sign_in_once_for_an_httponly_strict_cookie(stack: Stack) -> None:
    token = stack.tokens["coordinator"]
    with client(stack) as browser:
        refused = browser.post("/api/v1/session")
        assert refused.status_code == 401
        signed = browser.post("/api/v1/session", headers=bearer(token))
        assert signed.status_code == 200
        assert signed.json()["role"] == "coordinator"
        cookie = signed.headers["set-cookie"]
        assert cookie.startswith("siaga_session=")
        assert "HttpOnly" in cookie and re.search(r"SameSite=strict", cookie, re.I)
        assert token not in cookie
        assert browser.get("/api/v1/me").json()["scope"] == {"province_code": "32"}
        with browser.stream("GET", "/api/v1/live") as live:  # EventSource sends the cookie
            assert live.status_code == 200
            assert live.headers["content-type"].startswith("text/event-stream")
        # another site's page posting with the cookie is refused
        forged = browser.post("/api/v1/emergencies", headers={"Origin": "http://evil.example"},
                              json={"declaration_id": "x", "province_code": "32",
                                    "declared_by": "x"})
        assert forged.status_code == 403
        assert forged.json()["detail"].startswith("origin:")
        assert browser.delete("/api/v1/session").status_code == 204
        assert browser.get("/api/v1/me").status_code == 401


async def test_tokens_expire_are_listed_and_revoked_by_id_or_label(
    stack: Stack, store: Redis
) -> None:
    assert stack.settings.redis_url
    expired = make_token(stack.settings.redis_url, "admin", ttl=timedelta(seconds=-1))
    with client(stack) as anonymous:
        response = anonymous.get("/api/v1/me", headers=bearer(expired))
        assert response.status_code == 401
    label = f"laptop posko {SUFFIX}"
    used = make_token(stack.settings.redis_url, "coordinator", label=label)
    unused = make_token(stack.settings.redis_url, "coordinator", label=label)
    by_id = make_token(stack.settings.redis_url, "admin")
    with client(stack) as http:
        assert http.get("/api/v1/me", headers=bearer(used)).status_code == 200
    listed = {info.principal.id: info for info in await tokenstore.list_tokens(store)}
    used_info = next(i for i in listed.values() if i.digest == tokenstore.hash_token(used))
    assert used_info.last_used_at is not None and used_info.principal.expires_at
    assert all(used not in json.dumps(info.principal.as_json()) for info in listed.values())
    by_id_principal = await tokenstore.lookup(store, by_id)
    assert by_id_principal is not None and by_id_principal.id
    assert await tokenstore.revoke(store, by_id_principal.id) == 1
    assert await tokenstore.revoke(store, label) == 2
    with client(stack) as http:
        assert http.get("/api/v1/me", headers=bearer(unused)).status_code == 401
        assert http.get("/api/v1/me", headers=bearer(by_id)).status_code == 401


# -- throttling and bounds ------------------------------------------------------------


def _wait_for_a_fresh_minute(margin: float = 20) -> None:
    """Counters are per clock minute: start a burst with enough of the minute left."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.2)


async def test_failed_authentications_are_throttled_per_address(
    stack: Stack, store: Redis
) -> None:
    known = stack.tokens["coordinator_national"]
    assert stack.settings.redis_url
    fresh = make_token(stack.settings.redis_url, "coordinator")
    _wait_for_a_fresh_minute()
    async for key in store.scan_iter("siaga:rl:authfail:*"):  # earlier tests' failures
        await store.delete(key)
    try:
        with client(stack) as guesser:
            assert guesser.get("/api/v1/me", headers=bearer(known)).status_code == 200
            statuses = [guesser.get("/api/v1/me", headers=bearer(f"sg_guess{n}")).status_code
                        for n in range(20)]
            assert statuses == [401] * 20
            throttled = guesser.get("/api/v1/me", headers=bearer("sg_guess21"))
            assert throttled.status_code == 429
            assert 1 <= int(throttled.headers["retry-after"]) <= 61
            # a right guess now gets no answer either …
            assert guesser.get("/api/v1/me", headers=bearer(fresh)).status_code == 429
            # … while a token this API already knows keeps working
            assert guesser.get("/api/v1/me", headers=bearer(known)).status_code == 200
            assert guesser.get("/api/v1/me").status_code == 401  # no credential: no lookup
    finally:
        async for key in store.scan_iter("siaga:rl:authfail:*"):
            await store.delete(key)


def test_writes_per_token_are_rate_limited(stack: Stack) -> None:
    assert stack.settings.redis_url
    token = make_token(stack.settings.redis_url, "command_post", posko_id=f"posko-rl-{SUFFIX}",
                       province_code="32")
    _wait_for_a_fresh_minute(30)
    with client(stack) as posko:
        statuses = [posko.post("/api/v1/incidents", json=incident(), headers=bearer(token))
                    for _ in range(WRITES_PER_MINUTE)]
        assert {r.status_code for r in statuses} == {202}
        limited = posko.post("/api/v1/incidents", json=incident(), headers=bearer(token))
        assert limited.status_code == 429
        assert limited.json()["detail"].startswith("rate:")
        assert int(limited.headers["retry-after"]) >= 1
        # reads are not writes, and other tokens have their own budget
        assert posko.get("/api/v1/incidents", headers=bearer(token)).status_code == 200
        other = posko.post("/api/v1/incidents", json=incident(posko_id="posko-cianjur-kab"),
                           headers=bearer(stack.tokens["command_post"]))
        assert other.status_code == 202


async def test_live_connections_are_capped_per_token(stack: Stack) -> None:
    headers = bearer(stack.tokens["warehouse_staff"])
    async with httpx.AsyncClient(base_url=stack.base, timeout=15, headers=headers) as http:
        streams = []
        for _ in range(LIVE_PER_TOKEN):
            request = http.build_request("GET", "/api/v1/live")
            response = await http.send(request, stream=True)
            assert response.status_code == 200
            streams.append(response)
        over = await http.get("/api/v1/live")
        assert over.status_code == 429
        assert over.json()["detail"].startswith("live:")
        other = await http.send(http.build_request(
            "GET", "/api/v1/live", headers=bearer(stack.tokens["coordinator"])), stream=True)
        assert other.status_code == 200  # another token has its own connections
        await other.aclose()
        await streams.pop().aclose()
        deadline = time.monotonic() + 10
        while True:  # the server notices the closed stream and frees its place
            again = await http.send(http.build_request("GET", "/api/v1/live"), stream=True)
            if again.status_code == 200:
                await again.aclose()
                break
            await again.aclose()
            assert time.monotonic() < deadline, "a closed live connection was never released"
            await asyncio.sleep(0.2)
        for response in streams:
            await response.aclose()


async def test_lists_paginate_with_limit_and_cursor(stack: Stack, store: Redis) -> None:
    ids = [f"inc-page-{SUFFIX}-{n}" for n in range(5)]
    future = time.time() + 10_000  # newest of all, whatever else this Redis holds
    for n, incident_id in enumerate(ids):
        await readmodel_put(store, incident_id, future + n)
    with client(stack, "coordinator_national") as http:
        seen: list[str] = []
        cursor = None
        for n in range(3):
            params: dict[str, Any] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = http.get("/api/v1/incidents", params=params).json()
            assert page["count"] == len(page["items"]) <= 2
            seen += [i["incident_id"] for i in page["items"]]
            cursor = page["next_cursor"]
            assert cursor or n == 2
        assert seen[:5] == list(reversed(ids))  # newest first, none twice, none skipped
        province = http.get("/api/v1/incidents", params={"province_code": "91", "limit": 3})
        first = province.json()
        rest = http.get("/api/v1/incidents", params={"province_code": "91", "limit": 100,
                                                     "cursor": first["next_cursor"]}).json()
        mine = [i["incident_id"] for i in first["items"] + rest["items"]
                if i["incident_id"] in ids]
        assert sorted(mine) == sorted(ids)
        assert http.get("/api/v1/incidents", params={"cursor": "nonsense"}).status_code == 422
        for path in ("/api/v1/shipments", "/api/v1/shortfalls", "/api/v1/warehouses"):
            assert "next_cursor" in http.get(path, params={"limit": 1}).json(), path


async def readmodel_put(store: Redis, incident_id: str, score: float) -> None:
    from siaga import readmodel

    await readmodel.apply_change(store, {
        "entity": "incident", "id": incident_id, "province_code": "91",
        "version": f"{time.time_ns():020d}", "score": score, "deleted": False,
        "data": {"incident_id": incident_id, "province_code": "91", "severity": 2,
                 "location": {"lat": -2.5, "lon": 140.7}}})


async def test_the_snapshot_of_a_provincial_coordinator_is_its_province(
    stack: Stack, store: Redis
) -> None:
    jabar_id, sulteng_id = f"inc-snap-32-{SUFFIX}", f"inc-snap-72-{SUFFIX}"
    await put(store, "incident", jabar_id, {"incident_id": jabar_id, "province_code": "32",
                                            "location": CIANJUR, "severity": 3})
    await put(store, "incident", sulteng_id, {"incident_id": sulteng_id, "province_code": "72",
                                              "location": PALU, "severity": 5})
    with client(stack, "coordinator") as jabar, client(stack, "coordinator_national") as pusat:
        snapshot = jabar.get("/api/v1/situation").json()
        provinces = {i["province_code"] for i in snapshot["incidents"]}
        assert provinces == {"32"}
        assert jabar_id in [i["incident_id"] for i in snapshot["incidents"]]
        other = jabar.get("/api/v1/situation", params={"province_code": "72"})
        assert other.status_code == 403
        assert other.json()["detail"].startswith("province_code:")
        national = [i["incident_id"] for i in pusat.get("/api/v1/situation").json()["incidents"]]
        assert jabar_id in national and sulteng_id in national


# -- the worker enforces ownership too ------------------------------------------------


def test_the_worker_parks_another_poskos_takeover_on_the_dead_letter_topic(
    settings: Settings, worker: ManagedProcess, api: str, tokens: dict[str, str]
) -> None:
    """Two registrations of one new shelter in quick succession: the API's read-model check
    cannot see the first yet and lets both through; the worker keeps the first posko's and
    parks the other with the reason."""
    shelter_id = f"sh-race-{SUFFIX}"
    with httpx.Client(base_url=api, timeout=15) as http:
        first = http.post("/api/v1/shelters", headers=bearer(tokens["command_post"]),
                          json=shelter_body(shelter_id, name="Balai Desa"))
        second = http.post("/api/v1/shelters", headers=bearer(tokens["command_post_other"]),
                           json=shelter_body(shelter_id, name="Diambil alih"))
        assert first.status_code == 202, first.text
        if second.status_code == 403:  # the projection was faster than this client
            pytest.skip("the read model already held the shelter; nothing reached the worker")
        assert second.status_code == 202
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            shelter = http.get("/api/v1/situation", headers=bearer(tokens["admin"]),
                               params={"province_code": "32"}).json()["shelters"]
            mine = [s for s in shelter if s["shelter_id"] == shelter_id]
            if mine:
                break
            time.sleep(0.2)
        assert mine and mine[0]["posko_id"] == "posko-cianjur-kab"
        assert mine[0]["name"] == "Balai Desa"
    parked = asyncio.run(consume_all(settings, settings.topic("deadletter"), 10**6, 10))
    reasons = [json.loads(r.value)["reason"] for r in parked]
    assert any(r.startswith("posko_id:") and shelter_id in r for r in reasons), reasons
    # and its own posko's headcount still counts
    with httpx.Client(base_url=api, timeout=15, headers=bearer(tokens["command_post"])) as http:
        assert http.post(f"/api/v1/shelters/{shelter_id}/headcounts",
                         json={"total": 12}).status_code == 202


def test_tokens_cli_creates_lists_and_revokes_by_label(stack: Stack) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "SIAGA_REDIS_URL": stack.settings.redis_url or ""}
    label = f"cli posko {SUFFIX}"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "api.tokens_cli", *args], env=env,
                              capture_output=True, text=True, timeout=60)

    missing = cli("create", "--role", "command_post", "--posko", "posko-x")
    assert missing.returncode == 2 and "province_code" in missing.stderr
    made = cli("create", "--role", "command_post", "--posko", "posko-x", "--province", "32",
               "--kabupaten", "32.03", "--label", label, "--expires-days", "2", "--json")
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    assert created["kabupaten_code"] == "32.03" and created["id"]
    with client(stack) as http:
        assert http.get("/api/v1/me", headers=bearer(created["token"])).status_code == 200
    listed = json.loads(cli("list", "--json").stdout)
    row = next(r for r in listed if r["id"] == created["id"])
    assert row["label"] == label and row["last_used_at"] and not row["expired"]
    assert created["token"] not in json.dumps(listed)
    assert cli("revoke", label).stdout.strip() == "revoked 1 token(s)"
    assert cli("revoke", label).returncode == 1
