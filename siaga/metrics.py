"""Siaga's metrics, in Prometheus' text format (prometheus-client).

Every metric is defined here, once per process, on prometheus-client's default registry:
the worker serves them on its own port (:func:`serve_worker_metrics`, printed at start),
the API at ``/metrics`` (``api/metrics.py``). Labels are bounded by the code, never by the
data: a topic, a province (38), an entity type, a reason *kind* (:func:`reason_kind`) —
never an entity id or an event id.

Worker side (hooks in ``streams/``): events processed per topic, dead-lettered records by
topic and reason, consumer lag per topic and partition as the worker sees it, re-plan
duration, solver time and plan size per province, projection lag (report produced to
Kafka → its read model written, across every hop). API side: HTTP requests by route and
status with latency, live-feed clients, and the pipeline as Kafka sees it
(``siaga_pipeline_*``, ``api/metrics.py``).
"""

from __future__ import annotations

import logging
import re
import socket
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

# --- worker ---------------------------------------------------------------------------
EVENTS_PROCESSED = Counter(
    "siaga_events_processed",
    "Records a worker took off a topic and finished with (folded, projected or parked)",
    ["topic"],
)
DEADLETTERED = Counter(
    "siaga_deadlettered",
    "Records this worker parked on the dead-letter topic, by source topic and reason kind",
    ["topic", "reason"],
)
CONSUMER_LAG = Gauge(
    "siaga_consumer_lag",
    "Records behind the end of each partition this worker consumes (its own view)",
    ["topic", "partition"],
)
# Per province: 38 provinces x these buckets are most of a worker's scrape (bench/
# observability.py), so the buckets are few and the solver's histogram is not per province.
REPLAN_SECONDS = Histogram(
    "siaga_replan_seconds",
    "A province's re-plan, from reading its rows to its outputs acknowledged and written",
    ["province"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
)
SOLVER_SECONDS = Histogram(
    "siaga_solver_seconds",
    "Time making one province's plan (needs, allocation, dispatch), off the event loop",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
)
PLAN_SIZE = Histogram(
    "siaga_plan_size",
    "Read-model entities a re-plan changed in one province",
    ["province"],
    buckets=(0, 10, 100, 1000, 10000, 100000),
)
PROJECTION_LAG = Histogram(
    "siaga_projection_lag_seconds",
    "From the report (input record) a read-model change answers produced to Kafka, to the "
    "change written in Redis: every hop (ingest, re-plan, projector)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
LOOP_LAG = Histogram(
    "siaga_event_loop_lag_seconds",
    "How late the worker's event-loop probe woke (every 20 ms): how long a handler held the "
    "loop that heartbeats, quick views and every other agent share (streams/looplag.py)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
PROJECTED = Counter(
    "siaga_projected_changes", "State changes the projector applied, by entity type", ["entity"]
)

# --- API ------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "siaga_http_requests", "HTTP requests answered, by route template and status",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "siaga_http_request_seconds", "HTTP request latency by route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LIVE_CLIENTS = Gauge("siaga_live_clients", "Live-feed (SSE) clients connected to this API")

def reason_kind(reason: str) -> str:
    """What kind of failure a dead-letter reason is, without its details (a bounded label).

    ``"occurred_at: 2030-… is 5 d ahead …"`` → ``occurred_at``; ``"not valid JSON: Expecting
    value …"`` → ``not valid JSON``; ``"processing failed 3 times: PlanFailed: …"`` →
    ``processing failed (PlanFailed)``. Digits become ``#`` (list indices in a field path).
    """
    text = reason.strip()
    failed = re.match(r"processing failed \d+ times: ([A-Za-z_][A-Za-z0-9_]*)", text)
    if failed:
        return f"processing failed ({failed.group(1)})"
    head = text.split(":", 1)[0].split(";", 1)[0].strip()
    head = re.sub(r"\d+", "#", head)
    if not head:
        return "unknown"
    return head[:60]


def short_topic(topic: str, prefix: str) -> str:
    """``siaga.shelters`` → ``shelters`` (the label names the catalogue topic)."""
    return topic[len(prefix) + 1 :] if topic.startswith(prefix + ".") else topic


# --- hooks the worker calls -----------------------------------------------------------
def count_processed(ctx: Any, events: Any) -> None:
    prefix = ctx.settings.topic_prefix
    counts: dict[str, int] = {}
    for event in events:
        topic = short_topic(str(event.message.topic), prefix)
        counts[topic] = counts.get(topic, 0) + 1
    for topic, n in counts.items():
        EVENTS_PROCESSED.labels(topic=topic).inc(n)


def count_deadlettered(ctx: Any, topic: str, reason: str) -> None:
    DEADLETTERED.labels(
        topic=short_topic(topic, ctx.settings.topic_prefix), reason=reason_kind(reason)
    ).inc()


#: the (topic, partition) series of siaga_consumer_lag this process has set
_LAG_SERIES: set[tuple[str, str]] = set()


def set_lag(prefix: str, per_partition: dict[tuple[str, int], int],
            assigned: set[tuple[str, int]] | None = None) -> None:
    """The worker's lag per partition. A partition no longer ``assigned`` (taken away in a
    rebalance) loses its series, rather than keeping its last value forever; one still held
    whose position is unknown just now keeps its last value. ``assigned`` None: the
    partitions of ``per_partition``."""
    held = {(short_topic(t, prefix), str(p))
            for t, p in (per_partition if assigned is None else assigned)}
    for gone in sorted(_LAG_SERIES - held):
        try:
            CONSUMER_LAG.remove(*gone)
        except KeyError:
            pass
        _LAG_SERIES.discard(gone)
    for (topic, partition), lag in per_partition.items():
        series = (short_topic(topic, prefix), str(partition))
        CONSUMER_LAG.labels(topic=series[0], partition=series[1]).set(lag)
        _LAG_SERIES.add(series)


def observe_replan(province: str, seconds: float, solver_seconds: float, size: int) -> None:
    REPLAN_SECONDS.labels(province=province).observe(seconds)
    SOLVER_SECONDS.observe(solver_seconds)
    PLAN_SIZE.labels(province=province).observe(size)


def observe_projection(events: Any, changes: list[dict[str, Any]], now: float) -> None:
    """After a projector batch is written (``now``, epoch seconds): per state-change record,
    the time since the report it answers was produced (its ``siaga-origin`` header, carried
    from the input record's timestamp across the hops; a record without one: its own
    timestamp), and the changes written per entity type."""
    from siaga.tracing import origin_of

    for event in events:
        origin = origin_of(event)
        if origin is not None:
            PROJECTION_LAG.observe(max(0.0, now - origin))
    counts: dict[str, int] = {}
    for change in changes:
        entity = str(change.get("entity"))
        counts[entity] = counts.get(entity, 0) + 1
    for entity, n in counts.items():
        PROJECTED.labels(entity=entity).inc(n)


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


#: the port this process serves its metrics on (reported with the worker's readiness)
SERVED_PORT: int | None = None


def serve_worker_metrics(host: str, port: int) -> int:
    """Serve this process's metrics over HTTP (``/metrics``) in a thread; 0 = any free port.
    Returns the port it listens on."""
    global SERVED_PORT
    chosen = port or free_port(host)
    start_http_server(chosen, addr=host)
    SERVED_PORT = chosen
    return chosen
