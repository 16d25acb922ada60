"""PDF with Vietnamese text (Noto Sans from Debian's fonts-noto-core) and a sign-off block, via WeasyPrint."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from core.clock import to_vietnam
from core.money import Money, format_money
from payments.reporting.csv_export import TOTAL_LABEL
from payments.reporting.tables import Column, ReportTable

_TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(["html"]))
_WORDS = {
    "vi": {"page": "Trang", "generated": "Lập lúc", "sign": "(Ký, ghi rõ họ tên)"},
    "en": {"page": "Page", "generated": "Generated", "sign": "(Signature and full name)"},
}


def to_pdf(table: ReportTable, locale: str = "vi") -> bytes:
    """Render ``table`` as an A4 landscape PDF with totals and signature lines."""
    from weasyprint import HTML  # imported here: it loads system libraries (Pango) that only PDFs need

    return HTML(string=to_html(table, locale)).write_pdf()


def to_html(table: ReportTable, locale: str = "vi") -> str:
    """Render the printable HTML the PDF is made from."""
    words = _WORDS.get(locale, _WORDS["vi"])
    label_at = next((i for i, c in enumerate(table.columns) if c.key not in table.totals), None)
    return _TEMPLATES.get_template("report.html").render(
        table=table, locale=locale, label_at=label_at, total_label=TOTAL_LABEL.get(locale, TOTAL_LABEL["vi"]),
        cell=lambda value, column: _cell(value, column, table.currency, locale), page_label=words["page"],
        generated_label=words["generated"], sign_hint=words["sign"],
        generated_at=to_vietnam(table.generated_at).strftime("%H:%M %d/%m/%Y"))


def _cell(value: object, column: Column, currency: str, locale: str) -> str:
    if value is None:
        return ""
    if column.kind == "money":
        return format_money(Money(value, currency), locale)
    if column.kind == "count":
        return f"{value:,}".replace(",", "." if locale == "vi" else ",")
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    return str(value)
