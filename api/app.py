"""The FastAPI application, wired in one place (lifespan builds the clients)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from redis.asyncio import Redis

from api.limits import BodySizeLimit
from api.routes import command_posts, coordinators, health
from siaga import __version__
from siaga.settings import Settings, get_settings

log = logging.getLogger(__name__)

_LANDING = """<!doctype html><html lang="id"><head><meta charset="utf-8">
<title>Siaga</title></head><body><h1>Siaga</h1>
<p>Logistik tanggap bencana Kemensos. <a href="/docs">API</a> ·
<a href="/healthz">health</a> · <a href="/api/v1/incidents">incidents</a></p></body></html>"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    bootstrap, redis_url = settings.require_services()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            linger_ms=2,
            request_timeout_ms=15000,
        )
        await producer.start()
        redis = Redis.from_url(redis_url)
        app.state.settings = settings
        app.state.producer = producer
        app.state.redis = redis
        try:
            yield
        finally:
            await producer.stop()
            await redis.aclose()

    app = FastAPI(
        title="Siaga API",
        version=__version__,
        description="Disaster-response logistics for Kemensos: command posts, "
        "warehouse staff and TAGANA coordinators.",
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(health.router)
    app.include_router(command_posts.router)
    app.include_router(coordinators.router)
    try:
        from api.routes import geo as geo_routes
    except ImportError:
        log.warning("geo routes unavailable")
    else:
        app.include_router(geo_routes.router)

    @app.get("/", include_in_schema=False)
    async def landing() -> HTMLResponse:
        return HTMLResponse(_LANDING)

    return app
