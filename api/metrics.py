"""The API's ``/metrics`` and the middleware that counts HTTP requests and starts traces.

``/metrics`` (Prometheus text format) needs no user token — Prometheus scrapes it — and
answers only clients in ``SIAGA_METRICS_ALLOWED_NETWORKS`` (403 otherwise). Besides this
process's own figures (HTTP requests by route template and status, latency, live-feed
clients) it carries the pipeline as Kafka sees it (``siaga_pipeline_*``, read at every
scrape: consumer-group lag per topic and partition, dead letters by reason), so one scrape
target says whether the whole pipeline is healthy.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from opentelemetry.trace import SpanKind
from opentelemetry.trace.status import Status, StatusCode
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from api.deps import _with_role
from siaga import tracing
from siaga.metrics import HTTP_REQUESTS, HTTP_SECONDS, LIVE_CLIENTS
from siaga.settings import Settings
from siaga.tokens import Principal

log = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])

PIPELINE_READ_SECONDS = 5.0


class HttpMetrics:
    """Pure ASGI middleware: counts every answer by method, route template (never the raw
    path: ids would grow the labels without end) and status, times it, and serves the
    request in a server span (OpenTelemetry; its parent is the caller's ``traceparent``, or
    it starts a trace): the records ``api/publish.py`` sends carry children of it, and the
    answer carries its ``traceparent`` back."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers") or ():
            if name == b"traceparent":
                incoming = value
                break
        method = str(scope.get("method", "GET"))
        status = [500]
        started = time.perf_counter()
        with tracing.span(f"HTTP {method}", incoming, SpanKind.SERVER,
                          {"http.request.method": method}) as span:
            traceparent = tracing.traceparent_of(span)

            async def sending(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    status[0] = int(message["status"])
                    message.setdefault("headers", [])
                    message["headers"] = [*message["headers"],
                                          (b"traceparent", traceparent.encode())]
                await send(message)

            try:
                await self.app(scope, receive, sending)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                HTTP_REQUESTS.labels(method=method, route=template, status=str(status[0])).inc()
                HTTP_SECONDS.labels(method=method, route=template).observe(
                    time.perf_counter() - started)
                # the span's name is the route template, never the raw path (ids)
                span.update_name(f"{method} {template}")
                span.set_attribute("http.route", template)
                span.set_attribute("http.response.status_code", status[0])
                if status[0] >= 500:
                    span.set_status(Status(StatusCode.ERROR))


def allowed_networks(settings: Settings) -> list[Any] | None:
    """The networks ``/metrics`` answers (None: everyone)."""
    text = settings.metrics_allowed_networks.strip()
    if text.lower() == "any":
        return None
    return [ipaddress.ip_network(part.strip(), strict=False)
            for part in text.split(",") if part.strip()]


def client_allowed(host: str | None, networks: list[Any] | None) -> bool:
    if networks is None:
        return True
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    return any(address in network for network in networks)


async def _pipeline(request: Request) -> CollectorRegistry:
    """This app's pipeline view (started on first scrape), refreshed now."""
    state = request.app.state
    # one view per app: scrapes that arrive while the first is still connecting wait for
    # it instead of each starting a view (all but one would never be stopped)
    lock = getattr(state, "pipeline_lock", None)
    if lock is None:
        lock = state.pipeline_lock = asyncio.Lock()
    async with lock:
        if getattr(state, "pipeline_registry", None) is None:
            own = await _start_pipeline(state)
            if own is not None:
                return own
    try:
        await asyncio.wait_for(state.pipeline_view.refresh(read_budget=2.0),
                               timeout=PIPELINE_READ_SECONDS)
    except Exception as exc:  # noqa: BLE001 - the scrape says so (siaga_pipeline_view_up 0)
        state.pipeline_view.last_error = f"{type(exc).__name__}: {exc}"
        log.warning("metrics: could not read the pipeline from Kafka: %s", exc)
    registry: CollectorRegistry = state.pipeline_registry
    return registry


async def _start_pipeline(state: Any) -> CollectorRegistry | None:
    """Start the app's pipeline view; on failure, a registry that says the view is down
    (and nothing kept: the next scrape tries again)."""
    from siaga.pipeline import PipelineCollector, PipelineView

    view = PipelineView(state.settings)
    own = CollectorRegistry(auto_describe=False)
    own.register(PipelineCollector(view))
    try:
        await asyncio.wait_for(view.start(), timeout=PIPELINE_READ_SECONDS)
    except Exception as exc:  # noqa: BLE001 - the broker is down: say so, retry next time
        view.last_error = f"{type(exc).__name__}: {exc}"
        log.warning("metrics: cannot connect to Kafka to read the pipeline: %s", exc)
        await view.stop()
        return own
    except asyncio.CancelledError:  # the scrape was abandoned: nothing left connected
        await view.stop()
        raise
    state.pipeline_view, state.pipeline_registry = view, own
    return None


async def stop_pipeline(app: Any) -> None:
    view = getattr(app.state, "pipeline_view", None)
    if view is not None:
        await view.stop()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format; 403 for a client outside the trusted networks."""
    settings: Settings = request.app.state.settings
    host = request.client.host if request.client else None
    if not client_allowed(host, allowed_networks(settings)):
        raise HTTPException(
            status_code=403,
            detail=f"client: {host} is outside SIAGA_METRICS_ALLOWED_NETWORKS",
        )
    hub = getattr(request.app.state, "feed_hub", None)
    LIVE_CLIENTS.set(hub.subscribers if hub is not None else 0)
    pipeline = generate_latest(await _pipeline(request))
    return Response(generate_latest(REGISTRY) + pipeline, media_type=CONTENT_TYPE_LATEST)


AdminDep = Annotated[Principal, _with_role("admin")]


@router.get("/api/v1/admin/deadletters", summary="Dead letters (parked records), newest first")
async def deadletters(
    admin: AdminDep,
    request: Request,
    topic: Annotated[str | None, Query(max_length=64, description="source topic, e.g. shelters")]
    = None,
    reason: Annotated[str | None, Query(max_length=200, description="part of the reason")] = None,
    since: Annotated[datetime | None, Query(description="parked at or after (ISO time)")] = None,
    until: Annotated[datetime | None, Query(description="parked at or before (ISO time)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """What `siaga deadletter list` shows, for admins: id (``partition-offset`` on the
    dead-letter topic, for `siaga deadletter show|replay`), reason, source topic, key,
    event id and type, when it was parked. Replay stays on the command line."""
    from siaga.deadletters import list_deadletters

    settings: Settings = request.app.state.settings
    try:
        letters = await asyncio.wait_for(
            list_deadletters(settings, topic=topic, reason=reason, since=_utc(since),
                             until=_utc(until), limit=limit),
            timeout=30,
        )
    except TimeoutError:
        raise HTTPException(status_code=503, detail="deadletters: the broker did not answer "
                            "within 30 s") from None
    return {"deadletters": [letter.summary() for letter in letters], "count": len(letters)}


def _utc(at: datetime | None) -> datetime | None:
    if at is None or at.tzinfo is not None:
        return at
    return at.replace(tzinfo=UTC)
