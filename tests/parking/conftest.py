"""The parking tests' clock (a fixed afternoon in Hà Nội), the demo Hà Nội operator with its lots (also committed,
for the concurrency tests), a citizen."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.clock import VIETNAM, FixedClock
from core.money import vnd
from identity.models import Citizen
from identity.personal_data import PersonalIdVault
from parking.lots import operator_by_code, seed_lots
from payments.confirmation import apply_report
from payments.providers.base import ProviderSession, ProviderStatus, StatusReport
from payments.starting import record_provider_session
from tests.payments.factories import make_payment

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
def committed_operator(committed_db, clock):
    """A session factory that really commits, with the demo lots committed (tables emptied afterwards)."""
    with committed_db() as session, session.begin():
        seed_lots(session, clock=clock)
    yield committed_db


@pytest.fixture()
def citizen(db) -> Citizen:
    return add_citizen(db)


def add_citizen(session, subject: str = "c-1", personal_id: str = "001094012345",
                full_name: str = "Nguyễn Văn An") -> Citizen:
    """Add a level-2 e-ID citizen (``subject`` of the stand-in issuer) to ``session``."""
    found = Citizen(issuer="https://idp.example", subject=subject, personal_id_encrypted=VAULT.encrypt(personal_id),
                    personal_id_hash=VAULT.lookup_hash(personal_id),
                    personal_id_masked=personal_id[:4] + "******" + personal_id[-2:],
                    full_name=full_name, eid_level=2, created_at=NOW, updated_at=NOW)
    session.add(found)
    session.flush()
    return found


def pay_bill(db, bill, clock) -> None:
    """Pay ``bill`` in full as its provider's success report would (needs a registered sandbox provider)."""
    payment = make_payment(db, clock, bill)
    payment = record_provider_session(db, payment.public_id,
                                      ProviderSession(f"sbx_{payment.public_id}", "https://pay.test/x", clock.now()),
                                      clock=clock)
    apply_report(db, payment.public_id, StatusReport(payment.provider_session_id, ProviderStatus.SUCCEEDED,
                                                     payment.public_id, vnd(payment.amount)),
                 cause="notification", clock=clock)
