"""Refunds never exceed what was captured, guard against stale screens, and reverse the ledger."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from core.errors import PermissionDenied
from core.money import vnd
from payments import accounts, ledger
from payments.errors import RefundAmountStale, RefundNotAllowed
from payments.models.billing import Payment
from payments.models.receipts import Receipt
from payments.notifications import check_on_return
from payments.providers.base import RefundResult
from payments.receipts import issued_receipt
from payments.refunds import approve_refund, reject_refund, request_refund, send_refund
from tests.payments.factories import open_sandbox_payment

CLEARING = accounts.provider_clearing("sandbox").code
BUDGET = accounts.budget_payable("HN-STP").code
REFUNDS = accounts.refunds_payable().code


def _paid(db, clock, sandbox, **bill_overrides):
    payment = open_sandbox_payment(db, clock, sandbox, **bill_overrides)
    sandbox.pay(payment.provider_session_id, "4242424242424242")
    return check_on_return(db, payment.public_id, clock=clock)


def _refund(db, clock, payment, amount, expected, **extra):
    return request_refund(db, payment.public_id, amount=vnd(amount), expected_refundable=vnd(expected),
                          reason="service not delivered", requested_by="finance-1", clock=clock, **extra)


def test_a_partial_refund_is_booked_owed_then_paid_and_the_receipt_replaced(db, clock, sandbox):
    payment = _paid(db, clock, sandbox)
    original = issued_receipt(db, payment.bill_id)
    refund = _refund(db, clock, payment, 50_000, 200_000)
    assert ledger.balance(db, REFUNDS) == vnd(-50_000) and ledger.balance(db, BUDGET) == vnd(-150_000)
    send_refund(db, refund.public_id, clock=clock)
    assert refund.status == "succeeded" and refund.provider_refund_ref.startswith("sbxre_")
    assert ledger.balance(db, CLEARING) == vnd(150_000) and ledger.balance(db, REFUNDS) == vnd(0)
    replacement = issued_receipt(db, payment.bill_id)
    assert original.status == "cancelled" and replacement.replaces_id == original.id
    assert replacement.amount_paid == 150_000 and replacement.number == original.number + 1
    assert sum(ledger.trial_balance(db).values()) == 0


def test_a_full_refund_cancels_the_receipt_without_replacement(db, clock, sandbox):
    payment = _paid(db, clock, sandbox)
    send_refund(db, _refund(db, clock, payment, 200_000, 200_000).public_id, clock=clock)
    assert issued_receipt(db, payment.bill_id) is None
    assert db.scalars(select(Receipt.status).where(Receipt.bill_id == payment.bill_id)).all() == ["cancelled"]
    assert ledger.balance(db, CLEARING) == vnd(0) and ledger.balance(db, BUDGET) == vnd(0)


def test_a_stale_refundable_amount_is_refused(db, clock, sandbox):
    payment = _paid(db, clock, sandbox)
    _refund(db, clock, payment, 50_000, 200_000)
    with pytest.raises(RefundAmountStale) as error:
        _refund(db, clock, payment, 50_000, 200_000)
    assert error.value.code == "refund_amount_stale" and error.value.details == {"amount_available": 150_000}


@pytest.mark.parametrize("amount", [0, 200_001], ids=["zero", "more-than-captured"])
def test_a_refund_outside_what_was_captured_is_refused(db, clock, sandbox, amount):
    payment = _paid(db, clock, sandbox)
    with pytest.raises(RefundNotAllowed):
        _refund(db, clock, payment, amount, 200_000)


def test_an_unpaid_payment_cannot_be_refunded(db, clock, sandbox):
    payment = open_sandbox_payment(db, clock, sandbox)
    with pytest.raises(RefundNotAllowed, match="submitted"):
        _refund(db, clock, payment, 1, 0)


def test_a_large_refund_waits_for_a_second_officer(db, clock, sandbox):
    payment = _paid(db, clock, sandbox)
    refund = _refund(db, clock, payment, 150_000, 200_000, approval_threshold=vnd(100_000))
    assert refund.status == "awaiting_approval" and ledger.balance(db, REFUNDS) == vnd(0)
    with pytest.raises(PermissionDenied):
        approve_refund(db, refund.public_id, approver="finance-1", clock=clock)
    approve_refund(db, refund.public_id, approver="finance-2", clock=clock)
    assert refund.status == "submitted" and ledger.balance(db, REFUNDS) == vnd(-150_000)


def test_refunds_split_under_the_threshold_wait_for_a_second_officer_once_their_total_passes_it(db, clock,
                                                                                                   sandbox):
    payment = _paid(db, clock, sandbox)
    first = _refund(db, clock, payment, 90_000, 200_000, approval_threshold=vnd(100_000))
    second = _refund(db, clock, payment, 90_000, 110_000, approval_threshold=vnd(100_000))
    assert (first.status, second.status) == ("submitted", "awaiting_approval")


def test_a_rejected_refund_frees_its_amount(db, clock, sandbox):
    payment = _paid(db, clock, sandbox)
    refund = _refund(db, clock, payment, 150_000, 200_000, approval_threshold=vnd(100_000))
    reject_refund(db, refund.public_id, approver="finance-2", clock=clock)
    assert refund.status == "rejected" and payment.refunded_amount == 0


def test_a_refund_the_provider_refuses_is_reversed_in_the_ledger(db, clock, sandbox, monkeypatch):
    payment = _paid(db, clock, sandbox)
    refund = _refund(db, clock, payment, 50_000, 200_000)
    monkeypatch.setattr(sandbox, "refund", lambda request: RefundResult("sbxre_x", False, "insufficient_balance"))
    send_refund(db, refund.public_id, clock=clock)
    assert (refund.status, refund.failure_code, payment.refunded_amount) == ("failed", "insufficient_balance", 0)
    assert ledger.balance(db, REFUNDS) == vnd(0) and ledger.balance(db, BUDGET) == vnd(-200_000)


def test_sending_a_refund_twice_pays_once(db, clock, sandbox):
    payment = _paid(db, clock, sandbox)
    refund = _refund(db, clock, payment, 50_000, 200_000)
    send_refund(db, refund.public_id, clock=clock)
    send_refund(db, refund.public_id, clock=clock)
    assert ledger.balance(db, CLEARING) == vnd(150_000)


def test_concurrent_refunds_never_exceed_what_was_captured(postgres_only, committing, clock, sandbox):
    with committing() as session, session.begin():
        payment = _paid(session, clock, sandbox)

    def refund(_):
        with committing() as session, session.begin():
            available = session.scalar(select(Payment.amount - Payment.refunded_amount).where(Payment.id == payment.id))
            try:
                _refund(session, clock, payment, 60_000, available)
                return "ok"
            except (RefundAmountStale, RefundNotAllowed) as error:
                return error.code

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(refund, range(8)))
    with committing() as session:
        refunded = session.scalar(select(Payment.refunded_amount).where(Payment.id == payment.id))
    assert results.count("ok") == refunded // 60_000 <= 3 and refunded <= 200_000
