"""A report stamped more than five minutes in the future gets 422 naming occurred_at; the
next correct one is accepted (through the real API process, broker and Redis)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from siaga.events import utcnow
from tests.e2e.helpers import bearer

pytestmark = pytest.mark.e2e

CAP_DIR = Path(__file__).resolve().parent / "cap"


def _headcount(occurred_at: str, event_id: str | None = None) -> dict[str, object]:
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "province_code": "32",
        "total": 120,
        "children": 40,
        "posko_id": "posko-cianjur-kab",
        "occurred_at": occurred_at,
    }


def _assert_names_occurred_at(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert [d["loc"] for d in detail] == [["body", "occurred_at"]]
    assert detail[0]["msg"].startswith("occurred_at:")
    assert "ahead" in detail[0]["msg"]


def test_future_dated_headcount_gets_422_naming_occurred_at_and_the_next_is_accepted(
    api: str, tokens: dict[str, str]
) -> None:
    shelter = f"shelter-clock-{uuid.uuid4().hex[:8]}"
    url = f"/api/v1/shelters/{shelter}/headcounts"
    with httpx.Client(base_url=api, timeout=10, headers=bearer(tokens["command_post"])) as client:
        event_id = str(uuid.uuid4())
        ahead = (utcnow() + timedelta(days=4)).isoformat()
        _assert_names_occurred_at(client.post(url, json=_headcount(ahead, event_id)))

        # a phone a minute fast is not refused
        slightly = (utcnow() + timedelta(minutes=1)).isoformat()
        assert client.post(url, json=_headcount(slightly)).status_code == 202

        # the device fixes its clock and retries with the same event id: accepted
        fixed = client.post(url, json=_headcount(utcnow().isoformat(), event_id))
        assert fixed.status_code == 202, fixed.text
        assert fixed.json()["event_id"] == event_id


def test_future_dated_incident_is_refused_and_an_unstamped_one_accepted(
    api: str, tokens: dict[str, str]
) -> None:
    body: dict[str, object] = {
        "incident_type": "earthquake",
        "location": {"lat": -6.84, "lon": 107.05},
        "severity": 5,
        "posko_id": "posko-cianjur-kab",
        "occurred_at": (utcnow() + timedelta(minutes=6)).isoformat(),
    }
    with httpx.Client(base_url=api, timeout=10, headers=bearer(tokens["command_post"])) as client:
        _assert_names_occurred_at(client.post("/api/v1/incidents", json=body))
        del body["occurred_at"]  # stamped by the server: never in the future
        assert client.post("/api/v1/incidents", json=body).status_code == 202


def test_cap_alert_sent_from_the_future_is_refused(api: str, tokens: dict[str, str]) -> None:
    future = utcnow() + timedelta(hours=3)
    stamp = future.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    xml = (CAP_DIR / "bmkg-cianjur-2022-11-21.xml").read_text()
    xml = xml.replace("2022-11-21T13:21:31+07:00", stamp).replace(
        "2022-11-21T13:21:10+07:00", stamp
    )
    headers = {**bearer(tokens["alert_feed"]), "content-type": "application/xml"}
    with httpx.Client(base_url=api, timeout=10, headers=headers) as client:
        _assert_names_occurred_at(client.post("/api/v1/alerts/cap", content=xml.encode()))
        original = (CAP_DIR / "bmkg-cianjur-2022-11-21.xml").read_bytes()
        assert client.post("/api/v1/alerts/cap", content=original).status_code == 202
