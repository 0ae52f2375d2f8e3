"""OpenTelemetry spans behind the traceparents: the ids on the wire are real spans' ids, an
HTTP request and a worker's batch are spans of the caller's trace, and spans leave the
process over OTLP/HTTP only when an endpoint is configured."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from siaga import tracing
from siaga.settings import Settings


class Receiver:
    """A tiny OTLP/HTTP receiver: keeps every protobuf export POSTed to it."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, ExportTraceServiceRequest]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                received.append((self.path, request))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self) -> list[tuple[str, Any, str]]:
        """(service name, span, path) of every span received."""
        out = []
        for path, request in self.requests:
            for resource_spans in request.resource_spans:
                service = next((a.value.string_value for a in resource_spans.resource.attributes
                                if a.key == "service.name"), "")
                for scope in resource_spans.scope_spans:
                    out.extend((service, span, path) for span in scope.spans)
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def memory() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.configure(Settings(), "siaga-test", exporter=exporter, schedule_delay_millis=10)
    try:
        yield exporter
    finally:
        tracing.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    try:
        yield found
    finally:
        tracing.shutdown()
        found.close()


def _finished(exporter: InMemorySpanExporter) -> list[Any]:
    assert tracing.flush()
    return list(exporter.get_finished_spans())


def _ids(traceparent: str | bytes) -> tuple[int, int]:
    parsed = tracing.parse(traceparent)
    assert parsed is not None
    return int(parsed[0], 16), int(parsed[1], 16)


def test_a_traceparent_written_is_the_context_of_an_exported_producer_span(
    memory: InMemorySpanExporter,
) -> None:
    parent = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
    sent = tracing.child(parent, "send incidents")
    (span,) = _finished(memory)
    assert (span.context.trace_id, span.context.span_id) == _ids(sent)
    assert span.parent is not None and span.parent.span_id == _ids(parent)[1]
    assert span.kind is SpanKind.PRODUCER and span.name == "send incidents"


def test_a_batch_is_a_consumer_span_of_its_records_trace_and_what_it_sends_is_a_child(
    memory: InMemorySpanExporter,
) -> None:
    newest = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
    older = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"

    def record(traceparent: str) -> Any:
        return SimpleNamespace(headers={"traceparent": traceparent.encode()}, key=b"32",
                               message=SimpleNamespace(topic="t.incidents",
                                                       timestamp=time.time()))

    async def work(events: Any) -> Any:
        return tracing.outgoing_headers(b"32", "replan")

    headers = asyncio.run(tracing.traced([record(older), record(newest)], work))
    sent = dict(headers)["traceparent"]
    spans = {span.kind: span for span in _finished(memory)}
    consumer, producer = spans[SpanKind.CONSUMER], spans[SpanKind.PRODUCER]
    # the batch runs in the trace of its newest record; the other trace is a link
    assert consumer.context.trace_id == _ids(newest)[0]
    assert consumer.parent is not None and consumer.parent.span_id == _ids(newest)[1]
    assert [link.context.span_id for link in consumer.links] == [_ids(older)[1]]
    assert consumer.name == "process t.incidents"
    # the re-plan request it sends carries the producer span's own ids, a child of the batch
    assert (producer.context.trace_id, producer.context.span_id) == _ids(sent)
    assert producer.parent is not None and producer.parent.span_id == consumer.context.span_id
    assert producer.name == "send replan"


def test_a_batch_of_many_reports_links_a_bounded_number_of_their_traces(
    memory: InMemorySpanExporter,
) -> None:
    traces = [tracing.child() for _ in range(100)]
    batch = [SimpleNamespace(headers={"traceparent": t.encode()}, key=b"32",
                             message=SimpleNamespace(topic="t.shelters", timestamp=None))
             for t in traces]

    async def work(events: Any) -> None:
        return None

    asyncio.run(tracing.traced(batch, work))
    consumer = next(s for s in _finished(memory) if s.kind is SpanKind.CONSUMER)
    assert consumer.parent is not None and consumer.parent.span_id == _ids(traces[-1])[1]
    assert [link.context.span_id for link in consumer.links] == [
        _ids(t)[1] for t in reversed(traces[-1 - tracing.MAX_LINKS:-1])]


