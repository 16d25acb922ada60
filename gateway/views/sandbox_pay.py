"""The sandbox provider's hosted payment page, served inside the gateway: test cards, no real money.

It stands where a real provider's page would: the payer types a test card, the sandbox decides the
outcome, and its signed notifications are staged through the outbox to ``receive_notification``, the
webhook path. The payer is then sent to the return URL, which only triggers a status query.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, redirect, render_template, request
from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import select

from gateway.auth import public
from gateway.database import db_session
from payments.errors import PaymentError
from payments.jobs import stage_sandbox_notifications
from payments.models.billing import Payment
from payments.providers import get_provider
from payments.providers.base import ProviderStatus
from payments.providers.sandbox import TEST_CARDS, SandboxProvider

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")

#: Test cards in the order the page lists them, with what each does (translated in the template).
CARD_LABELS = ("4242 4242 4242 4242", "4000 0000 0000 0002", "4000 0000 0000 0119", "4000 0000 0000 0259",
               "4000 0000 0000 0341")
_SESSION_ID = re.compile(r"sbx_[0-9a-f]{24}")


class CardForm(Schema):
    """What the sandbox page posts: a card number (spaces allowed) or a cancel."""

    card_number = fields.String(load_default="", validate=validate.Regexp(r"^[0-9 ]{0,23}$"))
    action = fields.String(load_default="pay", validate=validate.OneOf(("pay", "cancel")))


def _sandbox() -> SandboxProvider:
    try:
        provider = get_provider("sandbox")
    except PaymentError:
        abort(404)
    return provider  # type: ignore[return-value]


def _payment(session_id: str) -> Payment:
    """The payment this sandbox session belongs to; 404 for anything unknown."""
    if not _SESSION_ID.fullmatch(session_id):
        abort(404)
    payment = db_session().scalars(select(Payment).where(Payment.provider == "sandbox",
                                                         Payment.provider_session_id == session_id)).one_or_none()
    if payment is None:
        abort(404)
    return payment


@bp.get("/pay/<session_id>")
@public
def checkout(session_id: str):
    """The hosted page: what is being paid, the test cards, a card field."""
    payment = _payment(session_id)
    report = _sandbox().fetch_status(session_id)
    return render_template("sandbox/pay.html", payment=payment, report=report, session_id=session_id,
                           cards=CARD_LABELS, open=report.status is ProviderStatus.PENDING,
                           known=set(TEST_CARDS))


@bp.post("/pay/<session_id>")
@public
def submit(session_id: str):
    """Pay (or cancel) at the sandbox, stage its signed notifications, send the payer back."""
    payment = _payment(session_id)
    form = CardForm().load(request.form.to_dict(flat=True), unknown=EXCLUDE)
    sandbox = _sandbox()
    if form["action"] == "cancel":
        deliveries = sandbox.cancel_by_payer(session_id)
    else:
        deliveries = sandbox.pay(session_id, form["card_number"])
    stage_sandbox_notifications(db_session(), session_id, deliveries)
    return redirect(payment.return_url or "/", 303)
