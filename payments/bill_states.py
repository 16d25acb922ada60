"""The bill state machine: one transition table, and the only code that writes a bill's status.

    (created) ──> open ──> paid        (settled by a payment, or free when nothing is due)
                    └────> cancelled   (by the agency, while no payment is in progress)

Each applied edge appends a ``BillEvent`` naming who or what caused it. A paid or cancelled bill is final:
money paid by mistake comes back by refund, never by reopening the bill. Any other change is
``InvalidBillTransition``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from sqlalchemy.orm import Session

from core.clock import Clock
from payments.errors import InvalidBillTransition
from payments.models.billing import Bill, BillEvent
from payments.sql import update_loaded


class BillStatus(StrEnum):
    """Where a bill is in its life."""

    OPEN = "open"
    PAID = "paid"
    CANCELLED = "cancelled"


B = BillStatus
#: (from, to) -> the event's name; ``None`` is a bill being created.
TRANSITIONS: dict[tuple[BillStatus | None, BillStatus], str] = {
    (None, B.OPEN): "created",
    (B.OPEN, B.PAID): "paid",
    (B.OPEN, B.CANCELLED): "cancelled",
}


def record_bill_created(session: Session, bill: Bill, *, actor: str, clock: Clock) -> None:
    """Start the history of a bill just inserted as ``open`` (inserted in one statement by ``create_bill``)."""
    _event(session, bill, None, BillStatus(bill.status), actor=actor, clock=clock)


def transition_bill(session: Session, bill: Bill, target: BillStatus | str, *, actor: str, clock: Clock,
                    changes: Mapping[str, object] | None = None) -> None:
    """Move ``bill`` to ``target`` if the table allows it and append the event; the caller holds its lock.

    ``changes`` are other columns of the bill that move with its status (``paid_at``), in the same UPDATE.
    """
    current, target = BillStatus(bill.status), BillStatus(target)
    _event(session, bill, current, target, actor=actor, clock=clock)
    # Written now rather than left to the next flush: the same UPDATE without the unit of work's CPU.
    update_loaded(session, bill, {**(changes or {}), "status": target.value, "updated_at": clock.now()})


_EVENTS = BillEvent.__table__.insert()


def _event(session: Session, bill: Bill, current: BillStatus | None, target: BillStatus, *, actor: str,
           clock: Clock) -> None:
    event = TRANSITIONS.get((current, target))
    if event is None:
        raise InvalidBillTransition(f"a bill cannot go from {current or 'nothing'} to {target}",
                                    details={"from": current and current.value, "to": target.value})
    # No BillEvent object: nothing reads one back in the transaction that appends it.
    session.execute(_EVENTS, {"bill_id": bill.id, "from_status": current and current.value,
                              "to_status": target.value, "event": event, "actor": actor[:200],
                              "occurred_at": clock.now()})
