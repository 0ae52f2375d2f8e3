"""The FastAPI application, wired in one place (lifespan builds the clients)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaProducer
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from redis.asyncio import BlockingConnectionPool, Redis

from api.auth import TokenCache
from api.limits import BodySizeLimit
from api.live import FeedHub
from api.metrics import HttpMetrics, stop_pipeline
from api.metrics import router as metrics_router
from api.publish import producer_options
from api.routes import (
    command_posts,
    coordinators,
    health,
    kitchens,
    pages,
    session,
    teams,
    warehouses,
)
from api.security import RefuseTokensInUrls, SecurityHeaders, install_log_redaction
from siaga import __version__, tracing
from siaga.readmodel import AmbiguousId
from siaga.settings import Settings, get_settings

log = logging.getLogger(__name__)

REDIS_MAX_CONNECTIONS = 64

_LANDING = """<!doctype html><html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Siaga</title><link rel="stylesheet" href="/static/siaga.css"></head>
<body class="landing"><h1>Siaga</h1>
<p>Logistik tanggap bencana Kemensos · Kemensos disaster-response logistics</p>
<ul>
<li><a href="/dasbor">Dasbor koordinator</a> (coordinators' live map)</li>
<li><a href="/posko">Formulir posko</a> (command post field form)</li>
<li><a href="/gudang">Meja gudang</a> (warehouse desk)</li>
<li><a href="/tim">Tim TAGANA</a> (TAGANA team's phone page)</li>
<li><a href="/docs">API</a> · <a href="/openapi.json">OpenAPI</a> ·
<a href="/healthz">health</a></li>
</ul></body></html>"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    bootstrap, redis_url = settings.require_services()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tracing.configure(settings, "siaga-api")  # exports only when an endpoint is set
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            linger_ms=2,
            request_timeout_ms=15000,
            **producer_options(settings),
        )
        await producer.start()
        # A blocking pool: under a burst (500 dashboards reconnecting at once) requests
        # wait for a free connection instead of failing with "Too many connections".
        redis = Redis(
            connection_pool=BlockingConnectionPool.from_url(
                redis_url, max_connections=REDIS_MAX_CONNECTIONS, timeout=20
            )
        )
        hub = FeedHub(redis_url)
        await hub.start()
        app.state.settings = settings
        app.state.producer = producer
        app.state.redis = redis
        app.state.token_cache = TokenCache()
        app.state.feed_hub = hub
        try:
            yield
        finally:
            await stop_pipeline(app)
            await hub.stop()
            await producer.stop()
            await redis.aclose()
            tracing.shutdown()

    app = FastAPI(
        title="Siaga API",
        version=__version__,
        description="Disaster-response logistics for Kemensos: command posts, "
        "warehouse staff and TAGANA coordinators.",
        lifespan=lifespan,
    )
    install_log_redaction()
    # Starlette runs the last added outermost: headers go on every answer, 401s and 413s too.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RefuseTokensInUrls)
    app.add_middleware(SecurityHeaders)
    # outermost: every answer is counted (401s and 413s too) and runs in its trace
    app.add_middleware(HttpMetrics)
    app.include_router(metrics_router)
    app.include_router(health.router)
    app.include_router(session.router)
    app.include_router(command_posts.router)
    app.include_router(warehouses.router)
    app.include_router(coordinators.router)
    app.include_router(teams.router)
    app.include_router(kitchens.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    try:
        from api.routes import geo as geo_routes
    except ImportError:
        log.warning("geo routes unavailable")
    else:
        app.include_router(geo_routes.router)

    @app.exception_handler(AmbiguousId)
    async def ambiguous_id(request: Request, exc: AmbiguousId) -> JSONResponse:
        # ids are unique per province: a read by id alone that two provinces share
        return JSONResponse(status_code=409, content={"detail": [{
            "loc": ["query", "province_code"], "msg": str(exc), "type": "ambiguous_id",
            "provinces": exc.provinces}]})

    @app.get("/", include_in_schema=False)
    async def landing() -> HTMLResponse:
        return HTMLResponse(_LANDING)

    return app
