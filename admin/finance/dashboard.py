"""The finance dashboard: collections by day, service, channel and agency, subsidy cost per programme, and open
breaks by age, as charts.

Every collections number on the page, the subsidy cost included, comes from one read of the period's ledger
movements, the same rows the reports are cut from, so a downloaded report's totals equal the dashboard's.
"""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from admin.finance import charts
from admin.finance.blueprint import bp
from admin.finance.forms import read_period, vn_date
from core.clock import SYSTEM_CLOCK
from core.money import Money
from identity.roles import FINANCE_APPROVER, FINANCE_OFFICER
from payments.reconciliation.workbench import ageing
from payments.reporting.collections import Collections, Line, collections
from payments.reporting.subsidies import SubsidyCosts, programme_costs
from web.auth import require_role
from web.database import db_session
from web.i18n import money

AGE_LABELS = {"0-2": _l("0–2 days"), "3-7": _l("3–7 days"), "8-30": _l("8–30 days"), "31+": _l("over 30 days")}


def _label(line: Line) -> str:
    return str(_l("No channel (fully subsidised)")) if line.key is None else str(line.key)


def _money_items(data: Collections, cut: str, label=_label) -> list[tuple[str, int, str]]:
    return [(label(line), line.totals.collected, _vnd(line.totals.collected)) for line in data.cut(cut)]


def _vnd(amount: int) -> str:
    return money(Money(amount, "VND"))


def build_charts(data: Collections, ages: dict[str, int], subsidies: SubsidyCosts) -> dict[str, charts.Chart]:
    """The dashboard's charts from the period's collections, its subsidy cost and the ageing of open breaks."""
    return {
        "day": charts.column_chart(_money_items(data, "day", lambda line: line.key.strftime("%d/%m"))),
        "service": charts.bar_chart(_money_items(data, "service")),
        "provider": charts.bar_chart(_money_items(data, "provider")),
        "agency": charts.bar_chart(_money_items(data, "agency")),
        "programme": charts.bar_chart([(c.programme, c.amount, _vnd(c.amount)) for c in subsidies.by_programme]),
        "age": charts.bar_chart([(str(AGE_LABELS[name]), count, str(count)) for name, count in ages.items()]),
    }


@bp.get("/")
@require_role(FINANCE_OFFICER, FINANCE_APPROVER)
def dashboard():
    """Collections and subsidy cost of the chosen period (the last seven days by default); open breaks by age."""
    first, last, errors = read_period(request.args)
    session = db_session()
    data = collections(session, first, last)
    ages = ageing(session, today=SYSTEM_CLOCK.today_in_vietnam())
    subsidies = programme_costs(data)
    totals = data.totals
    return render_template("admin/finance/dashboard.html", totals=totals, ages=ages, subsidies=subsidies,
                           charts=build_charts(data, ages, subsidies), total=_vnd(totals.collected),
                           refunds=_vnd(totals.refunds), net=_vnd(totals.net),
                           subsidy_total=_vnd(subsidies.amount), first=vn_date(first), last=vn_date(last),
                           errors=errors), 422 if errors else 200
