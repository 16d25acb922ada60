"""Receipt pages: the citizen's receipt (HTML, PDF with a QR code, signed JSON) and public verification."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import get_locale
from sqlalchemy import select

from core.clock import SYSTEM_CLOCK
from gateway import receipt_documents
from gateway.auth import current_principal, public, require_citizen
from gateway.database import db_session
from payments.models.receipts import Receipt
from payments.receipts import receipt_number

bp = Blueprint("receipts", __name__, url_prefix="/receipts")


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


@bp.get("/verify")
@public
def verify():
    """Anyone can check a receipt: the QR token (or a signed document) against our keys and records."""
    token = request.args.get("token", "").strip()
    result = receipt_documents.verify(db_session(), token) if token else None
    return render_template("receipts/verify.html", token=token, result=result)
