"""`siaga replay --now` never stamps the future, read back from the real broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from siaga import scenarios
from siaga.catalogue import topic_for_event_type
from siaga.events import decode_event, utcnow
from siaga.replay import replay
from siaga.settings import Settings
from tests.support import consume_all

pytestmark = pytest.mark.e2e

NAME = "semeru-2021"  # about 2.9 days from onset to its last event


async def _read_back(settings: Settings) -> list[tuple[datetime, datetime]]:
    """(occurred_at, the record's timestamp = when the producer sent it) for every record."""
    timed = scenarios.build_events(scenarios.load(NAME))
    counts: dict[str, int] = {}
    for item in timed:
        topic = settings.topic(topic_for_event_type(item.event_type).name)
        counts[topic] = counts.get(topic, 0) + 1
    out = []
    for topic, count in counts.items():
        records = await consume_all(settings, topic, expected=count, timeout=30)
        assert len(records) == count, topic
        for record in records:
            sent = datetime.fromtimestamp(record.timestamp / 1000, tz=UTC)
            out.append((decode_event(record.value).occurred_at, sent))
    assert len(out) == len(timed)
    return out


async def test_replay_now_at_a_finite_speed_stamps_no_event_after_it_was_sent(
    settings: Settings,
) -> None:
    # 60,000x: the scenario clock runs days ahead of the wall clock within seconds
    before = utcnow()
    stats = await replay(settings, NAME, speed=60_000, scale=0.1, realtime_base=True)
    after = utcnow()
    assert stats.wall_seconds > 3  # it really was paced
    stamps = await _read_back(settings)
    for occurred_at, sent in stamps:
        # the record timestamp is in whole milliseconds, taken right after the stamp
        assert occurred_at <= sent + timedelta(milliseconds=50), (occurred_at, sent)
        assert occurred_at <= after
    # the onset is the start of the replay; the baseline before it lies in the past
    assert max(o for o, _ in stamps) >= before
    assert min(o for o, _ in stamps) < before - timedelta(hours=12)
    times = sorted(o for o, _ in stamps)
    assert stats.last_occurred_at == times[-1]


async def test_replay_now_all_at_once_ends_the_timeline_now(settings: Settings) -> None:
    before = utcnow()
    stats = await replay(settings, NAME, speed=0, scale=0.1, realtime_base=True)
    after = utcnow()
    stamps = await _read_back(settings)
    latest = max(o for o, _ in stamps)
    assert before <= latest <= after  # the last event is "now", not days ahead
    for occurred_at, sent in stamps:
        assert occurred_at <= sent + timedelta(milliseconds=50)
    earliest = min(o for o, _ in stamps)
    real = scenarios.build_events(scenarios.load(NAME))
    assert latest - earliest == real[-1].event.occurred_at - real[0].event.occurred_at
    assert stats.last_occurred_at == latest
