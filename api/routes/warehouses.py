"""Warehouse staff: their warehouse's shipments by state, confirm / dispatch / cancel.

Writes need a ``warehouse_staff`` token for the shipment's warehouse (or an
admin's); staff of one warehouse get 403 on another's shipments. Coordinators and
admins may read every desk.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from api.auth import authorize_warehouse, may_read_warehouse
from api.deps import PublisherDep, ReaderDep, RedisDep, WarehouseStaffDep
from api.pagination import CursorQuery, listing, page
from api.picking import suggest_batches
from api.publish import fingerprint
from api.schemas import Accepted, EventIdField, build, id_path
from api.shipments import check_transition, load_shipment
from logistics.shipment import STATUSES
from siaga import events as ev
from siaga import readmodel

router = APIRouter(prefix="/api/v1", tags=["warehouse staff"])

WarehouseIdPath = id_path("The warehouse")
ShipmentIdPath = id_path("The shipment")


@router.get("/warehouses", summary="Warehouses with their stock")
async def list_warehouses(
    principal: ReaderDep,
    redis: RedisDep,
    province_code: ev.ProvinceCode | None = Query(default=None),
    limit: int = Query(default=1000, ge=1, le=5000),
    cursor: str | None = CursorQuery,
) -> dict[str, Any]:
    items, next_cursor = await page(redis, "warehouse", province_code, limit, cursor)
    if principal.role == "warehouse_staff":
        items = [w for w in items if w.get("warehouse_id") == principal.warehouse_id]
    return listing(items, next_cursor)


@router.get("/warehouses/{warehouse_id}", summary="One warehouse with its stock")
async def get_warehouse(
    principal: ReaderDep, redis: RedisDep, warehouse_id: str = WarehouseIdPath
) -> dict[str, Any]:
    may_read_warehouse(principal, warehouse_id)
    item = await readmodel.get_entity(redis, "warehouse", warehouse_id)
    if item is None:
        raise HTTPException(status_code=404, detail=f"warehouse_id: no warehouse {warehouse_id!r}")
    return item


async def _warehouse_shipments(
    redis: Any, warehouse_id: str, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    # A warehouse's shipments may go to any province, so filter the newest shipments
    # (the read model keeps no per-warehouse index; shipments in play are few).
    shipments, next_cursor = await page(redis, "shipment", None, limit, cursor)
    return [s for s in shipments if s.get("warehouse_id") == warehouse_id], next_cursor


@router.get(
    "/warehouses/{warehouse_id}/shipments",
    summary="The warehouse desk: its shipments grouped by state",
)
async def warehouse_shipments(
    principal: ReaderDep,
    redis: RedisDep,
    warehouse_id: str = WarehouseIdPath,
    status: str | None = Query(default=None, pattern="^(" + "|".join(STATUSES) + ")$"),
    limit: int = Query(
        default=5000, ge=1, le=5000, description="Newest shipments examined on this page"
    ),
    cursor: str | None = CursorQuery,
) -> dict[str, Any]:
    may_read_warehouse(principal, warehouse_id)
    shipments, next_cursor = await _warehouse_shipments(redis, warehouse_id, limit, cursor)
    by_status: dict[str, list[dict[str, Any]]] = {s: [] for s in STATUSES}
    for shipment in shipments:
        by_status.setdefault(shipment.get("status", "proposed"), []).append(shipment)
    if status is not None:
        by_status = {status: by_status.get(status, [])}
    return {
        "warehouse_id": warehouse_id,
        "counts": {k: len(v) for k, v in by_status.items()},
        "by_status": by_status,
        "next_cursor": next_cursor,
    }


async def _shipment_for(principal: Any, redis: Any, shipment_id: str) -> dict[str, Any]:
    shipment = await load_shipment(redis, shipment_id)
    may_read_warehouse(principal, shipment["warehouse_id"])
    return shipment


@router.get("/shipments/{shipment_id}", summary="One shipment")
async def get_shipment(
    principal: ReaderDep, redis: RedisDep, shipment_id: str = ShipmentIdPath
) -> dict[str, Any]:
    if principal.role == "command_post":
        return await load_shipment(redis, shipment_id)  # the receiving post checks arrivals
    return await _shipment_for(principal, redis, shipment_id)


async def _stock_batches(redis: Any, shipment: dict[str, Any]) -> list[dict[str, Any]]:
    warehouse = await readmodel.get_entity(redis, "warehouse", shipment["warehouse_id"])
    for stock in (warehouse or {}).get("stock") or []:
        if stock.get("item") == shipment.get("item"):
            batches: list[dict[str, Any]] = stock.get("batches") or []
            return batches
    return []


@router.get(
    "/shipments/{shipment_id}/pick-suggestion",
    summary="Batches to pick, first expiry first out (skips batches within 75 days of expiry)",
)
async def pick_suggestion(
    principal: ReaderDep, redis: RedisDep, shipment_id: str = ShipmentIdPath
) -> dict[str, Any]:
    shipment = await _shipment_for(principal, redis, shipment_id)
    suggestion = suggest_batches(
        await _stock_batches(redis, shipment), float(shipment.get("quantity") or 0), date.today()
    )
    return {
        "shipment_id": shipment_id,
        "item": shipment.get("item"),
        "unit": shipment.get("unit"),
        "quantity": shipment.get("quantity"),
        "batches": suggestion.batches,
        "short": suggestion.short,
        "excluded": suggestion.excluded,
    }


@router.get("/shipments/{shipment_id}/waybill", summary="Pick list and waybill (surat jalan)")
async def waybill(
    principal: ReaderDep, redis: RedisDep, shipment_id: str = ShipmentIdPath
) -> dict[str, Any]:
    """Everything a printed pick list / waybill shows; the desk page renders it for print."""
    shipment = await _shipment_for(principal, redis, shipment_id)
    warehouse = await readmodel.get_entity(redis, "warehouse", shipment["warehouse_id"]) or {}
    shelter_id = shipment.get("shelter_id")
    shelter = await readmodel.get_entity(redis, "shelter", shelter_id) if shelter_id else None
    batches = shipment.get("batches") or []
    if not batches:
        batches = suggest_batches(
            await _stock_batches(redis, shipment),
            float(shipment.get("quantity") or 0),
            date.today(),
        ).batches
    return {
        "shipment": shipment,
        "warehouse": {
            k: warehouse.get(k) for k in ("warehouse_id", "name", "kind", "location")
        },
        "shelter": {k: (shelter or {}).get(k) for k in ("shelter_id", "name", "location")},
        "lines": [
            {
                "item": shipment.get("item"),
                "unit": shipment.get("unit"),
                "batch_id": b.get("batch_id"),
                "quantity": b.get("quantity"),
                "expires_on": b.get("expires_on"),
            }
            for b in batches
        ],
        "batches_are_suggested": not shipment.get("batches"),
    }


class ConfirmShipment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    batches: list[ev.BatchQuantity] = Field(
        min_length=1, max_length=100, description="The batches picked and their quantities"
    )


class DispatchShipment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField


class CancelShipment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    reason: str = Field(min_length=1, max_length=1000)


async def _move(
    principal: Any,
    publisher: Any,
    redis: Any,
    shipment_id: str,
    status: str,
    event_id: uuid.UUID,
    request_json: str,
    **fields: Any,
) -> Accepted:
    shipment = await load_shipment(redis, shipment_id)
    authorize_warehouse(principal, shipment["warehouse_id"])
    request_fp = fingerprint(status, shipment_id, request_json)
    if await publisher.already_accepted(event_id, request_fp):
        return Accepted(event_id=event_id)
    check_transition(shipment, status)
    actor = principal.warehouse_id or "admin"
    event = build(
        ev.ShipmentStatusChanged,
        event_id=event_id,
        occurred_at=ev.utcnow(),
        source=f"warehouse:{actor}",
        schema_version=ev.SCHEMA_VERSION,
        shipment_id=shipment_id,
        province_code=shipment["province_code"],
        warehouse_id=shipment["warehouse_id"],
        status=status,
        **fields,
    )
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)


@router.post("/shipments/{shipment_id}/confirm", status_code=202, response_model=Accepted)
async def confirm_shipment(
    body: ConfirmShipment,
    principal: WarehouseStaffDep,
    publisher: PublisherDep,
    redis: RedisDep,
    shipment_id: str = ShipmentIdPath,
) -> Accepted:
    """Confirm a proposed shipment with the batches picked (see pick-suggestion)."""
    shipment = await load_shipment(redis, shipment_id)
    authorize_warehouse(principal, shipment["warehouse_id"])
    picked = sum(b.quantity for b in body.batches)
    wanted = float(shipment.get("quantity") or 0)
    if wanted and picked > wanted * (1 + 1e-9):
        raise HTTPException(
            status_code=422,
            detail=[
                {
                    "loc": ["body", "batches"],
                    "msg": f"picked {picked:g} but the shipment is for {wanted:g}",
                    "type": "value_error",
                }
            ],
        )
    known = {b.get("batch_id") for b in await _stock_batches(redis, shipment)}
    if known:
        for index, batch in enumerate(body.batches):
            if batch.batch_id not in known:
                raise HTTPException(
                    status_code=422,
                    detail=[
                        {
                            "loc": ["body", "batches", index, "batch_id"],
                            "msg": f"warehouse {shipment['warehouse_id']} holds no batch "
                            f"{batch.batch_id!r} of {shipment.get('item')}",
                            "type": "value_error",
                        }
                    ],
                )
    return await _move(
        principal,
        publisher,
        redis,
        shipment_id,
        "confirmed",
        body.event_id,
        body.model_dump_json(),
        batches=body.batches,
    )


@router.post("/shipments/{shipment_id}/dispatch", status_code=202, response_model=Accepted)
async def dispatch_shipment(
    body: DispatchShipment,
    principal: WarehouseStaffDep,
    publisher: PublisherDep,
    redis: RedisDep,
    shipment_id: str = ShipmentIdPath,
) -> Accepted:
    """Mark a confirmed shipment as dispatched (on the truck)."""
    return await _move(
        principal, publisher, redis, shipment_id, "dispatched", body.event_id,
        body.model_dump_json(),
    )


@router.post("/shipments/{shipment_id}/cancel", status_code=202, response_model=Accepted)
async def cancel_shipment(
    body: CancelShipment,
    principal: WarehouseStaffDep,
    publisher: PublisherDep,
    redis: RedisDep,
    shipment_id: str = ShipmentIdPath,
) -> Accepted:
    """Cancel a proposed or confirmed shipment, with the reason."""
    return await _move(
        principal, publisher, redis, shipment_id, "cancelled", body.event_id,
        body.model_dump_json(), reason=body.reason,
    )
