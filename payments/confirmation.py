"""Applying what a provider reports to a payment: under row locks, once, never backwards.

Design overview
---------------
* The provider's *report* (from a status query, after a verified notification or on the return URL)
  is the only thing that moves a payment to a final state; the return URL itself decides nothing.
* Locks are taken bill first, then payment, everywhere in the package, so two confirmations, an expiry
  and a new attempt on the same bill serialise instead of deadlocking.
* A success counts only when amount, currency, reference and session all match the payment; a
  mismatch changes nothing and is logged as an error for finance (``ReportOutcome.MISMATCH``).
* A success settles the bill (``settlement.mark_bill_paid``). A success for a bill that no longer
  needs it (paid by another attempt, cancelled, or requoted to another amount since the attempt
  started) becomes ``duplicate``: the money is booked as owed back to the payer.
* Running it again with the same report finds the payment already there and returns IGNORED.
"""

from __future__ import annotations

import logging
from enum import Enum

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.clock import Clock
from core.money import Money
from payments import agency_callbacks as callbacks
from payments.errors import PaymentNotFound
from payments.models.billing import Bill, Payment
from payments.providers.base import ProviderStatus, StatusReport
from payments.settlement import mark_bill_paid, post_duplicate_capture
from payments.sql import update_loaded
from payments.states import Outcome, PaymentStatus, transition

log = logging.getLogger(__name__)

#: The payment status each provider status leads to; PENDING changes nothing.
TARGET_FOR_REPORT = {
    ProviderStatus.PENDING: None,
    ProviderStatus.SUCCEEDED: PaymentStatus.SUCCEEDED,
    ProviderStatus.DECLINED: PaymentStatus.DECLINED,
    ProviderStatus.CANCELLED: PaymentStatus.CANCELLED,
    ProviderStatus.EXPIRED: PaymentStatus.EXPIRED,
    ProviderStatus.ERROR: PaymentStatus.ERROR,
}


class ReportOutcome(Enum):
    """What applying a report did."""

    APPLIED = "applied"
    IGNORED = "ignored"
    MISMATCH = "mismatch"


def lock_payment(session: Session, payment_public_id: str) -> tuple[Bill, Payment]:
    """Return a payment and its bill, both locked (bill first: the package's lock order)."""
    row = session.execute(_LOCK_PAYMENT, {"public_id": payment_public_id}).one_or_none()
    if row is None:
        raise PaymentNotFound(f"no payment {payment_public_id}")
    bill, payment = row
    # The session keeps objects only while something refers to them: tie the bill to its payment, so
    # ``payment.bill`` costs no query after a caller drops the bill.
    set_committed_value(payment, "bill", bill)
    return bill, payment


# One statement: PostgreSQL locks the rows of a joined SELECT … FOR UPDATE table by table in FROM order, so
# the bill's row is locked before the payment's, as everywhere else in the package. Built once: every
# payment takes it twice.
_LOCK_PAYMENT = (select(Bill, Payment).join(Payment, Payment.bill_id == Bill.id)
                 .where(Payment.public_id == bindparam("public_id")).with_for_update()
                 .execution_options(populate_existing=True))


def apply_report(session: Session, payment_public_id: str, report: StatusReport, *, cause: str, clock: Clock,
                 provider_event_id: str | None = None) -> ReportOutcome:
    """Move the payment to what ``report`` says, if that is forward; settle the bill on success."""
    bill, payment = lock_payment(session, payment_public_id)
    target = TARGET_FOR_REPORT[report.status]
    if target is None:
        return ReportOutcome.IGNORED
    changes = {}
    if target is PaymentStatus.SUCCEEDED:
        if not _report_matches(payment, report):
            return ReportOutcome.MISMATCH
        if payment.status != PaymentStatus.SUCCEEDED and not _bill_needs(bill, payment):
            target = PaymentStatus.DUPLICATE  # the bill does not need this money as it stands: it goes back
        reference = payment.provider_payment_ref or report.payment_ref
        if reference != payment.provider_payment_ref:
            changes["provider_payment_ref"] = reference
    outcome = transition(session, payment, target, cause=cause, clock=clock, provider_event_id=provider_event_id,
                         failure_code=report.failure_code or target.value, changes=changes)
    if outcome is Outcome.IGNORED:
        if changes:  # a late report of the capture still tells us the provider's reference
            update_loaded(session, payment, changes)
        return ReportOutcome.IGNORED
    receipt = None
    if target is PaymentStatus.SUCCEEDED:
        receipt = mark_bill_paid(session, bill, payment, clock=clock)
    elif target is PaymentStatus.DUPLICATE:
        log.error("money captured for an already paid bill", extra={"payment_id": payment.id})
        post_duplicate_capture(session, payment, clock=clock)
    callbacks.payment_changed(session, payment, clock=clock, receipt=receipt)  # after settling: the bill is paid
    return ReportOutcome.APPLIED


def _bill_needs(bill: Bill, payment: Payment) -> bool:
    # Paid by another attempt, cancelled, or requoted since this attempt started (a late success after
    # expiry): settling would book the wrong amounts, so such money is owed back instead.
    return bill.status == "open" and bill.amount_due == payment.amount and bill.currency == payment.currency


def _report_matches(payment: Payment, report: StatusReport) -> bool:
    expected = Money(payment.amount, payment.currency)
    same_session = payment.provider_session_id in (None, report.session_id)
    if report.amount == expected and report.reference == payment.public_id and same_session:
        return True
    # Never log the report wholesale: only ids and amounts, which carry no personal data.
    log.error("provider report does not match the payment", extra={
        "payment_id": payment.id, "expected_amount": expected.amount, "reported_amount": report.amount.amount,
        "reported_currency": report.amount.currency, "reference_matches": report.reference == payment.public_id})
    return False
