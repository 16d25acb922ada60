"""Provider reports confirm a payment once, under locks, only when amount and reference match."""

from __future__ import annotations

import pytest

from core.money import vnd
from payments import accounts, ledger
from payments.bills import get_bill, requote_bill
from payments.confirmation import ReportOutcome, apply_report
from payments.errors import BillAlreadyPaid, BillNotPayable, PaymentInProgress
from payments.models.billing import PaymentEvent
from payments.providers.base import ProviderSession, ProviderStatus, StatusReport
from payments.starting import record_provider_session
from payments.states import transition
from tests.payments.factories import judicial_record_quote, make_bill, make_payment
from tests.payments.helpers import count

CLEARING = accounts.provider_clearing("sandbox").code


def _submitted(db, clock, bill=None, **overrides):
    payment = make_payment(db, clock, bill, **overrides)
    opened = ProviderSession(f"sbx_{payment.public_id}", "https://pay.test/x", clock.now())
    return record_provider_session(db, payment.public_id, opened, clock=clock)


def _report(payment, status, **changes):
    values = {"session_id": payment.provider_session_id, "status": status, "reference": payment.public_id,
              "amount": vnd(payment.amount)}
    values.update(changes)
    return StatusReport(**values)


def test_a_success_settles_the_bill_and_a_replay_changes_nothing(db, clock, sandbox):
    payment = _submitted(db, clock)
    report = _report(payment, ProviderStatus.SUCCEEDED)
    assert apply_report(db, payment.public_id, report, cause="notification", clock=clock) is ReportOutcome.APPLIED
    assert apply_report(db, payment.public_id, report, cause="notification", clock=clock) is ReportOutcome.IGNORED
    assert payment.status == "succeeded" and payment.bill.status == "paid"
    assert ledger.balance(db, CLEARING) == vnd(200_000)
    assert count(db, PaymentEvent, PaymentEvent.payment_id == payment.id) == 3


@pytest.mark.parametrize("change", [
    {"amount": vnd(199_999)}, {"reference": "someone-else"}, {"session_id": "sbx_other"},
], ids=["amount", "reference", "session"])
def test_a_success_that_does_not_match_is_not_a_success(db, clock, sandbox, change):
    payment = _submitted(db, clock)
    outcome = apply_report(db, payment.public_id, _report(payment, ProviderStatus.SUCCEEDED, **change),
                           cause="notification", clock=clock)
    assert outcome is ReportOutcome.MISMATCH
    assert payment.status == "submitted" and ledger.trial_balance(db) == {}


def test_a_pending_report_changes_nothing(db, clock, sandbox):
    payment = _submitted(db, clock)
    assert apply_report(db, payment.public_id, _report(payment, ProviderStatus.PENDING), cause="query",
                        clock=clock) is ReportOutcome.IGNORED


def test_a_declined_attempt_allows_another_and_the_bill_is_never_paid_twice(db, clock, sandbox):
    first = _submitted(db, clock)
    apply_report(db, first.public_id, _report(first, ProviderStatus.DECLINED, failure_code="card_declined"),
                 cause="notification", clock=clock)
    assert first.status == "declined" and first.failure_code == "card_declined"
    second = _submitted(db, clock, first.bill)
    apply_report(db, second.public_id, _report(second, ProviderStatus.SUCCEEDED), cause="notification", clock=clock)
    assert get_bill(db, first.bill.public_id).status == "paid"
    with pytest.raises(BillAlreadyPaid):
        make_payment(db, clock, first.bill)


def test_a_second_attempt_waits_while_one_is_live(db, clock, sandbox):
    payment = _submitted(db, clock)
    with pytest.raises(PaymentInProgress):
        make_payment(db, clock, payment.bill)


def test_a_late_success_on_an_expired_attempt_wins(db, clock, sandbox):
    payment = _submitted(db, clock)
    transition(db, payment, "expired", cause="expiry", clock=clock)
    apply_report(db, payment.public_id, _report(payment, ProviderStatus.SUCCEEDED), cause="notification", clock=clock)
    assert payment.status == "succeeded" and payment.bill.status == "paid"
    assert ledger.balance(db, CLEARING) == vnd(200_000)


def test_money_taken_twice_for_one_bill_is_owed_back(db, clock, sandbox):
    # The first attempt expired here but the payer completed it at the provider; a second attempt paid too.
    first = _submitted(db, clock)
    transition(db, first, "expired", cause="expiry", clock=clock)
    second = _submitted(db, clock, first.bill)
    apply_report(db, second.public_id, _report(second, ProviderStatus.SUCCEEDED), cause="notification", clock=clock)
    apply_report(db, first.public_id, _report(first, ProviderStatus.SUCCEEDED), cause="notification", clock=clock)
    assert (first.status, second.status) == ("duplicate", "succeeded")
    assert ledger.balance(db, CLEARING) == vnd(400_000)
    assert ledger.balance(db, accounts.refunds_payable().code) == vnd(-200_000)
    assert ledger.balance(db, accounts.budget_payable("HN-STP").code) == vnd(-200_000)


def test_a_free_bill_cannot_be_paid_through_a_provider(db, clock, sandbox):
    bill = make_bill(db, clock, quote=judicial_record_quote(due=0))
    with pytest.raises(BillNotPayable, match="free"):
        make_payment(db, clock, bill)


def test_a_late_success_for_a_bill_requoted_since_is_owed_back(db, clock, sandbox):
    first = _submitted(db, clock)
    transition(db, first, "expired", cause="expiry", clock=clock)
    requote_bill(db, first.bill.public_id, judicial_record_quote(due=100_000), clock=clock)
    apply_report(db, first.public_id, _report(first, ProviderStatus.SUCCEEDED), cause="notification", clock=clock)
    assert first.status == "duplicate" and first.bill.status == "open"
    assert ledger.balance(db, accounts.refunds_payable().code) == vnd(-200_000)
    assert sum(ledger.trial_balance(db).values()) == 0
