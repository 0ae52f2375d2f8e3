"""The projector's merge of a plan's shelter view that a newer report's quick view outranks,
on a real Redis: the report stays shown, the plan's figures are the newer plan's."""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from siaga import readmodel
from streams.changes import make_change, quick_version, shelter_version
from streams.shelters import merge_outranked_plan_views

T2 = "2026-12-06T10:00:05+00:00"
T3 = "2026-12-06T10:00:09+00:00"




def view(total: int, need: float, accepted: str, **extra: Any) -> dict[str, Any]:
    return {"shelter_id": "s1", "name": "SDN 1", "province_code": "32",
            "headcount": {"total": total}, "accepted_at": accepted,
            "needs": [{"item": "rice", "need": need}], "unmet_share": 0.5, **extra}


async def shown(redis: Redis) -> tuple[str, dict[str, Any]]:
    version, raw = await redis.hmget(readmodel.entity_key("shelter", "s1", "32"), "version",
                                     "json")
    return version.decode(), json.loads(raw)


async def project(redis: Redis, changes: list[dict[str, Any]]) -> None:
    await readmodel.apply_changes(redis, await merge_outranked_plan_views(redis, changes))


async def test_an_older_plans_view_brings_its_figures_under_the_newer_report(
    redis: Redis,
) -> None:
    plan5 = shelter_version(T2, 5)
    await project(redis, [make_change("shelter", "s1", "32", plan5, view(20, 60.0, T2), 1.0)])
    # a report (30 people) shows at once over plan 5's figures
    quick = quick_version(T3, plan5, "r3")
    await project(redis, [make_change("shelter", "s1", "32", quick,
                                      view(30, 60.0, T3, plan_pending=True), 1.0)])
    # plan 6, made before that report was accepted: its figures, the report's headcount
    await project(redis, [make_change("shelter", "s1", "32", shelter_version(T2, 6),
                                      view(20, 66.0, T2), 1.0)])
    version, data = await shown(redis)
    assert data["headcount"] == {"total": 30} and data["accepted_at"] == T3
    assert data["needs"] == [{"item": "rice", "need": 66.0}]
    assert data["plan_pending"] is True
    assert version > quick
    # a redelivered plan 6 changes nothing; plan 7, made from the report, replaces it all
    await project(redis, [make_change("shelter", "s1", "32", shelter_version(T2, 6),
                                      view(20, 1.0, T2), 1.0)])
    assert (await shown(redis))[1]["needs"] == [{"item": "rice", "need": 66.0}]
    await project(redis, [make_change("shelter", "s1", "32", shelter_version(T3, 7),
                                      view(30, 90.0, T3), 1.0)])
    version, data = await shown(redis)
    assert data["needs"] == [{"item": "rice", "need": 90.0}]
    assert "plan_pending" not in data and version == shelter_version(T3, 7)


async def test_in_one_batch_the_earlier_quick_view_counts(redis: Redis) -> None:
    plan5 = shelter_version(T2, 5)
    quick = quick_version(T3, plan5, "r3")
    await project(redis, [
        make_change("shelter", "s1", "32", plan5, view(20, 60.0, T2), 1.0),
        make_change("shelter", "s1", "32", quick, view(30, 60.0, T3, plan_pending=True), 1.0),
        make_change("shelter", "s1", "32", shelter_version(T2, 6), view(20, 66.0, T2), 1.0),
    ])
    _, data = await shown(redis)
    assert data["headcount"] == {"total": 30}
    assert data["needs"] == [{"item": "rice", "need": 66.0}]


async def test_an_older_plan_under_a_newer_plan_is_refused_as_before(redis: Redis) -> None:
    await project(redis, [make_change("shelter", "s1", "32", shelter_version(T3, 7),
                                      view(30, 90.0, T3), 1.0)])
    await project(redis, [make_change("shelter", "s1", "32", shelter_version(T2, 6),
                                      view(20, 66.0, T2), 1.0)])
    version, data = await shown(redis)
    assert version == shelter_version(T3, 7) and data["needs"] == [{"item": "rice", "need": 90.0}]
