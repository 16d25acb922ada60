"""The dashboard's charts and the period reports: every cut and every format carries the same totals."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from tests.admin.finance.support import at_vietnam, days_ago, payment, text_of

TOTAL = 200_000 + 100_000 + 8_000 + 25_000


@pytest.fixture()
def collected(db):
    """Four payments over two Vietnamese days (one at 23:30 Hà Nội time, still that day) and a failed one."""
    first, second = days_ago(3), days_ago(2)
    payment(db, amount=200_000, finished_at=at_vietnam(first, 9), service="LLTP", provider="stripe")
    payment(db, amount=100_000, finished_at=at_vietnam(first, 23, 30), service="LLTP", provider="vnpay",
            agency="HCM-STP")
    payment(db, amount=8_000, finished_at=at_vietnam(second, 0, 15), service="TLHT", provider="stripe")
    payment(db, amount=25_000, finished_at=at_vietnam(second, 14), service="PARKING", provider="vietqr")
    payment(db, amount=77_000, finished_at=at_vietnam(second, 15), status="declined")
    payment(db, amount=50_000, finished_at=at_vietnam(first - timedelta(days=1), 23, 59))  # before the period
    return {"from": f"{first:%d/%m/%Y}", "to": f"{second:%d/%m/%Y}", "first": first, "second": second}


def _dashboard_total(client, period) -> int:
    page = client.get("/admin/finance/", query_string={"from": period["from"], "to": period["to"]})
    assert page.status_code == 200
    match = re.search(r'data-total="amount">([^<]+)<', page.get_data(as_text=True))
    return int(re.sub(r"\D", "", match.group(1)))


def _download(client, cut: str, fmt: str, period) -> bytes:
    response = client.get(f"/admin/finance/reports/{cut}.{fmt}", query_string={"from": period["from"],
                                                                               "to": period["to"]})
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    return response.data


def test_the_dashboard_draws_accessible_svg_charts_with_the_numbers_in_tables(officer, collected):
    page = officer.get("/admin/finance/", query_string={"from": collected["from"], "to": collected["to"]})
    html = page.get_data(as_text=True)
    assert html.count("<svg") == 6 and html.count('role="img"') == 6 and "<script" not in html
    for title in ("Collections per day", "Collections per service", "Collections per channel",
                  "Collections per agency", "Subsidy cost per programme", "Open breaks by age"):
        assert "<title id=" in html and title in html
    text = text_of(page)
    assert "300,000 ₫" in text  # the first day: 09:00 and 23:30 Hà Nội time
    assert "33,000 ₫" in text  # the second day, from 00:15
    assert _dashboard_total(officer, collected) == TOTAL


def test_csv_xlsx_and_pdf_of_every_cut_agree_with_each_other_and_the_dashboard(officer, collected):
    dashboard = _dashboard_total(officer, collected)
    for cut in ("service", "day", "provider", "agency"):
        rows = list(csv.reader(io.StringIO(_download(officer, cut, "csv", collected).decode("utf-8-sig"))))
        assert rows[-1][0] == "Total" and int(rows[-1][2]) == dashboard and int(rows[-1][1]) == 4
        sheet = load_workbook(io.BytesIO(_download(officer, cut, "xlsx", collected))).active
        assert list(sheet.iter_rows(values_only=True))[-1][2] == dashboard
    by_day = list(csv.reader(io.StringIO(_download(officer, "day", "csv", collected).decode("utf-8-sig"))))
    by_agency = list(csv.reader(io.StringIO(_download(officer, "agency", "csv", collected).decode("utf-8-sig"))))
    assert by_agency[1:3] == [["HCM-STP", "1", "100000"], ["HN-STP", "3", "233000"]]
    assert by_day[1:3] == [[collected["first"].isoformat(), "2", "300000"],
                           [collected["second"].isoformat(), "2", "33000"]]


def test_the_pdf_report_shows_the_same_total(officer, collected):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (apt-get install poppler-utils)")
    pdf = _download(officer, "service", "pdf", collected)
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    assert "333,000 ₫" in text.decode() and "Total" in text.decode()


def test_a_bad_period_is_explained(officer):
    response = officer.get("/admin/finance/reports", query_string={"from": "32/13/2026"})
    assert response.status_code == 422 and "Enter the first day as dd/mm/yyyy" in text_of(response)
    assert officer.get("/admin/finance/reports/budget.csv").status_code == 404
    assert officer.get("/admin/finance/reports/day.csv?to=xx").status_code == 400
