"""A hypothesis state machine over bills, payments, notifications, refunds and expiries.

After every step: the ledger balances; a bill is paid exactly when one payment succeeded; what the
provider's clearing account holds equals captured minus refunded money; no payment is refunded beyond
what it captured; every paid bill has exactly one valid receipt.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import func, select

from core.money import vnd
from payments import accounts, ledger
from payments.errors import BillNotPayable, PaymentInProgress, ProviderUnavailable, RefundNotAllowed
from payments.expiry import expire_payment
from payments.models.billing import Bill, Payment
from payments.models.receipts import Receipt
from payments.models.refunds import Refund
from payments.notifications import receive_notification, refresh_payment
from payments.providers.sandbox import SIGNATURE_HEADER
from payments.refunds import refundable, request_refund, send_refund
from payments.settlement import settle_free_bill
from tests.payments.factories import judicial_record_quote, make_bill, open_sandbox_payment

CARDS = ["4242424242424242", "4000000000000002", "4000000000000119", "4000000000000259", "4000000000000341"]
CLEARING = accounts.provider_clearing("sandbox").code


def test_the_ledger_balances_after_every_step(db, clock, sandbox):
    _run_payment_machine(db, clock, sandbox, examples=20, steps=20)


@pytest.mark.soak
@pytest.mark.timeout(1800)  # 16,000 steps: over the suite's 300 s on a slow day of the shared machine
def test_the_ledger_balances_over_a_long_random_history(db, clock, sandbox):
    """The same machine for much longer (``make test-all``): rare interleavings get their chance."""
    _run_payment_machine(db, clock, sandbox, examples=400, steps=40)


def _run_payment_machine(db, clock, sandbox, *, examples: int, steps: int) -> None:
    class PaymentMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.savepoint = db.begin_nested()
            self.bills: list[str] = []
            self.payments: list[str] = []
            self.deliveries: list = []

        @rule(due=st.sampled_from([0, 100_000, 200_000]))
        def create_a_bill(self, due):
            bill = make_bill(db, clock, quote=judicial_record_quote(due=due), retained_basis_points=2500)
            self.bills.append(bill.public_id)

        @precondition(lambda self: self.bills)
        @rule(index=st.integers(min_value=0))
        def start_paying(self, index):
            bill = db.scalars(select(Bill).where(Bill.public_id == self.bills[index % len(self.bills)])).one()
            try:
                if bill.amount_due == 0:
                    settle_free_bill(db, bill.public_id, clock=clock)
                else:
                    self.payments.append(open_sandbox_payment(db, clock, sandbox, bill).public_id)
            except (BillNotPayable, PaymentInProgress):
                pass

        @precondition(lambda self: self.payments)
        @rule(index=st.integers(min_value=0), card=st.sampled_from(CARDS))
        def payer_submits_a_card(self, index, card):
            self.deliveries += sandbox.pay(self._payment(index).provider_session_id, card)

        @precondition(lambda self: self.deliveries)
        @rule(index=st.integers(min_value=0), copies=st.integers(min_value=1, max_value=3))
        def a_notification_arrives(self, index, copies):
            delivery = self.deliveries[index % len(self.deliveries)]
            headers = {SIGNATURE_HEADER: sandbox.sign(delivery.body)}  # each delivery attempt is signed anew
            for _ in range(copies):
                received = receive_notification(db, "sandbox", delivery.body, headers, clock=clock)
            session_id = delivery.body.split(b'"session_id":"')[1].split(b'"')[0].decode()
            self._safely(refresh_payment, "sandbox", session_id, cause="notification", clock=clock,
                         provider_event_id=received.event_id)

        @precondition(lambda self: self.payments)
        @rule(index=st.integers(min_value=0), minutes=st.integers(min_value=0, max_value=40))
        def time_passes_and_the_sweeper_runs(self, index, minutes):
            clock.advance(minutes=minutes)
            self._safely(expire_payment, self._payment(index).public_id, clock=clock)

        @precondition(lambda self: self.payments)
        @rule(index=st.integers(min_value=0), share=st.integers(min_value=1, max_value=100))
        def finance_refunds(self, index, share):
            payment = self._payment(index)
            available = refundable(payment)
            amount = max(1, available.amount * share // 100)
            try:
                refund = request_refund(db, payment.public_id, amount=vnd(amount), expected_refundable=available,
                                        reason="test", requested_by="f1", clock=clock)
            except RefundNotAllowed:
                return
            send_refund(db, refund.public_id, clock=clock)

        def _payment(self, index):
            public_id = self.payments[index % len(self.payments)]
            return db.scalars(select(Payment).where(Payment.public_id == public_id)).one()

        def _safely(self, action, *args, **kwargs):
            try:
                action(db, *args, **kwargs)
            except ProviderUnavailable:  # the timeout card: the next query will know
                pass

        @invariant()
        def the_ledger_balances(self):
            assert sum(ledger.trial_balance(db).values()) == 0

        @invariant()
        def clearing_holds_captured_minus_refunded_money(self):
            captured = db.scalar(select(func.coalesce(func.sum(Payment.amount), 0))
                                 .where(Payment.status.in_(["succeeded", "duplicate"])))
            refunded = db.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(Refund.status == "succeeded"))
            assert ledger.balance(db, CLEARING) == vnd(int(captured) - int(refunded))

        @invariant()
        def a_bill_is_paid_once_with_one_receipt(self):
            for bill in db.scalars(select(Bill).where(Bill.public_id.in_(self.bills))):
                successes = db.scalar(select(func.count()).select_from(Payment)
                                      .where(Payment.bill_id == bill.id, Payment.status == "succeeded"))
                assert successes == (1 if bill.status == "paid" and bill.amount_due else 0)
                receipts = db.scalar(select(func.count()).select_from(Receipt)
                                     .where(Receipt.bill_id == bill.id, Receipt.status == "issued"))
                assert receipts <= (1 if bill.status == "paid" else 0)

        def teardown(self):
            self.savepoint.rollback()

    run_state_machine_as_test(PaymentMachine, settings=settings(
        max_examples=examples, stateful_step_count=steps, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
