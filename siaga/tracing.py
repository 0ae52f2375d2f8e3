"""Following one field report: W3C ``traceparent`` on Kafka records, OpenTelemetry spans,
structured logs.

The API serves each request in a span (the caller's ``traceparent`` is its parent, or it
starts a trace), and every record it publishes carries, in its Kafka headers, the
``traceparent`` of a producer span of its own (``api/publish.py``). A worker processes a
batch in a consumer span whose parent is the newest traced record's span (the other
traces of the batch are links), logs each event it folds with its ``event_id`` and
``traceparent``, and what it sends meanwhile (re-plan requests, read-model changes, dead
letters) carries a child ``traceparent`` again; the projector's batch is a span of the
same trace and logs it when it writes it. So one report can be followed from the HTTP
request to the dashboard, in the logs (``grep <trace id>``; JSON with
``SIAGA_LOG_FORMAT=json``) and, when an OTLP endpoint is configured, as one trace in any
OpenTelemetry backend.

Spans are made with the OpenTelemetry SDK always — every ``traceparent`` Siaga writes is
the context of a real span, format ``00-<32 hex trace id>-<16 hex span id>-<2 hex flags>``
(https://www.w3.org/TR/trace-context/) — and exported over OTLP/HTTP only when an
endpoint is configured (:func:`configure`: ``SIAGA_OTLP_ENDPOINT``, or the standard
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_ENDPOINT``). Without one,
they are dropped when they end.

Records also carry when the report they follow from was first produced (header
:data:`ORIGIN_HEADER`, epoch milliseconds: the input record's Kafka timestamp), so the
projector can time "report produced → read model written" across every hop
(``siaga_projection_lag_seconds``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace as otel
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Link, NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.status import Status, StatusCode

HEADER = "traceparent"
#: epoch milliseconds when the input record a record follows from was produced
ORIGIN_HEADER = "siaga-origin"
_FORMAT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
#: a batch's span links at most this many other traces (a bulk load would carry thousands)
MAX_LINKS = 32

log = logging.getLogger(__name__)

#: the trace of the HTTP request or the batch being served (the traceparent of its span)
CURRENT: ContextVar[str | None] = ContextVar("siaga_traceparent", default=None)
# the span behind CURRENT in this process (a child's parent is then a local span)
_SPAN: ContextVar[Span | None] = ContextVar("siaga_span", default=None)
# the batch's origins (epoch seconds) by record key; None: the oldest of the batch
ORIGINS: ContextVar[dict[bytes | None, float] | None] = ContextVar("siaga_origins",
                                                                    default=None)

_provider: TracerProvider | None = None
_tracer_of: tuple[TracerProvider, otel.Tracer] | None = None


# --- OpenTelemetry ---------------------------------------------------------------------
def otlp_endpoint(settings: Any) -> str | None:
    """Where spans go: ``SIAGA_OTLP_ENDPOINT`` (a collector's OTLP/HTTP base URL, e.g.
    ``http://otel-collector:4318``; ``/v1/traces`` is appended), else the standard
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (used as it is) or ``OTEL_EXPORTER_OTLP_ENDPOINT``
    (``/v1/traces`` appended); None: nothing is exported."""
    own = (getattr(settings, "otlp_endpoint", None) or "").strip()
    if own:
        return own.rstrip("/") + "/v1/traces"
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    traces = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    if traces:
        return traces
    base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    return base.rstrip("/") + "/v1/traces" if base else None


def configure(settings: Any, service: str, exporter: SpanExporter | None = None,
              schedule_delay_millis: float | None = None) -> SpanExporter | None:
    """Make this process's spans (replacing any earlier configuration) as ``service``
    (``OTEL_SERVICE_NAME`` wins), exported in batches to the OTLP/HTTP endpoint when one is
    configured (:func:`otlp_endpoint`), or to ``exporter`` (tests). Returns the exporter in
    use, None when spans are not exported. Called once at start by the API and the worker;
    pending spans are flushed at exit (and by :func:`shutdown`)."""
    global _provider
    if exporter is None:
        endpoint = otlp_endpoint(settings)
        if endpoint is not None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                OTLPSpanExporter,
            )

            exporter = OTLPSpanExporter(endpoint=endpoint, timeout=10)
    name = os.environ.get("OTEL_SERVICE_NAME", "").strip() or service
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    if exporter is not None:
        provider.add_span_processor(
            BatchSpanProcessor(exporter, schedule_delay_millis=schedule_delay_millis))
        log.info("tracing: spans of %s exported to %s", name,
                 getattr(exporter, "_endpoint", type(exporter).__name__))
    previous, _provider = _provider, provider
    if previous is not None:
        previous.shutdown()
    return exporter


def shutdown() -> None:
    """Export what is pending and stop (the API's shutdown, and a worker's once it stopped)."""
    global _provider
    previous, _provider = _provider, None
    if previous is not None:
        previous.shutdown()


def flush(timeout_millis: int = 10_000) -> bool:
    return _provider.force_flush(timeout_millis) if _provider is not None else True


def _tracer() -> otel.Tracer:
    global _provider, _tracer_of
    if _provider is None:  # not configured (a test, a tool): spans made, not exported
        _provider = TracerProvider(resource=Resource.create({"service.name": "siaga"}))
    if _tracer_of is None or _tracer_of[0] is not _provider:
        # get_tracer costs more than a span: once per provider
        _tracer_of = (_provider, _provider.get_tracer("siaga"))
    return _tracer_of[1]


def _context_of(parent: str | bytes | None) -> Any:
    """An OpenTelemetry context whose span is ``parent`` (None: a new trace)."""
    parsed = parse(parent)
    if parsed is None:
        return otel.set_span_in_context(otel.INVALID_SPAN)  # a root: a new trace
    local = _SPAN.get()
    if local is not None and traceparent_of(local) == "-".join(("00", *parsed)):
        return otel.set_span_in_context(local)
    remote = SpanContext(trace_id=int(parsed[0], 16), span_id=int(parsed[1], 16),
                         is_remote=True, trace_flags=TraceFlags(int(parsed[2], 16)))
    return otel.set_span_in_context(NonRecordingSpan(remote))


def traceparent_of(span: Span) -> str:
    context = span.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def start_span(name: str, parent: str | bytes | None, kind: SpanKind = SpanKind.INTERNAL,
               attributes: Mapping[str, Any] | None = None,
               links: list[str] | None = None) -> Span:
    """A span in ``parent``'s trace (a new trace when it is missing or invalid); the
    caller ends it. ``links``: traceparents of other traces it concerns."""
    linked = []
    for value in links or ():
        parsed = parse(value)
        if parsed is not None:
            linked.append(Link(SpanContext(int(parsed[0], 16), int(parsed[1], 16),
                                           is_remote=True,
                                           trace_flags=TraceFlags(int(parsed[2], 16)))))
    return _tracer().start_span(name, context=_context_of(parent), kind=kind,
                                attributes=dict(attributes or {}), links=linked)


@contextmanager
def span(name: str, parent: str | bytes | None, kind: SpanKind = SpanKind.INTERNAL,
         attributes: Mapping[str, Any] | None = None,
         links: list[str] | None = None) -> Iterator[Span]:
    """Run the block in a new span (:func:`start_span`) that is this context's trace
    (:data:`CURRENT`): what it sends carries children of it. An exception marks it failed."""
    current = start_span(name, parent, kind, attributes, links)
    token = CURRENT.set(traceparent_of(current))
    token_span = _SPAN.set(current)
    try:
        yield current
    except BaseException as exc:
        current.record_exception(exc)
        current.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        _SPAN.reset(token_span)
        CURRENT.reset(token)
        current.end()


# --- W3C traceparent -------------------------------------------------------------------
def _text(value: str | bytes) -> str:
    return value.decode("ascii", "replace") if isinstance(value, bytes) else value


def parse(value: str | bytes | None) -> tuple[str, str, str] | None:
    """(trace id, span id, flags) of a valid traceparent, else None."""
    if value is None:
        return None
    match = _FORMAT.match(_text(value).strip().lower())
    if not match or set(match.group(1)) == {"0"} or set(match.group(2)) == {"0"}:
        return None
    return match.group(1), match.group(2), match.group(3)


def child(parent: str | bytes | None = None, name: str = "send") -> str:
    """The traceparent of a new producer span in ``parent``'s trace (a new trace when
    ``parent`` is missing or invalid): what a record sent inside that trace carries."""
    sent = start_span(name, parent, SpanKind.PRODUCER)
    sent.end()
    return traceparent_of(sent)


def trace_id(value: str | bytes | None) -> str | None:
    parsed = parse(value)
    return parsed[0] if parsed else None


_ENCODED = {HEADER: HEADER.encode(), ORIGIN_HEADER: ORIGIN_HEADER.encode()}


def _header(headers: Any, name: str) -> Any:
    if not headers:
        return None
    if isinstance(headers, dict):
        value = headers.get(name)
        return headers.get(_ENCODED.get(name) or name.encode()) if value is None else value
    return next((v for n, v in headers
                 if (n.decode() if isinstance(n, bytes) else n) == name), None)


def from_headers(headers: Any) -> str | None:
    """The traceparent among a record's headers (faust: a dict; aiokafka: pairs)."""
    value = _header(headers, HEADER)
    if value is None:
        return None
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    return text if parse(text) else None


