"""Helpers for plain-dict (JSON-safe) serialisation of core types."""

from __future__ import annotations

from datetime import UTC, date, datetime

from logistics.errors import InvalidInput


def dt_to_str(value: datetime) -> str:
    """ISO-8601 text of a UTC datetime."""
    return value.isoformat()


def dt_from_str(text: str) -> datetime:
    """Parse ISO-8601 text into a timezone-aware UTC datetime.

    Raises:
        InvalidInput: if the text has no timezone.
    """
    value = datetime.fromisoformat(text)
    return require_utc(value, "datetime")


def require_utc(value: datetime, name: str) -> datetime:
    """Return ``value`` converted to UTC.

    Raises:
        InvalidInput: if ``value`` is naive (no timezone).
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{name} must be timezone-aware (UTC), got naive {value!r}")
    return value.astimezone(UTC)


def date_to_str(value: date | None) -> str | None:
    """ISO-8601 text of a date, or None."""
    return None if value is None else value.isoformat()


def date_from_str(text: str | None) -> date | None:
    """Parse an ISO-8601 date, or None."""
    return None if text is None else date.fromisoformat(text)
