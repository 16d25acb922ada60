"""Read-only views the pages and the API need: a payer's bills with filters, payments, refund summaries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.money import Money
from payments.errors import PaymentNotFound, RefundNotFound
from payments.models.billing import Bill, Payment
from payments.models.refunds import Refund, RefundEvent
from payments.refunds import refundable


def bill_history(session: Session, payer_id_hash: str, *, status: str | None = None,
                 since: datetime | None = None, until: datetime | None = None, limit: int = 100) -> list[Bill]:
    """Return one payer's bills, newest first, optionally by status and creation time [since, until)."""
    query = select(Bill).where(Bill.payer_id_hash == payer_id_hash)
    if status is not None:
        query = query.where(Bill.status == status)
    if since is not None:
        query = query.where(Bill.created_at >= since)
    if until is not None:
        query = query.where(Bill.created_at < until)
    return list(session.scalars(query.order_by(Bill.created_at.desc(), Bill.id.desc()).limit(limit)))


def get_payment(session: Session, payment_public_id: str) -> Payment:
    """Return the payment with this public id."""
    payment = session.scalars(select(Payment).where(Payment.public_id == payment_public_id)).one_or_none()
    if payment is None:
        raise PaymentNotFound(f"no payment {payment_public_id}")
    return payment


@dataclass(frozen=True)
class RefundSummary:
    """GOV.UK Pay's ``refund_summary``: what may still be refunded and what is in flight."""

    status: str
    amount_available: Money
    amount_submitted: Money
    amount_refunded: Money


def refund_summary(session: Session, payment: Payment) -> RefundSummary:
    """Return ``available``, ``pending`` (refunds in flight), ``full`` or ``unavailable`` with the amounts."""
    def total(*statuses: str) -> Money:
        amount = session.scalar(select(func.coalesce(func.sum(Refund.amount), 0))
                                .where(Refund.payment_id == payment.id, Refund.status.in_(statuses)))
        return Money(int(amount), payment.currency)

    submitted, refunded = total("awaiting_approval", "submitted"), total("succeeded")
    available = refundable(payment)
    if payment.status != "succeeded":
        status = "unavailable"
    elif submitted.amount:
        status = "pending"
    else:
        status = "available" if available.amount else "full"
    return RefundSummary(status, available, submitted, refunded)


def find_payments(session: Session, text: str, *, limit: int = 20) -> list[Payment]:
    """Return captured payments whose payment code, or whose bill's agency reference, is ``text``."""
    text = text.strip()
    if not text:
        return []
    query = (select(Payment).join(Bill, Bill.id == Payment.bill_id)
             .where((Payment.public_id == text.upper()) | (Bill.agency_reference == text))
             .where(Payment.status == "succeeded")
             .order_by(Payment.created_at.desc(), Payment.id.desc()).limit(limit))
    return list(session.scalars(query))


def payment_refunds(session: Session, payment: Payment) -> list[Refund]:
    """Return a payment's refunds, oldest first."""
    return list(session.scalars(select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.id)))


def list_refunds(session: Session, *, status: str | None = None, limit: int = 200) -> list[Refund]:
    """Return refunds newest first, optionally of one status."""
    query = select(Refund)
    if status is not None:
        query = query.where(Refund.status == status)
    return list(session.scalars(query.order_by(Refund.created_at.desc(), Refund.id.desc()).limit(limit)))


def refund_history(session: Session, refund: Refund) -> list[RefundEvent]:
    """The refund's status changes, oldest first."""
    return list(session.scalars(select(RefundEvent).where(RefundEvent.refund_id == refund.id)
                                .order_by(RefundEvent.id)))


def get_refund(session: Session, refund_public_id: str) -> Refund:
    """Return the refund with this public id."""
    refund = session.scalars(select(Refund).where(Refund.public_id == refund_public_id)).one_or_none()
    if refund is None:
        raise RefundNotFound(f"no refund {refund_public_id}")
    return refund
