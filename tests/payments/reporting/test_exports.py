"""CSV, XLSX and PDF renderings of one report carry the same rows and the same totals."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from payments.reporting.csv_export import neutralise, to_csv
from payments.reporting.pdf_export import to_html, to_pdf
from payments.reporting.tables import Column, ReportTable
from payments.reporting.xlsx_export import to_xlsx

COLUMNS = (Column("day", "Ngày", "Day", "date"), Column("service", "Dịch vụ", "Service"),
           Column("count", "Số giao dịch", "Payments", "count"), Column("collected", "Đã thu", "Collected", "money"),
           Column("subsidy", "Hỗ trợ", "Subsidy", "money"))


def _table(rows) -> ReportTable:
    return ReportTable(title="Báo cáo thu phí theo dịch vụ", period="Từ 01/12/2026 đến 01/12/2026",
                       columns=COLUMNS, rows=tuple(rows), generated_at=datetime(2026, 12, 2, 1, 0, tzinfo=UTC))


ROWS = [
    {"day": date(2026, 12, 1), "service": "Cấp phiếu lý lịch tư pháp", "count": 3, "collected": 400_000,
     "subsidy": 200_000},
    {"day": date(2026, 12, 1), "service": "=HYPERLINK(\"http://evil\",\"x\")", "count": 1, "collected": 8_000,
     "subsidy": 0},
    {"day": date(2026, 12, 1), "service": "Trích lục hộ tịch", "count": 2, "collected": 16_000, "subsidy": 0},
]


def test_csv_has_a_bom_neutralised_formulas_and_a_totals_row():
    content = to_csv(_table(ROWS))
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["Ngày", "Dịch vụ", "Số giao dịch", "Đã thu", "Hỗ trợ"]
    assert rows[2][1].startswith("'=HYPERLINK")
    assert rows[-1] == ["Tổng cộng", "", "6", "424000", "200000"]


@pytest.mark.parametrize("dangerous", ["=1+1", "+1", "-2", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_every_formula_start_is_neutralised(dangerous):
    assert neutralise(dangerous) == "'" + dangerous
    assert neutralise(-2) == -2  # numbers are not text and stay numbers


def test_xlsx_holds_real_numbers_with_the_same_totals():
    sheet = load_workbook(io.BytesIO(to_xlsx(_table(ROWS)))).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Báo cáo thu phí theo dịch vụ"
    header_at = values.index(("Ngày", "Dịch vụ", "Số giao dịch", "Đã thu", "Hỗ trợ"))
    assert values[header_at + 1][3] == 400_000 and isinstance(values[header_at + 1][3], int)
    assert values[-1] == ("Tổng cộng", None, 6, 424_000, 200_000)
    assert sheet.cell(row=header_at + 2, column=4).number_format == "#,##0"
    assert sheet.freeze_panes == f"A{header_at + 2}"


def test_the_printable_html_shows_vietnamese_money_and_the_signoff_block():
    html = to_html(_table(ROWS))
    assert "424.000 ₫" in html and "Tổng cộng" in html and "Kế toán trưởng" in html
    assert "&#34;http://evil&#34;" in html and '"http://evil"' not in html  # escaped, never markup


def test_the_pdf_carries_vietnamese_text_and_the_same_totals():
    if shutil.which("pdftotext") is None:
        message = "pdftotext not installed (apt-get install poppler-utils)"
        pytest.fail(message) if os.environ.get("CI") == "true" else pytest.skip(message)
    pdf = to_pdf(_table(ROWS))
    assert pdf.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    text = text.decode()
    for needle in ("Báo cáo thu phí theo dịch vụ", "Cấp phiếu lý lịch tư pháp", "Tổng cộng", "424.000 ₫",
                   "200.000 ₫", "Thủ trưởng đơn vị"):
        assert needle in text, needle


def test_the_english_report_uses_english_headings_and_grouping():
    table = _table(ROWS)
    assert to_csv(table, "en").decode("utf-8-sig").splitlines()[-1] == "Total,,6,424000,200000"
    assert "424,000 ₫" in to_html(table, "en")


def test_money_columns_refuse_non_integers():
    with pytest.raises(TypeError):
        _table([{**ROWS[0], "collected": 400_000.0}])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=20), st.integers(0, 10**9), st.integers(0, 10**9)), max_size=12))
def test_csv_and_xlsx_totals_always_agree_with_the_rows(raw):
    rows = [{"day": date(2026, 12, 1), "service": name, "count": 1, "collected": a, "subsidy": b}
            for name, a, b in raw]
    table = _table(rows)
    csv_total = list(csv.reader(io.StringIO(to_csv(table).decode("utf-8-sig"))))[-1]
    xlsx_total = list(load_workbook(io.BytesIO(to_xlsx(table))).active.iter_rows(values_only=True))[-1]
    assert int(csv_total[3]) == xlsx_total[3] == sum(a for _, a, _ in raw)
    assert int(csv_total[4]) == xlsx_total[4] == sum(b for _, _, b in raw)
