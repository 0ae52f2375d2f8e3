"""OpenTelemetry through real processes: with an OTLP endpoint configured, the API exports
the request's server span in the caller's trace, and the producer span whose id the Kafka
record's ``traceparent`` carries; the worker exports its consumer span as that span's
child — one trace from the HTTP request through Kafka to the worker and the projector."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from siaga.local import ManagedProcess
from siaga.settings import Settings
from tests.e2e.helpers import bearer
from tests.support import consume_all
from tests.unit.foundation.test_otel_units import Receiver

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    try:
        yield found
    finally:
        found.close()


@pytest.fixture
def settings(settings: Settings, receiver: Receiver) -> Settings:
    return settings.model_copy(update={"otlp_endpoint": receiver.url})


def _wait(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        assert time.monotonic() < deadline, what
        time.sleep(0.3)


def test_with_an_endpoint_the_api_and_worker_export_one_trace_from_the_request(
    receiver: Receiver, api: str, worker: ManagedProcess, tokens: dict[str, str],
    settings: Settings,
) -> None:
    trace_id = secrets.token_hex(16)
    caller_span = secrets.token_hex(8)
    body = {"event_id": str(uuid.uuid4()), "incident_type": "earthquake",
            "location": {"lat": -6.84, "lon": 107.05}, "severity": 5, "displaced": 120,
            "posko_id": "posko-cianjur-kab", "description": "Gempa uji OTLP"}
    answer = httpx.post(f"{api}/api/v1/incidents", json=body, timeout=15,
                        headers={**bearer(tokens["command_post"]),
                                 "traceparent": f"00-{trace_id}-{caller_span}-01"})
    assert answer.status_code == 202, answer.text
    answered_span = answer.headers["traceparent"].split("-")[2]

    def in_trace() -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for service, span, _ in receiver.spans():
            if span.trace_id.hex() == trace_id:
                out.setdefault(service, []).append(span)
        return out

    def kind(spans: list[Any], name: str) -> list[Any]:
        from opentelemetry.proto.trace.v1.trace_pb2 import Span

        return [s for s in spans if s.kind == Span.SpanKind.Value(name)]

    # the API's server span: the caller's trace, the caller's span as parent, the id the
    # answer carried back, named by its route template
    spans = _wait(lambda: (found := in_trace()) and kind(found.get("siaga-api", []),
                                                         "SPAN_KIND_SERVER") and found,
                  30, f"the API exported no span of the trace: {receiver.spans()[-5:]}")
    (server,) = kind(spans["siaga-api"], "SPAN_KIND_SERVER")
    assert server.parent_span_id.hex() == caller_span
    assert server.span_id.hex() == answered_span
    assert server.name == "POST /api/v1/incidents"

    # the record on Kafka carries the API's producer span, a child of the server span
    records = asyncio.run(consume_all(settings, settings.topic("incidents"), expected=1))
    on_kafka = dict(records[0].headers)["traceparent"].decode().split("-")
    assert on_kafka[1] == trace_id
    producers = {s.span_id.hex(): s for s in kind(spans["siaga-api"], "SPAN_KIND_PRODUCER")}
    assert on_kafka[2] in producers, producers
    assert producers[on_kafka[2]].parent_span_id.hex() == answered_span

    # the worker's batch: a consumer span whose parent is the record's span, and the
    # projector's batch later in the same trace
    def worker_spans() -> list[Any] | None:
        found = in_trace().get("siaga-worker", [])
        consumers = kind(found, "SPAN_KIND_CONSUMER")
        folded = [s for s in consumers if s.parent_span_id.hex() == on_kafka[2]]
        projected = [s for s in consumers if s.name.endswith(".state-changes")]
        return found if folded and projected else None

    found = _wait(worker_spans, 60, f"the worker exported no span of the trace: {in_trace()}")
    (folded,) = [s for s in kind(found, "SPAN_KIND_CONSUMER")
                 if s.parent_span_id.hex() == on_kafka[2]]
    assert folded.name == f"process {settings.topic('incidents')}"
    # what the worker sent from that batch is a child of it
    assert any(s.parent_span_id == folded.span_id for s in kind(found, "SPAN_KIND_PRODUCER"))
