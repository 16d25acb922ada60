"""Subsidy cost per programme: the dashboard's chart and table, and the report cut whose totals agree with it."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook

from core.money import vnd
from payments.bills import Quote, SubsidyLine
from tests.admin.finance import settled
from tests.admin.finance.settled import free_bill, paid_bill
from tests.admin.finance.support import payment, text_of
from tests.payments.factories import HANOI_PROGRAMME

paying = settled.paying
OTHER = "HCM-NQ05-2025"


def _subsidised(db, clock) -> int:
    """Three subsidised bills (one free, one shared with a second programme), one without; the expected total."""
    paid_bill(db, clock, due=150_000, base=200_000)  # 50,000 from Hà Nội
    free_bill(db, clock, base=200_000)  # 200,000 from Hà Nội
    two = (SubsidyLine(HANOI_PROGRAMME, vnd(60_000)), SubsidyLine(OTHER, vnd(40_000)))
    paid_bill(db, clock, quote=Quote(amount_due=vnd(100_000), base_amount=vnd(200_000), subsidies=two,
                                     explanation={}, rule_set_hash="r" * 64))
    payment(db, amount=90_000, finished_at=clock.now())  # no subsidy
    db.flush()
    return 50_000 + 200_000 + 100_000


def _period(clock) -> dict:
    day = f"{settled.vietnam_day(clock):%d/%m/%Y}"
    return {"from": day, "to": day}


def test_the_dashboard_charts_the_subsidy_cost_per_programme_and_tables_it(officer, db, paying):
    total = _subsidised(db, paying)
    page = officer.get("/admin/finance/", query_string=_period(paying))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Subsidy cost per programme" in html and "<script" not in html
    shown = int(re.sub(r"\D", "", re.search(r'data-total="subsidy">([^<]+)<', html).group(1)))
    assert shown == total
    text = text_of(page)
    assert "HN-NQ11-2024" in text and "310,000 ₫" in text and OTHER in text and "40,000 ₫" in text
    assert "No channel (fully subsidised)" in text  # the free bill's collection, in the per-channel chart
    table = text.split('data-table="subsidy"')[1]
    assert "HN-NQ11-2024</th><td class=\"num\">3</td>" in table.replace(" <", "<")


def test_the_programme_report_in_every_format_equals_the_dashboard(officer, db, paying):
    total = _subsidised(db, paying)
    query = _period(paying)
    reports = text_of(officer.get("/admin/finance/reports", query_string=query))
    assert "Subsidy cost by programme" in reports and "/admin/finance/reports/programme.xlsx" in reports
    response = officer.get("/admin/finance/reports/programme.csv", query_string=query)
    assert response.status_code == 200 and "ho-tro-programme" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[1:3] == [[OTHER, "1", "40000"], ["HN-NQ11-2024", "3", "310000"]]
    assert rows[-1][0] == "Total" and int(rows[-1][2]) == total
    xlsx = officer.get("/admin/finance/reports/programme.xlsx", query_string=query).data
    assert list(load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True))[-1][2] == total
    pdf = officer.get("/admin/finance/reports/programme.pdf", query_string=query)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_a_period_without_subsidised_bills_says_so(officer):
    text = text_of(officer.get("/admin/finance/", query_string={"from": "01/01/2020", "to": "02/01/2020"}))
    assert "No subsidised bill was paid in this period." in text and 'data-total="subsidy">0 ₫' in text
