"""The kitchens routes' events, with the read models and the publisher faked: who the event
says acted (``source``: an admin's action is an admin's, not a coordinator's), and what the
approval of a siting proposal carries over (its unit(s) and rhythm, team, store, shelters)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from api.routes.kitchens import Approval, KitchenRequest, _open_kitchen, approve_kitchen_proposal
from siaga import events as ev
from siaga import readmodel
from siaga.tokens import Principal, make_principal

PALU = {"lat": -0.90, "lon": 119.87}
JONO_OGE = {"lat": -0.9815, "lon": 119.9106}


class FakeRedis:
    """Read models by (entity, province/id), as the projector writes them."""

    def __init__(self, entities: dict[tuple[str, str], dict[str, Any]]) -> None:
        self.rows = {readmodel.entity_key(e, i, "72"): json.dumps(d)
                     for (e, i), d in entities.items()}

    async def hget(self, key: str, field: str) -> str | None:
        return self.rows.get(key)


class FakePublisher:
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def already_accepted(self, event_id: uuid.UUID, fingerprint: str) -> bool:
        return False

    async def publish(self, event: Any, fingerprint: str) -> None:
        self.events.append(event)


TEAMS = {("team", "tagana-7571-02"): {"team_id": "tagana-7571-02", "province_code": "72"},
         ("team", "tagana-7271-02"): {"team_id": "tagana-7271-02", "province_code": "72"}}


def _open(principal: Principal) -> ev.KitchenRegistered:
    publisher = FakePublisher()
    body = KitchenRequest(kitchen_id="dapur-dinsos", name="Dapur Umum Dinsos",
                          location=ev.Location(**PALU), team_ids=["tagana-7271-02"])
    asyncio.run(_open_kitchen(principal, publisher, FakeRedis(TEAMS), body))
    (event,) = publisher.events
    assert isinstance(event, ev.KitchenRegistered)
    return event


def test_an_admins_kitchen_is_recorded_as_the_admins_not_a_coordinators() -> None:
    admin = make_principal("admin", label="ops-pusdalops")
    assert _open(admin).source == "admin:ops-pusdalops"
    coordinator = make_principal("coordinator", province_code="72", label="coord-sulteng")
    assert _open(coordinator).source == "coordinator:coord-sulteng"


def test_approving_a_proposal_opens_its_unit_with_its_team_store_and_shelters() -> None:
    proposal = {
        "proposal_id": "open-kitchen:palu-jono-oge", "province_code": "72",
        "site": {"site_id": "palu-jono-oge", "name": "Posko Pengungsian Jono Oge",
                 "kind": "shelter", "location": JONO_OGE},
        "warehouse_id": "dinsos-sulteng-palu", "team_id": "tagana-7571-02",
        "capacity_per_day": 6000, "portions_covered_per_day": 6000,
        "shelter_ids": ["palu-petobo", "palu-jono-oge"],
        "units": 1, "portions_per_cooking": 2000, "cookings_per_day": 3,
    }
    redis = FakeRedis({**TEAMS, ("kitchen_proposal", "palu-jono-oge"): proposal})
    publisher = FakePublisher()
    coordinator = make_principal("coordinator", province_code="72", label="coord-sulteng")
    asyncio.run(approve_kitchen_proposal(
        Approval(), coordinator, publisher, redis, site_id="palu-jono-oge",  # type: ignore[arg-type]
        province_code="72"))
    (event,) = publisher.events
    assert event.kitchen_id == "dapur-palu-jono-oge"
    assert event.name == "Dapur Umum Posko Pengungsian Jono Oge"
    assert (event.units, event.portions_per_cooking, event.cookings_per_day) == (1, 2000, 3)
    assert event.team_ids == ["tagana-7571-02"]
    assert event.warehouse_id == "dinsos-sulteng-palu"
    assert event.assigned_shelter_ids == ["palu-jono-oge", "palu-petobo"]
    assert event.proposal_id == "open-kitchen:palu-jono-oge"
    assert event.location.lat == JONO_OGE["lat"] and event.source == "coordinator:coord-sulteng"
