"""Expiring abandoned payments and resolving unknown ones, always asking the provider first.

Design overview
---------------
* A live payment past its ``expires_at`` (created + 30 minutes by default) is expired by ``expire_payment``: the
  provider session is cancelled first and its answer applied, so a success found then wins and a
  payment the payer completed at the last second is never lost. ``cancel_payment`` (the payer or the
  service gives up) works the same way.
* A payment that crashed before its session id was recorded is found again by calling
  ``create_session`` with the same idempotency key (the provider returns the same session).
* ``unknown`` payments (the provider timed out) are resolved by ``resolve_unknown``: a status query.
* ``stale_payment_ids`` lists the candidates; the sweep job fans out one job per payment so each runs
  in its own short transaction and a provider outage only delays that one payment.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from payments import agency_callbacks as callbacks
from payments.confirmation import apply_report, lock_payment
from payments.models.billing import LIVE_PAYMENT_STATUSES, Payment
from payments.providers import get_provider
from payments.providers.base import ProviderStatus, StatusReport
from payments.starting import session_request
from payments.states import Outcome, PaymentStatus, transition


def stale_payment_ids(session: Session, *, clock: Clock, limit: int = 500) -> list[str]:
    """Return public ids of live payments past their expiry, oldest first."""
    query = (select(Payment.public_id).where(Payment.status.in_(LIVE_PAYMENT_STATUSES),
                                             Payment.expires_at <= clock.now())
             .order_by(Payment.expires_at).limit(limit))
    return list(session.scalars(query))


def unknown_payment_ids(session: Session, *, clock: Clock, older_than: timedelta = timedelta(minutes=5),
                       limit: int = 500) -> list[str]:
    """Return public ids of payments whose outcome has been unknown for more than ``older_than``."""
    query = (select(Payment.public_id).where(Payment.status == PaymentStatus.UNKNOWN.value,
                                             Payment.updated_at < clock.now() - older_than)
             .order_by(Payment.updated_at).limit(limit))
    return list(session.scalars(query))


def expire_payment(session: Session, payment_public_id: str, *, clock: Clock) -> str:
    """Expire a live payment past its expiry after asking its provider; return its status."""
    payment = session.scalars(select(Payment).where(Payment.public_id == payment_public_id)).one()
    if payment.status not in LIVE_PAYMENT_STATUSES or payment.expires_at > clock.now():
        return payment.status
    return close_payment(session, payment_public_id, PaymentStatus.EXPIRED, cause="expiry", clock=clock)


def cancel_payment(session: Session, payment_public_id: str, *, cause: str, clock: Clock) -> str:
    """Cancel a live payment (the payer or the service gave up); a success found at the provider wins."""
    return close_payment(session, payment_public_id, PaymentStatus.CANCELLED, cause=cause, clock=clock)


def close_payment(session: Session, payment_public_id: str, target: PaymentStatus, *, cause: str,
                  clock: Clock) -> str:
    """Close the provider session first, apply what it says, else move to ``target``; return the status."""
    payment = session.scalars(select(Payment).where(Payment.public_id == payment_public_id)).one()
    if payment.status not in LIVE_PAYMENT_STATUSES:
        return payment.status
    report = _cancel_at_provider(payment)  # outside any lock: a network call
    if report.status not in (ProviderStatus.PENDING, ProviderStatus.CANCELLED):
        # A success found now wins; a decline or error is recorded as what it was.
        apply_report(session, payment_public_id, report, cause=cause, clock=clock)
    _, payment = lock_payment(session, payment_public_id)
    if transition(session, payment, target, cause=cause, clock=clock, failure_code=target.value) is Outcome.APPLIED:
        callbacks.payment_changed(session, payment, clock=clock)
    return payment.status


def _cancel_at_provider(payment: Payment) -> StatusReport:
    provider = get_provider(payment.provider)
    session_id = payment.provider_session_id
    if session_id is None:  # crashed between the provider call and recording it: find the same session again
        request = session_request(payment)
        session_id = provider.create_session(request).session_id
    return provider.cancel_session(session_id)


def resolve_unknown(session: Session, payment_public_id: str, *, clock: Clock) -> str:
    """Ask the provider about a payment whose outcome is unknown and apply the answer; return the status."""
    payment = session.scalars(select(Payment).where(Payment.public_id == payment_public_id)).one()
    if payment.status != PaymentStatus.UNKNOWN or payment.provider_session_id is None:
        return payment.status
    report = get_provider(payment.provider).fetch_status(payment.provider_session_id)
    apply_report(session, payment_public_id, report, cause="status_query", clock=clock)
    return _status_of(session, payment_public_id)


def mark_unknown(session: Session, payment_public_id: str, *, clock: Clock) -> None:
    """Record that the provider could not tell us the outcome of a submitted payment."""
    _, payment = lock_payment(session, payment_public_id)
    if payment.status == PaymentStatus.SUBMITTED:
        transition(session, payment, PaymentStatus.UNKNOWN, cause="status_query", clock=clock)


def _status_of(session: Session, payment_public_id: str) -> str:
    return session.scalar(select(Payment.status).where(Payment.public_id == payment_public_id))
