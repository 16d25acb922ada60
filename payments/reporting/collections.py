"""Collections of a period, cut by day (Asia/Ho_Chi_Minh), service, provider and agency, as report tables.

Every cut is summed from the same rows (one per succeeded payment of the period, read once), so the
dashboard, the CSV, the XLSX and the PDF agree to the dong by construction. A payment belongs to the
Vietnamese calendar day it finished on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import to_vietnam
from payments.models.billing import Bill, Payment
from payments.reconciliation.expected import vietnam_day_bounds
from payments.reporting.tables import Column, ReportTable

CUTS = ("service", "day", "provider", "agency")
_HEADINGS = {"service": ("Dịch vụ", "Service"), "day": ("Ngày", "Day"), "provider": ("Kênh thanh toán", "Channel"),
             "agency": ("Đơn vị thu", "Agency")}
_TITLES = {"service": "Tổng hợp thu theo dịch vụ", "day": "Tổng hợp thu theo ngày",
           "provider": "Tổng hợp thu theo kênh thanh toán", "agency": "Tổng hợp thu theo đơn vị"}


@dataclass(frozen=True)
class Bucket:
    """One line of a cut: its key, how many payments and how much money."""

    key: str | date
    count: int
    amount: int


@dataclass(frozen=True)
class Collections:
    """The period's collections and their cuts."""

    period_start: date
    period_end: date
    by: dict[str, list[Bucket]]
    count: int
    amount: int


def collections(session: Session, period_start: date, period_end: date) -> Collections:
    """Sum the succeeded payments that finished in the period by day, service, provider and agency."""
    start, end = vietnam_day_bounds(period_start, period_end)
    rows = session.execute(select(Payment.amount, Payment.provider, Bill.service_code, Payment.finished_at,
                                  Bill.agency_code)
                           .join(Bill, Bill.id == Payment.bill_id)
                           .where(Payment.status == "succeeded", Payment.finished_at >= start,
                                  Payment.finished_at < end)).all()
    sums = {cut: defaultdict(lambda: [0, 0]) for cut in CUTS}
    for amount, provider, service, finished, agency in rows:
        keys = {"service": service, "day": to_vietnam(finished).date(), "provider": provider, "agency": agency}
        for cut, key in keys.items():
            sums[cut][key][0] += 1
            sums[cut][key][1] += amount
    by = {cut: [Bucket(key, n, total) for key, (n, total) in sorted(sums[cut].items())] for cut in CUTS}
    _fill_days(by, period_start, period_end)
    return Collections(period_start, period_end, by, len(rows), sum(row[0] for row in rows))


def _fill_days(by: dict[str, list[Bucket]], first: date, last: date) -> None:
    # Days without collections still appear (with 0): a gap in a daily report must be visible.
    known = {bucket.key: bucket for bucket in by["day"]}
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    by["day"] = [known.get(day, Bucket(day, 0, 0)) for day in days]


def collections_table(data: Collections, cut: str, *, generated_at: datetime) -> ReportTable:
    """Return one cut of ``data`` as a report table (money in whole dong)."""
    title_vi, title_en = _HEADINGS[cut]
    columns = (Column("key", title_vi, title_en, "date" if cut == "day" else "text"),
               Column("count", "Số giao dịch", "Payments", "count"),
               Column("amount", "Số tiền", "Amount", "money"))
    rows = tuple({"key": bucket.key, "count": bucket.count, "amount": bucket.amount} for bucket in data.by[cut])
    period = f"{data.period_start:%d/%m/%Y} – {data.period_end:%d/%m/%Y}"
    return ReportTable(title=_TITLES[cut], period=period, columns=columns, rows=rows, generated_at=generated_at)
