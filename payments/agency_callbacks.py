"""Callback events for agencies: staged in the transaction of the change they report, one sequence per bill.

Design overview
---------------
* Staged where the state changes: the services that create a payment, apply a provider's report, expire
  or refuse an attempt, pay out a refund or settle a free bill call ``payment_changed`` or
  ``stage_events`` in the transaction that makes the change, after it (so the bill in the body is the
  one the change left). Rolled back, also to a savepoint: no callback. Committed: the callback exists
  (the outbox then delivers it at least once). Bills not made through the API (no ``agency_bills`` row)
  have no callbacks: one look-up per change tells.
* Each event takes the next number of its bill under the ``agency_bills`` row lock, and carries the whole
  bill resource as it is at that moment, so a receiver can always apply the highest sequence it has seen.
* Deliveries of one bill go out in sequence order: a new event waits while an earlier one is still
  being tried (``payments.agency_delivery`` releases it when that one is through).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from core.outbox import stage_job
from payments.agency_models import AgencyBill, CallbackDelivery
from payments.agency_resources import bill_resource, payment_resource, receipt_resource, refund_resource
from payments.bills import new_public_id
from payments.models.billing import Bill, Payment
from payments.models.receipts import Receipt
from payments.models.refunds import Refund

DELIVER_JOB = "agency.deliver_callback"
EVENT_TYPES = ("bill.created", "bill.cancelled", "payment.started", "payment.succeeded", "payment.failed",
               "payment.expired", "payment.refunded", "receipt.issued")
#: A payment's new status -> the event agencies hear ("started" is the attempt's creation).
PAYMENT_EVENT_OF = {"created": "payment.started", "succeeded": "payment.succeeded", "declined": "payment.failed",
                    "error": "payment.failed", "cancelled": "payment.failed", "expired": "payment.expired"}
SIGNATURE_HEADER = "Gateway-Signature"


def sign(body: bytes, secrets_: list[str], timestamp: int) -> str:
    """Return ``t=<unix time>,v1=<hex HMAC-SHA256(secret, "t.body")>`` with one v1 per secret."""
    signed = str(timestamp).encode() + b"." + body
    parts = [f"t={timestamp}"]
    parts += [f"v1={hmac.new(s.encode(), signed, hashlib.sha256).hexdigest()}" for s in secrets_]
    return ",".join(parts)


def verify(body: bytes, header: str, secrets_: list[str], *, now: float, tolerance: int = 300) -> bool:
    """True if ``header`` signs ``body`` with one of ``secrets_`` within ``tolerance`` seconds of ``now``."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value for name, value in fields if name == "t"]
    given = [value for name, value in fields if name == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > tolerance:
        return False
    expected = sign(body, secrets_, int(stamps[0])).split(",")[1:]
    return any(hmac.compare_digest(e.removeprefix("v1="), g) for e in expected for g in given)


def stage_event(session: Session, bill: Bill, event_type: str, *, clock: Clock = SYSTEM_CLOCK,
                payment: Payment | None = None, refund: Refund | None = None,
                receipt: Receipt | None = None) -> CallbackDelivery | None:
    """Record the next event of an API-made bill and stage its delivery; None for other bills."""
    details = {"payment": payment, "refund": refund, "receipt": receipt}
    staged = stage_events(session, bill, [(event_type, details)], clock=clock)
    return staged[0] if staged else None


def stage_events(session: Session, bill: Bill, events: list[tuple[str, dict[str, Any]]], *,
                 clock: Clock = SYSTEM_CLOCK) -> list[CallbackDelivery]:
    """Record ``events`` (type, {payment, refund, receipt}) of an API-made bill in order; [] for other bills."""
    if not events:
        return []
    link = lock_bill_events(session, bill.id)
    if link is None:
        return []
    session.expire(bill, ["payments"])  # a payment added in this transaction must show as the latest
    return [_stage_one(session, bill, link, event_type, clock=clock, **details) for event_type, details in events]


def payment_changed(session: Session, payment: Payment, *, clock: Clock, receipt: Receipt | None = None) -> None:
    """Stage what the payment's new status tells its agency, then the receipt the change issued, if any."""
    events = [(PAYMENT_EVENT_OF[payment.status], {"payment": payment})] if payment.status in PAYMENT_EVENT_OF else []
    if receipt is not None:
        events.append(("receipt.issued", {"receipt": receipt}))
    stage_events(session, payment.bill, events, clock=clock)


def _stage_one(session: Session, bill: Bill, link: AgencyBill, event_type: str, *, clock: Clock,
               payment: Payment | None = None, refund: Refund | None = None,
               receipt: Receipt | None = None) -> CallbackDelivery:
    link.last_sequence += 1
    now = clock.now()
    event_id = new_public_id()
    body = {"event_id": event_id, "event_type": event_type, "sequence": link.last_sequence,
            "occurred_at": now.isoformat(), "bill": bill_resource(bill, return_url=link.return_url),
            "payment": payment_resource(payment) if payment else None,
            "refund": refund_resource(refund) if refund else None,
            "receipt": receipt_resource(receipt) if receipt else None}
    waiting = _earlier_unfinished(session, bill.id)
    delivery = CallbackDelivery(event_id=event_id, client_id=link.client_id, bill_id=bill.id, event_type=event_type,
                                sequence=link.last_sequence, body=canonical(body),
                                status="waiting" if waiting else "pending", attempts=0, created_at=now,
                                next_attempt_at=None if waiting else now)
    session.add(delivery)
    session.flush()
    if not waiting:
        stage_job(session, DELIVER_JOB, {"delivery_id": delivery.id}, clock=clock,
                  dedupe_key=f"callback:{delivery.id}:1")
    return delivery


def lock_bill_events(session: Session, bill_id: int) -> AgencyBill | None:
    """Lock the bill's event stream (its ``agency_bills`` row) until the transaction ends; None if not API-made.

    Whoever stages an event and whoever finishes a delivery take this lock first: otherwise an event staged
    as ``waiting`` while the one before it is being delivered is seen by neither (the stager still sees
    the earlier one pending, the deliverer does not yet see the new one) and waits for ever.
    """
    return session.scalars(_LOCK_BILL_EVENTS, {"bill_id": bill_id}).one_or_none()


#: Built once: every change of every payment asks it.
_LOCK_BILL_EVENTS = (select(AgencyBill).where(AgencyBill.bill_id == bindparam("bill_id")).with_for_update()
                     .execution_options(populate_existing=True))


def canonical(body: dict[str, Any]) -> str:
    """The JSON text that is signed and sent (UTF-8, compact, stable key order)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)


def _earlier_unfinished(session: Session, bill_id: int) -> bool:
    return session.scalar(select(CallbackDelivery.id).where(
        CallbackDelivery.bill_id == bill_id, CallbackDelivery.status.in_(("waiting", "pending"))).limit(1)) is not None


def next_waiting(session: Session, bill_id: int) -> CallbackDelivery | None:
    """The earliest waiting delivery of a bill, if no earlier one is still pending."""
    first = session.scalars(select(CallbackDelivery).where(
        CallbackDelivery.bill_id == bill_id, CallbackDelivery.status.in_(("waiting", "pending")))
        .order_by(CallbackDelivery.sequence).limit(1)).one_or_none()
    return first if first is not None and first.status == "waiting" else None


def release(session: Session, delivery: CallbackDelivery, *, now: datetime, clock: Clock = SYSTEM_CLOCK) -> None:
    """Move a waiting delivery to pending and stage its first attempt."""
    delivery.status, delivery.next_attempt_at = "pending", now
    session.flush()
    stage_job(session, DELIVER_JOB, {"delivery_id": delivery.id}, clock=clock,
              dedupe_key=f"callback:{delivery.id}:{delivery.attempts + 1}")
