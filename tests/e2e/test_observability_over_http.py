"""Observability through a real API process, worker, broker and Redis: ``/metrics`` needs
no token and counts requests by route template and status, carries the pipeline read from
Kafka, is refused outside the trusted networks; a report's W3C trace travels from the
HTTP request into the Kafka record headers and the worker's logs; ``/healthz`` says how
old the picture is; admins list dead letters."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from siaga.local import ManagedProcess
from siaga.settings import Settings
from tests.e2e.helpers import bearer
from tests.support import consume_all, start_api

pytestmark = pytest.mark.e2e


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _incident(posko_id: str) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "incident_type": "earthquake",
        "location": {"lat": -6.84, "lon": 107.05},
        "severity": 5,
        "displaced": 5389,
        "posko_id": posko_id,
        "description": "Gempa M5.6 Cianjur, kedalaman 10 km",
    }


def _wait(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        assert time.monotonic() < deadline, what
        time.sleep(0.3)


def test_metrics_count_requests_by_route_and_a_report_is_traced_into_kafka_and_the_worker(
    api: str, worker: ManagedProcess, tokens: dict[str, str], settings: Settings
) -> None:
    before = _samples(httpx.get(f"{api}/metrics", timeout=15).text)
    for _ in range(2):
        assert httpx.get(f"{api}/healthz", timeout=10).status_code == 200
    trace_id = secrets.token_hex(16)
    body = _incident("posko-cianjur-kab")
    response = httpx.post(
        f"{api}/api/v1/incidents", json=body, timeout=15,
        headers={**bearer(tokens["command_post"]),
                 "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
    )
    assert response.status_code == 202, response.text
    assert response.headers["traceparent"].split("-")[1] == trace_id
    unauthorised = httpx.get(f"{api}/api/v1/situation", timeout=10)
    assert unauthorised.status_code == 401

    scrape = httpx.get(f"{api}/metrics", timeout=15)  # no token
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    after = _samples(scrape.text)

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert moved("siaga_http_requests_total", method="GET", route="/healthz", status="200") == 2
    assert moved("siaga_http_requests_total", method="POST", route="/api/v1/incidents",
                 status="202") == 1
    assert moved("siaga_http_requests_total", method="GET", route="/api/v1/situation",
                 status="401") == 1
    assert moved("siaga_http_request_seconds_count", method="POST",
                 route="/api/v1/incidents") == 1
    # no label carries an id: the route is the template, never the raw path
    routes = {dict(labels).get("route") for (name, labels) in after
              if name == "siaga_http_requests_total"}
    assert all(body["event_id"] not in str(route) for route in routes)
    assert _value(after, "siaga_pipeline_view_up") == 1
    assert ("siaga_live_clients", ()) in after
    lag_rows = [labels for (name, labels) in after if name == "siaga_pipeline_consumer_lag"]
    assert lag_rows and all(dict(labels)["group"] == settings.app_id for labels in lag_rows)
    assert {dict(labels)["topic"] for labels in lag_rows} >= {"incidents", "state-changes"}

    # the record on Kafka carries a child span of the caller's trace
    records = asyncio.run(consume_all(settings, settings.topic("incidents"), expected=1))
    headers = dict(records[0].headers)
    assert headers["traceparent"].decode().split("-")[1] == trace_id
    # the worker folded it and the projector wrote its change, both logged with the trace
    assert worker.log_path is not None

    def logged() -> bool:
        text = worker.log_path.read_text(errors="replace")  # type: ignore[union-attr]
        lines = [line for line in text.splitlines() if trace_id in line]
        return (any("folded" in line and body["event_id"] in line for line in lines)
                and any("projected" in line for line in lines))

    _wait(logged, 60, "the worker never logged the report's trace")
    api_log = (settings.data_dir / "logs" / "api.log").read_text(errors="replace")
    assert any("published" in line and body["event_id"] in line
               for line in api_log.splitlines() if trace_id in line)

    # the picture is current while the worker keeps up
    def current() -> dict[str, Any] | None:
        picture = httpx.get(f"{api}/healthz", timeout=10).json()["picture"]
        return picture if picture["stale"] is False else None

    picture = _wait(current, 60, "the picture never became current")
    assert picture["lag"] == 0
    assert picture["age_seconds"] is not None and picture["age_seconds"] <= (
        settings.stale_after_seconds)
    assert "incident" in picture["panels"]
    assert picture["newest_change_age_seconds"] is not None


def test_metrics_are_refused_outside_the_trusted_networks_and_admins_list_dead_letters(
    settings: Settings, tokens: dict[str, str]
) -> None:
    from siaga.kafka import ensure_topics

    asyncio.run(ensure_topics(settings))
    closed = settings.model_copy(update={"metrics_allowed_networks": "10.0.0.0/8"})
    proc, base = start_api(closed)
    try:
        refused = httpx.get(f"{base}/metrics", timeout=10)
        assert refused.status_code == 403
        assert "127.0.0.1" in refused.json()["detail"]
        assert "SIAGA_METRICS_ALLOWED_NETWORKS" in refused.json()["detail"]
        # dead letters: admins only
        assert httpx.get(f"{base}/api/v1/admin/deadletters", timeout=10,
                         headers=bearer(tokens["coordinator"])).status_code == 403
        listed = httpx.get(f"{base}/api/v1/admin/deadletters?topic=incidents", timeout=40,
                           headers=bearer(tokens["admin"]))
        assert listed.status_code == 200, listed.text
        assert listed.json() == {"deadletters": [], "count": 0}
        bad = httpx.get(f"{base}/api/v1/admin/deadletters?since=yesterday", timeout=10,
                        headers=bearer(tokens["admin"]))
        assert bad.status_code == 422 and "since" in bad.text
    finally:
        proc.stop()
