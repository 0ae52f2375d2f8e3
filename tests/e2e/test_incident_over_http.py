"""The vertical slice through real processes: HTTP → Kafka → faust worker → Redis → HTTP."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from siaga.local import ManagedProcess
from tests.e2e.helpers import bearer

pytestmark = pytest.mark.e2e


def _report(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "event_id": str(uuid.uuid4()),
        "incident_type": "earthquake",
        "location": {"lat": -6.84, "lon": 107.05},
        "severity": 5,
        "affected": 58300,
        "displaced": 5389,
        "posko_id": "posko-cianjur-kab",
        "occurred_at": "2022-11-21T06:21:10Z",
    }
    body.update(changes)
    return body


def _wait_listed(client: httpx.Client, incident_id: str, timeout: float = 10) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        items = client.get("/api/v1/incidents").json()["items"]
        if any(item["incident_id"] == incident_id for item in items):
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"incident {incident_id} not listed within {timeout} s")


def test_posted_incident_is_listed_within_two_seconds(
    api: str, worker: ManagedProcess, tokens: dict[str, str]
) -> None:
    with httpx.Client(base_url=api, timeout=10, headers=bearer(tokens["command_post"])) as client:
        # warm-up: the first record after a worker joins can wait for partition assignment
        warm = _report()
        assert client.post("/api/v1/incidents", json=warm).status_code == 202
        _wait_listed(client, warm["event_id"], timeout=30)  # type: ignore[arg-type]

        body = _report()
        response = client.post("/api/v1/incidents", json=body)
        assert response.status_code == 202
        assert response.json()["event_id"] == body["event_id"]
        elapsed = _wait_listed(client, body["event_id"])  # type: ignore[arg-type]
        assert elapsed < 2.0

        item = client.get(f"/api/v1/incidents/{body['event_id']}").json()
        assert item["province_code"] == "32"
        assert item["kabupaten_code"] == "32.03"
        assert item["displaced"] == 5389


def test_same_event_id_posted_twice_yields_one_incident(
    api: str, worker: ManagedProcess, tokens: dict[str, str]
) -> None:
    with httpx.Client(base_url=api, timeout=10, headers=bearer(tokens["command_post"])) as client:
        body = _report(incident_id=f"retry-{uuid.uuid4().hex[:6]}")
        assert client.post("/api/v1/incidents", json=body).status_code == 202
        assert client.post("/api/v1/incidents", json=body).status_code == 202
        marker = _report()
        client.post("/api/v1/incidents", json=marker)
        _wait_listed(client, marker["event_id"], timeout=30)  # type: ignore[arg-type]
        items = client.get("/api/v1/incidents").json()["items"]
        assert [i["incident_id"] for i in items].count(body["incident_id"]) == 1


def test_bad_field_gets_422_naming_it(api: str, tokens: dict[str, str]) -> None:
    with httpx.Client(base_url=api, timeout=10, headers=bearer(tokens["command_post"])) as client:
        response = client.post("/api/v1/incidents", json=_report(severity=9))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "severity"]

        response = client.post("/api/v1/incidents", json=_report(event_id="not-a-uuid"))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "event_id"]


def test_location_outside_indonesia_gets_422_on_location(api: str, tokens: dict[str, str]) -> None:
    with httpx.Client(base_url=api, timeout=10, headers=bearer(tokens["command_post"])) as client:
        response = client.post(
            "/api/v1/incidents", json=_report(location={"lat": 48.85, "lon": 2.35})
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "location"]


def test_province_code_contradicting_location_gets_422(api: str, tokens: dict[str, str]) -> None:
    with httpx.Client(base_url=api, timeout=10, headers=bearer(tokens["command_post"])) as client:
        response = client.post("/api/v1/incidents", json=_report(province_code="72"))
        assert response.status_code == 422
        detail = response.json()["detail"][0]
        assert detail["loc"] == ["body", "province_code"]
        assert "32" in detail["msg"]


def test_oversized_body_is_refused(api: str, tokens: dict[str, str]) -> None:
    with httpx.Client(base_url=api, timeout=10, headers=bearer(tokens["command_post"])) as client:
        response = client.post("/api/v1/incidents", json=_report(description="x" * 400_000))
        assert response.status_code == 413


def test_healthz_reports_broker_and_redis_connected(api: str) -> None:
    health = httpx.get(f"{api}/healthz", timeout=10).json()
    assert health["status"] == "ok"
    assert health["broker"]["connected"] is True
    assert health["redis"]["connected"] is True
