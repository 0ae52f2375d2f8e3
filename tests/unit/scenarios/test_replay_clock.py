"""A replay on today's clock never stamps the future: sent at once, its last event is now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from siaga import events as ev
from siaga import scenarios

NAMES = scenarios.available()


@pytest.mark.parametrize("name", NAMES)
def test_ends_at_puts_the_last_event_at_that_time_and_keeps_offsets(name: str) -> None:
    scenario = scenarios.load(name)
    real = scenarios.build_events(scenario)
    end = datetime(2026, 12, 1, 20, 0, 0, tzinfo=UTC)
    live = scenarios.build_events(scenario, ends_at=end)
    assert max(t.event.occurred_at for t in live) == end
    assert live[-1].event.occurred_at == end
    shift = live[-1].event.occurred_at - real[-1].event.occurred_at
    for a, b in zip(real, live, strict=True):
        assert b.event.occurred_at - a.event.occurred_at == shift  # same gaps as the real one
        assert a.event.event_id == b.event.event_id


def test_ends_at_now_leaves_nothing_in_the_future() -> None:
    scenario = scenarios.load("cianjur-2022")
    now = ev.utcnow()
    for item in scenarios.build_events(scenario, ends_at=now):
        ev.check_not_future(item.event.occurred_at, now=now)
        assert item.event.occurred_at <= now


def test_ends_at_moves_expiry_dates_by_the_days_the_onset_moved() -> None:
    scenario = scenarios.load("cianjur-2022")
    real = scenarios.build_events(scenario)
    live = scenarios.build_events(scenario, ends_at=ev.utcnow())
    onset = live[0].event.occurred_at - timedelta(seconds=live[0].offset_seconds)
    shift = (onset.date() - scenario.onset.date()).days
    checked = 0
    for a, b in zip(real, live, strict=True):
        if isinstance(a.event, ev.StockLevelReported) and a.event.expires_on is not None:
            assert isinstance(b.event, ev.StockLevelReported) and b.event.expires_on is not None
            assert (b.event.expires_on - a.event.expires_on).days == shift
            checked += 1
    assert checked


def test_onset_and_ends_at_together_are_refused() -> None:
    scenario = scenarios.load("semeru-2021")
    now = ev.utcnow()
    with pytest.raises(ValueError, match="not both"):
        scenarios.build_events(scenario, onset=now, ends_at=now)
    with pytest.raises(ValueError, match="timezone"):
        scenarios.build_events(scenario, ends_at=now.replace(tzinfo=None))
