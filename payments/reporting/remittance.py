"""The remittance report: per agency × budget code × month, collected, retained, to remit, remitted, outstanding.

Built from ``payments.remittance.obligations`` (the ledger), so its totals are the ledger's: to remit is
what was credited to ``budget_payable``, remitted what the matched Treasury transfers debited from it, and
over every month outstanding equals the account's balance. CSV, XLSX and PDF render the same table.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from core.clock import to_vietnam
from payments.remittance import Obligation
from payments.reporting.tables import Column, ReportTable

TITLE = {"vi": "Báo cáo tình hình nộp ngân sách nhà nước theo đơn vị, mã ngân sách và tháng",
         "en": "Remittance to the State budget by agency, budget code and month"}
COLUMNS = (
    Column("agency", "Đơn vị thu", "Agency"),
    Column("budget_code", "Mã NSNN (chương-tiểu mục)", "Budget code (chapter-sub-item)"),
    Column("month", "Tháng", "Month"),
    Column("collected", "Số đã thu", "Collected", "money"),
    Column("retained", "Số để lại", "Retained", "money"),
    Column("retained_share", "Tỷ lệ để lại", "Retained %"),
    Column("to_remit", "Số phải nộp", "To remit", "money"),
    Column("deadline", "Hạn nộp", "Deadline"),
    Column("remitted", "Số đã nộp", "Remitted", "money"),
    Column("outstanding", "Số còn phải nộp", "Outstanding", "money"),
    Column("overdue", "Quá hạn", "Overdue", "money"),
)
_HOURS = {"vi": "{hours} giờ sau khi thu", "en": "{hours} hours after collection"}


def retained_share(retained: int, collected: int, locale: str = "vi") -> str:
    """The retained share as a percentage with two decimals, computed from integers (no float)."""
    if collected == 0:
        return "—"
    # Rounded half away from zero on magnitudes, so a negative share (refunds above collections) reads right.
    negative = (retained < 0) != (collected < 0)
    magnitude, base = abs(retained), abs(collected)
    hundredths = (magnitude * 10_000 + base // 2) // base
    separator = "," if locale == "vi" else "."
    sign = "-" if negative and hundredths else ""
    return f"{sign}{hundredths // 100}{separator}{hundredths % 100:02d} %"


def deadline_text(item: Obligation, locale: str = "vi") -> str:
    """When the row's money is due: the last day (Asia/Ho_Chi_Minh) or the hours after collection."""
    if item.rule.hours_after_collection:
        return _HOURS.get(locale, _HOURS["vi"]).format(hours=item.rule.hours_after_collection)
    last_day = to_vietnam(item.deadline).date() - timedelta(days=1)  # overdue from 00:00 the day after
    return f"{last_day:%d/%m/%Y}"


def remittance_row(item: Obligation, locale: str = "vi") -> dict:
    """One report row of an obligation."""
    return {"agency": item.agency, "budget_code": item.budget_code, "month": f"{item.month:%m/%Y}",
            "collected": item.collected, "retained": item.retained,
            "retained_share": retained_share(item.retained, item.collected, locale), "to_remit": item.to_remit,
            "deadline": deadline_text(item, locale), "remitted": item.remitted, "outstanding": item.outstanding,
            "overdue": item.overdue}


def remittance_table(items: list[Obligation], *, first: date, last: date, generated_at: datetime,
                     locale: str = "vi") -> ReportTable:
    """The remittance report of the months from ``first``'s to ``last``'s (overdue as of ``generated_at``)."""
    rows = tuple(remittance_row(item, locale) for item in items)
    return ReportTable(title=TITLE.get(locale, TITLE["vi"]), period=f"{first:%m/%Y} – {last:%m/%Y}",
                       columns=COLUMNS, rows=rows, generated_at=generated_at)
