"""What arrives decides: a bank transfer pays its VietQR payment only when exact and in time; anything else is
booked to suspense and held for a finance officer, and a repeated notification changes nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import case, func, select

from agencies.accounts import set_receiving_account
from core.money import vnd
from payments import accounts
from payments.bank_intake import Intake, take_transfer
from payments.bank_transfers import VIETNAM, BankTransfer
from payments.bills import cancel_bill
from payments.expiry import expire_payment
from payments.ledger import balance
from payments.models.bank_transfers import BankTransferRecord
from payments.models.billing import Bill, Payment
from payments.models.ledger import LedgerPosting, LedgerTransaction
from payments.models.receipts import Receipt
from payments.providers import register_provider, unregister_provider
from payments.providers.vietqr import VietQrProvider
from payments.reconciliation.runs import BreakEvent, ReconBreak, ReconRun
from payments.reconciliation.workbench import list_runs
from tests.citizen.agency_support import seed_pricing
from tests.payments.factories import make_payment

ACCOUNT = "0011001234567"


@pytest.fixture()
def postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: ten writers at once (SQLite serialises whole transactions)")
_serial = iter(range(10**6))


@pytest.fixture()
def vietqr(db, clock):
    """The VietQR rail, and the factories' agency (HN-STP) with a receiving account to transfer to."""
    set_receiving_account(db, "HN-STP", bank_bin="970436", account_number=ACCOUNT, holder_name="SO TU PHAP HA NOI",
                          actor="staff:1", clock=clock)
    provider = register_provider(VietQrProvider(base_url="https://pay.test", clock=clock))
    yield provider
    unregister_provider("vietqr")


@pytest.fixture()
def attempt(db, clock, vietqr) -> Payment:
    """An open VietQR attempt for a 200,000 đ judicial-record bill."""
    return make_payment(db, clock, provider="vietqr")


def arrived(code: str | None, amount: int = 200_000, *, clock, connection: str = "vcb", feed_id: str | None = None,
            reference: str | None = None, credit: bool = True, after: timedelta = timedelta(minutes=2)):
    serial = next(_serial)
    memo = f"MBVCB.{serial}.{code}.CT tu 0011004123456 NGUYEN VAN A" if code else "CT tu NGUYEN VAN A"
    return BankTransfer(connection=connection, feed_id=feed_id or f"feed-{serial}", bank="Vietcombank",
                        account_number=ACCOUNT, credit=credit, amount=vnd(amount), booked_at=clock.now() + after,
                        memo=memo, bank_reference=reference or f"MBVCB.{serial}", payment_code=code)


def _status(db, payment: Payment) -> tuple[str, str]:
    db.expire_all()
    return db.get(Payment, payment.id).status, db.get(Bill, payment.bill_id).status


def test_an_exact_transfer_in_time_pays_the_payment_issues_the_receipt_and_books_the_bank(db, clock, attempt):
    taken = take_transfer(db, arrived(attempt.public_id, clock=clock), clock=clock)
    assert (taken.outcome, taken.reason, taken.repeated) == ("paid", "", False)
    assert _status(db, attempt) == ("succeeded", "paid")
    assert db.scalar(select(func.count()).select_from(Receipt).where(Receipt.bill_id == attempt.bill_id)) == 1
    # The bank received the money, and the rail's clearing is square: collected and arrived.
    assert balance(db, accounts.provider_clearing("vietqr").code) == vnd(0)
    assert balance(db, accounts.suspense().code) == vnd(0)


@pytest.mark.parametrize(("amount", "reason"), [(190_000, "amount_short"), (210_000, "amount_over")])
def test_a_transfer_of_another_amount_is_held_in_suspense_and_the_bill_stays_open(db, clock, attempt, amount, reason):
    taken = take_transfer(db, arrived(attempt.public_id, amount, clock=clock), clock=clock)
    assert (taken.outcome, taken.reason) == ("held", reason)
    assert _status(db, attempt) == ("created", "open")
    assert balance(db, accounts.suspense().code) == vnd(-amount)  # a credit balance: money owed onward


