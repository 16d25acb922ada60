"""Settling a bill: marking it paid and posting the collection to the ledger, exactly once.

Design overview
---------------
A settled bill of base amount B (the fee before programme subsidies) posts one balanced transaction:

    debit  clearing:{provider}                 what the payer paid (absent for a 0 đ bill)
    debit  subsidy_receivable:{programme}      each programme's share
    credit budget_payable:{agency}             B minus the retained share
    credit fee_retained:{agency}:{service}     the agency's share of a phí (0 for a lệ phí)

Its external id is ``bill:<public id>:settled``, so a bill posts its collection once whatever happens.
The e-receipt is issued in the same transaction (Decree 123/2020: at the time of collection).
Money captured for a bill that another payment already paid is owed back: clearing against
``refunds_payable`` (``payment:<public id>:duplicate``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.clock import Clock
from core.money import Money
from payments import accounts, ledger
from payments import agency_callbacks as callbacks
from payments.bill_states import BillStatus, transition_bill
from payments.bills import live_payment, lock_bill
from payments.errors import BillNotPayable, PaymentInProgress
from payments.ledger import Leg, credit, debit
from payments.models.billing import Bill, Payment
from payments.models.receipts import Receipt
from payments.receipts import issue_settlement_receipt
from subsidies import quotes as subsidy_quotes
from subsidies.errors import QuoteNotFound, QuoteNotOpen

SOURCE = "payments"


def collection_legs(bill: Bill, *, paid: Money, provider: str | None) -> list[Leg]:
    """Return the legs that record collecting ``bill``: ``paid`` through ``provider``, subsidies, the split."""
    base = Money(bill.base_amount, bill.currency)
    retained = accounts.retained_share(base, bill.fee_kind, bill.retained_basis_points)
    legs = [debit(accounts.provider_clearing(provider), paid)] if provider else []
    legs += [debit(accounts.subsidy_receivable(line["programme"]), Money(line["amount"], bill.currency))
             for line in bill.subsidy_lines]
    legs += [credit(accounts.budget_payable(bill.agency_code), base - retained),
             credit(accounts.fee_retained(bill.agency_code, bill.service_code), retained)]
    return ledger.without_zero_legs(legs)


def mark_bill_paid(session: Session, bill: Bill, payment: Payment | None, *, clock: Clock) -> Receipt:
    """Mark ``bill`` paid (by ``payment``, or free), post its collection and return its receipt.

    The caller holds the bill's lock, and tells the bill's agency (``agency_callbacks``) once its change is whole.
    """
    transition_bill(session, bill, BillStatus.PAID, actor=f"payment:{payment.public_id}" if payment else "payer",
                    clock=clock, changes={"paid_at": clock.now()})
    paid = Money(payment.amount, payment.currency) if payment else Money(0, bill.currency)
    legs = collection_legs(bill, paid=paid, provider=payment.provider if payment else None)
    if legs:  # a bill exempt by law (base 0) moves no money
        ledger.post(session, source=SOURCE, external_id=f"bill:{bill.public_id}:settled",
                    kind="payment_captured" if payment else "bill_settled_free", legs=legs, clock=clock,
                    description=f"{bill.service_code} {bill.agency_reference}", bill_id=bill.id,
                    payment_id=payment.id if payment else None)
    receipt = issue_settlement_receipt(session, bill, payment, clock=clock)
    _spend_subsidies(session, bill, clock)
    return receipt


def _spend_subsidies(session: Session, bill: Bill, clock: Clock) -> None:
    """The bill's quote spends the subsidy money it reserved: closed as paid, once, whatever paid the bill."""
    if not bill.quote_id:
        return
    try:
        subsidy_quotes.mark_paid(session, bill.quote_id, clock)
    except (QuoteNotFound, QuoteNotOpen):
        pass  # closed already (a replayed settlement) or expired: nothing is held any more


def settle_free_bill(session: Session, bill_public_id: str, *, clock: Clock) -> Bill:
    """Settle a bill whose amount due is 0 without any provider; returns early if already settled."""
    bill = lock_bill(session, bill_public_id)
    if bill.status == "paid":
        return bill
    if bill.status != "open":
        raise BillNotPayable(f"bill {bill.public_id} is {bill.status}", details={"status": bill.status})
    if bill.amount_due != 0:
        raise BillNotPayable(f"bill {bill.public_id} has {bill.amount_due} due; it needs a payment",
                             code="bill_needs_payment")
    if live_payment(session, bill.id) is not None:  # requoted to 0 while an attempt was open
        raise PaymentInProgress(f"bill {bill.public_id} has a payment in progress")
    receipt = mark_bill_paid(session, bill, None, clock=clock)
    callbacks.stage_event(session, bill, "receipt.issued", receipt=receipt, clock=clock)
    return bill


def post_duplicate_capture(session: Session, payment: Payment, *, clock: Clock) -> None:
    """Record money captured for an already-paid bill as owed back to the payer."""
    amount = Money(payment.amount, payment.currency)
    ledger.post(session, source=SOURCE, external_id=f"payment:{payment.public_id}:duplicate",
                kind="duplicate_capture", legs=[debit(accounts.provider_clearing(payment.provider), amount),
                                                credit(accounts.refunds_payable(), amount)],
                clock=clock, description="captured for a bill already paid", bill_id=payment.bill_id,
                payment_id=payment.id)
