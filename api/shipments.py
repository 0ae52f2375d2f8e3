"""Shipment look-ups and the lifecycle check the API applies before publishing.

The lifecycle is logistics' (``logistics.shipment.TRANSITIONS``): proposed → confirmed →
dispatched → delivered; cancelled from proposed or confirmed; rejected from proposed
(warehouse) or dispatched (receiving post); a held shipment is not confirmed until
released. The stream worker re-checks every move and is the authority; this check lets a
person at the desk see "already dispatched" at once instead of a silent no-op.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from redis.asyncio import Redis

from logistics.shipment import STATUSES, TRANSITIONS, allowed_from  # noqa: F401 - STATUSES re-exported
from siaga import readmodel

# One lifecycle for the API and the worker: logistics' table decides what may follow what.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    target: allowed_from(target) for target in TRANSITIONS if allowed_from(target)
}


async def load_shipment(redis: Redis, shipment_id: str) -> dict[str, Any]:
    shipment = await readmodel.get_entity(redis, "shipment", shipment_id)
    if shipment is None:
        raise HTTPException(status_code=404, detail=f"shipment_id: no shipment {shipment_id!r}")
    return shipment


def check_transition(shipment: dict[str, Any], target: str) -> None:
    """409 naming the status when ``target`` cannot follow the shipment's current status."""
    current = shipment.get("status", "proposed")
    if current not in ALLOWED_FROM[target]:
        raise HTTPException(
            status_code=409,
            detail=f"status: shipment {shipment.get('shipment_id')} is {current}; it can become "
            f"{target} only from {' or '.join(ALLOWED_FROM[target])}",
        )
    if target == "confirmed" and shipment.get("held"):
        raise HTTPException(
            status_code=409,
            detail=f"held: shipment {shipment.get('shipment_id')} is held by a coordinator",
        )
