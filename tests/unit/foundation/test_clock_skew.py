"""An ``occurred_at`` more than five minutes ahead of the receiving clock is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from siaga.events import MAX_CLOCK_SKEW, InvalidRecord, check_not_future, utcnow

NOW = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


def test_the_limit_is_five_minutes() -> None:
    assert MAX_CLOCK_SKEW == timedelta(minutes=5)


@pytest.mark.parametrize(
    "occurred_at",
    [
        NOW,
        NOW - timedelta(days=400),
        NOW + timedelta(minutes=5),  # exactly at the limit: a phone a little fast is fine
        NOW + timedelta(minutes=4, seconds=59),
    ],
)
def test_times_up_to_five_minutes_ahead_are_accepted(occurred_at: datetime) -> None:
    check_not_future(occurred_at, now=NOW)


@pytest.mark.parametrize(
    ("ahead", "said"),
    [
        (timedelta(minutes=5, seconds=1), "5 min 1 s ahead"),
        (timedelta(hours=2), "2 h ahead"),
        (timedelta(days=4, hours=3), "4 d 3 h ahead"),
    ],
)
def test_times_more_than_five_minutes_ahead_are_refused_saying_how_far(
    ahead: timedelta, said: str
) -> None:
    with pytest.raises(InvalidRecord) as caught:
        check_not_future(NOW + ahead, now=NOW)
    reason = caught.value.reason
    assert reason.startswith("occurred_at:")
    assert said in reason
    assert "at most 5 min ahead" in reason
    assert str(caught.value) == reason


def test_an_offset_timezone_is_compared_as_the_same_instant() -> None:
    wib = datetime(2026, 12, 2, 10, 4, tzinfo=timezone(timedelta(hours=7)))
    check_not_future(wib, now=wib.astimezone(UTC) - timedelta(minutes=5))
    with pytest.raises(InvalidRecord):
        check_not_future(wib, now=wib.astimezone(UTC) - timedelta(minutes=6))


def test_naive_times_are_read_as_utc() -> None:
    naive_now = NOW.replace(tzinfo=None)
    check_not_future(NOW + timedelta(minutes=1), now=naive_now)
    with pytest.raises(InvalidRecord):
        check_not_future((NOW + timedelta(minutes=6)).replace(tzinfo=None), now=naive_now)


def test_without_now_the_current_clock_is_used() -> None:
    check_not_future(utcnow() + timedelta(minutes=4))
    with pytest.raises(InvalidRecord, match="^occurred_at:"):
        check_not_future(utcnow() + timedelta(minutes=6))
