"""Coordinators: the live picture, read from Redis projections only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query

from api.deps import RedisDep
from siaga import readmodel
from siaga.events import ProvinceCode

router = APIRouter(prefix="/api/v1", tags=["coordinators"])


@router.get("/incidents", summary="Incidents, newest report first")
async def list_incidents(
    redis: RedisDep,
    province_code: ProvinceCode | None = Query(default=None),
    limit: int = Query(default=500, ge=1, le=5000),
) -> dict[str, Any]:
    items = await readmodel.list_entities(redis, "incident", province_code, limit)
    return {"count": len(items), "items": items}


@router.get("/incidents/{incident_id}", summary="One incident")
async def get_incident(incident_id: str, redis: RedisDep) -> dict[str, Any]:
    item = await readmodel.get_entity(redis, "incident", incident_id)
    if item is None:
        raise HTTPException(status_code=404, detail=f"incident_id: no incident {incident_id!r}")
    return item
