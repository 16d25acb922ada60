"""In any order of the bank feed's reports, the statement's run and the payment sweeper, a VietQR payment
ends the same: paid once, one receipt, the money booked once where it belongs, one break for what is held.

Feeds are late, retried or down for a day, statements arrive days later and sometimes before the feed
catches up, and the sweeper expires attempts on its own clock: the outcome must not depend on which came
first.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import case, func, select

from agencies.accounts import set_receiving_account
from core.clock import FixedClock
from core.money import vnd
from payments import accounts, expiry
from payments.bank_intake import take_transfer
from payments.bank_transfers import BankTransfer
from payments.ledger import balance
from payments.models.billing import Bill, Payment
from payments.models.ledger import LedgerPosting
from payments.models.receipts import Receipt
from payments.providers import register_provider, registered_providers, unregister_provider
from payments.providers.vietqr import VietQrProvider
from payments.reconciliation.imports import import_report
from payments.remittance_rules import statement_ledger_account
from tests.payments.factories import judicial_record_quote, make_payment
from tests.payments.reconciliation.test_rail_day_runs import (
    ACCOUNT,
    BANK_SCOPE,
    DAY,
    Movement,
    at,
    live_breaks,
    run_as_finance_does,
    sao_ke,
)

STEPS = ("feed", "feed_retry", "short_feed", "statement", "sweep")


@pytest.fixture()
def vietqr(db):
    clock = FixedClock(at(DAY, 9))
    set_receiving_account(db, "HN-STP", bank_bin="970436", account_number=ACCOUNT, holder_name="SO TU PHAP HA NOI",
                          actor="staff:1", clock=clock)
    earlier = registered_providers().get("vietqr")
    register_provider(VietQrProvider(base_url="https://pay.test", clock=clock))
    yield clock
    unregister_provider("vietqr")
    if earlier is not None:
        register_provider(earlier)


def _reported(movement: Movement, booked_at, code: str) -> BankTransfer:
    return BankTransfer(connection="vcb", feed_id=movement.reference, bank="Vietcombank", account_number=ACCOUNT,
                        credit=True, amount=vnd(movement.amount), booked_at=booked_at, memo=movement.text,
                        bank_reference=movement.reference, payment_code=code)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(STEPS), serial=st.integers(min_value=10_000, max_value=99_999))
def test_in_any_order_the_payment_is_paid_once_and_the_money_booked_once(db, vietqr, order, serial):
    clock = vietqr
    savepoint = db.begin_nested()
    try:
        clock.set(at(DAY, 9))
        payment = make_payment(db, clock, provider="vietqr", quote=judicial_record_quote(due=200_000, base=200_000))
        code = payment.public_id
        exact = Movement(DAY, f"FT{serial}1", 200_000, f"MBVCB.{serial}.{code}.CT tu NGUYEN VAN A")
        short = Movement(DAY, f"FT{serial}2", 150_000, f"MBVCB.{serial}.{code}.CT tu NGUYEN VAN A")

        def later(moment):
            clock.set(max(clock.now(), moment))

        def feed(movement: Movement, minutes: int):
            later(at(DAY, 9, minutes + 1))
            take_transfer(db, _reported(movement, at(DAY, 9, minutes), code), clock=clock)

        def statement():
            import_report(db, sao_ke([exact, short]), "vn_bank", filename=f"sao-ke-{serial}.csv",
                          imported_by="staff:1", clock=clock)
            run_as_finance_does(db, BANK_SCOPE, clock)

        def sweep():
            later(at(DAY, 9, 31))  # the attempt expired at 09:30
            for stale in expiry.stale_payment_ids(db, clock=clock):
                expiry.expire_payment(db, stale, clock=clock)

        steps = {"feed": lambda: feed(exact, 5), "feed_retry": lambda: feed(exact, 5),
                 "short_feed": lambda: feed(short, 10), "statement": statement, "sweep": sweep}
        for name in order:
            steps[name]()
        run_as_finance_does(db, BANK_SCOPE, clock)  # finance runs the day again once everything has arrived
        db.expire_all()
        assert db.scalar(select(Payment.status).where(Payment.public_id == code)) == "succeeded"
        assert db.scalar(select(Bill.status).where(Bill.id == payment.bill_id)) == "paid"
        assert db.scalar(select(func.count()).select_from(Receipt).where(Receipt.bill_id == payment.bill_id)) == 1
        signed = case((LedgerPosting.side == "debit", LedgerPosting.amount), else_=-LedgerPosting.amount)
        assert db.scalar(select(func.sum(signed))) == 0
        # The account got 350,000 đ once; the rail's clearing is square; the short transfer waits in suspense.
        assert balance(db, statement_ledger_account(ACCOUNT).code) == vnd(350_000)
        assert balance(db, accounts.provider_clearing("vietqr").code) == vnd(0)
        assert balance(db, accounts.suspense().code) == vnd(-150_000)
        assert live_breaks(db, BANK_SCOPE) == {("missing_internally", short.key)}
    finally:
        savepoint.rollback()
        db.expunge_all()  # the rolled-back rows' ids come again in the next example
        clock.set(at(DAY, 9))
