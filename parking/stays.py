"""A stay's time cut the way a tariff charges it: turns in the day and night bands, or started hours.

Pure functions of two instants, no database. Times are judged in Asia/Ho_Chi_Minh, where the city's
decisions set the bands: day 06:00-18:00, night 18:00-06:00.

* **Turns** (motorbikes, bicycles): one turn per started 24 hours from entry. A turn is ``DAY`` when it
  lies within one day band, ``NIGHT`` within one night band, and ``DAY_NIGHT`` when it crosses from one
  band into the other (a full 24 hours always does): Decision 44/2017 prices such a turn on its own.
* **Hours** (cars): each started hour from entry counts, numbered from 1, so progressive tiers apply to
  the hour's number.
* **Grace**: a stay no longer than the lot's grace (10 minutes unless configured) is not charged: the
  vehicle drove in and out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from core.clock import VIETNAM, ensure_utc

DAY_STARTS, NIGHT_STARTS = time(6), time(18)
DAY, NIGHT, DAY_NIGHT = "DAY", "NIGHT", "DAY_NIGHT"
TURN = timedelta(hours=24)
HOUR = timedelta(hours=1)
DEFAULT_GRACE = timedelta(minutes=10)


class StayRefused(ValueError):
    """A stay that cannot be priced: it ends before it starts."""


@dataclass(frozen=True)
class Turn:
    """One turn of a stay: ``[start, end)`` and its band."""

    start: datetime
    end: datetime
    band: str


@dataclass(frozen=True)
class Hour:
    """One started hour of a stay, numbered from 1: ``[start, end)``."""

    number: int
    start: datetime
    end: datetime


def duration(entered_at: datetime, exited_at: datetime) -> timedelta:
    """How long the vehicle stayed; a stay ending before it started is refused."""
    entered_at, exited_at = ensure_utc(entered_at), ensure_utc(exited_at)
    if exited_at < entered_at:
        raise StayRefused(f"exit {exited_at.isoformat()} is before entry {entered_at.isoformat()}")
    return exited_at - entered_at


def within_grace(entered_at: datetime, exited_at: datetime, grace: timedelta = DEFAULT_GRACE) -> bool:
    """True when the stay is short enough not to be charged."""
    return duration(entered_at, exited_at) <= grace


def turns(entered_at: datetime, exited_at: datetime, grace: timedelta = DEFAULT_GRACE) -> tuple[Turn, ...]:
    """The stay's turns: a full 24 hours each, then the rest; none within the grace."""
    if within_grace(entered_at, exited_at, grace):
        return ()
    entered_at, exited_at = ensure_utc(entered_at), ensure_utc(exited_at)
    found, start = [], entered_at
    while start < exited_at:
        end = min(start + TURN, exited_at)
        found.append(Turn(start, end, band_of(start, end)))
        start = end
    return tuple(found)


def hours(entered_at: datetime, exited_at: datetime, grace: timedelta = DEFAULT_GRACE) -> tuple[Hour, ...]:
    """The stay's started hours, numbered from 1; none within the grace."""
    if within_grace(entered_at, exited_at, grace):
        return ()
    entered_at, exited_at = ensure_utc(entered_at), ensure_utc(exited_at)
    count = -(-(exited_at - entered_at) // HOUR)
    return tuple(Hour(n, entered_at + (n - 1) * HOUR, min(entered_at + n * HOUR, exited_at))
                 for n in range(1, count + 1))


def band_of(start: datetime, end: datetime) -> str:
    """``DAY``, ``NIGHT`` or ``DAY_NIGHT`` for ``[start, end)``: does a band boundary fall inside it?"""
    local_start = ensure_utc(start).astimezone(VIETNAM)
    first_band = DAY if DAY_STARTS <= local_start.time() < NIGHT_STARTS else NIGHT
    return DAY_NIGHT if next_boundary(local_start) < ensure_utc(end) else first_band


def next_boundary(moment: datetime) -> datetime:
    """The first band boundary (06:00 or 18:00 in Hà Nội) strictly after ``moment``."""
    local = ensure_utc(moment).astimezone(VIETNAM)
    for day in (local.date(), local.date() + timedelta(days=1)):
        for boundary in (DAY_STARTS, NIGHT_STARTS):
            candidate = datetime.combine(day, boundary, tzinfo=VIETNAM)
            if candidate > local:
                return candidate
    raise AssertionError("a boundary comes within 24 hours")  # pragma: no cover
