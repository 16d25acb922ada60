"""CSV for spreadsheets: UTF-8 with a BOM so Excel shows Vietnamese, and no cell that runs as a formula.

A text cell beginning with ``= + - @`` (or a tab or carriage return) is what spreadsheet formula injection
uses; such cells get a leading apostrophe, as OWASP and GOV.UK advise. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io

from payments.reporting.tables import ReportTable

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TOTAL_LABEL = {"vi": "Tổng cộng", "en": "Total"}


def neutralise(value: object) -> object:
    """Return ``value`` made safe for a spreadsheet cell."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(table: ReportTable, locale: str = "vi") -> bytes:
    """Render ``table`` as CSV bytes: header, rows, then the totals row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(c.title(locale)) for c in table.columns])
    for row in table.rows:
        writer.writerow([neutralise(_plain(row.get(c.key))) for c in table.columns])
    writer.writerow(_totals_row(table, locale))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _totals_row(table: ReportTable, locale: str) -> list[object]:
    cells: list[object] = [table.totals.get(c.key, "") for c in table.columns]
    first_text = next((i for i, c in enumerate(table.columns) if c.key not in table.totals), None)
    if first_text is not None:
        cells[first_text] = TOTAL_LABEL.get(locale, TOTAL_LABEL["vi"])
    return cells


def _plain(value: object) -> object:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
