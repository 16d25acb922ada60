"""Upload a provider or bank report: stored whole with its lines, refused whole with the row and reason."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from admin.finance.blueprint import actor, bp
from core.money import Money
from identity.roles import FINANCE_APPROVER, FINANCE_OFFICER
from payments.reconciliation.imports import import_report
from payments.reconciliation.parsed import ImportRejected
from payments.reconciliation.readers import FORMATS
from payments.reconciliation.workbench import recent_files
from web.auth import require_role
from web.database import db_session

FORMAT_NAMES = {
    "camt053": _l("Bank statement, ISO 20022 camt.053 (XML)"),
    "mt940": _l("Bank statement, SWIFT MT940"),
    "vn_bank": _l("Vietnamese bank statement (sao kê), CSV or Excel"),
    "stripe": _l("Stripe report (CSV)"),
    "stripe_api": _l("Stripe payouts fetched through the API (JSON)"),
    "vnpay": _l("VNPay settlement file"),
}


def _page(status: int = 200, **context):
    context.setdefault("errors", {})
    return render_template("admin/finance/imports.html", formats=FORMATS, names=FORMAT_NAMES,
                           files=recent_files(db_session()), money_of=Money, **context), status


@bp.get("/imports")
@require_role(FINANCE_OFFICER, FINANCE_APPROVER)
def imports():
    """The upload form and the newest imported files."""
    return _page()


@bp.post("/imports")
@require_role(FINANCE_OFFICER, FINANCE_APPROVER)
def upload():
    """Import one file; show what was stored, that it was imported before, or why it was refused."""
    chosen, upload = request.form.get("format", ""), request.files.get("report")
    errors = {}
    if chosen not in FORMATS:
        errors["format"] = str(_l("Choose the format of the file."))
    if upload is None or not upload.filename:
        errors["report"] = str(_l("Choose the file to upload."))
    if errors:
        return _page(422, errors=errors, chosen=chosen)
    try:
        result = import_report(db_session(), upload.read(), chosen, filename=upload.filename, imported_by=actor())
    except ImportRejected as rejected:
        return _page(422, rejected=rejected.details, filename=upload.filename, chosen=chosen)
    return _page(200, result=result, chosen=chosen)
