"""What the pages and the API read: bill history with filters, payments, refund summaries."""

from __future__ import annotations

import pytest

from core.money import vnd
from payments.errors import PaymentNotFound
from payments.notifications import check_on_return
from payments.queries import bill_history, get_payment, refund_summary
from payments.receipts import issued_receipt
from payments.refunds import request_refund, send_refund
from payments.settlement import settle_free_bill
from tests.payments.factories import judicial_record_quote, make_bill, open_sandbox_payment


def test_a_payers_history_filters_by_status_and_time(db, clock):
    open_bill = make_bill(db, clock, payer_id_hash="p")
    clock.advance(days=2)
    paid = make_bill(db, clock, payer_id_hash="p", quote=judicial_record_quote(due=0))
    settle_free_bill(db, paid.public_id, clock=clock)
    assert [b.id for b in bill_history(db, "p")] == [paid.id, open_bill.id]
    assert [b.id for b in bill_history(db, "p", status="paid")] == [paid.id]
    assert [b.id for b in bill_history(db, "p", until=clock.now())] == [open_bill.id]


def test_the_receipt_names_the_payer_with_a_masked_id(db, clock):
    bill = make_bill(db, clock, quote=judicial_record_quote(due=0), payer_name="Nguyễn Văn A",
                     payer_masked_id="001******789")
    settle_free_bill(db, bill.public_id, clock=clock)
    receipt = issued_receipt(db, bill.id)
    assert (receipt.payer_name, receipt.payer_masked_id) == ("Nguyễn Văn A", "001******789")


def test_a_refund_summary_follows_the_refunds(db, clock, sandbox):
    payment = open_sandbox_payment(db, clock, sandbox)
    assert refund_summary(db, payment).status == "unavailable"
    sandbox.pay(payment.provider_session_id, "4242424242424242")
    check_on_return(db, payment.public_id, clock=clock)
    assert refund_summary(db, payment).amount_available == vnd(200_000)
    refund = request_refund(db, payment.public_id, amount=vnd(200_000), expected_refundable=vnd(200_000),
                            reason="duplicate application", requested_by="f1", clock=clock)
    assert (refund_summary(db, payment).status, refund_summary(db, payment).amount_submitted) == ("pending",
                                                                                                  vnd(200_000))
    send_refund(db, refund.public_id, clock=clock)
    summary = refund_summary(db, payment)
    assert (summary.status, summary.amount_available, summary.amount_refunded) == ("full", vnd(0), vnd(200_000))


def test_an_unknown_payment_is_not_found(db):
    with pytest.raises(PaymentNotFound):
        get_payment(db, "nope")
