"""XLSX with real numbers: money as integers formatted ``#,##0``, a frozen bold header and a totals row."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from payments.reporting.csv_export import TOTAL_LABEL, neutralise
from payments.reporting.tables import ReportTable

MONEY_FORMAT = "#,##0"


def to_xlsx(table: ReportTable, locale: str = "vi") -> bytes:
    """Render ``table`` as an XLSX workbook with one sheet."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Report"
    sheet.append([table.title])
    sheet.append([table.period])
    sheet.append([c.title(locale) for c in table.columns])
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([_cell(row.get(c.key)) for c in table.columns])
    totals = [table.totals.get(c.key) for c in table.columns]
    label_at = next((i for i, c in enumerate(table.columns) if c.key not in table.totals), None)
    if label_at is not None:
        totals[label_at] = TOTAL_LABEL.get(locale, TOTAL_LABEL["vi"])
    sheet.append(totals)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    _format_columns(sheet, table, header_row)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: object) -> object:
    """A value the workbook can hold: no formula start, no control characters XML forbids."""
    value = neutralise(value)
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if isinstance(value, str) else value


def _format_columns(sheet, table: ReportTable, header_row: int) -> None:
    for index, column in enumerate(table.columns, start=1):
        letter = sheet.cell(row=header_row, column=index).column_letter
        sheet.column_dimensions[letter].width = max(12, len(column.title_vi) + 4)
        if column.kind in ("money", "count"):
            for (cell,) in sheet.iter_rows(min_row=header_row + 1, min_col=index, max_col=index):
                cell.number_format = MONEY_FORMAT
