"""Every route × every caller, from the app's own route table, against a real `siaga api`.

Each route has a rule: who may call it (with the scope the seeded entities put them in or
out of). Every cell is asserted: anonymous 401 on a protected route, 403 naming the field
for a role or scope that may not, and for one that may, an answer past authentication (2xx,
or a 4xx of validation, lifecycle or not-found — never 401/403, never 5xx). A route added
to the app without a rule here fails :func:`test_every_route_has_a_rule`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from siaga import readmodel
from siaga.kafka import ensure_topics
from siaga.local import free_port
from siaga.settings import Settings
from tests.conftest import Services
from tests.e2e.helpers import bearer, make_tokens
from tests.support import start_api

pytestmark = pytest.mark.e2e

CAP = (Path(__file__).resolve().parent / "cap" / "bmkg-cianjur-2022-11-21.xml").read_bytes()
S = uuid.uuid4().hex[:6]
SHELTER, INCIDENT, TASK, TEAM = f"sh-mx-{S}", f"inc-mx-{S}", f"task-mx-{S}", f"team-mx-{S}"
SHIPMENT, DISPATCHED = f"shp-mx-{S}", f"shp-mx-disp-{S}"
NATIONAL = f"shp-mx-nat-{S}"  # from the national tier, awaiting Jawa Barat's approval
TO_KITCHEN = f"shp-mx-dapur-{S}"  # dispatched to the kitchen, which has no posko
KITCHEN = f"dapur-mx-{S}"
WAREHOUSE = "wh-bekasi-regional"

# Callers: the tokens of helpers.SCOPES, and nobody. Seeded entities are in Jawa Barat (32),
# owned by posko-cianjur-kab, shipped from wh-bekasi-regional.
CALLERS = ("anonymous", "command_post", "command_post_other", "command_post_lumajang",
           "warehouse_staff", "warehouse_staff_other", "coordinator", "coordinator_other",
           "coordinator_national", "alert_feed", "team", "team_other", "admin")
READERS = frozenset({"command_post", "command_post_other", "command_post_lumajang",
                     "warehouse_staff", "warehouse_staff_other", "coordinator",
                     "coordinator_other", "coordinator_national", "admin"})
EVERY_TOKEN = READERS | {"alert_feed", "team", "team_other"}
# a team's own phone (team_other: another team's), its province's coordinators, admins
TEAM_SIDE = frozenset({"team", "coordinator", "coordinator_national", "admin"})
POSKO_WRITERS = frozenset({"command_post", "coordinator", "coordinator_national", "admin"})
COORDINATORS = frozenset({"coordinator", "coordinator_national", "admin"})
DESK = frozenset({"warehouse_staff", "coordinator", "coordinator_other",
                  "coordinator_national", "admin"})
STAFF = frozenset({"warehouse_staff", "admin"})
PUBLIC = "public"


def _event() -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4())}


@dataclass
class Rule:
    allowed: frozenset[str] | str  # caller names, or PUBLIC
    request: Callable[[], dict[str, Any]] = field(default=dict)  # httpx keyword arguments
    path: str | None = None  # the concrete path (defaults: ids substituted)


def _body(**fields: Any) -> Callable[[], dict[str, Any]]:
    return lambda: {"json": {**_event(), **fields}}


CIANJUR = {"lat": -6.84, "lon": 107.05}
RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/"): Rule(PUBLIC),
    ("GET", "/healthz"): Rule(PUBLIC),
    ("GET", "/readyz"): Rule(PUBLIC),
    ("GET", "/openapi.json"): Rule(PUBLIC),
    ("GET", "/docs"): Rule(PUBLIC),
    ("GET", "/docs/oauth2-redirect"): Rule(PUBLIC),
    ("GET", "/redoc"): Rule(PUBLIC),
    ("GET", "/dasbor"): Rule(PUBLIC),
    ("GET", "/posko"): Rule(PUBLIC),
    ("GET", "/gudang"): Rule(PUBLIC),
    ("GET", "/gudang/surat-jalan"): Rule(PUBLIC),
    ("GET", "/posko/sw.js"): Rule(PUBLIC),
    ("GET", "/tim"): Rule(PUBLIC),
    ("GET", "/tim/sw.js"): Rule(PUBLIC),
    ("GET", "/static"): Rule(PUBLIC, path="/static/common.js"),
    ("GET", "/api/v1/geo/resolve"): Rule(PUBLIC, lambda: {"params": CIANJUR}),
    ("GET", "/api/v1/geo/route"): Rule(PUBLIC, lambda: {"params": {
        "from_lat": -6.24, "from_lon": 106.98, "to_lat": -6.84, "to_lon": 107.05}}),
    ("GET", "/api/v1/geo/provinces.geojson"): Rule(PUBLIC),
    ("GET", "/api/v1/items"): Rule(PUBLIC),
    ("POST", "/api/v1/session"): Rule(EVERY_TOKEN),
    ("DELETE", "/api/v1/session"): Rule(PUBLIC),
    ("GET", "/api/v1/me"): Rule(EVERY_TOKEN),
    # command posts' writes: the posko that owns the entities, its province's coordinators
    ("POST", "/api/v1/incidents"): Rule(POSKO_WRITERS, _body(
        incident_id=INCIDENT, incident_type="earthquake", location=CIANJUR, severity=4,
        posko_id="posko-cianjur-kab")),
    ("POST", "/api/v1/shelters"): Rule(POSKO_WRITERS, _body(
        shelter_id=SHELTER, name="Lapangan", location={"lat": -6.80, "lon": 107.06},
        posko_id="posko-cianjur-kab")),
    ("POST", "/api/v1/shelters/{shelter_id}/headcounts"): Rule(
        POSKO_WRITERS, _body(total=100, posko_id="posko-cianjur-kab")),
    ("POST", "/api/v1/shipments/{shipment_id}/receipt"): Rule(
        POSKO_WRITERS, _body(quantity_received=10, posko_id="posko-cianjur-kab"),
        path=f"/api/v1/shipments/{DISPATCHED}/receipt"),
    ("POST", "/api/v1/alerts/cap"): Rule(frozenset({"alert_feed", "admin"}), lambda: {
        "content": CAP, "headers": {"Content-Type": "application/xml"}}),
    # the shared picture
    ("GET", "/api/v1/incidents"): Rule(READERS),
    ("GET", "/api/v1/incidents/{incident_id}"): Rule(READERS),
    ("GET", "/api/v1/situation"): Rule(READERS),
    ("GET", "/api/v1/live"): Rule(READERS),
    # the timeline of changes: another province's coordinator is refused Jawa Barat's
    ("GET", "/api/v1/timeline"): Rule(READERS - {"coordinator_other"}, lambda: {
        "params": {"province_code": "32", "kind": ["shelter", "decision"]}}),
    ("GET", "/api/v1/shortfalls"): Rule(READERS),
    ("GET", "/api/v1/shipments"): Rule(READERS),
    ("GET", "/api/v1/warehouses"): Rule(READERS),
    ("GET", "/api/v1/export/shelters.csv"): Rule(READERS),
    ("GET", "/api/v1/export/needs.csv"): Rule(READERS),
    ("GET", "/api/v1/export/stock.csv"): Rule(READERS),
    # the warehouse desk: its own staff, coordinators, admins (a shipment: its posko too)
    ("GET", "/api/v1/warehouses/{warehouse_id}"): Rule(DESK),
    ("GET", "/api/v1/warehouses/{warehouse_id}/shipments"): Rule(DESK),
    ("GET", "/api/v1/shipments/{shipment_id}"): Rule(
        DESK | {"command_post", "command_post_other", "command_post_lumajang"}),
    ("GET", "/api/v1/shipments/{shipment_id}/pick-suggestion"): Rule(DESK),
    ("GET", "/api/v1/shipments/{shipment_id}/waybill"): Rule(DESK),
    ("POST", "/api/v1/shipments/{shipment_id}/confirm"): Rule(
        STAFF, _body(batches=[{"batch_id": "B-rice", "quantity": 1}])),
    ("POST", "/api/v1/shipments/{shipment_id}/dispatch"): Rule(STAFF, _body()),
    ("POST", "/api/v1/shipments/{shipment_id}/cancel"): Rule(STAFF, _body(reason="x")),
    # the desk's stock: its own staff (another warehouse's get 403 naming warehouse_id)
    ("POST", "/api/v1/warehouses/{warehouse_id}/receipts"): Rule(STAFF, _body(
        item="rice", batch_id=f"B-mx-{S}", quantity=10, unit="kg", source="donation",
        donor="Warga", document_number="BAST-1", received_by="Rina")),
    ("POST", "/api/v1/warehouses/{warehouse_id}/stock-counts"): Rule(STAFF, _body(
        item="rice", batch_id="B-rice", counted=899, reason="opname", counted_by="Rina")),
    ("POST", "/api/v1/warehouses/{warehouse_id}/write-offs"): Rule(STAFF, _body(
        item="rice", batch_id="B-rice", quantity=1, reason_code="damaged", reason="basah",
        written_off_by="Rina")),
    ("GET", "/api/v1/warehouses/{warehouse_id}/stock-card"): Rule(
        DESK, lambda: {"params": {"item": "rice"}}),
    ("GET", "/api/v1/warehouses/{warehouse_id}/receipts/{receipt_id}"): Rule(
        DESK, path=f"/api/v1/warehouses/{WAREHOUSE}/receipts/{uuid.uuid4()}"),
    # registering a warehouse: coordinators of its province (Cianjur is in 32), admins
    ("POST", "/api/v1/warehouses"): Rule(COORDINATORS, _body(
        warehouse_id=f"wh-mx-{S}", name="Gudang Uji", kind="kabupaten",
        location=CIANJUR)),
    # TAGANA teams: registered by coordinators; the loop from the team's own phone
    ("POST", "/api/v1/teams"): Rule(COORDINATORS, _body(
        team_id=f"team-mx-new-{S}", name="TAGANA Uji", province_code="32",
        kabupaten_code="32.03", base={"lat": -6.82, "lon": 107.14},
        members=[{"name": "Asep", "role": "ketua"}], skills=["evacuation"], rank="muda")),
    ("POST", "/api/v1/teams/{team_id}/status"): Rule(TEAM_SIDE, _body(
        availability="available", members_present=1, location={"lat": -6.82, "lon": 107.14})),
    ("GET", "/api/v1/teams/{team_id}"): Rule(TEAM_SIDE),
    ("POST", "/api/v1/tasks/{task_id}/progress"): Rule(TEAM_SIDE, _body(
        team_id=TEAM, status="acknowledged")),
    # coordinators of the province (or national), admins
    ("POST", "/api/v1/shipments/{shipment_id}/hold"): Rule(COORDINATORS, _body(reason="x")),
    ("POST", "/api/v1/dispatch/overrides"): Rule(COORDINATORS, _body(
        task_id=TASK, team_id=TEAM, action="assign", reason="x")),
    ("POST", "/api/v1/emergencies"): Rule(COORDINATORS, _body(
        declaration_id=f"sk-{S}", province_code="32", declared_by="Bupati Cianjur")),
    ("POST", "/api/v1/shelters/{shelter_id}/transfer"): Rule(
        COORDINATORS, _body(posko_id="posko-garut")),
    ("POST", "/api/v1/incidents/{incident_id}/transfer"): Rule(
        COORDINATORS, _body(posko_id="posko-garut")),
    # public kitchens: opened by coordinators, reported by the team running it
    ("POST", "/api/v1/kitchens"): Rule(COORDINATORS, _body(
        kitchen_id=f"dapur-mx-new-{S}", name="Dapur Umum Uji", location=CIANJUR,
        team_ids=[TEAM])),
    ("POST", "/api/v1/kitchens/{kitchen_id}/reports"): Rule(TEAM_SIDE, _body(
        team_id=TEAM, status="open", meal="siang", portions_served=1500)),
    ("GET", "/api/v1/kitchens"): Rule(READERS),
    ("GET", "/api/v1/kitchens/{kitchen_id}"): Rule(READERS),
    ("GET", "/api/v1/kitchen-proposals"): Rule(READERS),
    ("POST", "/api/v1/kitchen-proposals/{site_id}/approve"): Rule(COORDINATORS, _body()),
    # decisions on shortfalls (the map's decision panel): coordinators of the province
    ("POST", "/api/v1/shortfalls/decisions"): Rule(COORDINATORS, _body(
        province_code="32", item="rice", shelter_ids=[SHELTER], decision="risk_accepted",
        note="uji")),
    # the approval gate on what the national tier sends: coordinators of the receiving
    # province (another province's coordinator: 403 naming province_code)
    ("POST", "/api/v1/escalations/decisions"): Rule(COORDINATORS, _body(
        province_code="32", decision="approved", shipment_ids=[NATIONAL])),
    # the people who run Siaga: metrics from the trusted network (tests call from loopback),
    # parked records for admins
    ("GET", "/metrics"): Rule(PUBLIC),
    ("GET", "/api/v1/admin/deadletters"): Rule(frozenset({"admin"})),
}

# Routes whose callers depend on what is written: a further rule per case (the route
# table check counts them once, under RULES).
VARIANTS: list[tuple[str, str, Rule]] = [
    # ingredients delivered to a public kitchen: the team running it, not a posko
    ("POST", "/api/v1/shipments/{shipment_id}/receipt", Rule(
        TEAM_SIDE, _body(quantity_received=10), path=f"/api/v1/shipments/{TO_KITCHEN}/receipt")),
]

IDS = {"{incident_id}": INCIDENT, "{shelter_id}": SHELTER, "{shipment_id}": SHIPMENT,
       "{warehouse_id}": WAREHOUSE, "{team_id}": TEAM, "{task_id}": TASK,
       "{kitchen_id}": KITCHEN, "{site_id}": SHELTER}


def app_routes() -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, from its own route table."""
    from api.app import create_app

    app = create_app(Settings(kafka_bootstrap_servers="unused:9092", redis_url="redis://unused"))
    found: set[tuple[str, str]] = set()

    def walk(routes: Any, prefix: str) -> None:
        for route in routes:
            nested = getattr(route, "original_router", None)
            if nested is not None:  # FastAPI's included router (newer versions)
                context = getattr(route, "include_context", None)
                walk(nested.routes, prefix + (getattr(context, "prefix", "") or ""))
                continue
            path = route.path if route.path.startswith(prefix) else prefix + route.path
            methods = getattr(route, "methods", None) or {"GET"}  # a Mount serves GETs
            found.update((m, path) for m in methods if m != "HEAD")

    walk(app.routes, "")
    return found


