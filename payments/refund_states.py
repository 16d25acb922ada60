"""The refund state machine: one transition table, and ``transition_refund()``, the only writer of a status.

    (requested) ──> awaiting_approval ──> submitted ──> succeeded
         └────────────────────────────────┘   │  └──> failed
                       awaiting_approval ──> rejected

A refund above the approval threshold waits for a second finance officer; one below it, or once
approved, is submitted to the provider, whose answer makes it ``succeeded`` (paid out) or ``failed``
(refused; the reserved amount is freed). Each applied edge appends a ``RefundEvent`` naming who or what
caused it, so a refund's history reads as it happened. Any other change is ``InvalidRefundTransition``.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from core.clock import Clock
from payments.errors import InvalidRefundTransition
from payments.models.refunds import Refund, RefundEvent


class RefundStatus(StrEnum):
    """Where a refund is in its life."""

    AWAITING_APPROVAL = "awaiting_approval"
    SUBMITTED = "submitted"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"


R = RefundStatus
#: (from, to) -> the event's name; ``None`` is a refund being requested.
TRANSITIONS: dict[tuple[RefundStatus | None, RefundStatus], str] = {
    (None, R.AWAITING_APPROVAL): "requested_for_approval",
    (None, R.SUBMITTED): "requested",
    (R.AWAITING_APPROVAL, R.SUBMITTED): "approved",
    (R.AWAITING_APPROVAL, R.REJECTED): "rejected",
    (R.SUBMITTED, R.SUCCEEDED): "paid_out",
    (R.SUBMITTED, R.FAILED): "refused_by_provider",
}
OPEN = frozenset({R.AWAITING_APPROVAL, R.SUBMITTED})


def transition_refund(session: Session, refund: Refund, target: RefundStatus | str, *, actor: str,
                      clock: Clock) -> None:
    """Move ``refund`` to ``target`` if the table allows it and append the event; the only status writer."""
    current = RefundStatus(refund.status) if refund.status is not None else None
    target = RefundStatus(target)
    event = TRANSITIONS.get((current, target))
    if event is None:
        raise InvalidRefundTransition(f"a refund cannot go from {current or 'nothing'} to {target}",
                                      details={"from": current and current.value, "to": target.value})
    now = clock.now()
    refund.status, refund.updated_at = target.value, now
    if current is None:
        session.add(refund)
    session.flush()  # the refund's id, for a new one
    session.add(RefundEvent(refund_id=refund.id, from_status=current and current.value, to_status=target.value,
                            event=event, actor=actor[:200], occurred_at=now))
    session.flush()
