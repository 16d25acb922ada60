"""Provider notifications and status queries: verify, deduplicate, re-fetch, then apply.

Design overview
---------------
* ``receive_notification`` is what the webhook endpoint calls with the *raw* body. The provider
  verifies the signature and age; the event id is claimed in ``provider_events`` (primary key), so a
  replayed or concurrent copy is acknowledged and does nothing. The real work is staged as an outbox
  job in the same transaction, so the endpoint answers 2xx fast and nothing is lost if it crashes.
* ``refresh_payment`` (the job, the return URL and the reconciliation sweep) asks the provider for the
  session's *current* status and applies that, never the notification's claim: a stale or reordered
  notification can only make us look at the truth again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from core.outbox import job_handler, stage_job
from payments.confirmation import ReportOutcome, apply_report
from payments.errors import NotificationRejected
from payments.models.billing import Payment, ProviderEvent
from payments.providers import get_provider
from payments.sql import insert_if_absent

log = logging.getLogger(__name__)

REFRESH_JOB = "payments.refresh_status"


@dataclass(frozen=True)
class Received:
    """A verified notification: its event id, and whether it had been received before."""

    event_id: str
    duplicate: bool


def receive_notification(session: Session, provider_name: str, raw_body: bytes, headers: Mapping[str, str], *,
                         clock: Clock) -> Received:
    """Verify and record one notification, staging a status refresh; raises NotificationRejected if untrusted."""
    notification = get_provider(provider_name).parse_notification(raw_body, headers)
    _check_ids_fit(notification.event_id, notification.session_id)
    claimed = insert_if_absent(session, ProviderEvent.__table__, {
        "provider": provider_name, "event_id": notification.event_id,
        "provider_session_id": notification.session_id, "received_at": clock.now()}, ["provider", "event_id"])
    if claimed is None:
        return Received(notification.event_id, duplicate=True)
    if not notification.session_id:  # an event type we do not act on: acknowledged, recorded, ignored
        return Received(notification.event_id, duplicate=False)
    stage_job(session, REFRESH_JOB, {"provider": provider_name, "session_id": notification.session_id,
                                     "event_id": notification.event_id}, clock=clock)
    return Received(notification.event_id, duplicate=False)


#: The longest event or session id kept (``provider_events`` columns); providers' own are far shorter.
MAX_ID_LENGTH = 200


def _check_ids_fit(event_id: str, session_id: str | None) -> None:
    # Signed does not mean well formed: a key leak or a provider bug must get a 400, not a failed INSERT.
    if not event_id or len(event_id) > MAX_ID_LENGTH or len(session_id or "") > MAX_ID_LENGTH:
        raise NotificationRejected(f"a notification's event and session ids must be 1 to {MAX_ID_LENGTH} "
                                   "characters", code="notification_malformed")


def refresh_payment(session: Session, provider_name: str, session_id: str, *, cause: str, clock: Clock,
                    provider_event_id: str | None = None) -> ReportOutcome | None:
    """Ask the provider about ``session_id`` and apply its answer; None if no payment matches it."""
    report = get_provider(provider_name).fetch_status(session_id)
    payment_id = _payment_for(session, provider_name, session_id, report.reference)
    if payment_id is None:
        log.warning("provider session matches no payment", extra={"provider": provider_name})
        return None
    return apply_report(session, payment_id, report, cause=cause, clock=clock, provider_event_id=provider_event_id)


def check_on_return(session: Session, payment_public_id: str, *, clock: Clock) -> Payment:
    """What the return URL does: query the provider (it never decides by itself) and return the payment."""
    payment = session.scalars(_PAYMENT_BY_CODE, {"public_id": payment_public_id}).one_or_none()
    if payment is not None and payment.provider_session_id is not None:
        # The payment is known, so the session's payment need not be looked up (refresh_payment's first step).
        report = get_provider(payment.provider).fetch_status(payment.provider_session_id)
        apply_report(session, payment.public_id, report, cause="return_url", clock=clock)
    return payment


#: Built once: every return to the gateway reads it.
_PAYMENT_BY_CODE = select(Payment).where(Payment.public_id == bindparam("public_id"))


@job_handler(REFRESH_JOB)
def refresh_status_job(session: Session, payload: dict) -> None:
    """Outbox job: re-fetch a session's status after a verified notification and apply it."""
    refresh_payment(session, payload["provider"], payload["session_id"], cause="notification",
                    clock=SYSTEM_CLOCK, provider_event_id=payload.get("event_id"))


def _payment_for(session: Session, provider_name: str, session_id: str, reference: str) -> str | None:
    # By session first; by our reference when the notification overtook recording the session id.
    query = select(Payment.public_id).where(Payment.provider == provider_name)
    found = session.scalar(query.where(Payment.provider_session_id == session_id))
    return found or session.scalar(query.where(Payment.public_id == reference))
