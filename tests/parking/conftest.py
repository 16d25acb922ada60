"""The parking tests' clock (a fixed afternoon in Hà Nội) and the demo Hà Nội operator with its lots."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.clock import VIETNAM, FixedClock
from parking.lots import operator_by_code, seed_lots

NOW = datetime(2026, 12, 7, 14, 0, tzinfo=VIETNAM).astimezone(UTC)


@pytest.fixture()
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture()
def operator(db, clock):
    seed_lots(db, clock=clock)
    return operator_by_code(db, "HN-PARKING")


@pytest.fixture()
def postgres_only(database_url):
    """Skip on SQLite: the test needs PostgreSQL's concurrent writers."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: concurrent writers (SQLite serialises whole transactions)")
