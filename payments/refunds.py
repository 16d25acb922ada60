"""Refunds: a finance officer returns part or all of a captured payment, never more than was captured.

Design overview
---------------
* Optimistic guard (GOV.UK Pay): the officer sends the amount they believe is still refundable; if it
  differs from the truth the request fails with ``refund_amount_stale`` (HTTP 412), so two officers
  looking at the same screen cannot both refund the same money.
* Pessimistic guard: the payment row is locked while the refund is reserved, and
  ``payments.refunded_amount`` (reserved + refunded) is CHECKed ``<= amount`` by the database, so
  concurrent refunds can never exceed what was captured.
* A refund that takes the payment's total refunded (reserved, made, and this one) above the approval
  threshold waits for a second finance officer (``approve_refund``); the database refuses an approver who
  is the requester.
* Ledger: approving books the refund as owed to the payer (debit budget payable and the retained fee
  pro rata, credit ``refunds_payable``); the provider's confirmation pays it out (debit
  ``refunds_payable``, credit the provider's clearing). A failed refund reverses the first entry and
  frees the reserved amount. The bill's receipt is cancelled and, if money is still held, replaced.
* The provider call runs in a job (``send_refund``) with a deterministic idempotency key.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from core.errors import PermissionDenied
from core.money import Money
from core.outbox import job_handler, stage_job
from payments import accounts, ledger
from payments import agency_callbacks as callbacks
from payments.bills import new_public_id
from payments.confirmation import lock_payment
from payments.errors import RefundAmountStale, RefundNotAllowed, RefundNotFound
from payments.ledger import credit, debit
from payments.models.billing import Bill, Payment
from payments.models.refunds import Refund
from payments.providers import get_provider
from payments.providers.base import RefundRequest
from payments.receipts import cancel_receipt, issue_receipt, issued_receipt
from payments.refund_states import RefundStatus as R
from payments.refund_states import transition_refund

SOURCE = "refunds"
SEND_JOB = "payments.send_refund"
PROVIDER = "provider"  # the actor of the provider's answer in a refund's history


def refundable(payment: Payment) -> Money:
    """Return what may still be refunded: captured minus refunds reserved or made."""
    if payment.status != "succeeded":
        return Money(0, payment.currency)
    return Money(payment.amount - payment.refunded_amount, payment.currency)


def request_refund(session: Session, payment_public_id: str, *, amount: Money, expected_refundable: Money,
                   reason: str, requested_by: str, clock: Clock, approval_threshold: Money | None = None) -> Refund:
    """Reserve and record a refund; it is sent at once, or waits for approval above the threshold."""
    bill, payment = lock_payment(session, payment_public_id)
    available = refundable(payment)
    if payment.status != "succeeded":
        raise RefundNotAllowed(f"payment {payment.public_id} is {payment.status}; only captured money is refunded")
    if expected_refundable != available:
        raise RefundAmountStale(f"{available.amount} is refundable, not {expected_refundable.amount}",
                                details={"amount_available": available.amount})
    if not 0 < amount.amount <= available.amount or amount.currency != available.currency:
        raise RefundNotAllowed(f"a refund must be between 1 and {available.amount} {available.currency}")
    if not reason.strip():
        raise RefundNotAllowed("a refund needs a reason", code="refund_reason_missing")
    payment.refunded_amount += amount.amount
    # The threshold bounds everything refunded on the payment, not each refund: two refunds just under it
    # must not move more money than one officer may move alone.
    needs_approval = approval_threshold is not None and payment.refunded_amount > approval_threshold.amount
    refund = Refund(public_id=new_public_id(), payment_id=payment.id, amount=amount.amount, currency=amount.currency,
                    reason=reason.strip()[:500], requested_by=requested_by, created_at=clock.now())
    transition_refund(session, refund, R.AWAITING_APPROVAL if needs_approval else R.SUBMITTED, actor=requested_by,
                      clock=clock)
    if not needs_approval:
        _submit(session, bill, payment, refund, clock=clock)
    return refund


def approve_refund(session: Session, refund_public_id: str, *, approver: str, clock: Clock) -> Refund:
    """A second finance officer approves a refund above the threshold; it is then sent."""
    bill, payment, refund = _lock_refund(session, refund_public_id)
    if refund.status != R.AWAITING_APPROVAL:
        raise RefundNotAllowed(f"refund {refund.public_id} is {refund.status}, not awaiting approval")
    if approver == refund.requested_by:
        raise PermissionDenied("the officer who requested a refund cannot approve it", code="refund_self_approval")
    refund.approved_by = approver
    transition_refund(session, refund, R.SUBMITTED, actor=approver, clock=clock)
    _submit(session, bill, payment, refund, clock=clock)
    return refund


def reject_refund(session: Session, refund_public_id: str, *, approver: str, clock: Clock) -> Refund:
    """Refuse a refund awaiting approval and free the amount it reserved."""
    _, payment, refund = _lock_refund(session, refund_public_id)
    if refund.status != R.AWAITING_APPROVAL:
        raise RefundNotAllowed(f"refund {refund.public_id} is {refund.status}, not awaiting approval")
    refund.approved_by = approver
    transition_refund(session, refund, R.REJECTED, actor=approver, clock=clock)
    payment.refunded_amount -= refund.amount
    session.flush()
    return refund


def refund_legs(bill: Bill, amount: Money) -> list[ledger.Leg]:
    """Return the legs that book ``amount`` of a bill's collection as owed back to the payer."""
    retained = accounts.retained_share(amount, bill.fee_kind, bill.retained_basis_points)
    return ledger.without_zero_legs([
        debit(accounts.budget_payable(bill.agency_code), amount - retained),
        debit(accounts.fee_retained(bill.agency_code, bill.service_code), retained),
        credit(accounts.refunds_payable(), amount)])


