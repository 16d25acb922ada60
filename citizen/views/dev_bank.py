"""The bank-app stand-in of the embedded default: decode a VietQR and have the test bank send its feed's report.

Registered only when the built-in ``dev-bank`` feed is the configured one (never in production).
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from citizen import TEMPLATES
from citizen.views.vietqr_pay import qr_instructions
from payments import dev_bank
from payments.vietqr import read
from web.auth import public
from web.database import db_session

bp = Blueprint("dev_bank", __name__, url_prefix="/dev-bank", template_folder=TEMPLATES)


@bp.get("/<code>")
@public
def show(code: str):
    """What the QR says, decoded as a bank app reads it, and the transfers the test bank can make."""
    found = qr_instructions(code)
    return render_template("vietqr/dev_bank.html", transfer=found, decoded=read(found.payload),
                           scenarios=dev_bank.SCENARIOS)


@bp.post("/<code>")
@public
def send(code: str):
    """Make the transfer; the feed's notification reaches the gateway through the job worker."""
    found, scenario = qr_instructions(code), request.form.get("scenario", "")
    if scenario not in dev_bank.SCENARIOS:
        abort(400)
    dev_bank.transfer(db_session(), found, scenario)
    return redirect(url_for("vietqr.show", code=code), 303)
