"""The approval gate's routes with the read models and the publisher faked: a coordinator
approves or declines what the national tier sends its province (scope: 403 naming
``province_code``; an entry not sent to that province: 404 naming it; one whose approval is
not open: 409), one event per shipment or team; the warehouse desk cannot confirm a national
shipment awaiting approval (409 naming ``approval``)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from fastapi import HTTPException

from api.routes.coordinators import EscalationDecision, Mobilisation, decide_escalations
from api.routes.warehouses import ConfirmShipment, confirm_shipment
from siaga import events as ev
from siaga import readmodel
from siaga.tokens import make_principal

NATIONAL = "shp-nat-1"
SETUP = "shelter_setup:sh-cugenang"
TEAM = "tagana-banten-1"


def _shipment(**changes: Any) -> dict[str, Any]:
    return {"shipment_id": NATIONAL, "province_code": "32", "status": "proposed",
            "tier": "national", "approval": "awaiting", "warehouse_id": "wh-bekasi-regional",
            "shelter_id": "sh-cugenang", "item": "rice", "unit": "kg", "quantity": 480,
            **changes}


def _task(approval: str = "awaiting") -> dict[str, Any]:
    return {"task_id": SETUP, "province_code": "32", "kind": "shelter_setup",
            "national_teams": [{"team_id": TEAM, "name": "TAGANA Serang Satu",
                                "province_code": "36", "approval": approval}]}


class FakePipeline:
    def __init__(self, redis: FakeRedis) -> None:
        self.redis, self.keys = redis, []

    def hget(self, key: str, field: str) -> None:
        self.keys.append(key)

    async def execute(self) -> list[Any]:
        return [self.redis.rows.get(k) for k in self.keys]


class FakeRedis:
    """Read models by (entity, id) in province 32, as the projector writes them."""

    def __init__(self, *entities: tuple[str, str, dict[str, Any]]) -> None:
        self.rows = {readmodel.entity_key(e, i, "32"): json.dumps(d) for e, i, d in entities}
        self.where = {readmodel.where_key(e, i): {b"32"} for e, i, _ in entities}
        self.kv: dict[str, Any] = {}

    async def hget(self, key: str, field: str) -> str | None:
        return self.rows.get(key)

    async def smembers(self, key: str) -> set[bytes]:
        return self.where.get(key, set())

    def pipeline(self, transaction: bool = False) -> FakePipeline:
        return FakePipeline(self)

    async def set(self, key: str, value: Any, ex: int | None = None) -> None:
        self.kv[key] = value

    async def get(self, key: str) -> Any:
        return self.kv.get(key)


class FakePublisher:
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def already_accepted(self, event_id: uuid.UUID, fingerprint: str) -> bool:
        return False

    async def publish(self, event: Any, fingerprint: str) -> None:
        self.events.append(event)


JABAR = make_principal("coordinator", province_code="32", label="Pusdalops Jabar")


def _decide(redis: FakeRedis, principal: Any = JABAR, **body: Any) -> list[Any]:
    publisher = FakePublisher()
    fields = {"event_id": uuid.uuid4(), "province_code": "32", "decision": "approved", **body}
    asyncio.run(decide_escalations(EscalationDecision(**fields), principal, publisher,
                                   redis))  # type: ignore[arg-type]
    return publisher.events


def _refused(status: int, redis: FakeRedis, principal: Any = JABAR, **body: Any) -> Any:
    with pytest.raises(HTTPException) as refused:
        _decide(redis, principal, **body)
    assert refused.value.status_code == status
    return refused.value.detail


def test_one_event_per_shipment_and_team_approved() -> None:
    redis = FakeRedis(("shipment", NATIONAL, _shipment()), ("task", SETUP, _task()))
    events = _decide(redis, shipment_ids=[NATIONAL, NATIONAL],
                     mobilisations=[Mobilisation(task_id=SETUP, team_id=TEAM)])
    assert [type(e) for e in events] == [ev.EscalationDecisionRecorded] * 2
    shipment, team = events
    assert shipment.shipment_id == NATIONAL and shipment.task_id is None
    assert (team.task_id, team.team_id) == (SETUP, TEAM)
    assert {e.decision for e in events} == {"approved"}
    assert {e.source for e in events} == {"coordinator:Pusdalops Jabar"}
    assert len({e.event_id for e in events}) == 2


def test_a_retried_request_publishes_the_same_event_ids_and_an_admins_is_an_admins() -> None:
    redis = FakeRedis(("shipment", NATIONAL, _shipment()))
    event_id = uuid.uuid4()
    first = _decide(redis, event_id=event_id, shipment_ids=[NATIONAL])
    again = _decide(redis, event_id=event_id, shipment_ids=[NATIONAL])
    assert first[0].event_id == again[0].event_id
    admin = make_principal("admin", label="ops-pusdalops")
    assert _decide(redis, admin, shipment_ids=[NATIONAL])[0].source == "admin:ops-pusdalops"


def test_another_provinces_coordinator_is_refused_naming_province_code() -> None:
    redis = FakeRedis(("shipment", NATIONAL, _shipment()))
    sulteng = make_principal("coordinator", province_code="72", label="coord-sulteng")
    detail = _refused(403, redis, sulteng, shipment_ids=[NATIONAL])
    assert str(detail).startswith("province_code:")


def test_a_shipment_not_sent_by_the_national_tier_to_the_province_is_404_naming_it() -> None:
    redis = FakeRedis(("shipment", NATIONAL, _shipment()),
                      ("shipment", "shp-prov", _shipment(shipment_id="shp-prov",
                                                         tier="province")))
    detail = _refused(404, redis, shipment_ids=[NATIONAL, "shp-prov"])
    assert detail[0]["loc"] == ["body", "shipment_ids", 1]
    detail = _refused(404, redis, shipment_ids=["shp-elsewhere"])
    assert detail[0]["loc"] == ["body", "shipment_ids", 0]
    detail = _refused(404, FakeRedis(("task", SETUP, _task())),
                      mobilisations=[Mobilisation(task_id=SETUP, team_id="tagana-lain")])
    assert detail[0]["loc"] == ["body", "mobilisations", 0, "team_id"]


@pytest.mark.parametrize(("changes", "says"), [
    ({"approval": "not_required"}, "needs no approval"),
    ({"approval": "declined"}, "needs no approval"),
    ({"status": "confirmed", "approval": "approved"}, "is confirmed"),
])
def test_a_shipment_whose_approval_is_not_open_is_409(changes: dict[str, Any],
                                                      says: str) -> None:
    detail = _refused(409, FakeRedis(("shipment", NATIONAL, _shipment(**changes))),
                      shipment_ids=[NATIONAL])
    assert detail[0]["loc"] == ["body", "shipment_ids", 0] and says in detail[0]["msg"]


def test_a_decline_needs_a_reason_and_a_request_a_target() -> None:
    redis = FakeRedis(("shipment", NATIONAL, _shipment()))
    assert _refused(422, redis, decision="declined",
                    shipment_ids=[NATIONAL])[0]["loc"] == ["body", "reason"]
    assert _refused(422, redis)[0]["loc"] == ["body", "shipment_ids"]
    [declined] = _decide(redis, decision="declined", reason="beras dari BAZNAS",
                         shipment_ids=[NATIONAL])
    assert declined.decision == "declined" and declined.reason == "beras dari BAZNAS"


def test_the_desk_cannot_confirm_a_national_shipment_awaiting_approval() -> None:
    staff = make_principal("warehouse_staff", warehouse_id="wh-bekasi-regional")
    body = ConfirmShipment(event_id=uuid.uuid4(),
                           batches=[{"batch_id": "BRS-01", "quantity": 480}])
    for approval, says in (("awaiting", "awaits the approval"), ("declined", "was declined")):
        redis = FakeRedis(("shipment", NATIONAL, _shipment(approval=approval)))
        with pytest.raises(HTTPException) as refused:
            asyncio.run(confirm_shipment(body, staff, FakePublisher(), redis,  # type: ignore[arg-type]
                                         shipment_id=NATIONAL))
        assert refused.value.status_code == 409
        assert str(refused.value.detail).startswith("approval: shipment shp-nat-1")
        assert says in str(refused.value.detail)
