"""The set-based Stripe import (PostgreSQL: COPY + SQL) stores exactly what the Python reader reads.

Every case runs on both backends: on SQLite the Python reader stores the lines, on PostgreSQL the staged
path does whenever it can vouch for the file. Either way the stored lines must equal the Python reader's
normalised rows, field for field, and a malformed file must be refused with its row and reason.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from core.clock import FixedClock
from payments.reconciliation.imports import _import_staged, _line_rows, import_report
from payments.reconciliation.models import ReportFile, ReportLine
from payments.reconciliation.parsed import ImportRejected, sha256_of
from payments.reconciliation.readers import read_report
from payments.reconciliation.staging import _may_have_padded_cells
from payments.reconciliation.synthetic import generate_day

FIXTURES = Path(__file__).parent / "fixtures"
STRIPE_FIXTURES = ("same-day.stripe.csv", "stripe-payout-reconciliation-itemized.csv")
CLOCK = FixedClock(datetime(2026, 12, 8, tzinfo=UTC))
_COLUMNS = ("kind", "statement_index", "row", "booked_on", "value_on", "occurred_at", "amount", "fee", "net",
            "currency", "description", "payment_code", "bank_reference", "provider_reference", "end_to_end_id",
            "payout_id", "category", "reversal")


def _stored(db, file_id: int) -> list[dict]:
    lines = db.scalars(select(ReportLine).where(ReportLine.file_id == file_id).order_by(ReportLine.row)).all()
    return [{name: getattr(line, name) for name in _COLUMNS} for line in lines]


def _read_in_python(content: bytes) -> list[dict]:
    return sorted(({name: row[name] for name in _COLUMNS} for row in _line_rows(read_report(content, "stripe"))),
                  key=lambda row: row["row"])


def _synthetic() -> bytes:
    return generate_day(date(2026, 12, 1), 300, breaks_per_kind=3).report


def _staged(db, content: bytes):
    return _import_staged(db, content, sha256_of(content), "f.csv", "test", CLOCK)


def _is_postgres(db) -> bool:
    return db.get_bind().dialect.name == "postgresql"


ITEMIZED = (FIXTURES / "stripe-payout-reconciliation-itemized.csv").read_bytes()
#: Shapes a real export may take; each must give the Python reader's rows whichever path reads it.
VARIANTS = {
    "crlf line ends": ITEMIZED.replace(b"\n", b"\r\n"),
    "byte order mark": b"\xef\xbb\xbf" + ITEMIZED,
    "semicolons": ITEMIZED.replace(b",", b";"),
    "quoted cells with commas and quotes": ITEMIZED.replace(b"REFUND FOR CHARGE", b'"REFUND, ""FOR"" CHARGE"'),
    "blank cells and spaces": ITEMIZED.replace(b",visa,", b",  visa\t,").replace(b",card,", b",,"),
    "no-break and ideographic spaces around cells": ITEMIZED.replace(b",visa,", ",\u00a0visa\u3000,".encode()),
    "a trailing no-break space at the end of the file": ITEMIZED.rstrip(b"\n") + "\u00a0\n".encode(),
    "a quoted cell ending in a line break": ITEMIZED.replace(b"REFUND FOR CHARGE", b'"REFUND\r\n"'),
    "trailing blank lines": ITEMIZED + b"\n\n\n",
    "a row of empty cells": ITEMIZED.replace(b"\ntxn_3QaB1cDeFgH002", b"\n" + b"," * 18 + b"\ntxn_3QaB1cDeFgH002"),
    "code only in the description, lower case": ITEMIZED.replace(
        b"REFUND FOR CHARGE", b"refund gw3p8r2t6v9c").replace(b",card,GW3P8R2T6V9C,42", b",card,,42"),
    "T between date and time": ITEMIZED.replace(b"2026-12-01 08:02:33", b"2026-12-01T08:02:33"),
    "US dollars with cents": ITEMIZED.replace(b",vnd,200000,7800,192200,", b",usd,20.00,0.78,19.22,"),
    "fractional seconds (Python reads, SQL does not)": ITEMIZED.replace(b"08:02:33", b"08:02:33.250"),
    "German sharp s before a code (SQL leaves it to Python)":
        ITEMIZED.replace(b",42\n", ",ßGW7K2M9Q4XAB\n".encode(), 1),
    "synthetic day": _synthetic(),
}


@pytest.mark.parametrize("name", STRIPE_FIXTURES)
def test_the_staged_path_reads_every_stripe_fixture_as_the_python_reader_does(db, name):
    content = (FIXTURES / name).read_bytes()
    if _is_postgres(db):
        result = _staged(db, content)
        assert result is not None and result.created  # the set-based path took it, not the fallback
    else:
        result = import_report(db, content, "stripe", filename=name, imported_by="test", clock=CLOCK)
    assert _stored(db, result.file.id) == _read_in_python(content)
    assert result.file.format == read_report(content, "stripe").format
    assert result.file.line_count == len(_read_in_python(content))


@pytest.mark.parametrize("name", VARIANTS)
def test_every_shape_of_export_is_stored_as_the_python_reader_reads_it(db, name):
    content = VARIANTS[name]
    result = import_report(db, content, "stripe", filename="v.csv", imported_by="test", clock=CLOCK)
    assert result.created and result.file.content == content
    assert _stored(db, result.file.id) == _read_in_python(content)


@pytest.mark.parametrize("name", [n for n in VARIANTS if "Python reads" not in n and "leaves it to" not in n])
def test_plain_exports_take_the_set_based_path_on_postgresql(db, name):
    if not _is_postgres(db):
        pytest.skip("the set-based path is PostgreSQL's")
    assert _staged(db, VARIANTS[name]) is not None


def test_what_the_sql_checks_cannot_vouch_for_is_left_to_python(db):
    if not _is_postgres(db):
        pytest.skip("the set-based path is PostgreSQL's")
    for name in [n for n in VARIANTS if "Python reads" in n or "leaves it to" in n]:
        assert _staged(db, VARIANTS[name]) is None
        assert db.scalar(select(func.count()).select_from(ReportLine)) == 0


BAD_ROWS = {
    "gross - fee != net": (b"20000,780,19220", b"20000,780,19200", "gross 20000 - fee 780 != net 19200"),
    "impossible date": (b"2026-12-01 03:40:51", b"2026-02-30 03:40:51", "is not YYYY-MM-DD HH:MM:SS"),
    "not a number": (b",20000,780,19220,", b",2x000,780,19220,", "is not a number"),
    "dong with decimals": (b",20000,780,19220,", b",20000.5,780,19220.5,", "more than 0 decimal places"),
    "unknown currency": (b",vnd,", b",xyz,", "unknown currency"),
    "no transaction id": (b"txn_bad,", b",", "balance_transaction_id is empty"),
}


def _with_bad_row(old: bytes, new: bytes) -> tuple[bytes, int]:
    """A 300-payment synthetic report with one line about row 150 spoiled; return it and that row."""
    lines = _synthetic().split(b"\n")
    row = 150
    good = b"txn_bad,2026-12-01 03:40:51,2026-12-03 00:00:00,vnd,20000,780,19220,charge,ch_bad,x,po_1,GW7K2M9Q4XAB"
    lines[row - 1] = good.replace(old, new, 1)
    return b"\n".join(lines), row


@pytest.mark.parametrize("case", BAD_ROWS)
def test_a_malformed_line_rejects_the_whole_file_with_its_row_and_keeps_nothing(db, case):
    old, new, reason = BAD_ROWS[case]
    content, row = _with_bad_row(old, new)
    with pytest.raises(ImportRejected) as caught:
        import_report(db, content, "stripe", filename="bad.csv", imported_by="test", clock=CLOCK)
    assert caught.value.row == row and reason in caught.value.reason
    assert db.scalar(select(func.count()).select_from(ReportFile)) == 0
    assert db.scalar(select(func.count()).select_from(ReportLine)) == 0


def test_a_cell_longer_than_pythons_csv_limit_is_refused_on_both_backends(db):
    content = ITEMIZED.replace(b"REFUND FOR CHARGE", b"x" * 140_000)  # COPY alone would take it
    with pytest.raises(ImportRejected, match="field larger than field limit"):
        import_report(db, content, "stripe", filename="long.csv", imported_by="test", clock=CLOCK)
    assert db.scalar(select(func.count()).select_from(ReportFile)) == 0


def test_cells_are_trimmed_only_when_some_cell_may_be_padded():
    assert not _may_have_padded_cells(ITEMIZED, ",")
    assert not _may_have_padded_cells(_synthetic(), ",")  # spaces inside a description do not count
    for name in ("blank cells and spaces", "no-break and ideographic spaces around cells",
                 "a trailing no-break space at the end of the file"):
        assert _may_have_padded_cells(VARIANTS[name], ",")
    assert _may_have_padded_cells(b"a;b\n x;y\n", ";") and _may_have_padded_cells(b"a,b\n\"x\r\n\",y\n", ",")


def test_the_same_report_twice_adds_nothing(db):
    content = _synthetic()
    first = import_report(db, content, "stripe", filename="a.csv", imported_by="test", clock=CLOCK)
    lines = db.scalar(select(func.count()).select_from(ReportLine))
    again = import_report(db, content, "stripe", filename="b.csv", imported_by="other", clock=CLOCK)
    assert (first.created, again.created, again.file.id) == (True, False, first.file.id)
    assert db.scalar(select(func.count()).select_from(ReportLine)) == lines == first.file.line_count
    assert db.scalar(select(func.count()).select_from(ReportFile)) == 1


def test_the_session_date_style_does_not_change_what_is_read(db):
    if not _is_postgres(db):
        pytest.skip("the set-based path is PostgreSQL's")
    db.execute(text("SET LOCAL datestyle = 'SQL, DMY'"))  # timestamps are checked by printing them back
    result = _staged(db, ITEMIZED)
    assert result is not None and db.scalar(text("SHOW datestyle")) == "SQL, DMY"  # and it is restored
    db.execute(text("SET LOCAL datestyle = 'ISO, MDY'"))  # the driver reads instants in ISO only
    assert _stored(db, result.file.id) == _read_in_python(ITEMIZED)
