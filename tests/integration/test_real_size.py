"""Real-size disasters through the real broker, worker and Redis: one province of 2,000
shelters, and 20,000 shelters across the country. Nothing Siaga writes grows with the size
of a province (records stay under 64 KB), and the read models settle within a minute."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis

from siaga.local import ManagedProcess
from siaga.settings import Settings
from siaga.synthetic import all_provinces, province_disaster
from tests.support import largest_records, produce_many, shelter_totals

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RECORD_BOUND = 64 * 1024  # bytes: the bound every record Siaga writes stays under
SETTLE_SECONDS = 60


async def _settled(redis: Redis, want: dict[str, int], timeout: float) -> float:
    """Seconds until every shelter's read model shows the wanted total in the view of a plan
    made from it — settled means planned, not only shown by the quick view — (fails after
    ``timeout`` naming how many are missing); prints when they were all shown."""
    started = time.monotonic()
    ids = sorted(want)
    missing = len(ids)
    shown_after = None
    while time.monotonic() - started < timeout:
        if shown_after is None:
            shown = await shelter_totals(redis, ids)
            if all(shown[i] == want[i] for i in ids):
                shown_after = time.monotonic() - started
                print(f"all {len(ids)} shown after {shown_after:.1f} s")
        planned = await shelter_totals(redis, ids, planned=True)
        missing = sum(1 for i in ids if planned[i] != want[i])
        if missing == 0:
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    raise AssertionError(f"{missing} of {len(ids)} shelters not settled after {timeout:.0f} s")


@pytest.mark.timeout(600)
async def test_a_province_of_2000_shelters_settles_and_no_record_grows_with_it(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    disaster = province_disaster("32", 2000, updates=2000, warehouses=6, teams=20)
    ids = [sid for _, sid in disaster.shelter_ids]
    assert len(ids) == 2000

    await produce_many(settings, disaster.setup)
    first = {e.shelter_id: e.total for e in disaster.setup
             if e.type == "shelter.headcount_reported"}  # type: ignore[attr-defined]
    took = await _settled(redis, first, SETTLE_SECONDS)
    print(f"2,000 shelters registered with headcounts settled in {took:.1f} s")

    await produce_many(settings, disaster.headcounts)
    last = {e.shelter_id: e.total for e in disaster.headcounts}
    took = await _settled(redis, last, SETTLE_SECONDS)
    print(f"2,000 headcount updates settled in {took:.1f} s")

    assert worker.alive(), "the worker must survive a real-size province"
    sizes = await largest_records(settings)
    assert sizes, "no topics found"
    print("largest record per topic:", {k: v for k, v in sorted(sizes.items()) if v})
    too_big = {topic: size for topic, size in sizes.items() if size > RECORD_BOUND}
    assert not too_big, too_big
    # the planner did work at this size: shipments were planned in the province
    assert await redis.scard("siaga:shipments:province:32") > 100


@pytest.mark.timeout(1200)
async def test_20000_shelters_across_38_provinces_settle(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    provinces = all_provinces()
    assert len(provinces) == 38
    per = 20_000 // len(provinces) + 1
    setup = []
    want: dict[str, int] = {}
    for province in provinces:
        disaster = province_disaster(province, per, warehouses=2, teams=3)
        setup += disaster.setup
        want.update({e.shelter_id: e.total for e in disaster.setup
                     if e.type == "shelter.headcount_reported"})  # type: ignore[attr-defined]
    assert len(want) >= 20_000
    await produce_many(settings, setup)
    took = await _settled(redis, want, 900)
    print(f"{len(want)} shelters in 38 provinces settled in {took:.1f} s")
    assert worker.alive()
    sizes = await largest_records(settings)
    too_big = {topic: size for topic, size in sizes.items() if size > RECORD_BOUND}
    assert not too_big, too_big
