"""Refunds: find a captured payment, request a full or partial refund, approve large ones with four eyes.

The use cases are ``payments.refunds`` (they flush; the request edge commits). The officer sends the
amount they saw as still refundable, so a screen gone stale meanwhile is refused (412) instead of
refunding the same money twice.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from admin.finance.blueprint import actor, bp, is_approver
from admin.finance.forms import parse_whole_dong
from admin.finance.staff_names import staff_names
from core.clock import SYSTEM_CLOCK
from core.errors import DomainError
from core.money import Money
from identity.roles import FINANCE_APPROVER, FINANCE_OFFICER
from payments import queries
from payments import refunds as use_cases
from payments.models.refunds import REFUND_STATUSES
from web.auth import require_role
from web.database import db_session
from web.i18n import money
from web.payments_runtime import payment_limits

FINANCE = (FINANCE_OFFICER, FINANCE_APPROVER)
REFUSALS = {
    "refund_amount_stale": (412, _l("The refundable amount has changed since you opened this page: %(amount)s "
                                    "can be refunded now. Check the refunds below and try again.")),
    "refund_not_allowed": (409, _l("This refund is not possible: the amount must be more than 0 and at most "
                                   "what can still be refunded.")),
    "refund_reason_missing": (422, _l("Give the reason for the refund.")),
    "refund_self_approval": (403, _l("You requested this refund, so another finance approver must approve it.")),
}


def refusal(error: DomainError, currency: str = "VND") -> tuple[int, str]:
    """Return the status and translated message for a refused refund step."""
    status, message = REFUSALS.get(error.code, (409, _l("The request could not be completed.")))
    available = (error.details or {}).get("amount_available", 0)
    return status, str(message) % {"amount": money(Money(available, currency))}


@bp.get("/refunds")
@require_role(*FINANCE)
def refunds():
    """Refunds newest first (optionally of one status), and the search for a payment to refund."""
    session, q = db_session(), request.args.get("q", "").strip()[:100]
    status = request.args.get("status") if request.args.get("status") in REFUND_STATUSES else None
    rows = queries.list_refunds(session, status=status)
    return render_template("admin/finance/refunds.html", rows=rows, q=q, status=status, statuses=REFUND_STATUSES,
                           found=queries.find_payments(session, q) if q else None,
                           names=staff_names(session, [r.requested_by for r in rows]))


def _payment_page(code: str, status: int = 200, error: str | None = None, form=None):
    session = db_session()
    payment = queries.get_payment(session, code)
    made = queries.payment_refunds(session, payment)
    return render_template("admin/finance/refund_payment.html", payment=payment, bill=payment.bill,
                           summary=queries.refund_summary(session, payment), made=made, error=error,
                           form=form or {}, threshold=payment_limits().refund_approval_threshold,
                           names=staff_names(session, [r.requested_by for r in made])), status


@bp.get("/refunds/payments/<code>")
@require_role(*FINANCE)
def refund_payment(code: str):
    """A captured payment: what it paid, its refunds, what is refundable, and the refund form."""
    return _payment_page(code)


@bp.post("/refunds/payments/<code>")
@require_role(*FINANCE)
def request_refund(code: str):
    """Request a refund of ``amount`` with a reason; above the threshold it waits for an approver."""
    payment = queries.get_payment(db_session(), code)
    amount, expected = parse_whole_dong(request.form.get("amount")), parse_whole_dong(request.form.get("expected"))
    if amount is None or expected is None:
        return _payment_page(code, 422, str(_l("Enter the amount to refund in whole dong, for example 50000.")),
                             request.form)
    try:
        refund = use_cases.request_refund(
            db_session(), payment.public_id, amount=Money(amount, payment.currency),
            expected_refundable=Money(expected, payment.currency), reason=request.form.get("reason", "")[:500],
            requested_by=actor(), clock=SYSTEM_CLOCK, approval_threshold=payment_limits().refund_approval_threshold)
    except DomainError as error:
        return _payment_page(code, *refusal(error, payment.currency), request.form)
    return redirect(url_for("finance.refund", refund_id=refund.public_id), 303)


def _refund_page(refund_id: str, status: int = 200, error: str | None = None):
    session = db_session()
    refund = queries.get_refund(session, refund_id)
    history = queries.refund_history(session, refund)
    return render_template("admin/finance/refund.html", refund=refund, payment=refund.payment,
                           bill=refund.payment.bill, error=error, approver=is_approver(), history=history,
                           names=staff_names(session, [refund.requested_by, refund.approved_by,
                                                       *(e.actor for e in history)])), status


@bp.get("/refunds/<refund_id>")
@require_role(*FINANCE)
def refund(refund_id: str):
    """One refund: amount, reason, who asked, who approved, where it is."""
    return _refund_page(refund_id)


@bp.post("/refunds/<refund_id>/approve")
@require_role(FINANCE_APPROVER)
def approve_refund(refund_id: str):
    """Approve a refund awaiting approval; refused (and said so) to the officer who requested it."""
    queries.get_refund(db_session(), refund_id)
    try:
        use_cases.approve_refund(db_session(), refund_id, approver=actor(), clock=SYSTEM_CLOCK)
    except DomainError as error:
        if error.code == "refund_not_allowed":
            return _refund_page(refund_id, 409, str(_l("This refund is not waiting for approval.")))
        return _refund_page(refund_id, *refusal(error))
    return redirect(url_for("finance.refund", refund_id=refund_id), 303)
