"""Disputes: a citizen says a parking charge is wrong; a finance officer or the operator resolves it.

Design overview
---------------
* Only the citizen who pays a session's charge (its bill's payer) may dispute it, once per session:
  disputing again answers the dispute already open (a double-click, a second tab).
* A dispute is ``open``, then ``upheld`` or ``rejected`` (``TRANSITIONS``); every step is an audit row,
  and a resolution needs a note that the citizen reads.
* Upholding moves money back through the paths that already exist: a paid charge is refunded through
  ``payments.refunds`` (all of it, or the part the resolver names; above the approval threshold it waits
  for a finance approver like any refund), an unpaid one has its bill cancelled.
* The resolver is a finance officer (``staff:<id>``) or the system of the operator running the lot
  (``client:<id>``), who may resolve only its own lots' disputes. Sending the same resolution again answers
  the dispute as it is; a different one after it is resolved is refused (``dispute_already_resolved``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import Clock
from core.money import Money
from identity import audit
from identity.models import Citizen
from parking.errors import DisputeAlreadyResolved, DisputeInvalid, DisputeNotFound, SessionNotFound
from parking.models import DISPUTE_REASONS, ParkingDispute, ParkingLot, ParkingSession
from payments import bills as bill_service
from payments import refunds
from payments.bill_states import BillStatus
from payments.models.billing import Bill, Payment

OPEN, UPHELD, REJECTED = "open", "upheld", "rejected"
#: The one table of a dispute's steps: which status each decision leads to from ``open``.
TRANSITIONS = {("open", "uphold"): UPHELD, ("open", "reject"): REJECTED}
REFUND, BILL_CANCELLED, NO_REMEDY = "refund", "bill_cancelled", "none"
STATEMENT_MAX = NOTE_MAX = 1000


@dataclass(frozen=True)
class Resolution:
    """A resolver's decision: ``uphold`` or ``reject``, the note the citizen reads, and for a paid charge
    the amount to refund (``None``: everything still refundable)."""

    decision: str
    note: str
    refund_amount: int | None = None


def open_dispute(session: Session, citizen: Citizen, session_public_id: str, *, reason: str, statement: str,
                 clock: Clock) -> ParkingDispute:
    """Open the citizen's dispute of a session's charge, or answer the one already made for it."""
    row, bill = _payers_session(session, citizen, session_public_id)
    existing = dispute_of(session, row.id)
    if existing is not None:
        return existing
    if reason not in DISPUTE_REASONS:
        raise DisputeInvalid("unknown reason", details={"field": "reason", "allowed": list(DISPUTE_REASONS)})
    if not statement.strip() or len(statement) > STATEMENT_MAX:
        raise DisputeInvalid(f"say what is wrong in 1 to {STATEMENT_MAX} characters", details={"field": "statement"})
    if bill.status == BillStatus.CANCELLED:
        raise DisputeInvalid("this charge was cancelled: there is nothing to dispute", details={"field": "session"})
    dispute = ParkingDispute(public_id="DP" + secrets.token_hex(8).upper(), session_id=row.id, citizen_id=citizen.id,
                             reason=reason, statement=statement.strip(), status=OPEN, opened_at=clock.now())
    try:
        with session.begin_nested():  # a second tab at the same moment: its dispute is this one
            session.add(dispute)
            session.flush()
    except IntegrityError:
        return dispute_of(session, row.id)
    audit.record(session, "parking_dispute_opened", actor=f"citizen:{citizen.id}",
                 target=f"dispute:{dispute.public_id}", details={"session": row.public_id, "reason": reason},
                 clock=clock)
    return dispute


def resolve_dispute(session: Session, dispute_public_id: str, resolution: Resolution, *, actor: str, clock: Clock,
                    operator_id: int | None = None, approval_threshold: Money | None = None) -> ParkingDispute:
    """Uphold or reject an open dispute as ``actor``; ``operator_id`` limits it to that operator's lots."""
    dispute = _lock(session, dispute_public_id, operator_id)
    if dispute.status != OPEN:
        if _same(dispute, resolution, actor):
            return dispute  # a retry of the resolution that was made
        raise DisputeAlreadyResolved(f"dispute {dispute.public_id} is {dispute.status}",
                                     details={"status": dispute.status, "resolved_by": dispute.resolved_by})
    target = TRANSITIONS.get((dispute.status, resolution.decision))
    if target is None:
        raise DisputeInvalid("the decision is uphold or reject", details={"field": "decision"})
    note = resolution.note.strip()
    if not note or len(note) > NOTE_MAX:
        raise DisputeInvalid(f"explain the decision in 1 to {NOTE_MAX} characters", details={"field": "note"})
    if target == UPHELD:
        _remedy(session, dispute, resolution, note, actor=actor, clock=clock, approval_threshold=approval_threshold)
    else:
        dispute.remedy = NO_REMEDY
    dispute.status, dispute.resolution_note = target, note
    dispute.resolved_by, dispute.resolved_at = actor, clock.now()
    session.flush()
    audit.record(session, f"parking_dispute_{target}", actor=actor, target=f"dispute:{dispute.public_id}",
                 details={"remedy": dispute.remedy, "refund_id": dispute.refund_id}, clock=clock)
    return dispute


