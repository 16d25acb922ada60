"""Fixtures for the subsidies tests: a database seeded with the catalogue and the YAML rules."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.clock import VIETNAM, FixedClock
from subsidies.facts import QuoteRequest, decision_instant
from subsidies.seed import seed_catalogue, seed_rules


@pytest.fixture()
def clock():
    """A clock standing at 2024-07-01 09:00 in Vietnam."""
    return FixedClock(datetime(2024, 7, 1, 9, 0, tzinfo=VIETNAM))


@pytest.fixture()
def seeded(db, clock):
    """The test session with the catalogue, funds, categories and published seed rules."""
    seed_catalogue(db)
    seed_rules(db, clock=clock)
    return db


@pytest.fixture()
def hanoi_request():
    """Return a factory of requests by a Hà Nội resident with a level-2 e-ID through VNeID on 2024-07-01."""

    def make(**changes) -> QuoteRequest:
        values = dict(service_code="LLTP", decision_at=decision_instant(datetime(2024, 7, 1, 10, tzinfo=VIETNAM)),
                      channel="VNEID", quantity=1, birthdate=datetime(1994, 3, 1).date(),
                      residence_province_code="01", eid_level=2)
        values.update(changes)
        return QuoteRequest(**values)

    return make
