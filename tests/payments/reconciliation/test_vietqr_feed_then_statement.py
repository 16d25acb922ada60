"""A transfer the bank feed reported and the statement then carries is one transfer: booked once, one break."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from agencies.accounts import set_receiving_account
from core.money import vnd
from payments import ledger
from payments.bank_intake import take_transfer
from payments.bank_transfers import BankTransfer
from payments.models.ledger import LedgerTransaction
from payments.providers import register_provider, unregister_provider
from payments.providers.vietqr import VietQrProvider
from payments.reconciliation.matching import ExpectedItem
from payments.reconciliation.runs import ReconBreak
from tests.payments.factories import judicial_record_quote, make_payment
from tests.payments.reconciliation.bank_flow import BANK, CLOCK, SUSPENSE, bank, run
from tests.payments.reconciliation.test_bank import ACCOUNT

DAY = date(2026, 12, 3)


@pytest.fixture()
def vietqr(db):
    set_receiving_account(db, "HN-STP", bank_bin="970436", account_number=ACCOUNT, holder_name="SO TU PHAP HA NOI",
                          actor="staff:1", clock=CLOCK)
    register_provider(VietQrProvider(base_url="https://pay.test", clock=CLOCK))
    yield
    unregister_provider("vietqr")


def _attempt(db, amount: int) -> str:
    payment = make_payment(db, CLOCK, provider="vietqr", quote=judicial_record_quote(due=amount, base=amount))
    payment.expires_at = datetime(2026, 12, 31, tzinfo=UTC)  # open on the statement's day
    return payment.public_id


def _reported(db, code: str, amount: int, reference: str) -> str:
    return take_transfer(db, BankTransfer(
        connection="vcb", feed_id=reference, bank="Vietcombank", account_number=ACCOUNT, credit=True,
        amount=vnd(amount), booked_at=datetime(2026, 12, 3, 3, 0, tzinfo=UTC), memo=f"NOP PHI {code}",
        bank_reference=reference, payment_code=code), clock=CLOCK).outcome


def test_the_statement_run_keeps_the_feeds_break_and_books_nothing_twice(db, vietqr):
    paid, short = _attempt(db, 150_000), _attempt(db, 200_000)
    # The statement numbers its lines FT00001, FT00002: the references the feed reported them with.
    assert (_reported(db, paid, 150_000, "FT00001"), _reported(db, short, 190_000, "FT00002")) == ("paid", "held")
    assert db.scalar(select(func.count()).select_from(ReconBreak)) == 1
    booked = db.scalar(select(func.count()).select_from(LedgerTransaction))
    bank(db, ("03/12/2026", 150_000, f"NOP PHI {paid}"), ("03/12/2026", 190_000, f"NOP PHI {short}"))
    run(db, start=DAY, end=DAY, items=[ExpectedItem(paid, 150_000, "VND", "succeeded", DAY)])
    assert db.scalar(select(func.count()).select_from(LedgerTransaction)) == booked
    assert ledger.balance(db, BANK) == vnd(340_000) and ledger.balance(db, SUSPENSE) == vnd(-190_000)
    breaks = db.scalars(select(ReconBreak).where(ReconBreak.status.in_(("open", "investigating")))).all()
    assert [(b.kind, b.key) for b in breaks] == [("missing_internally", "line:FT00002|2026-12-03|190000")]
    assert db.scalar(select(func.count()).select_from(ReconBreak)) == 1  # the feed's, kept by the run