def test_every_route_has_a_rule() -> None:
    routes = app_routes()
    assert routes - set(RULES) == set(), "routes without a rule in the matrix"
    assert set(RULES) - routes == set(), "rules for routes the app no longer has"


@pytest.fixture(scope="module")
def base_and_tokens(
    services: Services, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    token = uuid.uuid4().hex[:10]
    settings = Settings(
        kafka_bootstrap_servers=services.bootstrap, redis_url=services.redis_url,
        kafka_profile="local", topic_prefix=f"t{token}", app_id=f"siaga-test-{token}",
        data_dir=tmp_path_factory.mktemp("matrix") / "data", api_port=free_port())
    asyncio.run(ensure_topics(settings))
    _seed(services.redis_url)
    proc, base = start_api(settings)
    try:
        yield base, make_tokens(services.redis_url, team_id=TEAM)
    finally:
        proc.stop()


def _seed(redis_url: str) -> None:
    def change(entity: str, entity_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"entity": entity, "id": entity_id, "province_code": "32", "score": time.time(),
                "version": f"{time.time_ns():020d}", "deleted": False,
                "data": {"province_code": "32", **data}}

    shipment = {"status": "proposed", "held": False, "warehouse_id": WAREHOUSE,
                "shelter_id": SHELTER, "item": "rice", "unit": "kg", "quantity": 400.0,
                "location": {"lat": -6.80, "lon": 107.06}}
    changes = [
        change("shelter", SHELTER, {"shelter_id": SHELTER, "name": "Lapangan",
                                    "posko_id": "posko-cianjur-kab", "kabupaten_code": "32.03",
                                    "location": {"lat": -6.80, "lon": 107.06}}),
        change("incident", INCIDENT, {"incident_id": INCIDENT, "incident_type": "earthquake",
                                      "posko_id": "posko-cianjur-kab", "severity": 4,
                                      "location": CIANJUR, "kabupaten_code": "32.03"}),
        change("warehouse", WAREHOUSE, {"warehouse_id": WAREHOUSE, "name": "Bekasi",
                                        "kind": "regional", "location": {"lat": -6.24,
                                                                         "lon": 106.98},
                                        "stock": [{"item": "rice", "unit": "kg", "batches": [
                                            {"batch_id": "B-rice", "quantity": 900,
                                             "expires_on": "2099-01-01"}]}]}),
        change("shipment", SHIPMENT, {"shipment_id": SHIPMENT, **shipment}),
        change("shipment", DISPATCHED, {"shipment_id": DISPATCHED, **shipment,
                                        "status": "dispatched"}),
        change("shipment", NATIONAL, {"shipment_id": NATIONAL, **shipment,
                                      "tier": "national", "approval": "awaiting"}),
        change("shipment", TO_KITCHEN, {"shipment_id": TO_KITCHEN, **shipment,
                                        "shelter_id": KITCHEN, "status": "dispatched"}),
        change("task", TASK, {"task_id": TASK, "kind": "evacuation", "target_id": SHELTER}),
        change("shortfall", f"{SHELTER}:rice", {"shortfall_id": f"{SHELTER}:rice",
                                                "shelter_id": SHELTER, "item": "rice",
                                                "unit": "kg", "missing": 100.0}),
        change("kitchen", KITCHEN, {"kitchen_id": KITCHEN, "name": "Dapur Umum",
                                    "team_ids": [TEAM], "location": CIANJUR}),
        change("kitchen_proposal", SHELTER, {
            "proposal_id": f"open-kitchen:{SHELTER}", "team_id": TEAM, "warehouse_id": WAREHOUSE,
            "site": {"site_id": SHELTER, "name": "Lapangan", "kind": "shelter",
                     "location": {"lat": -6.80, "lon": 107.06}},
            "location": {"lat": -6.80, "lon": 107.06}}),
        change("team", TEAM, {"team_id": TEAM, "name": "TAGANA", "availability": "assigned",
                              "members": 5, "location": {"lat": -6.82, "lon": 107.14},
                              "assignment": {"task_id": TASK, "kind": "evacuation",
                                             "target_id": INCIDENT, "status": "dispatched"}}),
    ]

    async def write() -> None:
        from redis.asyncio import Redis as AsyncRedis

        client = AsyncRedis.from_url(redis_url)
        try:
            for item in changes:
                await readmodel.apply_change(client, item)
        finally:
            await client.aclose()

    asyncio.run(write())


def _call(http: httpx.Client, method: str, path: str, rule: Rule, token: str | None) -> Any:
    kwargs = rule.request()
    headers = {**kwargs.pop("headers", {}), **(bearer(token) if token else {})}
    if path == "/api/v1/live":
        with http.stream(method, path, headers=headers, **kwargs) as response:
            body = "" if response.status_code == 200 else response.read().decode()
            return response.status_code, body
    response = http.request(method, path, headers=headers, **kwargs)
    return response.status_code, response.text


def test_every_cell_of_the_role_by_route_matrix(
    base_and_tokens: tuple[str, dict[str, str]],
) -> None:
    base, tokens = base_and_tokens
    problems: list[str] = []
    cells = 0
    with httpx.Client(base_url=base, timeout=20) as http:
        cases = [(m, t, r) for (m, t), r in sorted(RULES.items())] + VARIANTS
        for method, template, rule in cases:
            path = rule.path or template
            for placeholder, value in IDS.items():
                path = path.replace(placeholder, value)
            for caller in CALLERS:
                http.cookies.clear()
                status, text = _call(http, method, path, rule,
                                     None if caller == "anonymous" else tokens[caller])
                cells += 1
                where = f"{method} {path} as {caller}: {status} {str(text)[:160]}"
                if status >= 500 and not (path == "/readyz" and status == 503):  # no worker
                    problems.append(f"server error: {where}")
                elif rule.allowed == PUBLIC or caller in rule.allowed:
                    if status in (401, 403):
                        problems.append(f"should pass: {where}")
                elif caller == "anonymous":
                    if status != 401:
                        problems.append(f"should be 401: {where}")
                elif status != 403:
                    problems.append(f"should be 403: {where}")
                elif not str(text).startswith('{"detail":"') or ":" not in str(text)[11:60]:
                    problems.append(f"a 403 must name the field: {where}")
    assert cells == (len(RULES) + len(VARIANTS)) * len(CALLERS)
    assert not problems, "\n".join(problems)
