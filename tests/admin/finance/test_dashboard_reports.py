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

from core.clock import FixedClock
from core.money import vnd
from payments.refunds import request_refund
from tests.admin.finance.support import at_vietnam, days_ago, payment, text_of

TOTAL = 200_000 + 100_000 + 8_000 + 25_000
REFUNDED = 5_000
COLUMNS = ["count", "collected", "subsidy", "paid", "refunds", "net", "duplicates"]


@pytest.fixture()
def collected(db):
    """Four payments over two Vietnamese days (one at 23:30 Hà Nội time, still that day), a failed one, one
    before the period, and a refund booked on the second day."""
    first, second = days_ago(3), days_ago(2)
    payment(db, amount=200_000, finished_at=at_vietnam(first, 9), service="LLTP", provider="stripe")
    payment(db, amount=100_000, finished_at=at_vietnam(first, 23, 30), service="LLTP", provider="vnpay",
            agency="HCM-STP")
    parking = payment(db, amount=8_000, finished_at=at_vietnam(second, 0, 15), service="TLHT", provider="stripe")
    payment(db, amount=25_000, finished_at=at_vietnam(second, 14), service="PARKING", provider="vietqr")
    payment(db, amount=77_000, finished_at=at_vietnam(second, 15), status="declined")
    payment(db, amount=50_000, finished_at=at_vietnam(first - timedelta(days=1), 23, 59))  # before the period
    request_refund(db, parking.public_id, amount=vnd(REFUNDED), expected_refundable=vnd(8_000), reason="twice",
                   requested_by="finance-1", clock=FixedClock(at_vietnam(second, 16)))
    return {"from": f"{first:%d/%m/%Y}", "to": f"{second:%d/%m/%Y}", "first": first, "second": second}


def _csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _dashboard_total(client, period, name: str = "amount") -> int:
    page = client.get("/admin/finance/", query_string={"from": period["from"], "to": period["to"]})
    assert page.status_code == 200
    match = re.search(rf'data-total="{name}">([^<]+)<', page.get_data(as_text=True))
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
    dashboard = {name: _dashboard_total(officer, collected, name) for name in ("amount", "count", "refunds", "net")}
    assert dashboard == {"amount": TOTAL, "count": 4, "refunds": REFUNDED, "net": TOTAL - REFUNDED}
    for cut in ("service", "agency", "day", "provider", "payout"):
        rows = _csv(_download(officer, cut, "csv", collected))
        assert rows[0][1:] == ["Collections", "Collected", "Of which subsidy", "Of which paid by payers", "Refunds",
                               "Net", "Duplicates owed back"]
        totals = dict(zip(COLUMNS, map(int, rows[-1][1:]), strict=True))
        assert rows[-1][0] == "Total" and totals == {"count": 4, "collected": TOTAL, "subsidy": 0, "paid": TOTAL,
                                                     "refunds": REFUNDED, "net": TOTAL - REFUNDED, "duplicates": 0}
        sheet = load_workbook(io.BytesIO(_download(officer, cut, "xlsx", collected))).active
        assert list(sheet.iter_rows(values_only=True))[-1][1:] == tuple(totals.values())
    by_day = _csv(_download(officer, "day", "csv", collected))
    by_agency = _csv(_download(officer, "agency", "csv", collected))
    assert [row[:3] + row[5:7] for row in by_agency[1:3]] == [["HCM-STP", "1", "100000", "0", "100000"],
                                                             ["HN-STP", "3", "233000", "5000", "228000"]]
    assert [row[:3] + row[5:7] for row in by_day[1:3]] == [[collected["first"].isoformat(), "2", "300000", "0",
                                                            "300000"],
                                                           [collected["second"].isoformat(), "2", "33000", "5000",
                                                            "28000"]]
    response = officer.get("/admin/finance/reports/payout.xlsx", query_string={"from": collected["from"],
                                                                              "to": collected["to"]})
    assert (f"filename=thu-payout-{collected['first']:%Y%m%d}-{collected['second']:%Y%m%d}.xlsx"
            in response.headers["Content-Disposition"])
    by_payout = _csv(_download(officer, "payout", "csv", collected))
    assert [row[0] for row in by_payout[1:]] == ["Chưa chi trả", "Total"]  # no provider report imported yet


def test_the_pdf_report_shows_the_same_total(officer, collected):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (apt-get install poppler-utils)")
    for cut in ("service", "payout"):
        pdf = _download(officer, cut, "pdf", collected)
        text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
        total = next(line for line in text.decode().splitlines() if line.strip().startswith("Total"))
        assert re.findall(r"\d[\d,]*", total) == ["4", "333,000", "0", "333,000", "5,000", "328,000", "0"]


def test_a_bad_period_is_explained(officer):
    response = officer.get("/admin/finance/reports", query_string={"from": "32/13/2026"})
    assert response.status_code == 422 and "Enter the first day as dd/mm/yyyy" in text_of(response)
    assert officer.get("/admin/finance/reports/budget.csv").status_code == 404
    assert officer.get("/admin/finance/reports/payout.docx").status_code == 404
    assert officer.get("/admin/finance/reports/day.csv?to=xx").status_code == 400
