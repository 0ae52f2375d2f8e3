"""Replay cianjur-2022 at full speed into the real broker and read every record back."""

from __future__ import annotations

from collections import Counter

import pytest

from siaga import scenarios
from siaga.catalogue import topic_for_event_type
from siaga.events import decode_event
from siaga.replay import ReplayProgress, replay
from siaga.settings import Settings
from tests.support import consume_all

pytestmark = pytest.mark.integration


async def test_cianjur_replays_at_full_speed_and_reads_back_per_topic(settings: Settings) -> None:
    expected_events = scenarios.build_events(scenarios.load("cianjur-2022"))
    expected: Counter[str] = Counter(
        settings.topic(topic_for_event_type(t.event_type).name) for t in expected_events
    )
    reports: list[ReplayProgress] = []

    stats = await replay(settings, "cianjur-2022", speed=0, progress=reports.append)

    assert stats.events == len(expected_events)
    assert stats.per_topic == dict(expected)
    assert stats.wall_seconds < 60
    assert reports and reports[-1].done and reports[-1].sent == stats.events

    ids_by_topic = {}
    for topic, count in expected.items():
        records = await consume_all(settings, topic, expected=count, timeout=30)
        assert len(records) == count, topic
        assert {r.key for r in records} == {b"32"}
        decoded = [decode_event(r.value) for r in records]
        allowed = {
            m.model_fields["type"].default
            for m in topic_for_event_type(decoded[0].type).event_types  # type: ignore[attr-defined]
        }
        assert {e.type for e in decoded} <= allowed  # type: ignore[attr-defined]
        ids_by_topic[topic] = {e.event_id for e in decoded}
        # one key, so one partition: the province's events arrive in time order
        times = [e.occurred_at for e in decoded]
        assert times == sorted(times), topic
    all_ids = set().union(*ids_by_topic.values())
    assert all_ids == {t.event.event_id for t in expected_events}


async def test_replaying_twice_produces_the_same_event_ids(settings: Settings) -> None:
    await replay(settings, "semeru-2021", speed=0, scale=0.1)
    await replay(settings, "semeru-2021", speed=0, scale=0.1)
    topic = settings.topic("shelters")
    types = [t.event_type for t in scenarios.build_events(scenarios.load("semeru-2021"))]
    expected = len([t for t in types if topic_for_event_type(t).name == "shelters"])
    records = await consume_all(settings, topic, expected=2 * expected, timeout=30)
    assert len(records) == 2 * expected
    ids = Counter(decode_event(r.value).event_id for r in records)
    assert set(ids.values()) == {2}
    assert {r.key for r in records} == {b"35"}


async def test_paced_replay_takes_simulated_time_over_speed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import siaga.replay

    monkeypatch.setattr(siaga.replay, "PROGRESS_EVERY", 0.5)
    reports: list[ReplayProgress] = []
    speed = 100_000.0
    stats = await replay(settings, "semeru-2021", speed=speed, scale=0.1, progress=reports.append)
    floor = stats.simulated_seconds / speed  # ~2.5 s for 69 h of Semeru
    assert floor < stats.wall_seconds < floor + 15
    assert len(reports) >= 3  # progress while waiting, not only at the end
    offsets = [r.offset_seconds for r in reports]
    assert offsets == sorted(offsets)
    assert reports[-1].done and reports[-1].sent == stats.events
