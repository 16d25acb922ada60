"""Rows out of CSV and XLSX files, as strings with their 1-based source row numbers."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

from payments.reconciliation.parsed import ImportRejected, decode_text

Row = tuple[int, list[str]]


def rows_of(content: bytes, *, source: str) -> list[Row]:
    """Return the rows of an XLSX workbook's first sheet or of a CSV file (comma or semicolon)."""
    if content[:4] == b"PK\x03\x04":
        return list(_xlsx_rows(content, source=source))
    text = decode_text(content, source=source)
    try:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter_of(text))
        return [(number, [cell.strip() for cell in row]) for number, row in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise ImportRejected(f"unreadable CSV: {exc}", source=source) from None


def delimiter_of(text: str) -> str:
    """Pick the separator used most outside quotes in the first 50 lines (banks export ',' or ';')."""
    head = text[:1 << 16].splitlines()  # a big file's first lines without splitting all of it
    lines = head[:50] if len(head) > 50 else text.splitlines()[:50]
    sample = re.sub(r'"[^"]*"', "", "\n".join(lines))
    return max((",", ";", "\t"), key=sample.count)


def _xlsx_rows(content: bytes, *, source: str) -> Iterator[Row]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportRejected(f"unreadable workbook: {exc}", source=source) from None
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_cell_text(value) for value in row]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    """Spreadsheet cells as text; whole-number floats lose their '.0', dates become dd/mm/yyyy."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        with_time = value.time() != datetime.min.time()
        return value.strftime("%d/%m/%Y %H:%M:%S" if with_time else "%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        exact = Decimal(repr(value))
        return str(exact.to_integral_value()) if exact == exact.to_integral_value() else str(exact)
    return str(value).strip()


def normalise_header(cell: str) -> str:
    """Lower-case a header cell and drop an English gloss after ' / ' ('Ghi có / Credit' -> 'ghi có')."""
    return " ".join(re.split(r"\s/\s", cell)[0].lower().split())