def _remedy(session: Session, dispute: ParkingDispute, resolution: Resolution, note: str, *, actor: str,
            clock: Clock, approval_threshold: Money | None) -> None:
    row = session.get(ParkingSession, dispute.session_id)
    bill = session.get(Bill, row.bill_id)
    if bill.status == BillStatus.OPEN:
        if resolution.refund_amount is not None:
            raise DisputeInvalid("the charge is not paid: upholding cancels it, there is nothing to refund",
                                 details={"field": "refund_amount"})
        bill_service.cancel_bill(session, bill.public_id, actor=actor, clock=clock)
        dispute.remedy = BILL_CANCELLED
        return
    payment = _captured_payment(session, bill)
    if payment is None:  # cancelled or expired meanwhile: no money moved, so none to give back
        dispute.remedy = NO_REMEDY
        return
    available = refunds.refundable(payment)
    amount = available.amount if resolution.refund_amount is None else resolution.refund_amount
    refund = refunds.request_refund(session, payment.public_id, amount=Money(amount, payment.currency),
                                    expected_refundable=available, reason=f"{dispute.public_id}: {note}"[:500],
                                    requested_by=actor, clock=clock, approval_threshold=approval_threshold)
    dispute.remedy, dispute.refund_id = REFUND, refund.id


def _same(dispute: ParkingDispute, resolution: Resolution, actor: str) -> bool:
    return (TRANSITIONS.get((OPEN, resolution.decision)) == dispute.status and dispute.resolved_by == actor
            and dispute.resolution_note == resolution.note.strip())


def _payers_session(session: Session, citizen: Citizen, session_public_id: str) -> tuple[ParkingSession, Bill]:
    found = session.execute(select(ParkingSession, Bill).join(Bill, Bill.id == ParkingSession.bill_id)
                            .where(ParkingSession.public_id == session_public_id)).one_or_none()
    if found is None or found[1].payer_id_hash != citizen.personal_id_hash:
        raise SessionNotFound(f"no charged session {session_public_id} of yours")
    return found[0], found[1]


def dispute_of(session: Session, session_id: int) -> ParkingDispute | None:
    """The dispute of a session, if its payer made one."""
    return session.scalars(select(ParkingDispute).where(ParkingDispute.session_id == session_id)).one_or_none()


def _lock(session: Session, dispute_public_id: str, operator_id: int | None) -> ParkingDispute:
    query = select(ParkingDispute).where(ParkingDispute.public_id == dispute_public_id)
    if operator_id is not None:
        query = (query.join(ParkingSession, ParkingSession.id == ParkingDispute.session_id)
                 .join(ParkingLot, ParkingLot.id == ParkingSession.lot_id).where(ParkingLot.operator_id == operator_id))
    dispute = session.scalars(query.with_for_update(of=ParkingDispute)).one_or_none()
    if dispute is None:
        raise DisputeNotFound(f"no dispute {dispute_public_id}")
    return dispute


def _captured_payment(session: Session, bill: Bill) -> Payment | None:
    return session.scalars(select(Payment).where(Payment.bill_id == bill.id, Payment.status == "succeeded")
                           .order_by(Payment.id.desc()).limit(1)).first()


def disputes(session: Session, *, status: str | None = None, operator_id: int | None = None,
             limit: int = 100) -> list[tuple[ParkingDispute, ParkingSession, ParkingLot, Bill]]:
    """Disputes newest first, with their session, lot and bill; of one status or operator if given."""
    query = (select(ParkingDispute, ParkingSession, ParkingLot, Bill)
             .join(ParkingSession, ParkingSession.id == ParkingDispute.session_id)
             .join(ParkingLot, ParkingLot.id == ParkingSession.lot_id)
             .join(Bill, Bill.id == ParkingSession.bill_id)
             .order_by(ParkingDispute.opened_at.desc(), ParkingDispute.id.desc()).limit(limit))
    if status is not None:
        query = query.where(ParkingDispute.status == status)
    if operator_id is not None:
        query = query.where(ParkingLot.operator_id == operator_id)
    return [tuple(found) for found in session.execute(query).all()]
