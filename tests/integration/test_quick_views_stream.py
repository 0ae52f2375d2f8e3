"""A command post's report shows at once, and the re-plan that includes it replaces it.

Real broker, worker and Redis: a province of 300 shelters is set up; then every shelter
reports a new headcount in one burst. Each new total must appear in the read model first as
a quick view (``plan_pending``, the last plan's figures), and in the end every shelter shows
the plan made from its newest report (no ``plan_pending``, needs grown with the headcount).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis

from siaga import events as ev
from siaga import readmodel
from siaga.local import ManagedProcess
from siaga.readmodel import FEED
from siaga.settings import Settings
from siaga.synthetic import province_disaster
from tests.support import produce_events, wait_until

pytestmark = pytest.mark.integration

SHELTERS = 300


async def _views(redis: Redis, ids: list[str]) -> dict[str, Any]:
    return await readmodel.get_entities(redis, "shelter", ids, province_code="32")


def _id(entry_id: bytes) -> tuple[int, int]:
    """A Redis stream entry id, ordered as Redis orders them."""
    ms, _, seq = entry_id.decode().partition("-")
    return int(ms), int(seq or 0)


@pytest.mark.timeout(600)
async def test_a_burst_of_headcounts_shows_at_once_then_the_plan_replaces_each_quick_view(
    settings: Settings, redis: Redis, worker: ManagedProcess
) -> None:
    disaster = province_disaster("32", SHELTERS, warehouses=4, teams=6,
                                 tag="qv")
    await produce_events(settings, disaster.setup)
    first = {e.shelter_id: e.total for e in disaster.setup
             if isinstance(e, ev.ShelterHeadcountReported)}
    ids = sorted(first)

    async def planned(want: dict[str, int]) -> bool:
        views = await _views(redis, ids)
        return all(v and (v.get("headcount") or {}).get("total") == want[s]
                   and not v.get("plan_pending") and v["needs"] for s, v in views.items())

    await wait_until(lambda: planned(first), timeout=240, interval=0.5)
    before = await _views(redis, ids)
    last_id = (await redis.xinfo_stream(FEED))["last-generated-id"]

    # every shelter reports twice as many people
    now = datetime.now(UTC)
    burst = [
        h.model_copy(update={
            "event_id": uuid.uuid4(), "occurred_at": now,
            **{g: getattr(h, g) * 2 for g in ("total", "infants", "children", "elderly",
                                               "pregnant_lactating", "disabled")},
        })
        for h in disaster.setup if isinstance(h, ev.ShelterHeadcountReported)
    ]
    want = {h.shelter_id: h.total for h in burst}
    assert len(want) == SHELTERS
    await produce_events(settings, burst)
    await wait_until(lambda: planned(want), timeout=300, interval=0.5)

    # what the feed carried for these shelters, in order: before the burst (every view shown,
    # plans of the set-up included — one may land after `before` was read), then after it
    shown_quick: set[str] = set()
    first_frame: dict[str, dict[str, Any]] = {}
    needs_shown_before: dict[str, list[Any]] = {}
    entries = await redis.xrange(FEED, min="-", count=10**6)
    for entry_id, fields in entries:
        if fields[b"entity"] != b"shelter" or fields.get(b"deleted") == b"1":
            continue
        data = json.loads(fields[b"json"])
        sid = data["shelter_id"]
        if sid not in want:
            continue
        if _id(entry_id) <= _id(last_id) or data["headcount"]["total"] != want[sid]:
            if sid not in first_frame:
                needs_shown_before.setdefault(sid, []).append(data["needs"])
            continue
        first_frame.setdefault(sid, data)
        if data.get("plan_pending"):
            shown_quick.add(sid)
    # each new total was shown first by its quick view, with the needs of a plan shown before
    # it (made from the set-up's headcounts), not yet the needs of the doubled headcount
    assert set(first_frame) == set(want)
    quick_first = [s for s, d in first_frame.items() if d.get("plan_pending")]
    assert len(quick_first) == SHELTERS, f"{SHELTERS - len(quick_first)} shown only by a plan"
    stale = [s for s in quick_first if first_frame[s]["needs"] not in needs_shown_before[s]]
    assert not stale, f"quick views with needs no earlier plan showed: {stale[:5]}"
    assert all(before[s]["needs"] in needs_shown_before[s] for s in ids)
    # and the plan's view replaced every one: needs computed from the doubled headcount
    after = await _views(redis, ids)
    grew = sum(
        1 for s in ids
        if sum(n["need"] for n in after[s]["needs"]) > sum(n["need"] for n in before[s]["needs"])
    )
    assert grew == SHELTERS
    assert not any(v.get("plan_pending") for v in after.values())