def test_a_failed_batch_is_a_failed_span(memory: InMemorySpanExporter) -> None:
    traced = SimpleNamespace(headers={"traceparent": tracing.child().encode()}, key=b"32",
                             message=SimpleNamespace(topic="t.shelters", timestamp=None))

    async def work(events: Any) -> None:
        raise ValueError("broken record")

    with pytest.raises(ValueError):
        asyncio.run(tracing.traced([traced], work))
    consumer = next(s for s in _finished(memory) if s.kind is SpanKind.CONSUMER)
    assert not consumer.status.is_ok and "broken record" in (consumer.status.description or "")


def test_an_http_request_is_a_server_span_of_the_callers_trace(
    memory: InMemorySpanExporter,
) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from api.metrics import HttpMetrics

    app = FastAPI()
    app.add_middleware(HttpMetrics)

    @app.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, Any]:
        return {"published": tracing.child(tracing.CURRENT.get(), "send things")}

    caller = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
    with TestClient(app) as client:
        answer = client.get("/things/abc-123", headers={"traceparent": caller})
    assert answer.status_code == 200
    spans = {span.kind: span for span in _finished(memory)}
    server, producer = spans[SpanKind.SERVER], spans[SpanKind.PRODUCER]
    assert server.context.trace_id == _ids(caller)[0]
    assert server.parent is not None and server.parent.span_id == _ids(caller)[1]
    # the answer's traceparent is the server span's; a record published is its child
    assert (server.context.trace_id, server.context.span_id) == _ids(
        answer.headers["traceparent"])
    assert producer.parent is not None and producer.parent.span_id == server.context.span_id
    assert _ids(answer.json()["published"]) == (producer.context.trace_id,
                                                producer.context.span_id)
    # named by its route template, never the raw path (ids)
    assert server.name == "GET /things/{thing_id}"
    assert server.attributes["http.response.status_code"] == 200


def test_spans_are_exported_over_otlp_http_to_the_configured_endpoint(
    receiver: Receiver,
) -> None:
    exporter = tracing.configure(Settings(otlp_endpoint=receiver.url), "siaga-test")
    assert exporter is not None
    sent = tracing.child(None, "send incidents")
    assert tracing.flush()
    spans = receiver.spans()
    assert [(service, span.trace_id.hex(), span.span_id.hex(), path)
            for service, span, path in spans] == [
        ("siaga-test", *tracing.parse(sent)[:2], "/v1/traces")]  # type: ignore[index]


def test_without_an_endpoint_nothing_is_exported_and_the_standard_variable_turns_it_on(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                 "OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME"):
        monkeypatch.delenv(name, raising=False)
    assert tracing.configure(Settings(), "siaga-test") is None
    quiet = tracing.child()
    assert tracing.parse(quiet) is not None  # spans are still made: their ids travel
    assert tracing.flush()
    time.sleep(0.2)
    assert receiver.requests == []

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "siaga-ops")
    assert tracing.configure(Settings(), "siaga-test") is not None
    sent = tracing.child()
    assert tracing.flush()
    assert [(service, span.trace_id.hex()) for service, span, _ in receiver.spans()] == [
        ("siaga-ops", tracing.trace_id(sent))]


def test_records_carry_when_the_report_they_follow_from_was_produced() -> None:
    """The origin travels from the input record's timestamp through every hop."""
    now = time.time()

    def record(key: bytes, at: float, headers: Any = None) -> Any:
        return SimpleNamespace(headers=headers or {}, key=key,
                               message=SimpleNamespace(topic="t.shelters", timestamp=at))

    batch = [record(b"32", now - 5), record(b"33", now - 9), record(b"32", now - 2)]

    async def work(events: Any) -> Any:
        return (tracing.outgoing_headers(b"32"), tracing.outgoing_headers(b"33"),
                tracing.outgoing_headers(b"00"))

    by_32, by_33, other = asyncio.run(tracing.traced(batch, work))
    assert dict(by_32)[tracing.ORIGIN_HEADER] == str(int((now - 5) * 1000)).encode()
    assert dict(by_33)[tracing.ORIGIN_HEADER] == str(int((now - 9) * 1000)).encode()
    assert dict(other)[tracing.ORIGIN_HEADER] == str(int((now - 9) * 1000)).encode()
    assert tracing.outgoing_headers(b"32") is None  # outside a batch: nothing
    # the next hop reads the header, not its own (later) timestamp
    downstream = record(b"32", now, headers=[(tracing.ORIGIN_HEADER, dict(by_32)[
        tracing.ORIGIN_HEADER])])
    assert tracing.origin_of(downstream) == pytest.approx(now - 5, abs=0.001)
    assert tracing.origin_of(record(b"32", now - 1)) == pytest.approx(now - 1)
