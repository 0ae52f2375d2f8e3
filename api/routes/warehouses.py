"""Warehouse staff: their warehouse's shipments by state, confirm / dispatch / cancel; goods
received (donations too), stock counts, write-offs, the stock card and goods-received notes.
Coordinators register warehouses. The item catalogue (names and units) is public.

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

import geo
from api.auth import authorize_province, authorize_warehouse, may_read_warehouse
from api.deps import CoordinatorDep, PublisherDep, ReaderDep, RedisDep, WarehouseStaffDep
from api.locate import locate
from api.pagination import CursorQuery, listing, page
from api.picking import suggest_batches
from api.publish import fingerprint
from api.schemas import Accepted, EventIdField, build, id_path
from api.shipments import check_transition, load_shipment
from geo.errors import GeoError
from logistics.catalogue import default_catalogue
from logistics.shipment import STATUSES, approval_refusal
from siaga import events as ev
from siaga import readmodel
from siaga.stockcard import RECEIPT_ENTITY, stock_card_entity
from siaga.tokens import Principal

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


def _address(location: dict[str, Any] | None) -> dict[str, Any] | None:
    """Kabupaten/kota and province of a place (its address on a printed waybill)."""
    if not location:
        return None
    try:
        region = geo.resolve(float(location["lat"]), float(location["lon"]))
    except (GeoError, KeyError, TypeError, ValueError):
        return None
    return {"kabupaten_code": region.kabupaten_code, "kabupaten_name": region.kabupaten_name,
            "province_code": region.province_code, "province_name": region.province_name}


async def _destination(redis: Any, shipment: dict[str, Any]) -> dict[str, Any]:
    """Where a shipment goes: a shelter, or a public kitchen (its ingredients), by name."""
    destination_id = shipment.get("shelter_id")
    province = shipment.get("province_code")
    found, kind = None, "shelter"
    if destination_id:
        found = await readmodel.get_entity(redis, "shelter", destination_id, province)
        if found is None:
            found = await readmodel.get_entity(redis, "kitchen", destination_id, province)
            kind = "kitchen" if found is not None else "shelter"
    place = found or {}
    location = place.get("location") or shipment.get("location")
    return {"kind": kind, "id": destination_id,
            "name": place.get("name") or shipment.get("shelter_name"),
            "location": location, "address": _address(location)}


@router.get("/shipments/{shipment_id}/waybill", summary="Pick list and waybill (surat jalan)")
async def waybill(
    principal: ReaderDep, redis: RedisDep, shipment_id: str = ShipmentIdPath
) -> dict[str, Any]:
    """Everything a printed pick list / waybill shows; the desk page renders it for print.
    ``destination`` is the shelter or public kitchen it goes to, with its name and address
    (``shelter`` repeats it for older pages)."""
    shipment = await _shipment_for(principal, redis, shipment_id)
    warehouse = await readmodel.get_entity(redis, "warehouse", shipment["warehouse_id"]) or {}
    destination = await _destination(redis, shipment)
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
            **{k: warehouse.get(k) for k in ("warehouse_id", "name", "kind", "location")},
            "address": _address(warehouse.get("location")),
        },
        "destination": destination,
        "shelter": {"shelter_id": destination["id"], "name": destination["name"],
                    "location": destination["location"]},
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
    """Confirm a proposed shipment with the batches picked (see pick-suggestion). A
    national-tier shipment awaiting the receiving province's approval (or declined) is
    refused: 409 naming ``approval``."""
    shipment = await load_shipment(redis, shipment_id)
    authorize_warehouse(principal, shipment["warehouse_id"])
    refused = approval_refusal(shipment_id, shipment.get("approval"), "confirmed")
    if refused is not None and shipment.get("status", "proposed") == "proposed":
        raise HTTPException(status_code=409, detail=refused)
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


# ---------------------------------------------------------------- the catalogue


@router.get("/items", summary="The item catalogue: Indonesian and English names and units",
            tags=["catalogue"])
async def list_items() -> dict[str, Any]:
    """Public (the catalogue is not operational data): pages show these names, never codes;
    the command post's needs picker and the desk's receipt form choose from it."""
    catalogue = default_catalogue()
    return {"catalogue_version": catalogue.version, "items": catalogue.listing()}


# ---------------------------------------------------------------- registering warehouses


class WarehouseRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    warehouse_id: ev.Identifier
    name: str = Field(min_length=1, max_length=200)
    kind: ev.WarehouseKind
    location: ev.Location
    province_code: ev.ProvinceCode | None = Field(
        default=None, description="Filled in from the location when absent (must agree)")
    kabupaten_code: ev.KabupatenCode | None = None


def _actor(principal: Principal) -> str:
    """The event's source: the desk's warehouse, or the admin who wrote it."""
    if principal.role == "warehouse_staff":
        return f"warehouse:{principal.warehouse_id}"
    return f"{principal.role}:{principal.label or principal.describe()}"[:200]


@router.post("/warehouses", status_code=202, response_model=Accepted)
async def register_warehouse(
    body: WarehouseRegistration, principal: CoordinatorDep, publisher: PublisherDep,
    redis: RedisDep,
) -> Accepted:
    """Register a warehouse or correct its details: coordinators of its province (national
    ones anywhere) and admins."""
    province_code, kabupaten_code = locate(
        body.location.lat, body.location.lon, body.province_code, body.kabupaten_code)
    authorize_province(principal, province_code)
    current = await readmodel.get_entity(redis, "warehouse", body.warehouse_id)
    if current is not None and current.get("province_code") not in (None, province_code):
        raise HTTPException(status_code=422, detail=[{
            "loc": ["body", "location"], "type": "value_error",
            "msg": f"warehouse {body.warehouse_id} is in province {current['province_code']}; "
                   f"a warehouse does not move to {province_code} (register a new one)"}])
    request_fp = fingerprint("warehouse", body.model_dump_json())
    if await publisher.already_accepted(body.event_id, request_fp):
        return Accepted(event_id=body.event_id)
    event = build(
        ev.WarehouseRegistered, event_id=body.event_id, occurred_at=ev.utcnow(),
        source=_actor(principal), schema_version=ev.SCHEMA_VERSION,
        warehouse_id=body.warehouse_id, name=body.name, kind=body.kind, location=body.location,
        province_code=province_code, kabupaten_code=kabupaten_code)
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)


# ---------------------------------------------------------------- stock movements


class GoodsReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    item: ev.ItemCode
    batch_id: ev.Identifier = Field(description="The batch (lot) the goods go into")
    quantity: float = Field(gt=0, le=1e9, allow_inf_nan=False)
    unit: str = Field(min_length=1, max_length=32, description="The item's catalogue unit")
    expires_on: date | None = None
    source: ev.ReceiptSource = Field(
        description="procurement, donation, transfer (from another warehouse) or return")
    donor: str | None = Field(default=None, max_length=200,
                              description="Who donated the goods (required for a donation)")
    document_number: str = Field(min_length=1, max_length=100,
                                 description="Delivery note, purchase order or handover letter")
    received_by: str = Field(min_length=1, max_length=200, description="Who took them in")
    note: str | None = Field(default=None, max_length=1000)


class StockCount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    item: ev.ItemCode
    batch_id: ev.Identifier
    counted: float = Field(ge=0, le=1e9, allow_inf_nan=False, description="Units counted")
    unit: str | None = Field(default=None, max_length=32,
                             description="The item's catalogue unit (default)")
    reason: str = Field(min_length=1, max_length=1000)
    counted_by: str = Field(min_length=1, max_length=200)


class WriteOff(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID = EventIdField
    item: ev.ItemCode
    batch_id: ev.Identifier
    quantity: float = Field(gt=0, le=1e9, allow_inf_nan=False)
    unit: str | None = Field(default=None, max_length=32)
    reason_code: ev.WriteOffReason
    reason: str = Field(min_length=1, max_length=1000)
    written_off_by: str = Field(min_length=1, max_length=200)
    document_number: str | None = Field(default=None, max_length=100)


def _bad(field: str, msg: str) -> HTTPException:
    return HTTPException(status_code=422, detail=[
        {"loc": ["body", field], "msg": msg, "type": "value_error"}])


def _catalogue_unit(item: str, unit: str | None) -> str:
    catalogue = default_catalogue()
    if item not in catalogue:
        raise _bad("item", f"{item!r} is not in the catalogue (GET /api/v1/items)")
    expected = catalogue.get(item).unit
    if unit is not None and unit != expected:
        raise _bad("unit", f"{item} is counted in {expected!r}, not {unit!r}")
    return expected


async def _desk_warehouse(
    principal: Principal, redis: Any, warehouse_id: str
) -> dict[str, Any]:
    authorize_warehouse(principal, warehouse_id)
    warehouse = await readmodel.get_entity(redis, "warehouse", warehouse_id)
    if warehouse is None:
        raise HTTPException(status_code=404, detail=f"warehouse_id: no warehouse {warehouse_id!r}"
                            " (registered warehouses appear once the worker has them)")
    return warehouse


def _batch_in(warehouse: dict[str, Any], batch_id: str) -> tuple[str, dict[str, Any]] | None:
    for stock in warehouse.get("stock") or []:
        for batch in stock.get("batches") or []:
            if batch.get("batch_id") == batch_id:
                return str(stock.get("item")), batch
    return None


def _check_batch(warehouse: dict[str, Any], batch_id: str, item: str, must_exist: bool) -> float:
    """The batch's quantity on the desk (0 when new); 422 when it holds another item or, for
    a write-off, does not exist."""
    found = _batch_in(warehouse, batch_id)
    if found is None:
        if must_exist:
            raise _bad("batch_id", f"warehouse {warehouse['warehouse_id']} holds no batch "
                                   f"{batch_id!r}")
        return 0.0
    held_item, batch = found
    if held_item != item:
        raise _bad("batch_id", f"batch {batch_id} holds {held_item}, not {item}")
    return float(batch.get("quantity") or 0)


async def _publish_movement(
    publisher: Any, principal: Principal, kind: str, warehouse_id: str, body: BaseModel,
    model: type[ev.Envelope], **fields: Any,
) -> Accepted:
    event_id: uuid.UUID = body.event_id  # type: ignore[attr-defined]
    request_fp = fingerprint(kind, warehouse_id, body.model_dump_json())
    if await publisher.already_accepted(event_id, request_fp):
        return Accepted(event_id=event_id)
    event = build(model, event_id=event_id, occurred_at=ev.utcnow(), source=_actor(principal),
                  schema_version=ev.SCHEMA_VERSION, warehouse_id=warehouse_id, **fields)
    await publisher.publish(event, request_fp)
    return Accepted(event_id=event.event_id)


@router.post("/warehouses/{warehouse_id}/receipts", status_code=202, response_model=Accepted)
async def receive_goods(
    body: GoodsReceipt, principal: WarehouseStaffDep, publisher: PublisherDep, redis: RedisDep,
    warehouse_id: str = WarehouseIdPath,
) -> Accepted:
    """Goods received into a batch (procurement, donation, transfer or return): stock on hand
    grows. The receipt's id (``event_id``) opens its goods-received note."""
    warehouse = await _desk_warehouse(principal, redis, warehouse_id)
    unit = _catalogue_unit(body.item, body.unit)
    if body.source == "donation" and not (body.donor or "").strip():
        raise _bad("donor", "a donation names its donor")
    _check_batch(warehouse, body.batch_id, body.item, must_exist=False)
    return await _publish_movement(
        publisher, principal, "receipt", warehouse_id, body, ev.GoodsReceived,
        province_code=warehouse["province_code"], item=body.item, batch_id=body.batch_id,
        quantity=body.quantity, unit=unit, expires_on=body.expires_on, origin=body.source,
        donor=(body.donor or "").strip() or None, document_number=body.document_number,
        received_by=body.received_by, note=body.note)


