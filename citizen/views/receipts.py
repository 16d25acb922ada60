"""Receipt pages: the citizen's receipt (HTML, PDF with a QR code, signed JSON) and public verification."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from citizen import TEMPLATES, receipt_documents
from core.clock import SYSTEM_CLOCK
from payments.models.receipts import Receipt
from payments.receipts import receipt_number
from web.auth import current_principal, public, require_citizen
from web.database import db_session
from web.security import limiter

bp = Blueprint("receipts", __name__, url_prefix="/receipts", template_folder=TEMPLATES)


bp.app_template_global("receipt_number")(receipt_number)


def _lang() -> str:
    return "en" if str(get_locale()) == "en" else "vi"


def _owned(receipt_id: str) -> Receipt:
    """The logged-in citizen's receipt; anyone else's is a 404."""
    citizen = current_principal().citizen
    receipt = db_session().scalars(select(Receipt).where(
        Receipt.public_id == receipt_id, Receipt.payer_id_hash == citizen.personal_id_hash)).one_or_none()
    if receipt is None:
        abort(404)
    return receipt


def _verify_url(receipt: Receipt) -> str:
    base = current_app.extensions["gateway.settings"].base_url
    return base + url_for("receipts.verify", token=receipt_documents.verification_token(receipt))


def _context(receipt: Receipt) -> dict:
    verify_url = _verify_url(receipt)
    return {"receipt": receipt, "number": receipt_number(receipt), "lang": _lang(), "verify_url": verify_url,
            "qr": receipt_documents.qr_data_uri(verify_url), "now": SYSTEM_CLOCK.now()}


@bp.get("/<receipt_id>")
@require_citizen()
def show(receipt_id: str):
    """The receipt as a page, with links to its PDF and signed JSON."""
    return render_template("receipts/show.html", **_context(_owned(receipt_id)))


@bp.get("/<receipt_id>.pdf")
@require_citizen()
def pdf(receipt_id: str):
    """The receipt as a PDF (Vietnamese text, Noto Sans) with a QR code to verify it."""
    context = _context(_owned(receipt_id))
    body = receipt_documents.receipt_pdf(render_template("receipts/pdf.html", **context))
    filename = f"bien-lai-{context['number']}.pdf"
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/<receipt_id>.jws")
@require_citizen()
def signed(receipt_id: str):
    """The receipt's canonical JSON document, signed (compact JWS)."""
    receipt = _owned(receipt_id)
    return Response(receipt_documents.signed_receipt(receipt), mimetype="application/jose",
                    headers={"Content-Disposition": f'attachment; filename="bien-lai-{receipt_number(receipt)}.jws"'})


#: What people type around an amount in đồng: thousands separators, spaces and the currency.
_AMOUNT_DECORATION = re.compile(r"[\s.,]|₫|đ|vnd", re.IGNORECASE)


def _amount(text: str) -> int | None:
    digits = _AMOUNT_DECORATION.sub("", text)
    return int(digits) if digits.isdigit() and len(digits) <= 15 else None


@bp.get("/verify")
@public
@limiter.limit("30 per minute")  # receipt numbers are sequential: slow down anyone trying amounts
def verify():
    """Anyone can check a receipt: by the QR token (or signed document), or by its number plus the amount."""
    token = request.args.get("token", "").strip()
    number = request.args.get("number", "").strip()
    if token and receipt_documents.looks_like_number(token):  # a number typed into the code field
        number, token = token, ""
    errors: dict[str, str] = {}
    result = None
    if token:
        result = receipt_documents.verify(db_session(), token)
    elif number:
        errors = _number_errors(number, request.args.get("amount", ""))
        if not errors:
            result = receipt_documents.verify_by_number(db_session(), number, _amount(request.args["amount"]))
    return render_template("receipts/verify.html", token=token, number=number,
                           amount=request.args.get("amount", ""), result=result, errors=errors)


def _number_errors(number: str, amount: str) -> dict[str, str]:
    errors = {}
    if not receipt_documents.looks_like_number(number):
        errors["number"] = _l("Enter the receipt number as printed, for example BLTT26-0000042.")
    if not amount.strip():
        errors["amount"] = _l("Enter the amount paid shown on the receipt, in đồng.")
    elif _amount(amount) is None:
        errors["amount"] = _l("Enter the amount in đồng using digits only, for example 200000.")
    return errors