def headers_for(traceparent: str | None) -> list[tuple[str, bytes]] | None:
    return [(HEADER, traceparent.encode())] if traceparent else None


# --- when the report was produced ------------------------------------------------------
def origin_of(event: Any) -> float | None:
    """When the input record ``event`` follows from was produced (epoch seconds): its
    :data:`ORIGIN_HEADER`, else its own Kafka timestamp (it is the input record)."""
    headers = getattr(event, "headers", None)
    value = _header(headers, ORIGIN_HEADER) if headers else None
    if value is not None:
        try:
            return int(value.decode() if isinstance(value, bytes) else value) / 1000.0
        except (TypeError, ValueError):
            pass
    timestamp = getattr(getattr(event, "message", None), "timestamp", None)
    return float(timestamp) if timestamp else None


def _origins(events: Any) -> dict[bytes | None, float] | None:
    """The oldest origin per record key, and of the whole batch (key None)."""
    out: dict[bytes | None, float] = {}
    for event in events:
        at = origin_of(event)
        if at is None:
            continue
        key = getattr(event, "key", None)
        if key is not None and not isinstance(key, bytes):
            key = str(key).encode()
        if at < out.get(key, float("inf")):
            out[key] = at
    if out:
        out[None] = min(out.values())
    return out or None


# --- logs ------------------------------------------------------------------------------
class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and ``event_id``,
    ``traceparent``, ``trace_id`` (and the other :attr:`FIELDS`) when the record carries
    them (``extra=``)."""

    converter = time.gmtime  # type: ignore[assignment]  # a builtin: not bound as a method
    FIELDS = ("event_id", "traceparent", "trace_id", "topic", "partition", "offset", "reason",
              "province", "entity_count")

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if "traceparent" in out and "trace_id" not in out:
            out["trace_id"] = trace_id(out["traceparent"])
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def json_handler() -> logging.Handler:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    return handler


def json_logging_config(level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` whose only handler writes JSON lines (the worker
    hands it to faust, which would otherwise add its own coloured text handler)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"level": level.upper(), "handlers": ["default"]},
    }


# --- a worker's batches ----------------------------------------------------------------
def _traces_in(events: Any, most: int = MAX_LINKS + 1) -> list[str]:
    """The distinct traceparents of a batch's records, newest first, at most ``most`` (each
    report the API took has its own: a batch of them is as many traces)."""
    out: list[str] = []
    seen: set[Any] = set()
    for event in reversed(events):
        raw = _header(getattr(event, "headers", None), HEADER)
        if raw is None or raw in seen:
            continue
        seen.add(raw)
        found = from_headers([(HEADER, raw)])
        if found:
            out.append(found)
            if len(out) >= most:
                break
    return out


def newest_in(events: Any) -> str | None:
    """The traceparent of the newest record of a batch that carries one."""
    for event in reversed(list(events)):
        found = from_headers(getattr(event, "headers", None))
        if found:
            return found
    return None


async def traced(events: Any, work: Any) -> Any:
    """Run ``work(events)`` with the batch's origins (what it sends carries them, per record
    key) and, when a record carries a trace, in a consumer span whose parent is the newest
    traced record's span (other traces in the batch are its links): what it sends
    (``StreamContext.send``) then carries a child ``traceparent``."""
    origins = ORIGINS.set(_origins(events))
    try:
        parents = _traces_in(events)
        if not parents:
            return await work(events)
        first = next(iter(events))
        topic = str(getattr(getattr(first, "message", None), "topic", "") or "records")
        attributes = {"messaging.system": "kafka", "messaging.operation.type": "process",
                      "messaging.destination.name": topic,
                      "messaging.batch.message_count": len(events)}
        with span(f"process {topic}", parents[0], SpanKind.CONSUMER, attributes,
                  links=parents[1:MAX_LINKS + 1]):
            return await work(events)
    finally:
        ORIGINS.reset(origins)


def outgoing_headers(key: bytes | None = None,
                     topic: str | None = None) -> list[tuple[str, bytes]] | None:
    """Headers for a record sent while a batch is processed: a child ``traceparent`` inside
    a trace, and the origin of the batch's records of the same key (or the batch's oldest).
    None outside a batch."""
    headers: list[tuple[str, bytes]] = []
    parent = CURRENT.get()
    if parent:
        headers.append((HEADER, child(parent, f"send {topic}" if topic else "send").encode()))
    origins = ORIGINS.get()
    if origins:
        at = origins.get(key, origins.get(None))
        if at is not None:
            headers.append((ORIGIN_HEADER, str(int(at * 1000)).encode()))
    return headers or None


def log_event(logger: logging.Logger, what: str, event: Any, decoded: Any) -> None:
    """Log one folded event with its ids, when its record carries a trace (records the API
    published); untraced records (replays, bulk loads) are not logged one by one."""
    traceparent = from_headers(getattr(event, "headers", None))
    if traceparent is None or not logger.isEnabledFor(logging.INFO):
        return
    event_id = str(getattr(decoded, "event_id", "") or "")
    logger.info("%s %s %s (trace %s)", what, getattr(decoded, "type", "?"), event_id,
                traceparent[3:35],  # valid (from_headers checked it): the trace id
                extra={"event_id": event_id, "traceparent": traceparent,
                       "province": getattr(decoded, "province_code", None)})


def log_projected(logger: logging.Logger, events: Any, changes: int) -> None:
    """One line per trace among a projector batch's records."""
    seen: set[str] = set()
    for event in events:
        traceparent = from_headers(getattr(event, "headers", None))
        if traceparent is None or traceparent in seen:
            continue
        seen.add(traceparent)
        logger.info("projected a batch of %d changes (trace %s)", changes,
                    trace_id(traceparent),
                    extra={"traceparent": traceparent, "entity_count": changes})
