"""Subsidy cost per programme: what each programme funded on the bills collected in a period.

Read from the same ledger movements as the collections cuts (the debits to ``subsidy_receivable:{programme}``
by collection transactions, on their effective day in Asia/Ho_Chi_Minh), so the programme totals add up to
the collections' ``subsidy`` column, and the dashboard and every report format agree to the dong.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from payments.reporting.collections import Collections, collections, period_label
from payments.reporting.tables import Column, ReportTable

#: The report cut's name next to the collections cuts.
PROGRAMME_CUT = "programme"


@dataclass(frozen=True)
class ProgrammeCost:
    """One programme: how many collected bills it funded and how much."""

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


def programme_costs(data: Collections) -> SubsidyCosts:
    """Sum the period's subsidy movements per programme (a bill counts once for each programme it draws on)."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for movement in data.movements:
        if movement.programme is not None:
            sums[movement.programme][0] += movement.funded
            sums[movement.programme][1] += movement.totals.subsidy
    costs = tuple(ProgrammeCost(code, n, total) for code, (n, total) in sorted(sums.items()) if n or total)
    return SubsidyCosts(data.period_start, data.period_end, costs)


def subsidy_costs(session: Session, period_start: date, period_end: date) -> SubsidyCosts:
    """The subsidy cost per programme of Vietnamese days ``period_start``..``period_end``, from the ledger."""
    return programme_costs(collections(session, period_start, period_end))


def subsidy_table(data: SubsidyCosts, *, generated_at: datetime) -> ReportTable:
    """Return the period's subsidy cost by programme as a report table (money in whole dong)."""
    columns = (Column("programme", "Chương trình hỗ trợ", "Programme"),
               Column("bills", "Số khoản thu", "Bills", "count"),
               Column("amount", "Số tiền hỗ trợ", "Subsidy", "money"))
    rows = tuple({"programme": c.programme, "bills": c.bills, "amount": c.amount} for c in data.by_programme)
    return ReportTable(title="Tổng hợp chi phí hỗ trợ theo chương trình",
                       period=period_label(data.period_start, data.period_end), columns=columns, rows=rows,
                       generated_at=generated_at)
