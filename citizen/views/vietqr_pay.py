"""The VietQR page of a payment attempt: the QR to scan, the same details to copy, and its live status.

Public like a provider's hosted page (the payment code is printed on paper bills too): it shows the
amount, the agency's receiving account and the code, never who the payer is. It never decides anything:
the page turns to "paid" when the bank feed's report has settled the bill (``payments.bank_intake``).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, url_for

from citizen import TEMPLATES
from citizen.qr_images import qr_png, qr_svg
from payments.codes import PAYMENT_CODE
from payments.errors import PaymentNotFound
from payments.models.billing import LIVE_PAYMENT_STATUSES
from payments.vietqr_payments import TransferInstructions, instructions
from web.auth import public
from web.database import db_session

bp = Blueprint("vietqr", __name__, url_prefix="/pay/vietqr", template_folder=TEMPLATES)


def qr_instructions(code: str) -> TransferInstructions:
    """The instructions of VietQR payment ``code``; 404 for anything else."""
    if not PAYMENT_CODE.fullmatch(code):
        abort(404)
    try:
        return instructions(db_session(), code)
    except PaymentNotFound:
        abort(404)


@bp.get("/<code>")
@public
def show(code: str):
    """The QR with bank, account, holder, amount and code as text, and a countdown to expiry."""
    found = qr_instructions(code)
    return render_template("vietqr/pay.html", transfer=found, qr=qr_svg(found.payload), live=LIVE_PAYMENT_STATUSES,
                           status_url=url_for("vietqr.status", code=code),
                           bill_url=url_for("bills.show", bill_id=found.bill_id),
                           dev_bank=url_for("dev_bank.show", code=code) if "dev_bank" in current_app.blueprints
                           else None)


@bp.get("/<code>.png")
@public
def png(code: str):
    """The QR as a PNG image, to print on a paper bill."""
    return Response(qr_png(qr_instructions(code).payload), mimetype="image/png",
                    headers={"Content-Disposition": f'inline; filename="vietqr-{code}.png"'})


@bp.get("/<code>/status")
@public
def status(code: str):
    """Where the attempt and its bill are, for the page to turn to "paid" by itself."""
    found = qr_instructions(code)
    return jsonify({"payment_status": found.payment_status, "bill_status": found.bill_status,
                    "expires_at": found.expires_at.isoformat()})