@router.post("/warehouses/{warehouse_id}/stock-counts", status_code=202,
             response_model=Accepted)
async def count_stock(
    body: StockCount, principal: WarehouseStaffDep, publisher: PublisherDep, redis: RedisDep,
    warehouse_id: str = WarehouseIdPath,
) -> Accepted:
    """A batch counted: the count becomes its stock on hand; the difference from what Siaga
    expected is the adjustment on the stock card, with the reason."""
    warehouse = await _desk_warehouse(principal, redis, warehouse_id)
    unit = _catalogue_unit(body.item, body.unit)
    _check_batch(warehouse, body.batch_id, body.item, must_exist=False)
    return await _publish_movement(
        publisher, principal, "count", warehouse_id, body, ev.StockCounted,
        province_code=warehouse["province_code"], item=body.item, batch_id=body.batch_id,
        counted=body.counted, unit=unit, reason=body.reason, counted_by=body.counted_by)


@router.post("/warehouses/{warehouse_id}/write-offs", status_code=202, response_model=Accepted)
async def write_off_stock(
    body: WriteOff, principal: WarehouseStaffDep, publisher: PublisherDep, redis: RedisDep,
    warehouse_id: str = WarehouseIdPath,
) -> Accepted:
    """Expired, damaged or lost stock of one batch written off, with the reason."""
    warehouse = await _desk_warehouse(principal, redis, warehouse_id)
    unit = _catalogue_unit(body.item, body.unit)
    held = _check_batch(warehouse, body.batch_id, body.item, must_exist=True)
    if body.quantity > held + 1e-9:
        raise _bad("quantity", f"batch {body.batch_id} holds {held:g} {unit}; cannot write off "
                               f"{body.quantity:g}")
    return await _publish_movement(
        publisher, principal, "write_off", warehouse_id, body, ev.StockWrittenOff,
        province_code=warehouse["province_code"], item=body.item, batch_id=body.batch_id,
        quantity=body.quantity, unit=unit, reason_code=body.reason_code, reason=body.reason,
        written_off_by=body.written_off_by, document_number=body.document_number)


