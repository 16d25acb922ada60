"""The parking tests' clock (a fixed afternoon in Hà Nội), the demo Hà Nội operator with its lots, a citizen."""

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
def citizen(db) -> Citizen:
    found = Citizen(issuer="https://idp.example", subject="c-1", personal_id_encrypted=VAULT.encrypt("001094012345"),
                    personal_id_hash=VAULT.lookup_hash("001094012345"), personal_id_masked="0010******45",
                    full_name="Nguyễn Văn An", eid_level=2, created_at=NOW, updated_at=NOW)
    db.add(found)
    db.flush()
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
