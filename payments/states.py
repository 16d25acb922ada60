"""The payment state machine: one transition table, and ``transition()``, the only writer of a status.

Design overview
---------------
States follow GOV.UK Pay (research/payments.md section 8), one payment being one attempt:

    created ──> started ──> submitted ──> unknown
    any of those four (live) ──> succeeded | declined | cancelled | error | expired
    declined | cancelled | expired | error ──> succeeded   (correction: the provider took the money)

* **Applied**: the edge is in ``TRANSITIONS``; the status changes and a ``PaymentEvent`` is appended.
* **Ignored**: a late or duplicate report that would move the payment backwards (``submitted`` after
  ``succeeded``, ``declined`` after ``expired``, the same status twice). Nothing changes: notifications
  arrive duplicated and out of order, and a final state never regresses.
* **Invalid**: an edge that cannot happen (``created -> unknown``); ``InvalidPaymentTransition``.

Money found at the provider always wins: a payment that ended ``declined``, ``expired``, ``cancelled``
or ``error`` moves to ``succeeded`` when the provider later reports a capture (a correction, logged as a
warning). If the bill was meanwhile paid by another payment, it moves to ``duplicate`` instead: the
money is owed back to the payer (likewise for a bill cancelled meanwhile). ``succeeded`` and
``duplicate`` are absorbing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from enum import Enum, StrEnum

from sqlalchemy.orm import Session

from core.clock import Clock
from payments.errors import InvalidPaymentTransition
from payments.models.billing import Payment, PaymentEvent
from payments.sql import update_loaded

log = logging.getLogger(__name__)


class PaymentStatus(StrEnum):
    """Where a payment is in its life."""

    CREATED = "created"
    STARTED = "started"
    SUBMITTED = "submitted"
    UNKNOWN = "unknown"
    SUCCEEDED = "succeeded"
    DUPLICATE = "duplicate"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    ERROR = "error"


S = PaymentStatus
LIVE = frozenset({S.CREATED, S.STARTED, S.SUBMITTED, S.UNKNOWN})
CAPTURED = frozenset({S.SUCCEEDED, S.DUPLICATE})
FAILED = frozenset({S.DECLINED, S.CANCELLED, S.EXPIRED, S.ERROR})
FINAL = CAPTURED | FAILED


def _edges(sources, target: PaymentStatus, event: str) -> dict[tuple[PaymentStatus, PaymentStatus], str]:
    return {(source, target): event for source in sources}


#: (from, to) -> the event's name. Every status change in the system is one of these edges.
TRANSITIONS: dict[tuple[PaymentStatus, PaymentStatus], str] = {
    (S.CREATED, S.STARTED): "started",
    **_edges((S.CREATED, S.STARTED), S.SUBMITTED, "submitted"),
    (S.SUBMITTED, S.UNKNOWN): "outcome_unknown",
    # A notification may overtake our own record of the provider session (webhook before redirect).
    **_edges(LIVE, S.SUCCEEDED, "succeeded"),
    **_edges(LIVE, S.DUPLICATE, "captured_twice"),
    **_edges(LIVE, S.DECLINED, "declined"),
    **_edges(LIVE, S.ERROR, "errored"),
    **_edges(LIVE, S.CANCELLED, "cancelled"),
    **_edges(LIVE, S.EXPIRED, "expired"),
    **_edges(FAILED, S.SUCCEEDED, "corrected_to_succeeded"),
    **_edges(FAILED, S.DUPLICATE, "corrected_to_duplicate"),
}

#: How far along a status is; a report that would move a payment to a lower rank is late, not invalid.
_RANK = {S.CREATED: 0, S.STARTED: 1, S.SUBMITTED: 2, S.UNKNOWN: 3, S.DECLINED: 4, S.CANCELLED: 4,
         S.EXPIRED: 4, S.ERROR: 4, S.SUCCEEDED: 5, S.DUPLICATE: 5}


class Outcome(Enum):
    """What ``transition`` did."""

    APPLIED = "applied"
    IGNORED = "ignored"


def is_final(status: str) -> bool:
    """True once nothing but a provider-reported capture can change the payment."""
    return PaymentStatus(status) in FINAL


def classify(current: PaymentStatus, target: PaymentStatus) -> Outcome:
    """Return APPLIED or IGNORED for the edge ``current -> target``; raise if it is invalid."""
    if (current, target) in TRANSITIONS:
        return Outcome.APPLIED
    if current == target or current in FINAL or _RANK[target] < _RANK[current]:
        return Outcome.IGNORED
    raise InvalidPaymentTransition(f"a payment cannot go from {current} to {target}",
                                   details={"from": current.value, "to": target.value})


def transition(session: Session, payment: Payment, target: PaymentStatus | str, *, cause: str, clock: Clock,
               provider_event_id: str | None = None, failure_code: str | None = None,
               changes: Mapping[str, object] | None = None) -> Outcome:
    """Move ``payment`` to ``target`` if the table allows it, appending an event; the only status writer.

    ``changes`` are other columns of the payment that move with its status (the provider's session or
    payment reference), written in the same UPDATE; an ignored transition writes none of them.
    """
    current, target = PaymentStatus(payment.status), PaymentStatus(target)
    outcome = classify(current, target)
    if outcome is Outcome.IGNORED:
        log.info("payment transition ignored", extra={"payment_id": payment.id, "from": current, "to": target})
        return outcome
    event = TRANSITIONS[(current, target)]
    if event.startswith("corrected_"):
        log.warning("payment corrected to match the provider",
                    extra={"payment_id": payment.id, "from": current, "to": target})
    now = clock.now()
    values = {**(changes or {}), "status": target.value, "updated_at": now}
    if target in FINAL:
        values |= {"finished_at": now, "failure_code": failure_code if target in FAILED else None}
    # Two statements written now, as the flush that followed did, without the unit of work's CPU: this runs
    # for every payment, several times (bench/payments_floor.py is the same statements without our Python).
    update_loaded(session, payment, values)
    _append_event(session, payment, current.value, target.value, event, cause, provider_event_id, now)
    return outcome


def record_creation(session: Session, payment: Payment, *, cause: str, clock: Clock) -> None:
    """Append the ``created`` event of a new payment (the one status write outside the table's edges)."""
    _append_event(session, payment, None, S.CREATED.value, "created", cause, None, clock.now())


_EVENTS = PaymentEvent.__table__.insert()


def _append_event(session: Session, payment: Payment, from_status: str | None, to_status: str, event: str,
                  cause: str, provider_event_id: str | None, now: datetime) -> None:
    # No PaymentEvent object: nothing reads one back in the transaction that appends it.
    session.execute(_EVENTS, {"payment_id": payment.id, "from_status": from_status, "to_status": to_status,
                              "event": event, "cause": cause, "provider_event_id": provider_event_id,
                              "occurred_at": now})
