"""Reports of a chosen period: collections by service, agency, day, channel or payout, and subsidy cost by
programme, as CSV, XLSX or PDF, all cut from the same ledger movements."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, render_template, request
from flask_babel import get_locale

from admin.finance.blueprint import bp
from admin.finance.forms import read_period, vn_date
from core.clock import SYSTEM_CLOCK
from identity.roles import FINANCE_APPROVER, FINANCE_OFFICER
from payments.reporting.collections import CUTS, collections, collections_table
from payments.reporting.csv_export import to_csv
from payments.reporting.pdf_export import to_pdf
from payments.reporting.subsidies import PROGRAMME_CUT, programme_costs, subsidy_table
from payments.reporting.tables import ReportTable
from payments.reporting.xlsx_export import to_xlsx
from web.auth import require_role
from web.database import db_session

FORMATS = {
    "csv": ("text/csv; charset=utf-8", to_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx),
    "pdf": ("application/pdf", to_pdf),
}
REPORT_CUTS = (*CUTS, PROGRAMME_CUT)
#: File name stems: collections are "thu" (takings), the subsidy cost "ho-tro".
_STEMS = {PROGRAMME_CUT: "ho-tro"}


def build_table(cut: str, first: date, last: date) -> ReportTable:
    """The report table of one cut of the period."""
    data, now = collections(db_session(), first, last), SYSTEM_CLOCK.now()
    if cut == PROGRAMME_CUT:
        return subsidy_table(programme_costs(data), generated_at=now)
    return collections_table(data, cut, generated_at=now)


@bp.get("/reports")
@require_role(FINANCE_OFFICER, FINANCE_APPROVER)
def reports():
    """Choose a period; download each cut in each format."""
    first, last, errors = read_period(request.args, default_days=30)
    return render_template("admin/finance/reports.html", cuts=REPORT_CUTS, formats=tuple(FORMATS),
                           first=vn_date(first), last=vn_date(last), errors=errors), 422 if errors else 200


@bp.get("/reports/<cut>.<fmt>")
@require_role(FINANCE_OFFICER, FINANCE_APPROVER)
def download_report(cut: str, fmt: str):
    """One cut of the period's collections (or its subsidy cost) in one format, as an attachment."""
    if cut not in REPORT_CUTS or fmt not in FORMATS:
        abort(404)
    first, last, errors = read_period(request.args, default_days=30)
    if errors:
        abort(400)
    table = build_table(cut, first, last)
    media_type, render = FORMATS[fmt]
    locale = str(get_locale() or "vi")
    name = f"{_STEMS.get(cut, 'thu')}-{cut}-{first:%Y%m%d}-{last:%Y%m%d}.{fmt}"
    return Response(render(table, "en" if locale == "en" else "vi"), mimetype=media_type,
                    headers={"Content-Disposition": f"attachment; filename={name}"})