@router.get("/warehouses/{warehouse_id}/stock-card",
            summary="One item's stock card: every movement with who and why, newest first")
async def stock_card(
    principal: ReaderDep, redis: RedisDep, warehouse_id: str = WarehouseIdPath,
    item: str = Query(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$"),
    limit: int = Query(default=50, ge=1, le=500),
    cursor: str | None = CursorQuery,
) -> dict[str, Any]:
    may_read_warehouse(principal, warehouse_id)
    movements, next_cursor = await page(
        redis, stock_card_entity(warehouse_id, item), None, limit, cursor)
    return {"warehouse_id": warehouse_id, "item": item, **listing(movements, next_cursor)}


@router.get("/warehouses/{warehouse_id}/receipts/{receipt_id}",
            summary="A goods-received note (and, for a donation, the receipt for the donor)")
async def goods_received_note(
    principal: ReaderDep, redis: RedisDep, warehouse_id: str = WarehouseIdPath,
    receipt_id: str = id_path("The receipt (its event_id)"),
) -> dict[str, Any]:
    may_read_warehouse(principal, warehouse_id)
    receipt = await readmodel.get_entity(redis, RECEIPT_ENTITY, receipt_id)
    if receipt is None or receipt.get("warehouse_id") != warehouse_id:
        raise HTTPException(status_code=404, detail=f"receipt_id: no receipt {receipt_id!r} at "
                                                    f"warehouse {warehouse_id}")
    warehouse = await readmodel.get_entity(redis, "warehouse", warehouse_id) or {}
    catalogue = default_catalogue()
    item = catalogue.items.get(str(receipt.get("item")))
    return {
        "receipt": receipt,
        "warehouse": {k: warehouse.get(k) for k in ("warehouse_id", "name", "kind", "location",
                                                    "province_code", "kabupaten_code")},
        "item": None if item is None else {
            "id": item.id, "name_id": item.name_id, "name_en": item.name,
            "unit_id": catalogue.unit_name(item.unit, "id"),
            "unit_en": catalogue.unit_name(item.unit, "en")},
    }
