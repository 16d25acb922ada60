"""Reports of collections for a chosen period, by service, day or channel, as CSV, XLSX or PDF."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_babel import get_locale

from admin.finance.blueprint import bp
from admin.finance.forms import read_period, vn_date
from core.clock import SYSTEM_CLOCK
from gateway.auth import require_role
from gateway.database import db_session
from identity.roles import FINANCE_APPROVER, FINANCE_OFFICER
from payments.reporting.collections import CUTS, collections, collections_table
from payments.reporting.csv_export import to_csv
from payments.reporting.pdf_export import to_pdf
from payments.reporting.xlsx_export import to_xlsx

FORMATS = {
    "csv": ("text/csv; charset=utf-8", to_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx),
    "pdf": ("application/pdf", to_pdf),
}


@bp.get("/reports")
@require_role(FINANCE_OFFICER, FINANCE_APPROVER)
def reports():
    """Choose a period; download each cut in each format."""
    first, last, errors = read_period(request.args, default_days=30)
    return render_template("admin/finance/reports.html", cuts=CUTS, formats=tuple(FORMATS), first=vn_date(first),
                           last=vn_date(last), errors=errors), 422 if errors else 200


@bp.get("/reports/<cut>.<fmt>")
@require_role(FINANCE_OFFICER, FINANCE_APPROVER)
def download_report(cut: str, fmt: str):
    """One cut of the period's collections in one format, as an attachment."""
    if cut not in CUTS or fmt not in FORMATS:
        abort(404)
    first, last, errors = read_period(request.args, default_days=30)
    if errors:
        abort(400)
    table = collections_table(collections(db_session(), first, last), cut, generated_at=SYSTEM_CLOCK.now())
    media_type, render = FORMATS[fmt]
    locale = str(get_locale() or "vi")
    name = f"thu-{cut}-{first:%Y%m%d}-{last:%Y%m%d}.{fmt}"
    return Response(render(table, "en" if locale == "en" else "vi"), mimetype=media_type,
                    headers={"Content-Disposition": f"attachment; filename={name}"})