def test_a_second_transfer_for_a_paid_bill_is_held_not_a_second_success(db, clock, attempt):
    take_transfer(db, arrived(attempt.public_id, clock=clock), clock=clock)
    taken = take_transfer(db, arrived(attempt.public_id, clock=clock), clock=clock)
    assert (taken.outcome, taken.reason) == ("held", "already_paid")
    assert balance(db, accounts.suspense().code) == vnd(-200_000)


def test_a_transfer_booked_after_the_attempt_expired_is_held_as_late(db, clock, attempt):
    late = attempt.expires_at - clock.now() + timedelta(minutes=1)
    taken = take_transfer(db, arrived(attempt.public_id, clock=clock, after=late), clock=clock)
    assert (taken.outcome, taken.reason) == ("held", "late")
    assert _status(db, attempt) == ("created", "open")



def test_a_transfer_booked_in_time_but_reported_after_the_sweeper_expired_the_attempt_still_pays(db, clock,
                                                                                                  attempt):
    transfer = arrived(attempt.public_id, clock=clock, after=timedelta(minutes=5))  # booked at 10:05
    clock.advance(minutes=31)  # the feed was down; the sweeper expired the attempt at 10:30
    assert expire_payment(db, attempt.public_id, clock=clock) == "expired"
    taken = take_transfer(db, transfer, clock=clock)
    assert (taken.outcome, taken.reason) == ("paid", "")
    assert _status(db, attempt) == ("succeeded", "paid")

def test_a_transfer_to_a_cancelled_bill_is_held(db, clock, vietqr):
    payment = make_payment(db, clock, provider="vietqr")
    db.get(Payment, payment.id).status = "cancelled"  # the attempt ended; the bill was cancelled after it
    db.flush()
    cancel_bill(db, db.get(Bill, payment.bill_id).public_id, actor="staff:1", clock=clock)
    taken = take_transfer(db, arrived(payment.public_id, clock=clock), clock=clock)
    assert (taken.outcome, taken.reason) == ("held", "bill_cancelled")


def test_a_transfer_without_our_code_or_with_an_unknown_one_is_held(db, clock, attempt):
    assert take_transfer(db, arrived(None, clock=clock), clock=clock).reason == "no_code"
    assert take_transfer(db, arrived("GW0000000000", clock=clock), clock=clock).reason == "unknown_code"
    assert _status(db, attempt) == ("created", "open")


def test_a_transfer_naming_a_card_payment_is_held(db, clock, sandbox):
    card = make_payment(db, clock)
    assert take_transfer(db, arrived(card.public_id, clock=clock), clock=clock).reason == "not_a_transfer_payment"


def test_a_debit_on_the_account_is_recorded_and_books_nothing(db, clock, attempt):
    before = db.scalar(select(func.count()).select_from(LedgerTransaction))
    taken = take_transfer(db, arrived(attempt.public_id, clock=clock, credit=False), clock=clock)
    assert taken.outcome == "not_a_credit"
    assert db.scalar(select(func.count()).select_from(LedgerTransaction)) == before
    assert _status(db, attempt) == ("created", "open")


def test_a_retried_delivery_and_a_second_feed_naming_the_same_bank_reference_change_nothing(db, clock, attempt):
    first = arrived(attempt.public_id, clock=clock, feed_id="92704", reference="MBVCB.3278907687")
    take_transfer(db, first, clock=clock)
    postings = db.scalar(select(func.count()).select_from(LedgerTransaction))
    again = take_transfer(db, first, clock=clock)
    other_feed = take_transfer(db, arrived(attempt.public_id, clock=clock, connection="aggregator", feed_id="1",
                                           reference="MBVCB.3278907687"), clock=clock)
    assert (again.outcome, again.repeated) == ("paid", True) and (other_feed.outcome, other_feed.repeated) == (
        "paid", True)
    assert db.scalar(select(func.count()).select_from(LedgerTransaction)) == postings
    assert db.scalar(select(func.count()).select_from(BankTransferRecord)) == 1


