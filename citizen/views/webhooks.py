"""Provider webhooks: the raw body goes to ``payments.notifications``; answer 2xx fast, 400 if untrusted."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from core.clock import SYSTEM_CLOCK
from payments.bank_intake import receive
from payments.bank_transfers import ACCEPTED
from payments.errors import PaymentError
from payments.notifications import receive_notification
from payments.vnpay_ipn import receive_ipn
from web.auth import public
from web.database import db_session
from web.errors import status_for
from web.logs import request_id_var

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


@bp.errorhandler(PaymentError)
def _refused(error: PaymentError):
    """Providers get JSON with a stable code whatever they accept; nothing was committed."""
    body = {"code": error.code, "message": error.message, "details": error.details or {},
            "request_id": request_id_var.get()}
    return jsonify(body), status_for(error)


def _receive(provider_name: str):
    """Verify, record and stage a refresh; a bad signature raises NotificationRejected (400, nothing written)."""
    received = receive_notification(db_session(), provider_name, request.get_data(cache=False),
                                    request.headers, clock=SYSTEM_CLOCK)
    return jsonify({"received": received.event_id, "duplicate": received.duplicate}), 200


@bp.post("/stripe")
@public
def stripe():
    """Stripe's signed events (``Stripe-Signature``), verified over the raw body."""
    return _receive("stripe")


@bp.post("/sandbox")
@public
def sandbox():
    """The sandbox provider's signed notifications (``Sandbox-Signature``)."""
    return _receive("sandbox")


@bp.post("/bank/<connection>")
@public
def bank(connection: str):
    """A bank feed's transfer on an agency's account (SePay-shaped JSON), authenticated as the feed is set up.

    Answered ``{"success": true}`` once the transfer is recorded (also for a retried delivery, which changes
    nothing); what the money did is the gateway's business, not the feed's.
    """
    receive(db_session(), connection, request.headers, request.get_data(cache=False), clock=SYSTEM_CLOCK)
    return jsonify(ACCEPTED), 200


@bp.get("/vnpay/ipn")
@public
def vnpay_ipn():
    """VNPay's IPN (a signed GET): always answered 200 with ``{"RspCode", "Message"}``, as VNPay expects."""
    return jsonify(receive_ipn(db_session(), request.args.to_dict(flat=True), clock=SYSTEM_CLOCK)), 200
