"""Subsidy cost per programme: what each programme funded on the bills paid in a period.

A bill's ``subsidy_lines`` (``[{"programme", "amount"}]``, pinned with its quote) say what each programme
pays; a bill counts on the Vietnamese calendar day it was paid (by a payment or, at 0 đ, by the subsidy
alone). The dashboard and every report format are built from the same sums, so they agree to the dong.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from payments.models.billing import Bill
from payments.reconciliation.expected import vietnam_day_bounds
from payments.reporting.tables import Column, ReportTable

#: The report cut's name next to the collections cuts.
PROGRAMME_CUT = "programme"


@dataclass(frozen=True)
class ProgrammeCost:
    """One programme: how many paid bills it funded and how much."""

    programme: str
    bills: int
    amount: int


@dataclass(frozen=True)
class SubsidyCosts:
    """The period's subsidy cost, per programme (by code) and in total."""

    period_start: date
    period_end: date
    by_programme: tuple[ProgrammeCost, ...]

    @property
    def amount(self) -> int:
        """What every programme funded together."""
        return sum(cost.amount for cost in self.by_programme)


def sum_lines(subsidy_lines: list[list[dict]]) -> tuple[ProgrammeCost, ...]:
    """Sum the subsidy lines of several bills per programme (a bill counts once per programme it draws on)."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for lines in subsidy_lines:
        for programme in {line["programme"] for line in lines or () if int(line["amount"])}:
            sums[programme][0] += 1
        for line in lines or ():
            sums[line["programme"]][1] += int(line["amount"])
    return tuple(ProgrammeCost(code, n, total) for code, (n, total) in sorted(sums.items()) if total)


def subsidy_costs(session: Session, period_start: date, period_end: date) -> SubsidyCosts:
    """Sum the subsidy lines of the bills paid in the period by programme."""
    start, end = vietnam_day_bounds(period_start, period_end)
    lines = session.scalars(select(Bill.subsidy_lines).where(Bill.status == "paid", Bill.paid_at >= start,
                                                             Bill.paid_at < end))
    return SubsidyCosts(period_start, period_end, sum_lines(list(lines)))


def subsidy_table(data: SubsidyCosts, *, generated_at: datetime) -> ReportTable:
    """Return the period's subsidy cost by programme as a report table (money in whole dong)."""
    columns = (Column("programme", "Chương trình hỗ trợ", "Programme"),
               Column("bills", "Số khoản thu", "Bills", "count"),
               Column("amount", "Số tiền hỗ trợ", "Subsidy", "money"))
    rows = tuple({"programme": c.programme, "bills": c.bills, "amount": c.amount} for c in data.by_programme)
    period = f"{data.period_start:%d/%m/%Y} – {data.period_end:%d/%m/%Y}"
    return ReportTable(title="Tổng hợp chi phí hỗ trợ theo chương trình", period=period, columns=columns, rows=rows,
                       generated_at=generated_at)
