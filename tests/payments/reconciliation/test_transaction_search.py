"""The finance read services: transaction search by filters and pages, and a payment traced to the ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.clock import FixedClock
from payments.errors import PaymentNotFound
from payments.models.billing import PaymentEvent
from payments.queries_ledger import transaction_detail
from payments.reconciliation.transactions import SearchFilters, filter_choices, search_transactions
from tests.admin.finance.settled import paid_bill, register_sandbox
from tests.admin.finance.support import at_vietnam, payment

DAY = date(2026, 11, 20)


def _codes(db, **filters) -> list[str]:
    page = search_transactions(db, SearchFilters(first=DAY, last=DAY, **filters))
    return [row.code for row in page.rows]


def test_a_payment_belongs_to_the_vietnamese_day_it_finished_or_started(db):
    late = payment(db, amount=100_000, finished_at=at_vietnam(DAY, 23, 30))  # 16:30 UTC, still the 20th
    payment(db, amount=1_000, finished_at=at_vietnam(DAY + timedelta(days=1), 0, 1))  # the next day
    open_one = payment(db, amount=5_000, finished_at=at_vietnam(DAY, 9), status="submitted")
    open_one.finished_at = None  # unfinished: its start (08:58) places it
    db.flush()
    assert _codes(db) == [late.public_id, open_one.public_id]  # newest first


def test_every_filter_narrows_the_search(db):
    card = payment(db, amount=200_000, finished_at=at_vietnam(DAY, 9), service="LLTP", provider="stripe")
    qr = payment(db, amount=25_000, finished_at=at_vietnam(DAY, 10), service="PARKING", provider="vietqr",
                 agency="HCM-STP")
    failed = payment(db, amount=77_000, finished_at=at_vietnam(DAY, 11), status="declined", provider="vnpay")
    assert _codes(db, service="PARKING") == [qr.public_id]
    assert _codes(db, agency="HCM-STP") == [qr.public_id]
    assert _codes(db, provider="vnpay") == [failed.public_id]
    assert _codes(db, status="succeeded") == [qr.public_id, card.public_id]
    assert _codes(db, status="no-such-status") == [failed.public_id, qr.public_id, card.public_id]
    assert _codes(db, min_amount=25_000, max_amount=77_000) == [failed.public_id, qr.public_id]
    assert _codes(db, code=card.public_id) == [card.public_id]
    card.public_id = "GW7K2M9Q4XAB"  # a real payment code: upper case, and typed in any case
    db.flush()
    assert _codes(db, code="gw7k2m") == [card.public_id] and _codes(db, code="GW7K2M9Q4XAB") == [card.public_id]
    assert _codes(db, code="%") == []  # a wildcard is a character, not a pattern
    choices = filter_choices(db)
    assert {"LLTP", "PARKING"} <= set(choices["service"]) and "vietqr" in choices["provider"]


def test_results_come_in_pages(db):
    for minute in range(5):
        payment(db, amount=1_000 + minute, finished_at=at_vietnam(DAY, 8) + timedelta(minutes=minute))
    filters = SearchFilters(first=DAY, last=DAY)
    first = search_transactions(db, filters, page=1, size=2)
    last = search_transactions(db, filters, page=3, size=2)
    assert (first.total, first.pages, first.has_next) == (5, 3, True)
    assert [r.amount for r in first.rows] == [1_004, 1_003] and [r.amount for r in last.rows] == [1_000]
    assert not last.has_next and search_transactions(db, filters, page=9, size=2).number == 3


@pytest.fixture()
def clock():
    """Ten in the morning in Hà Nội on ``DAY``, with the sandbox provider on it."""
    at = FixedClock(datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    with register_sandbox(at):
        yield at


def test_the_drill_down_shows_every_attempt_the_receipt_and_balanced_postings(db, clock):
    paid = paid_bill(db, clock, due=150_000, base=200_000, declined_first=True)
    detail = transaction_detail(db, paid.public_id.lower())
    assert detail.payment.id == paid.id and detail.bill.id == paid.bill_id
    assert [a.payment.status for a in detail.attempts] == ["declined", "succeeded"]
    assert all(isinstance(e, PaymentEvent) for a in detail.attempts for e in a.events)
    assert detail.attempts[1].events[-1].to_status == "succeeded"
    assert [r.amount_paid for r in detail.receipts] == [150_000]
    (entry,) = detail.entries
    sides = {(p.account.code, p.side): p.amount for p in entry.postings}
    assert sides == {("clearing:sandbox", "debit"): 150_000, ("subsidy_receivable:HN-NQ11-2024", "debit"): 50_000,
                     ("budget_payable:HN-STP", "credit"): 200_000}
    assert entry.balanced and detail.debits == detail.credits == 200_000


def test_an_unknown_code_is_not_found(db):
    with pytest.raises(PaymentNotFound):
        transaction_detail(db, "GW0000000000")
