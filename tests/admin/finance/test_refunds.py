"""Refund pages: find a payment, refund part or all of it, stale screens refused, four eyes, ledger reversed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.clock import SYSTEM_CLOCK
from identity.roles import POLICY_EDITOR
from payments import accounts, ledger
from payments.models.refunds import Refund
from payments.notifications import check_on_return
from payments.receipts import issued_receipt
from payments.refunds import send_refund
from tests.admin.finance.support import csrf, text_of
from tests.payments.factories import judicial_record_quote, open_sandbox_payment

BUDGET = accounts.budget_payable("HN-STP").code
REFUNDS = accounts.refunds_payable().code
CLEARING = accounts.provider_clearing("sandbox").code


@pytest.fixture()
def sandbox(registered_sandbox):
    return registered_sandbox


def paid(db, sandbox, amount: int = 200_000):
    """A bill of ``amount`` paid by card through the sandbox (collection posted, receipt issued)."""
    payment = open_sandbox_payment(db, SYSTEM_CLOCK, sandbox, quote=judicial_record_quote(due=amount, base=amount))
    sandbox.pay(payment.provider_session_id, "4242424242424242")
    return check_on_return(db, payment.public_id, clock=SYSTEM_CLOCK)


def page(payment) -> str:
    """The refund page of ``payment``."""
    return f"/admin/finance/refunds/payments/{payment.public_id}"


def ask(client, payment, amount, expected, reason="Hồ sơ không được xử lý"):
    """Post the refund form of ``payment``."""
    return client.post(page(payment), data={"csrf_token": csrf(client, page(payment)), "amount": str(amount),
                                            "expected": str(expected), "reason": reason})


def refund_of(response, db) -> Refund:
    """The refund a successful request redirected to."""
    assert response.status_code == 303, response.get_data(as_text=True)
    return db.scalars(select(Refund).where(Refund.public_id == response.location.rsplit("/", 1)[1])).one()


def test_only_finance_staff_see_refunds_and_only_approvers_approve(app, db, officer, login_as, sandbox):
    assert login_as(POLICY_EDITOR).get("/admin/finance/refunds").status_code == 403
    payment = paid(db, sandbox, 2_000_000)
    waiting = refund_of(ask(officer, payment, 1_500_000, 2_000_000), db)
    refused = officer.post(f"/admin/finance/refunds/{waiting.public_id}/approve",
                           data={"csrf_token": csrf(officer, "/admin/finance/refunds")})
    db.refresh(waiting)
    assert refused.status_code == 403 and waiting.status == "awaiting_approval"


def test_a_payment_is_found_by_its_code_or_the_agency_reference(db, officer, sandbox):
    payment = paid(db, sandbox)
    for query in (payment.public_id.lower(), payment.bill.agency_reference):
        found = text_of(officer.get("/admin/finance/refunds", query_string={"q": query}))
        assert payment.public_id in found and "200,000" in found
    assert "No paid payment has this code" in text_of(officer.get("/admin/finance/refunds?q=GW0000000000"))
    shown = text_of(officer.get(page(payment)))
    assert 'data-refundable="200000"' in shown and "Request the refund" in shown


def test_partial_refunds_never_exceed_what_was_captured_and_reverse_the_ledger(db, officer, sandbox):
    payment = paid(db, sandbox)
    first = refund_of(ask(officer, payment, "50.000", 200_000), db)
    assert first.status == "submitted" and ledger.balance(db, REFUNDS).amount == -50_000
    assert ledger.balance(db, BUDGET).amount == -150_000
    send_refund(db, first.public_id, clock=SYSTEM_CLOCK)
    assert first.status == "succeeded" and ledger.balance(db, REFUNDS).amount == 0
    assert issued_receipt(db, payment.bill_id).amount_paid == 150_000
    too_much = ask(officer, payment, 150_001, 150_000)
    assert too_much.status_code == 409 and "at most what can still be refunded" in text_of(too_much)
    rest = refund_of(ask(officer, payment, 150_000, 150_000), db)
    send_refund(db, rest.public_id, clock=SYSTEM_CLOCK)
    db.refresh(payment)
    assert payment.refunded_amount == payment.amount == 200_000
    assert ledger.balance(db, BUDGET).amount == 0 and ledger.balance(db, CLEARING).amount == 0
    assert issued_receipt(db, payment.bill_id) is None and sum(ledger.trial_balance(db).values()) == 0
    done = text_of(officer.get(page(payment)))
    assert "Nothing more can be refunded from this payment." in done and done.count("refunded") >= 2
    assert ask(officer, payment, 1, 0).status_code == 409


def test_a_stale_refundable_amount_is_refused_with_the_current_one(db, officer, approver, sandbox):
    payment = paid(db, sandbox)
    assert ask(approver, payment, 50_000, 200_000).status_code == 303
    stale = ask(officer, payment, 200_000, 200_000)
    assert stale.status_code == 412
    assert "150,000" in text_of(stale) and "can be refunded now" in text_of(stale)
    assert db.scalars(select(Refund.amount).where(Refund.payment_id == payment.id)).all() == [50_000]


def test_a_missing_reason_or_amount_is_refused(db, officer, sandbox):
    payment = paid(db, sandbox)
    assert ask(officer, payment, 50_000, 200_000, reason=" ").status_code == 422
    unreadable = ask(officer, payment, "năm mươi", 200_000)
    assert unreadable.status_code == 422 and "in whole dong" in text_of(unreadable)


def test_a_large_refund_waits_for_a_second_person(db, officer, approver, sandbox):
    payment = paid(db, sandbox, 2_000_000)
    waiting = refund_of(ask(officer, payment, 1_500_000, 2_000_000), db)
    assert waiting.status == "awaiting_approval" and ledger.balance(db, REFUNDS).amount == 0
    listed = text_of(officer.get("/admin/finance/refunds?status=awaiting_approval"))
    assert "awaiting approval" in listed and "Ngô Thị Thu" in listed
    approved = approver.post(f"/admin/finance/refunds/{waiting.public_id}/approve",
                             data={"csrf_token": csrf(approver, "/admin/finance/refunds")})
    assert approved.status_code == 303
    db.refresh(waiting)
    assert waiting.status == "submitted" and ledger.balance(db, REFUNDS).amount == -1_500_000
    assert "Đặng Văn Phúc" in text_of(officer.get(f"/admin/finance/refunds/{waiting.public_id}"))
    again = approver.post(f"/admin/finance/refunds/{waiting.public_id}/approve",
                          data={"csrf_token": csrf(approver, "/admin/finance/refunds")})
    assert again.status_code == 409 and "This refund is not waiting for approval." in text_of(again)


def test_the_refund_page_shows_its_history_with_who_did_each_step(db, officer, approver, sandbox):
    payment = paid(db, sandbox, 2_000_000)
    waiting = refund_of(ask(officer, payment, 1_500_000, 2_000_000), db)
    approver.post(f"/admin/finance/refunds/{waiting.public_id}/approve",
                  data={"csrf_token": csrf(approver, "/admin/finance/refunds")})
    page = officer.get(f"/admin/finance/refunds/{waiting.public_id}").get_data(as_text=True)
    rows = page.split('data-refund-event="')[1:]
    assert [row.split('"')[0] for row in rows] == ["requested_for_approval", "approved"]
    assert "Ngô Thị Thu" in rows[0] and "Đặng Văn Phúc" in rows[1]


def test_the_requester_cannot_approve_their_own_refund_and_is_told_so(db, approver, sandbox):
    payment = paid(db, sandbox, 2_000_000)
    own = refund_of(ask(approver, payment, 2_000_000, 2_000_000), db)
    refused = approver.post(f"/admin/finance/refunds/{own.public_id}/approve",
                            data={"csrf_token": csrf(approver, "/admin/finance/refunds")})
    assert refused.status_code == 403
    assert "You requested this refund, so another finance approver must approve it." in text_of(refused)
    db.refresh(own)
    assert own.status == "awaiting_approval" and own.approved_by is None
