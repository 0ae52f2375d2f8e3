"""Warehouse stock as the users make it, over HTTP → Kafka → worker → Redis → HTTP.

A coordinator registers a warehouse; its staff receive a donation, count it (finding less
than the papers said) and write off what got wet; the stock card pages every movement with
who and why, the goods-received note names the donor; and the next plan ships from that
stock — exactly what the count and the write-off left. A receipt forged for another
warehouse straight onto Kafka is parked on the dead-letter topic with the reason.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from siaga.catalogue import DEADLETTER
from siaga.events import GoodsReceived
from siaga.local import ManagedProcess
from siaga.settings import Settings
from tests.e2e.helpers import bearer, make_token
from tests.support import consume_all, produce_events

pytestmark = pytest.mark.e2e

BANDUNG = {"lat": -6.914, "lon": 107.609}


def _wait(fetch: Any, timeout: float = 90, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what} not met within {timeout} s"
        time.sleep(0.3)


def _field_of(response: httpx.Response) -> str:
    detail = response.json()["detail"]
    return detail if isinstance(detail, str) else ".".join(map(str, detail[0]["loc"]))


def test_a_registered_warehouse_receives_a_donation_is_counted_and_the_plan_ships_it(
    api: str, worker: ManagedProcess, tokens: dict[str, str], settings: Settings,
) -> None:
    assert settings.redis_url
    suffix = uuid.uuid4().hex[:8]
    warehouse, batch, shelter = f"wh-bdg-{suffix}", f"DON-{suffix}", f"sh-bdg-{suffix}"
    staff = make_token(settings.redis_url, "warehouse_staff", warehouse_id=warehouse)
    with (httpx.Client(base_url=api, headers=bearer(tokens["coordinator"]), timeout=15) as coord,
          httpx.Client(base_url=api, headers=bearer(staff), timeout=15) as desk,
          httpx.Client(base_url=api, headers=bearer(tokens["command_post"]), timeout=15) as posko):
        registered = coord.post("/api/v1/warehouses", json={
            "warehouse_id": warehouse, "name": "Gudang Dinsos Kota Bandung",
            "kind": "kabupaten", "location": BANDUNG})
        assert registered.status_code == 202, registered.text
        shown = _wait(lambda: (r := desk.get(f"/api/v1/warehouses/{warehouse}")).status_code
                      == 200 and r.json(), what="warehouse registered")
        assert shown["name"] == "Gudang Dinsos Kota Bandung"
        assert shown["province_code"] == "32"

        receipt = {"item": "rice", "batch_id": batch, "quantity": 5000, "unit": "kg",
                   "expires_on": "2030-06-01", "source": "donation",
                   "document_number": "BAST-77/XI/2022", "received_by": "Rina Oktaviani"}
        # the API names the field it refuses
        assert _field_of(desk.post(f"/api/v1/warehouses/{warehouse}/receipts",
                                   json=receipt)) == "body.donor"
        assert _field_of(desk.post(f"/api/v1/warehouses/{warehouse}/receipts",
                                   json={**receipt, "donor": "x", "unit": "sak"})) == "body.unit"
        assert _field_of(desk.post(f"/api/v1/warehouses/{warehouse}/receipts",
                                   json={**receipt, "donor": "x", "item": "caviar"})) == "body.item"
        other = desk.post("/api/v1/warehouses/wh-bekasi-regional/receipts",
                          json={**receipt, "donor": "x"})
        assert other.status_code == 403 and other.json()["detail"].startswith("warehouse_id:")

        event_id = str(uuid.uuid4())
        accepted = desk.post(f"/api/v1/warehouses/{warehouse}/receipts", json={
            **receipt, "event_id": event_id, "donor": "Paguyuban Pasundan"})
        assert accepted.status_code == 202, accepted.text
        # a retry of the same receipt is the same receipt
        again = desk.post(f"/api/v1/warehouses/{warehouse}/receipts", json={
            **receipt, "event_id": event_id, "donor": "Paguyuban Pasundan"})
        assert again.status_code == 202

        def rice() -> dict[str, Any] | None:
            stock = desk.get(f"/api/v1/warehouses/{warehouse}").json().get("stock") or []
            return next((s for s in stock if s["item"] == "rice"), None)

        assert _wait(lambda: (r := rice()) and r["on_hand"] == 5000 and r,
                     what="receipt on hand")["batches"][0]["batch_id"] == batch

        # a forged receipt for this warehouse from another warehouse's source: dead-lettered
        forged = GoodsReceived(
            event_id=uuid.uuid4(), occurred_at=datetime.now(UTC), source="warehouse:wh-lain",
            schema_version=1, warehouse_id=warehouse, province_code="32", item="rice",
            batch_id=batch, quantity=999, unit="kg", origin="procurement",
            document_number="PO-1", received_by="someone", expires_on=date(2030, 6, 1))
        asyncio.run(produce_events(settings, [forged]))
        parked = asyncio.run(consume_all(settings, settings.topic(DEADLETTER), 1, timeout=60))
        reasons = [json.loads(r.value)["reason"] for r in parked]
        assert any(reason.startswith("source:") for reason in reasons), reasons

        # writing off more than the batch holds is refused; the count finds less
        too_much = desk.post(f"/api/v1/warehouses/{warehouse}/write-offs", json={
            "item": "rice", "batch_id": batch, "quantity": 6000, "reason_code": "damaged",
            "reason": "basah", "written_off_by": "Rina"})
        assert _field_of(too_much) == "body.quantity"
        counted = desk.post(f"/api/v1/warehouses/{warehouse}/stock-counts", json={
            "item": "rice", "batch_id": batch, "counted": 100,
            "reason": "opname: 49 karung salah label (bukan beras)", "counted_by": "Dedi"})
        assert counted.status_code == 202, counted.text
        assert _wait(lambda: (r := rice()) and r["on_hand"] == 100, what="count on hand")
        # ten kilos found wet are written off
        written_off = desk.post(f"/api/v1/warehouses/{warehouse}/write-offs", json={
            "item": "rice", "batch_id": batch, "quantity": 10, "reason_code": "damaged",
            "reason": "karung basah kena bocor atap", "written_off_by": "Dedi",
            "document_number": "BA-RUSAK-3"})
        assert written_off.status_code == 202, written_off.text
        assert _wait(lambda: (r := rice()) and r["on_hand"] == 90, what="write-off on hand")

        card = _wait(lambda: (c := desk.get(f"/api/v1/warehouses/{warehouse}/stock-card",
                                            params={"item": "rice"}).json())["count"] == 3 and c,
                     what="stock card")
        off, newest, first = card["items"]
        assert (off["kind"], off["change"], off["balance"], off["reason_code"]) == (
            "write_off", -10, 90, "damaged")
        assert (newest["kind"], newest["change"], newest["balance"], newest["by"]) == (
            "count", -4900, 100, "Dedi")
        assert "salah label" in newest["reason"]
        assert (first["kind"], first["change"], first["origin"], first["donor"]) == (
            "receipt", 5000, "donation", "Paguyuban Pasundan")
        page = desk.get(f"/api/v1/warehouses/{warehouse}/stock-card",
                        params={"item": "rice", "limit": 2}).json()
        assert [m["kind"] for m in page["items"]] == ["write_off", "count"] and page["next_cursor"]
        rest = desk.get(f"/api/v1/warehouses/{warehouse}/stock-card", params={
            "item": "rice", "limit": 2, "cursor": page["next_cursor"]}).json()
        assert [m["kind"] for m in rest["items"]] == ["receipt"] and rest["next_cursor"] is None

        note = desk.get(f"/api/v1/warehouses/{warehouse}/receipts/{event_id}").json()
        assert note["receipt"]["document_number"] == "BAST-77/XI/2022"
        assert note["warehouse"]["name"] == "Gudang Dinsos Kota Bandung"
        assert note["item"]["name_id"] == "Beras"
        assert desk.get(f"/api/v1/warehouses/{warehouse}/receipts/{uuid.uuid4()}"
                        ).status_code == 404

        # people arrive nearby: the plan ships rice from this warehouse — what the count and
        # the write-off left
        assert posko.post("/api/v1/shelters", json={
            "shelter_id": shelter, "name": "Pengungsian GOR Pajajaran", "capacity": 800,
            "location": {"lat": -6.905, "lon": 107.598}, "posko_id": "posko-cianjur-kab",
        }).status_code == 202
        headcount = {"total": 600, "children": 150, "elderly": 40, "posko_id": "posko-cianjur-kab"}
        _wait(lambda: posko.post(f"/api/v1/shelters/{shelter}/headcounts",
                                 json=headcount).status_code == 202, what="headcount accepted")

        def rice_shipments() -> list[dict[str, Any]]:
            data = desk.get(f"/api/v1/warehouses/{warehouse}/shipments").json()
            return [s for s in data["by_status"]["proposed"]
                    if s["item"] == "rice" and s["shelter_id"] == shelter]

        shipments = _wait(rice_shipments, what="a rice shipment from the counted stock")
        assert sum(s["quantity"] for s in shipments) == 90
        assert {b["batch_id"] for s in shipments for b in s["batches"]} == {batch}
