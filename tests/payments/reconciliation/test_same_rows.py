"""One day of movements written in every format we read normalises to the same rows.

The same four bank movements as camt.053, MT940, the two Vietnamese layouts (CSV and XLSX), and the same
three card payments as a Stripe report, Stripe payouts fetched through the API and a VNPay settlement
file. A reader that disagrees with the others on a date, a sign, an amount or a code fails here.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from payments.reconciliation.readers import read_report
from payments.reconciliation.tabular import rows_of

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED_BANK = [
    ("2026-12-01", 200_000, "GW7K2M9Q4XAB", "FT26335000001"),
    ("2026-12-01", 100_000, "GW3P8R2T6V9C", "FT26335000002"),
    ("2026-12-01", -5_500, None, "FT26335000003"),
    ("2026-12-02", 8_000, "GW0000ABCD12", "FT26336000004"),
]
EXPECTED_PROVIDER = [("2026-12-01", "GW7K2M9Q4XAB", 200_000, 7_800), ("2026-12-01", "GW3P8R2T6V9C", 100_000, 3_900),
                     ("2026-12-02", "GW0000ABCD12", 8_000, 312)]


def _bank_rows(content: bytes, format: str):
    (statement,) = read_report(content, format).statements
    assert statement.currency == "VND" and statement.reconciles() is True
    assert (statement.opening.amount, statement.closing.amount) == (1_000_000, 1_302_500)
    return sorted(((line.booked_on.isoformat(), line.amount, line.payment_code, line.bank_reference)
                   for line in statement.lines), key=lambda row: row[3])


def _as_xlsx(csv_name: str) -> bytes:
    """The same statement as a workbook with real numbers in the amount cells, as banks export it."""
    from openpyxl import Workbook

    book = Workbook()
    for _, cells in rows_of((FIXTURES / csv_name).read_bytes(), source="fixture"):
        book.active.append([_number_or_text(cell) for cell in cells])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _number_or_text(cell: str):
    digits = cell.replace(".", "").lstrip("+")
    return int(digits) if digits.lstrip("-").isdigit() and len(digits) > 3 else cell


@pytest.mark.parametrize(("name", "format"), [
    ("same-day.camt053.xml", "camt053"), ("same-day.mt940.sta", "mt940"),
    ("same-day.vn-debit-credit.csv", "vn_bank"), ("same-day.vn-signed.csv", "vn_bank"),
])
def test_every_bank_format_gives_the_same_rows(name, format):
    assert _bank_rows((FIXTURES / name).read_bytes(), format) == EXPECTED_BANK


def test_the_xlsx_export_gives_the_same_rows():
    assert _bank_rows(_as_xlsx("same-day.vn-signed.csv"), "vn_bank") == EXPECTED_BANK


@pytest.mark.parametrize(("name", "format"), [("same-day.stripe.csv", "stripe"), ("same-day.vnpay.csv", "vnpay"),
                                              ("same-day.stripe-api.json", "stripe_api")])
def test_every_provider_format_gives_the_same_rows(name, format):
    from core.clock import to_vietnam

    lines = read_report((FIXTURES / name).read_bytes(), format).provider_lines
    rows = [(to_vietnam(line.occurred_at).date().isoformat(), line.payment_code, line.gross, line.fee)
            for line in lines]
    assert sorted(rows, key=lambda row: row[1]) == sorted(EXPECTED_PROVIDER, key=lambda row: row[1])


@pytest.mark.parametrize(("name", "format", "old", "new", "line"), [
    ("same-day.camt053.xml", "camt053", b'<Amt Ccy="VND">100000</Amt>', b'<Amt Ccy="VND">1000.5</Amt>', 17),
    ("same-day.mt940.sta", "mt940", b":61:2612011201D5500,", b":61:2612011201X5500,", 9),
    ("same-day.vn-debit-credit.csv", "vn_bank", b'"5,500",,', b'"5,5OO",,', 8),
    ("same-day.vn-signed.csv", "vn_bank", b";-5.500;", b";-5.5;", 6),
    ("same-day.stripe.csv", "stripe", b"100000,3900,96100", b"100000,3900,96000", 3),
    ("same-day.stripe.csv", "stripe", b"pi_same002,GW3P8R2T6V9C", b"pi_same002", 3),  # a cell short: columns shift
    ("same-day.stripe.csv", "stripe", b"pi_same004,GW0000ABCD12", b"pi_same004,GW0000ABCD12,extra", 4),
    ("same-day.vnpay.csv", "vnpay", b"01/12/2026 10:12:40", b"2026-12-01 10:12", 3),
    ("same-day.stripe-api.json", "stripe_api", b'"net": 96100', b'"net": 96100.0', 2),
])
def test_a_malformed_file_of_each_kind_is_refused_with_its_line_number(name, format, old, new, line):
    from payments.reconciliation.parsed import ImportRejected

    content = (FIXTURES / name).read_bytes()
    assert old in content
    with pytest.raises(ImportRejected) as caught:
        read_report(content.replace(old, new), format)
    assert caught.value.row == line, caught.value.message