def test_a_held_transfer_opens_a_break_a_statement_run_would_open_for_the_same_line(db, clock, attempt):
    take_transfer(db, arrived(attempt.public_id, 190_000, clock=clock), clock=clock)
    take_transfer(db, arrived(None, 50_000, clock=clock, reference="FT26341XYZ"), clock=clock)
    found = {(b.kind, b.key, b.our_amount, b.their_amount) for b in db.scalars(
        select(ReconBreak).where(ReconBreak.scope == f"bank:{ACCOUNT}"))}
    day = (clock.now() + timedelta(minutes=2)).astimezone(VIETNAM).date().isoformat()
    short_line = next(r for r in db.scalars(select(BankTransferRecord)) if r.amount == 190_000).bank_reference
    assert found == {("missing_internally", f"line:{short_line}|{day}|190000", None, 190_000),
                     ("missing_internally", f"line:FT26341XYZ|{day}|50000", None, 50_000)}
    notes = set(db.scalars(select(BreakEvent.note).where(BreakEvent.note.startswith("held_by_bank_feed"))))
    assert notes == {f"held_by_bank_feed: amount_short, {attempt.public_id}", "held_by_bank_feed: no_code, -"}
    assert all(run.rule_version == "bank-feed" for run in db.scalars(select(ReconRun)))
    assert list_runs(db) == []  # the feed's runs are not runs an officer signs off


def test_ten_concurrent_deliveries_of_one_transfer_pay_once_with_one_posting(postgres_only, committed_db, clock):
    factory = committed_db
    with factory() as session, session.begin():
        seed_pricing(session)
        set_receiving_account(session, "HN-STP", bank_bin="970436", account_number=ACCOUNT,
                              holder_name="SO TU PHAP HA NOI", actor="staff:1", clock=clock)
        register_provider(VietQrProvider(base_url="https://pay.test", clock=clock))
        code = make_payment(session, clock, provider="vietqr").public_id
    transfer = arrived(code, clock=clock, feed_id="sepay-1", reference="MBVCB.1")

    def deliver(_) -> Intake:
        with factory() as session, session.begin():
            return take_transfer(session, transfer, clock=clock)

    try:
        with ThreadPoolExecutor(10) as pool:
            answers = list(pool.map(deliver, range(10)))
    finally:
        unregister_provider("vietqr")
    assert sorted(a.repeated for a in answers) == [False] + [True] * 9 and {a.outcome for a in answers} == {"paid"}
    with factory() as session:
        bank = select(func.count()).select_from(LedgerTransaction).where(LedgerTransaction.kind == "bank_transfer")
        assert session.scalar(bank) == 1
        assert session.scalar(select(Payment.status).where(Payment.public_id == code)) == "succeeded"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(["webhook", "retry", "second_feed", "short", "after_paid"]))
def test_in_any_order_of_deliveries_the_bill_is_paid_once_with_one_receipt_and_a_balanced_ledger(db, clock, vietqr,
                                                                                               order):
    savepoint = db.begin_nested()
    try:
        payment = make_payment(db, clock, provider="vietqr")
        exact = arrived(payment.public_id, clock=clock, feed_id="sepay-9", reference="MBVCB.9")
        deliveries = {"webhook": exact, "retry": exact,
                      "second_feed": arrived(payment.public_id, clock=clock, connection="aggregator",
                                             feed_id="agg-9", reference="MBVCB.9"),
                      "short": arrived(payment.public_id, 150_000, clock=clock),
                      "after_paid": arrived(payment.public_id, clock=clock)}
        taken = [take_transfer(db, deliveries[name], clock=clock) for name in order]
        assert _status(db, payment) == ("succeeded", "paid")
        assert db.scalar(select(func.count()).select_from(Receipt).where(Receipt.bill_id == payment.bill_id)) == 1
        assert sum(t.outcome == "paid" and not t.repeated for t in taken) == 1
        signed = case((LedgerPosting.side == "debit", LedgerPosting.amount), else_=-LedgerPosting.amount)
        assert db.scalar(select(func.sum(signed))) == 0  # debits and credits of every transaction cancel
        # What the bank received is on the account: the exact transfer once, and the two it holds for an officer.
        assert balance(db, accounts.suspense().code) == vnd(-350_000)
    finally:
        savepoint.rollback()
