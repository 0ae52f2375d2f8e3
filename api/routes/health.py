"""Liveness and connectivity."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ProducerDep, RedisDep, SettingsDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Broker and Redis connectivity")
async def healthz(producer: ProducerDep, redis: RedisDep, settings: SettingsDep) -> JSONResponse:
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
    ok = broker["connected"] and store["connected"]
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "broker": broker, "redis": store},
        status_code=200 if ok else 503,
    )
