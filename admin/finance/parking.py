"""Parking settlement: an operator's day (gates, priced, paid by rail, arrived, shares, Treasury) and the
under-reporting check that puts lots whose counts exceed their sessions on the break workbench."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from admin.finance.blueprint import actor, bp
from admin.finance.charts import bar_chart
from admin.finance.forms import parse_vn_date, vn_date
from admin.finance.reports import FORMATS
from core.clock import SYSTEM_CLOCK
from identity.roles import FINANCE_APPROVER, FINANCE_OFFICER
from parking.models import ParkingOperator
from parking.settlement import OperatorDay, check_under_reporting, operator_day, scope_of
from payments.reporting.tables import Column, ReportTable
from web.auth import require_role
from web.database import db_session

FINANCE = (FINANCE_OFFICER, FINANCE_APPROVER)

COLUMNS = (Column("lot", "Điểm đỗ xe", "Lot"), Column("entries", "Lượt vào (cổng)", "Entries (gates)", "count"),
           Column("exits", "Lượt ra (cổng)", "Exits (gates)", "count"),
           Column("priced", "Lượt đã tính tiền", "Sessions priced", "count"),
           Column("counted", "Đếm độc lập", "Counted independently", "count"),
           Column("charged", "Tiền phải thu", "Charged", "money"),
           Column("paid", "Đã thanh toán", "Paid", "money"),
           Column("unpaid", "Chưa thanh toán", "Unpaid", "money"),
           Column("operator_share", "Phần của đơn vị trông giữ", "Operator's share", "money"),
           Column("treasury_due", "Phải nộp ngân sách", "Due to the Treasury", "money"),
           Column("arrived", "Đã về tài khoản", "Arrived on the account", "money"),
           Column("at_providers", "Còn ở đơn vị thanh toán", "At payment providers", "money"))


def _operators() -> list[ParkingOperator]:
    return list(db_session().scalars(select(ParkingOperator).order_by(ParkingOperator.code)))


def _chosen() -> tuple[ParkingOperator | None, date | None, list[ParkingOperator]]:
    operators = _operators()
    code = request.values.get("operator") or (operators[0].code if operators else None)
    operator = next((o for o in operators if o.code == code), None)
    day = parse_vn_date(request.values.get("day")) if request.values.get("day") else SYSTEM_CLOCK.today_in_vietnam()
    return operator, day, operators


def _locale() -> str:
    return "en" if str(get_locale() or "vi") == "en" else "vi"


def _chart(statement: OperatorDay):
    items = []
    for lot_day in statement.lots:
        items.append((_("%(lot)s: reported entries", lot=lot_day.lot.code), lot_day.entries, str(lot_day.entries)))
        if lot_day.counted is not None:
            items.append((_("%(lot)s: counted", lot=lot_day.lot.code), lot_day.counted, str(lot_day.counted)))
    return bar_chart(items)


@bp.get("/parking")
@require_role(*FINANCE)
def parking():
    """One operator's day: the settlement statement, counts against sessions, and its breaks."""
    operator, day, operators = _chosen()
    if operator is None or day is None:
        return render_template("admin/finance/parking.html", operators=operators, statement=None,
                               day=request.values.get("day", ""), invalid=True), 422 if operators else 200
    statement = operator_day(db_session(), operator, day)
    return render_template("admin/finance/parking.html", operators=operators, statement=statement,
                           chart_data=_chart(statement), day=vn_date(day), scope=scope_of(operator),
                           flagged=request.args.get("flagged"), formats=tuple(FORMATS), invalid=False)


@bp.post("/parking/check")
@require_role(*FINANCE)
def check_parking():
    """Compare the day's independent counts with the sessions reported; open breaks where they fall short."""
    operator, day, _operators_ = _chosen()
    if operator is None or day is None:
        abort(400)
    flagged = check_under_reporting(db_session(), operator, day, actor=actor(), clock=SYSTEM_CLOCK)
    return redirect(url_for("finance.parking", operator=operator.code, day=vn_date(day), flagged=len(flagged)), 303)


@bp.get("/parking.<fmt>")
@require_role(*FINANCE)
def download_parking(fmt: str):
    """The operator's day statement as CSV, XLSX or PDF."""
    operator, day, _operators_ = _chosen()
    if fmt not in FORMATS or operator is None or day is None:
        abort(404)
    statement = operator_day(db_session(), operator, day)
    media_type, render = FORMATS[fmt]
    name = f"quyet-toan-gui-xe-{operator.code}-{day:%Y%m%d}.{fmt}"
    return Response(render(statement_table(statement), _locale()), mimetype=media_type,
                    headers={"Content-Disposition": f"attachment; filename={name}"})


def statement_table(statement: OperatorDay) -> ReportTable:
    """The statement as a report: a row per lot; the totals are the operator's day."""
    rows = tuple({"lot": f"{d.lot.code} · {d.lot.name}", "entries": d.entries, "exits": d.exits,
                  "priced": d.sessions_priced, "counted": d.counted or 0, "charged": d.charged, "paid": d.money.paid,
                  "unpaid": d.money.unpaid, "operator_share": d.money.operator_share,
                  "treasury_due": d.money.treasury_due, "arrived": d.money.arrived,
                  "at_providers": d.money.at_providers} for d in statement.lots)
    return ReportTable(title=f"Quyết toán gửi xe trong ngày: {statement.operator.name}",
                       period=vn_date(statement.day), columns=COLUMNS, rows=rows, generated_at=SYSTEM_CLOCK.now())
