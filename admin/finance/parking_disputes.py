"""Parking disputes: the citizens' disputes of session charges, and the officer's decision on each.

The use cases are ``parking.disputes`` (they flush; the request edge commits). Upholding a paid charge
requests its refund through the refund path, so the refund's approval threshold and its four eyes apply.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from admin.finance.blueprint import actor, bp
from admin.finance.forms import parse_whole_dong
from admin.finance.refunds import FINANCE
from admin.finance.staff_names import staff_names
from core.clock import SYSTEM_CLOCK
from core.errors import DomainError
from parking import disputes as use_cases
from parking.errors import DisputeNotFound
from parking.models import DISPUTE_STATUSES, ParkingDispute, ParkingLot, ParkingSession
from payments.models.billing import Bill
from payments.models.refunds import Refund
from web.auth import require_role
from web.database import db_session
from web.errors import status_for
from web.payments_runtime import payment_limits


@bp.get("/parking/disputes")
@require_role(*FINANCE)
def parking_disputes():
    """Disputes newest first, open ones unless another status is asked for."""
    status = request.args.get("status", "open")
    status = status if status in DISPUTE_STATUSES else None
    rows = use_cases.disputes(db_session(), status=status)
    return render_template("admin/finance/parking_disputes.html", rows=rows, status=status,
                           statuses=DISPUTE_STATUSES)


def _dispute_page(dispute_id: str, status: int = 200, error: DomainError | None = None):
    session = db_session()
    dispute = session.query(ParkingDispute).filter_by(public_id=dispute_id).one_or_none()
    if dispute is None:
        raise DisputeNotFound(f"no dispute {dispute_id}")
    row = session.get(ParkingSession, dispute.session_id)
    bill = session.get(Bill, row.bill_id)
    return render_template("admin/finance/parking_dispute.html", dispute=dispute, row=row, bill=bill,
                           lot=session.get(ParkingLot, row.lot_id), error=error, form=request.form,
                           refund=session.get(Refund, dispute.refund_id) if dispute.refund_id else None,
                           threshold=payment_limits().refund_approval_threshold,
                           names=staff_names(session, [dispute.resolved_by])), status


@bp.get("/parking/disputes/<dispute_id>")
@require_role(*FINANCE)
def parking_dispute(dispute_id: str):
    """One dispute: the session, its charge, what the citizen says, and the decision form."""
    return _dispute_page(dispute_id)


@bp.post("/parking/disputes/<dispute_id>")
@require_role(*FINANCE)
def resolve_parking_dispute(dispute_id: str):
    """Uphold (cancel the unpaid bill, or refund the paid charge) or reject the dispute, with a note."""
    raw_amount = request.form.get("refund_amount", "").strip()
    amount = parse_whole_dong(raw_amount) if raw_amount else None
    if raw_amount and amount is None:
        db_session().rollback()
        return _dispute_page(dispute_id, 422, DomainError("enter the amount in whole dong", code="amount_invalid"))
    resolution = use_cases.Resolution(request.form.get("decision", ""), request.form.get("note", "")[:1000], amount)
    try:
        use_cases.resolve_dispute(db_session(), dispute_id, resolution, actor=actor(), clock=SYSTEM_CLOCK,
                                  approval_threshold=payment_limits().refund_approval_threshold)
    except DomainError as error:  # shown on the form; nothing of the decision is kept
        if status_for(error) == 404:
            raise
        db_session().rollback()
        return _dispute_page(dispute_id, status_for(error), error)
    return redirect(url_for("finance.parking_dispute", dispute_id=dispute_id), 303)