def _submit(session: Session, bill: Bill, payment: Payment, refund: Refund, *, clock: Clock) -> None:
    ledger.post(session, source=SOURCE, external_id=f"refund:{refund.public_id}:approved", kind="refund_approved",
                legs=refund_legs(bill, Money(refund.amount, refund.currency)), clock=clock,
                description=refund.reason, bill_id=bill.id, payment_id=payment.id)
    stage_job(session, SEND_JOB, {"refund_id": refund.public_id}, clock=clock)


def send_refund(session: Session, refund_public_id: str, *, clock: Clock) -> Refund:
    """Ask the provider to pay the refund out and book the answer; a second run does nothing."""
    refund = session.scalars(select(Refund).where(Refund.public_id == refund_public_id)).one()
    if refund.status != R.SUBMITTED:
        return refund
    payment = refund.payment
    result = get_provider(payment.provider).refund(RefundRequest(  # outside any lock: a network call
        payment.provider_session_id or "", payment.provider_payment_ref, Money(refund.amount, refund.currency),
        idempotency_key=f"refund:{refund.public_id}", captured=Money(payment.amount, payment.currency),
        requested_by=refund.requested_by))
    bill, payment, refund = _lock_refund(session, refund_public_id)
    if refund.status != R.SUBMITTED:
        return refund
    refund.provider_refund_ref, refund.updated_at = result.refund_ref, clock.now()
    if result.succeeded:
        _book_paid_out(session, bill, payment, refund, clock=clock)
    else:
        _book_failed(session, payment, refund, result.failure_code, clock=clock)
    return refund


def _book_paid_out(session: Session, bill: Bill, payment: Payment, refund: Refund, *, clock: Clock) -> None:
    transition_refund(session, refund, R.SUCCEEDED, actor=PROVIDER, clock=clock)
    amount = Money(refund.amount, refund.currency)
    ledger.post(session, source=SOURCE, external_id=f"refund:{refund.public_id}:paid", kind="refund_paid",
                legs=[debit(accounts.refunds_payable(), amount), credit(accounts.provider_clearing(payment.provider),
                                                                        amount)],
                clock=clock, bill_id=bill.id, payment_id=payment.id)
    current, replacement = issued_receipt(session, bill.id), None
    if current is not None and payment.amount - payment.refunded_amount > 0:
        replacement = issue_receipt(session, bill, payment, clock=clock, series=current.series, replaces=current)
    elif current is not None:
        cancel_receipt(session, current, clock=clock)
    events = [("payment.refunded", {"payment": payment, "refund": refund})]
    if replacement is not None:
        events.append(("receipt.issued", {"receipt": replacement}))
    callbacks.stage_events(session, bill, events, clock=clock)


def _book_failed(session: Session, payment: Payment, refund: Refund, failure_code: str | None, *,
                 clock: Clock) -> None:
    refund.failure_code = failure_code or "provider_refused"
    transition_refund(session, refund, R.FAILED, actor=PROVIDER, clock=clock)
    payment.refunded_amount -= refund.amount
    approved = ledger.find(session, SOURCE, f"refund:{refund.public_id}:approved")
    ledger.reverse(session, approved.id, source=SOURCE, kind="refund_failed", clock=clock)


def _lock_refund(session: Session, refund_public_id: str) -> tuple[Bill, Payment, Refund]:
    payment_public_id = session.scalar(select(Payment.public_id).join(Refund, Refund.payment_id == Payment.id)
                                       .where(Refund.public_id == refund_public_id))
    if payment_public_id is None:
        raise RefundNotFound(f"no refund {refund_public_id}")
    bill, payment = lock_payment(session, payment_public_id)
    refund = session.scalars(select(Refund).where(Refund.public_id == refund_public_id).with_for_update()
                             .execution_options(populate_existing=True)).one()
    return bill, payment, refund


@job_handler(SEND_JOB)
def send_refund_job(session: Session, payload: dict) -> None:
    """Outbox job: send one refund to its provider."""
    send_refund(session, payload["refund_id"], clock=SYSTEM_CLOCK)
