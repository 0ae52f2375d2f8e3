"""The approval gate in the worker, on the real broker: records written straight to the
topics (as any producer could) are checked again there.

Jawa Barat has a shelter and, of its own, only the regional warehouse at Bekasi: the
national tier proposes rice from there, awaiting Jawa Barat's approval. A confirmation before
the approval, a decision keyed by another province and one that is not a coordinator's are
dead-lettered with the reason; the coordinator's approval lets the rice be confirmed."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from siaga import events as ev
from siaga import readmodel
from siaga.catalogue import DEADLETTER
from siaga.local import ManagedProcess
from siaga.settings import Settings
from tests.support import consume_all, produce_events, wait_until

pytestmark = pytest.mark.integration

S = uuid.uuid4().hex[:6]
SHELTER = f"sh-cugenang-{S}"
BEKASI = f"wh-bekasi-{S}"


def _env(source: str, minutes: int = 0) -> dict[str, Any]:
    return {"event_id": uuid.uuid4(),
            "occurred_at": ev.utcnow() - timedelta(minutes=30 - minutes),
            "source": source, "schema_version": 1}


def _setup() -> list[ev.Envelope]:
    return [
        ev.ShelterRegistered(**_env("posko:cugenang"), shelter_id=SHELTER,
                             name="Lapangan Desa Cugenang", location={"lat": -6.80, "lon": 107.06},
                             province_code="32", kabupaten_code="32.03", posko_id="posko-cugenang"),
        ev.ShelterHeadcountReported(**_env("posko:cugenang"), shelter_id=SHELTER,
                                    province_code="32", total=400, posko_id="posko-cugenang"),
        ev.WarehouseRegistered(**_env("kemensos"), warehouse_id=BEKASI,
                               name="Gudang Regional Kemensos Bekasi", kind="regional",
                               location={"lat": -6.30, "lon": 107.05}, province_code="32",
                               kabupaten_code="32.16"),
        ev.StockLevelReported(**_env(f"warehouse:{BEKASI}"), warehouse_id=BEKASI,
                              province_code="32", item="rice", batch_id=f"BRS-{S}",
                              quantity=20_000, unit="kg"),
    ]


async def _rice(redis: Redis, check: Any) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        for s in await readmodel.list_entities(redis, "shipment", "32", 1000):
            if s.get("tier") == "national" and s["item"] == "rice" and check(s):
                return s
        return None

    found: dict[str, Any] = await wait_until(probe, timeout=120, interval=0.25)
    return found


def _confirm(shipment: dict[str, Any], minutes: int) -> ev.ShipmentStatusChanged:
    return ev.ShipmentStatusChanged(
        **_env(f"warehouse:{BEKASI}", minutes), shipment_id=shipment["shipment_id"],
        province_code="32", warehouse_id=BEKASI, status="confirmed",
        batches=[{"batch_id": b["batch_id"], "quantity": b["quantity"]}
                 for b in shipment["batches"]])


def _decision(shipment: dict[str, Any], province: str, source: str,
              minutes: int) -> ev.EscalationDecisionRecorded:
    return ev.EscalationDecisionRecorded(
        **_env(source, minutes), province_code=province, shipment_id=shipment["shipment_id"],
        decision="approved", coordinator="Pusdalops Jabar")


async def test_the_worker_holds_the_gate_whatever_reaches_the_topic(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    await produce_events(settings, _setup())
    rice = await _rice(redis, lambda s: s["status"] == "proposed")
    assert rice["approval"] == "awaiting"

    await produce_events(settings, [
        _confirm(rice, 1),  # before any approval
        _decision(rice, "36", "coordinator:Pusdalops Banten", 2),  # another province's key
        _decision(rice, "32", "posko:cugenang", 3),  # not a coordinator
    ])
    parked = await consume_all(settings, settings.topic(DEADLETTER), expected=3, timeout=60)
    reasons = sorted(json.loads(r.value)["reason"] for r in parked)
    assert any(r.startswith(f"status: approval: shipment {rice['shipment_id']} comes from the "
                            "national tier and awaits the approval") for r in reasons), reasons
    assert f"shipment_id: no national-tier shipment '{rice['shipment_id']}' to province 36" \
        in reasons, reasons
    assert any(r.startswith("source: only a coordinator") for r in reasons), reasons
    still = await readmodel.get_entity(redis, "shipment", rice["shipment_id"], "32")
    assert still is not None and still["status"] == "proposed"
    assert still["approval"] == "awaiting"

    # the province's coordinator approves: the re-plan clears it, the confirmation goes
    await produce_events(settings, [_decision(rice, "32", "coordinator:Pusdalops Jabar", 4)])
    approved = await _rice(redis, lambda s: s["shipment_id"] == rice["shipment_id"]
                           and s.get("approval") == "approved")
    await produce_events(settings, [_confirm(approved, 5)])
    confirmed = await _rice(redis, lambda s: s["shipment_id"] == rice["shipment_id"]
                            and s["status"] == "confirmed")
    assert confirmed["approval"] == "approved"
