"""The TAGANA task loop on the real broker, worker and Redis: a team registers, reports
itself available, is dispatched, acknowledges, goes, arrives and finishes — each step in the
read models the dashboard reads; a decline is dispatched to another team; a report from
another team's phone is dead-lettered with the reason."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
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
NEAR, FAR = f"tagana-near-{S}", f"tagana-far-{S}"
SHELTER, SECOND = f"sh-loop-{S}", f"sh-loop2-{S}"
KITCHEN, KITCHEN2 = f"public_kitchen:{SHELTER}", f"public_kitchen:{SECOND}"


class Clock:
    """Event times a minute apart, in the recent past (never ahead of the broker's clock)."""

    def __init__(self) -> None:
        self.at = ev.utcnow() - timedelta(minutes=30)

    def next(self) -> datetime:
        self.at += timedelta(seconds=20)
        return self.at


def _env(clock: Clock, source: str) -> dict[str, Any]:
    return {"event_id": uuid.uuid4(), "occurred_at": clock.next(), "source": source,
            "schema_version": 1}


def _registration(clock: Clock, team_id: str, lat: float, lon: float) -> ev.TeamRegistered:
    return ev.TeamRegistered(
        **_env(clock, "coordinator:jabar"), team_id=team_id, name=f"TAGANA {team_id}",
        province_code="32", kabupaten_code="32.03", base={"lat": lat, "lon": lon},
        members=[{"name": "Asep", "role": "ketua"}, {"name": "Dedi"}, {"name": "Siti"}],
        skills=["public_kitchen"], rank="madya", coordinator="coord-jabar")


def _shelter(clock: Clock, shelter_id: str, lat: float, lon: float) -> list[ev.Envelope]:
    return [
        ev.ShelterRegistered(**_env(clock, "posko:cugenang"), shelter_id=shelter_id,
                             name=f"Pengungsian {shelter_id}", location={"lat": lat, "lon": lon},
                             province_code="32", kabupaten_code="32.03",
                             posko_id="posko-cugenang"),
        ev.ShelterHeadcountReported(**_env(clock, "posko:cugenang"), shelter_id=shelter_id,
                                    province_code="32", total=400, posko_id="posko-cugenang"),
    ]


def _available(clock: Clock, team_id: str) -> ev.TeamAvailabilityReported:
    return ev.TeamAvailabilityReported(
        **_env(clock, f"team:{team_id}"), team_id=team_id, province_code="32",
        availability="available", members_present=3)


def _step(clock: Clock, task_id: str, team_id: str, status: str, reason: str | None = None,
          source: str | None = None) -> ev.TaskProgressReported:
    return ev.TaskProgressReported(
        **_env(clock, source or f"team:{team_id}"), task_id=task_id, team_id=team_id,
        province_code="32", status=status, reason=reason)


async def _entity(redis: Redis, entity: str, entity_id: str) -> dict[str, Any] | None:
    return await readmodel.get_entity(redis, entity, entity_id, "32")


async def _until_task(redis: Redis, task_id: str, status: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        task = await _entity(redis, "task", task_id)
        return task if task and task.get("status") == status else None

    result: dict[str, Any] = await wait_until(check, timeout=60, interval=0.2)
    return result


async def test_a_team_goes_through_the_whole_loop_and_a_decline_is_dispatched_again(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    clock = Clock()
    await produce_events(settings, [
        _registration(clock, NEAR, -6.81, 107.07),
        _registration(clock, FAR, -6.90, 107.20),
        *_shelter(clock, SHELTER, -6.80, 107.06),
    ])
    # registered, not yet available: nobody is sent
    task = await _until_task(redis, KITCHEN, "unassigned")
    assert task["assigned_team_ids"] == []
    near = await _entity(redis, "team", NEAR)
    assert near is not None and near["availability"] == "off_duty"
    assert [m["name"] for m in near["roster"]] == ["Asep", "Dedi", "Siti"]

    await produce_events(settings, [_available(clock, NEAR)])
    task = await _until_task(redis, KITCHEN, "dispatched")
    assert task["assigned_team_ids"] == [NEAR]
    near = await _entity(redis, "team", NEAR)
    assert near is not None
    assert near["assignment"]["task_id"] == KITCHEN and near["availability"] == "assigned"

    times: dict[str, str] = {}
    for step in ("acknowledged", "en_route", "arrived"):
        event = _step(clock, KITCHEN, NEAR, step)
        times[step] = event.occurred_at.isoformat()
        await produce_events(settings, [event])
        task = await _until_task(redis, KITCHEN, step)
        near = await _entity(redis, "team", NEAR)
        assert near is not None and near["assignment"]["status"] == step
        assert task["teams"][0]["times"][step] == times[step]
    done = _step(clock, KITCHEN, NEAR, "done")
    await produce_events(settings, [done])
    task = await _until_task(redis, KITCHEN, "done")
    assert task["teams"] == [{
        "team_id": NEAR, "name": f"TAGANA {NEAR}", "status": "done", "reason": None,
        "times": {**times, "done": done.occurred_at.isoformat()}}]
    near = await _entity(redis, "team", NEAR)
    assert near is not None and near["assignment"] is None
    assert near["on_duty_since"] == times["acknowledged"]
    assert near["hours_on_duty"] > 0

    # a second shelter next to NEAR's base; both teams available: NEAR (nearer) is sent,
    # declines, and FAR gets the task
    await produce_events(settings, [_available(clock, FAR), *_shelter(clock, SECOND, -6.81,
                                                                      107.072)])
    task = await _until_task(redis, KITCHEN2, "dispatched")
    assert task["assigned_team_ids"] == [NEAR]
    # another team's phone cannot decline for NEAR: dead-lettered, nothing changes
    forged = _step(clock, KITCHEN2, NEAR, "declined", reason="palsu", source=f"team:{FAR}")
    await produce_events(settings, [forged])
    await produce_events(settings, [_step(clock, KITCHEN2, NEAR, "declined",
                                          reason="kendaraan rusak")])
    task = await _until_task(redis, KITCHEN2, "dispatched")

    async def redispatched() -> dict[str, Any] | None:
        found = await _entity(redis, "task", KITCHEN2)
        return found if found and found["assigned_team_ids"] == [FAR] else None

    task = await wait_until(redispatched, timeout=60, interval=0.2)
    declined = [t for t in task["teams"] if t["team_id"] == NEAR]
    assert declined and declined[0]["status"] == "declined"
    assert declined[0]["reason"] == "kendaraan rusak"
    far = await _entity(redis, "team", FAR)
    assert far is not None and far["assignment"]["task_id"] == KITCHEN2

    parked = await consume_all(settings, settings.topic(DEADLETTER), expected=1, timeout=20)
    reasons = [json.loads(r.value)["reason"] for r in parked]
    assert any(f"team:{FAR} may only report for its own team" in r for r in reasons), reasons
