from datetime import UTC, datetime

import pytest

from core.clock import FixedClock, ensure_utc, to_vietnam


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        ensure_utc(datetime(2026, 1, 1))


def test_fixed_clock_moves_only_when_told():
    clock = FixedClock(datetime(2026, 12, 31, 16, 59, tzinfo=UTC))
    assert clock.now() == clock.now()
    assert clock.today_in_vietnam().isoformat() == "2026-12-31"
    clock.advance(minutes=1)
    # 17:00 UTC is midnight in Hanoi: the calendar date there has turned.
    assert clock.today_in_vietnam().isoformat() == "2027-01-01"


def test_vietnam_time_is_utc_plus_seven():
    shown = to_vietnam(datetime(2026, 11, 29, 6, 0, tzinfo=UTC))
    assert (shown.hour, shown.utcoffset().total_seconds()) == (13, 7 * 3600)
