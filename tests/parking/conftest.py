"""The parking tests' clock (a fixed afternoon in Hà Nội), the demo Hà Nội operator with its lots, a citizen."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.clock import VIETNAM, FixedClock
from identity.models import Citizen
from identity.personal_data import PersonalIdVault
from parking.lots import operator_by_code, seed_lots

NOW = datetime(2026, 12, 7, 14, 0, tzinfo=VIETNAM).astimezone(UTC)
VAULT = PersonalIdVault(b"k" * 32)


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


@pytest.fixture()
def citizen(db) -> Citizen:
    found = Citizen(issuer="https://idp.example", subject="c-1", personal_id_encrypted=VAULT.encrypt("001094012345"),
                    personal_id_hash=VAULT.lookup_hash("001094012345"), personal_id_masked="0010******45",
                    full_name="Nguyễn Văn An", eid_level=2, created_at=NOW, updated_at=NOW)
    db.add(found)
    db.flush()
    return found
