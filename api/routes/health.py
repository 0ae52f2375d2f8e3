"""Liveness, connectivity and readiness.

``/healthz`` answers 200 when the API reaches the broker and Redis (the API runs without
workers beside it in production, so a missing worker does not make it unhealthy); its body
also says whether the stream workers are ready, and ``ready`` sums everything up.
``picture`` says how old what the dashboard shows is (``siaga.status.picture``): when the
pipeline was last seen caught up, its lag, the newest projected change and each entity
type's last write; ``stale`` past ``SIAGA_STALE_AFTER_SECONDS`` (the dashboard's banner).
``/readyz`` has the same body and answers 200 only when ``ready`` is true: broker and Redis
connected and every live stream worker holds its partitions and has caught up.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ProducerDep, RedisDep, SettingsDep
from siaga.settings import Settings
from siaga.status import picture as picture_of
from siaga.workers import describe, worker_status

router = APIRouter(tags=["health"])


async def _health(producer: Any, redis: Any, settings: Settings) -> dict[str, Any]:
    broker: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap_servers}
    try:
        await asyncio.wait_for(producer.client.fetch_all_metadata(), timeout=3)
        broker["connected"] = True
    except Exception as exc:  # noqa: BLE001 - any failure means "not connected"
        broker.update(connected=False, error=str(exc) or type(exc).__name__)
    store: dict[str, Any] = {}
    try:
        store["connected"] = bool(await asyncio.wait_for(redis.ping(), timeout=3))
    except Exception as exc:  # noqa: BLE001
        store.update(connected=False, error=str(exc) or type(exc).__name__)
    worker: dict[str, Any] = {"app_id": settings.app_id}
    if store["connected"]:
        try:
            status = await asyncio.wait_for(worker_status(redis, settings.app_id), timeout=3)
            worker.update(status)
            if not status["ready"]:
                worker["waiting_for"] = describe(status)
        except Exception as exc:  # noqa: BLE001
            worker.update(ready=False, error=str(exc) or type(exc).__name__)
    else:
        worker.update(ready=False, error="redis not connected")
    picture: dict[str, Any] = {"stale": True, "stale_after_seconds": settings.stale_after_seconds}
    if store["connected"]:
        try:
            picture = await asyncio.wait_for(
                picture_of(redis, settings.app_id, settings.stale_after_seconds), timeout=3)
        except Exception as exc:  # noqa: BLE001
            picture["error"] = str(exc) or type(exc).__name__
    ok = bool(broker["connected"] and store["connected"])
    return {
        "status": "ok" if ok else "degraded",
        "ready": ok and bool(worker["ready"]),
        "broker": broker,
        "redis": store,
        "worker": worker,
        "picture": picture,
    }


@router.get("/healthz", summary="Broker and Redis connectivity, and worker readiness")
async def healthz(producer: ProducerDep, redis: RedisDep, settings: SettingsDep) -> JSONResponse:
    """200 when the broker and Redis answer (503 otherwise), whether or not a worker is
    ready; see ``ready`` and ``worker`` in the body."""
    body = await _health(producer, redis, settings)
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


# Out of the published schema: a 503 is its answer while workers catch up, which API
# fuzzers (tests/e2e/test_openapi_fuzz.py) rightly count as a server error anywhere else.
@router.get(
    "/readyz",
    summary="Ready to serve: broker, Redis and caught-up stream workers",
    include_in_schema=False,
)
async def readyz(producer: ProducerDep, redis: RedisDep, settings: SettingsDep) -> JSONResponse:
    """200 only when the broker and Redis answer and every live stream worker is ready (at
    least one); 503 otherwise, with the same body as ``/healthz``."""
    body = await _health(producer, redis, settings)
    return JSONResponse(body, status_code=200 if body["ready"] else 503)
