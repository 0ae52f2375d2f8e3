"""Following one field report: W3C ``traceparent`` on Kafka records, structured logs.

The API takes the caller's ``traceparent`` header (or starts a trace), and every record it
publishes carries a child ``traceparent`` in its Kafka headers (``api/publish.py``). The
workers log each event they fold with its ``event_id`` and ``traceparent``, and pass the
trace on to the re-plan request and the read-model changes they cause, which the
projector logs when it writes them — so ``grep <trace id>`` over the logs (JSON with
``SIAGA_LOG_FORMAT=json``) follows one report from the HTTP request to the dashboard.

Hand-written to the W3C Trace Context format (https://www.w3.org/TR/trace-context/):
``00-<32 hex trace id>-<16 hex span id>-<2 hex flags>``. No exporter: the ids are the same
an OpenTelemetry collector would join on, should one be added.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from contextvars import ContextVar
from typing import Any

HEADER = "traceparent"
_FORMAT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

#: the trace of the HTTP request being served (set by the API's middleware)
CURRENT: ContextVar[str | None] = ContextVar("siaga_traceparent", default=None)


def parse(value: str | bytes | None) -> tuple[str, str, str] | None:
    """(trace id, span id, flags) of a valid traceparent, else None."""
    if value is None:
        return None
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
    match = _FORMAT.match(text.strip().lower())
    if not match or set(match.group(1)) == {"0"} or set(match.group(2)) == {"0"}:
        return None
    return match.group(1), match.group(2), match.group(3)


def child(parent: str | bytes | None = None) -> str:
    """A new span in ``parent``'s trace (a new trace when ``parent`` is missing/invalid)."""
    parsed = parse(parent)
    trace_id = parsed[0] if parsed else secrets.token_hex(16)
    flags = parsed[2] if parsed else "01"
    return f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"


def trace_id(value: str | bytes | None) -> str | None:
    parsed = parse(value)
    return parsed[0] if parsed else None


def from_headers(headers: Any) -> str | None:
    """The traceparent among a record's headers (faust: a dict; aiokafka: pairs)."""
    if not headers:
        return None
    if isinstance(headers, dict):
        value = headers.get(HEADER)
        if value is None:
            value = headers.get(HEADER.encode())
    else:
        value = next((v for n, v in headers
                      if (n.decode() if isinstance(n, bytes) else n) == HEADER), None)
    if value is None:
        return None
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    return text if parse(text) else None


def headers_for(traceparent: str | None) -> list[tuple[str, bytes]] | None:
    return [(HEADER, traceparent.encode())] if traceparent else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and ``event_id``,
    ``traceparent``, ``trace_id`` when the record carries them (``extra=``)."""

    converter = time.gmtime  # type: ignore[assignment]  # a builtin: not bound as a method
    FIELDS = ("event_id", "traceparent", "trace_id", "topic", "province", "entity_count")

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


def newest_in(events: Any) -> str | None:
    """The traceparent of the newest record of a batch that carries one."""
    for event in reversed(list(events)):
        found = from_headers(getattr(event, "headers", None))
        if found:
            return found
    return None


async def traced(events: Any, work: Any) -> Any:
    """Run ``work(events)`` inside the batch's trace (:func:`newest_in`): what it sends
    (``StreamContext.send``) carries a child ``traceparent``."""
    parent = newest_in(events)
    if parent is None:
        return await work(events)
    token = CURRENT.set(parent)
    try:
        return await work(events)
    finally:
        CURRENT.reset(token)


def outgoing_headers() -> list[tuple[str, bytes]] | None:
    """Headers for a record sent inside a trace (None outside one)."""
    parent = CURRENT.get()
    return headers_for(child(parent)) if parent else None


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
