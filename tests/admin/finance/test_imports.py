"""Uploading reports: stored with its lines, the same file twice stored once, a bad file refused whole."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import func, select

from payments.reconciliation.models import ReportFile, ReportLine
from tests.admin.finance.support import csrf, days_ago, text_of
from tests.payments.reconciliation.test_bank import statement

FIXTURES = Path(__file__).parents[2] / "payments" / "reconciliation" / "fixtures"


def _upload(client, content: bytes, fmt: str = "vn_bank", name: str = "sao-ke.csv"):
    return client.post("/admin/finance/imports", content_type="multipart/form-data",
                       data={"csrf_token": csrf(client), "format": fmt, "report": (io.BytesIO(content), name)})


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_a_good_file_is_imported_and_a_second_upload_says_already_imported(officer, db):
    content = (FIXTURES / "same-day.vn-debit-credit.csv").read_bytes()
    first = _upload(officer, content)
    assert first.status_code == 200
    assert "Imported" in text_of(first) and "lines stored" in text_of(first)
    lines = _count(db, ReportLine)
    again = _upload(officer, content, name="renamed.csv")
    assert again.status_code == 200 and "Already imported" in text_of(again)
    assert _count(db, ReportFile) == 1 and _count(db, ReportLine) == lines
    assert "sao-ke.csv" in text_of(officer.get("/admin/finance/imports"))


def test_a_malformed_file_shows_the_row_and_reason_and_keeps_nothing(officer, db):
    good = statement((days_ago(3), 150_000, "NOP PHI"), (days_ago(3), 20_000, "NOP PHI"))
    broken = good.replace(b",1170000,", b",1170001,")  # the second running balance no longer adds up
    response = _upload(officer, broken)
    assert response.status_code == 422
    page = text_of(response)
    assert "The file was refused; nothing from it was kept" in page and "Row 6:" in page
    assert _count(db, ReportFile) == 0 and _count(db, ReportLine) == 0


def test_the_form_asks_for_a_format_and_a_file(officer):
    response = officer.post("/admin/finance/imports", data={"csrf_token": csrf(officer), "format": "nope"})
    assert response.status_code == 422
    page = text_of(response)
    assert "Choose the format of the file." in page and "Choose the file to upload." in page


def test_a_statement_that_does_not_add_up_is_kept_and_flagged_with_its_numbers(officer, db):
    content = (FIXTURES / "same-day.mt940.sta").read_bytes().replace(b":62F:C261202VND1302500,",
                                                                    b":62F:C261202VND1300000,")
    response = _upload(officer, content, fmt="mt940", name="short.sta")
    assert response.status_code == 200
    page = text_of(response)
    assert "Balances that do not add up" in page
    assert "1,000,000 ₫" in page and "302,500 ₫" in page and "1,300,000 ₫" in page and "-2,500 ₫" in page
    assert _count(db, ReportLine) == 4
    again = text_of(_upload(officer, content, fmt="mt940", name="again.sta"))
    assert "Already imported" in again and "Balances that do not add up" in again


def test_a_statement_that_adds_up_shows_no_warning(officer):
    page = text_of(_upload(officer, (FIXTURES / "same-day.mt940.sta").read_bytes(), fmt="mt940", name="ok.sta"))
    assert "Imported" in page and "Balances that do not add up" not in page
