"""Time, injectable: services take a ``Clock`` so tests can freeze and move it.

Every instant is timezone-aware UTC inside the system; Asia/Ho_Chi_Minh is for display and for
judging calendar dates (effective dates, receipt years), never for storage.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock:
    """The system clock."""

    def now(self) -> datetime:
        """Return the current instant, aware, in UTC."""
        return datetime.now(UTC)

    def today_in_vietnam(self) -> date:
        """Return today's calendar date in Asia/Ho_Chi_Minh."""
        return self.now().astimezone(VIETNAM).date()


class FixedClock(Clock):
    """A clock that stands still until told to move; for tests and simulations."""

    def __init__(self, at: datetime):
        self._at = ensure_utc(at)

    def now(self) -> datetime:
        return self._at

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)`` and return the new instant."""
        self._at += timedelta(**delta)
        return self._at

    def set(self, at: datetime) -> None:
        """Jump to ``at``."""
        self._at = ensure_utc(at)


SYSTEM_CLOCK = Clock()


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` converted to UTC; a naive datetime is a bug, so it is refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: every instant must carry its timezone")
    return value.astimezone(UTC)


def to_vietnam(value: datetime) -> datetime:
    """Return ``value`` shown in Asia/Ho_Chi_Minh."""
    return ensure_utc(value).astimezone(VIETNAM)
