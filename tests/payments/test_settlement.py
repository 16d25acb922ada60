"""Worked examples: what each kind of settled bill posts, ending in balance assertions."""

from __future__ import annotations

import pytest

from core.money import vnd
from payments import accounts, ledger
from payments.confirmation import apply_report
from payments.errors import BillNotPayable
from payments.providers.base import ProviderSession, ProviderStatus, StatusReport
from payments.settlement import settle_free_bill
from payments.starting import record_provider_session
from tests.payments.factories import HANOI_PROGRAMME, judicial_record_quote, make_bill, make_payment

AGENCY, SERVICE = "HN-STP", "LLTP"


def _pay(db, clock, payment, *, amount=None):
    opened = ProviderSession(f"sbx_{payment.public_id}", "https://pay.test/x", clock.now())
    record_provider_session(db, payment.public_id, opened, clock=clock)
    report = StatusReport(opened.session_id, ProviderStatus.SUCCEEDED, payment.public_id,
                          amount or vnd(payment.amount), payment_ref="pi_1")
    return apply_report(db, payment.public_id, report, cause="test", clock=clock)


def test_a_fully_subsidised_bill_settles_without_a_provider_and_bills_the_programme(db, clock):
    # The level-2 Hà Nội citizen: 200,000 đ judicial-record fee, 100 % paid by Resolution 11/2024.
    bill = make_bill(db, clock, quote=judicial_record_quote(due=0))
    settle_free_bill(db, bill.public_id, clock=clock)
    assert bill.status == "paid" and bill.paid_at == clock.now()
    assert ledger.balance(db, accounts.subsidy_receivable(HANOI_PROGRAMME).code) == vnd(200_000)
    assert ledger.balance(db, accounts.budget_payable(AGENCY).code) == vnd(-200_000)
    assert sum(ledger.trial_balance(db).values()) == 0


def test_settling_a_free_bill_twice_posts_once(db, clock):
    bill = make_bill(db, clock, quote=judicial_record_quote(due=0))
    settle_free_bill(db, bill.public_id, clock=clock)
    settle_free_bill(db, bill.public_id, clock=clock)
    assert ledger.balance(db, accounts.budget_payable(AGENCY).code) == vnd(-200_000)


def test_a_bill_exempt_by_law_settles_and_moves_no_money(db, clock):
    bill = make_bill(db, clock, quote=judicial_record_quote(due=0, base=0))
    settle_free_bill(db, bill.public_id, clock=clock)
    assert bill.status == "paid" and ledger.trial_balance(db) == {}


def test_a_bill_with_an_amount_due_needs_a_payment(db, clock):
    bill = make_bill(db, clock)
    with pytest.raises(BillNotPayable, match="needs a payment"):
        settle_free_bill(db, bill.public_id, clock=clock)


def test_a_paid_le_phi_is_owed_in_full_to_the_budget(db, clock, sandbox):
    payment = make_payment(db, clock, fee_kind="le_phi")
    _pay(db, clock, payment)
    assert ledger.balance(db, accounts.provider_clearing("sandbox").code) == vnd(200_000)
    assert ledger.balance(db, accounts.budget_payable(AGENCY).code) == vnd(-200_000)
    assert ledger.balance(db, accounts.fee_retained(AGENCY, SERVICE).code) == vnd(0)


def test_a_paid_phi_is_split_between_budget_and_agency(db, clock, sandbox):
    # A student pays 100,000 đ of which the agency keeps 80 %; a programme adds 50,000 đ.
    quote = judicial_record_quote(due=100_000, base=150_000)
    payment = make_payment(db, clock, quote=quote, retained_basis_points=8000)
    _pay(db, clock, payment)
    assert ledger.balance(db, accounts.provider_clearing("sandbox").code) == vnd(100_000)
    assert ledger.balance(db, accounts.subsidy_receivable(HANOI_PROGRAMME).code) == vnd(50_000)
    assert ledger.balance(db, accounts.budget_payable(AGENCY).code) == vnd(-30_000)
    assert ledger.balance(db, accounts.fee_retained(AGENCY, SERVICE).code) == vnd(-120_000)
    assert sum(ledger.trial_balance(db).values()) == 0
