"""Remittance to the State Treasury: what each agency owes per budget code and month, the check, the downloads."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import get_locale

from admin.finance.blueprint import actor, bp
from admin.finance.forms import read_period, vn_date
from admin.finance.reports import FORMATS
from core.clock import SYSTEM_CLOCK
from identity.roles import FINANCE_APPROVER, FINANCE_OFFICER
from payments.reconciliation.treasury import check_all_agencies
from payments.remittance import obligations
from payments.remittance_rules import load_rules
from payments.reporting.remittance import remittance_table
from payments.reporting.tables import ReportTable
from web.auth import require_role
from web.database import db_session

FINANCE = (FINANCE_OFFICER, FINANCE_APPROVER)
#: Remittances are monthly: a default period of two months shows the month just closed and this one.
DEFAULT_DAYS = 62


def _locale() -> str:
    return "en" if str(get_locale() or "vi") == "en" else "vi"


def _table(first: date, last: date) -> ReportTable:
    now = SYSTEM_CLOCK.now()
    items = obligations(db_session(), load_rules(), first=first, last=last, as_of=now)
    return remittance_table(items, first=first, last=last, generated_at=now, locale=_locale())


@bp.get("/remittance")
@require_role(*FINANCE)
def remittance():
    """The remittance report of the period's months on screen, its rules, the check and the downloads."""
    first, last, errors = read_period(request.args, default_days=DEFAULT_DAYS)
    table = None if errors else _table(first, last)
    return render_template("admin/finance/remittance.html", table=table, rules=load_rules(), formats=tuple(FORMATS),
                           first=vn_date(first), last=vn_date(last), errors=errors,
                           checked=request.args.get("checked"), refused=request.args.getlist("refused"),
                           locale=_locale()), 422 if errors else 200


@bp.get("/remittance.<fmt>")
@require_role(*FINANCE)
def download_remittance(fmt: str):
    """The remittance report of the period's months in one format, as an attachment."""
    if fmt not in FORMATS:
        abort(404)
    first, last, errors = read_period(request.args, default_days=DEFAULT_DAYS)
    if errors:
        abort(400)
    media_type, render = FORMATS[fmt]
    name = f"nop-ngan-sach-{first:%Y%m}-{last:%Y%m}.{fmt}"
    return Response(render(_table(first, last), _locale()), mimetype=media_type,
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.post("/remittance/check")
@require_role(*FINANCE)
def check_remittance():
    """Run the Treasury check of every agency for the period now: match transfers, post them, raise breaks."""
    first, last, errors = read_period(request.form, default_days=DEFAULT_DAYS)
    if errors:
        abort(400)
    done = check_all_agencies(db_session(), period_start=first, period_end=last, started_by=actor(),
                              rules=load_rules(), as_of=SYSTEM_CLOCK.now())
    checked, refused = len(done.checked), list(done.refused)
    return redirect(url_for("finance.remittance", checked=checked, refused=refused,
                            **{"from": vn_date(first), "to": vn_date(last)}), 303)
