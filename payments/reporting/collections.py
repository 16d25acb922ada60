"""Collections of a period cut by service, agency, day (Asia/Ho_Chi_Minh), channel and payout, as report tables.

Every cut is summed from the same ledger movements (``movements.ledger_movements``, read once), so each
cut's grand total equals every other's and the ledger's movement of the period, and the dashboard, the
CSV, the XLSX and the PDF agree to the dong by construction. Column meanings are in ``movements``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from payments.reporting.movements import Movement, Totals, grand_total, ledger_movements
from payments.reporting.tables import Column, ReportTable

#: The cuts, in the order the reports page lists them (``provider`` is the payment channel).
CUTS = ("service", "agency", "day", "provider", "payout")
#: Row labels for movements without a channel (a bill settled by subsidies alone) or not in a payout yet.
NO_CHANNEL = "Không qua kênh thanh toán (hỗ trợ toàn bộ)"
NOT_PAID_OUT = "Chưa chi trả"

_KEYS: dict[str, Callable[[Movement], object]] = {
    "service": lambda m: m.service,
    "agency": lambda m: m.agency,
    "day": lambda m: m.day,
    "provider": lambda m: m.channel,
    # Money that went through no channel is in no payout either; a channel's money waits for one.
    "payout": lambda m: m.payout if m.payout else (NOT_PAID_OUT if m.channel else None),
}
_HEADINGS = {"service": ("Dịch vụ", "Service"), "agency": ("Đơn vị thu", "Agency"), "day": ("Ngày", "Day"),
             "provider": ("Kênh thanh toán", "Channel"), "payout": ("Đợt chi trả của kênh", "Payout")}
_TITLES = {"service": "Tổng hợp thu theo dịch vụ", "agency": "Tổng hợp thu theo đơn vị",
           "day": "Tổng hợp thu theo ngày", "provider": "Tổng hợp thu theo kênh thanh toán",
           "payout": "Tổng hợp thu theo đợt chi trả của kênh thanh toán"}
#: The money columns of every collections table: key, Vietnamese and English headings.
MONEY_COLUMNS = (("collected", "Số thu", "Collected"), ("subsidy", "Trong đó hỗ trợ", "Of which subsidy"),
                 ("paid", "Trong đó người nộp trả", "Of which paid by payers"), ("refunds", "Hoàn trả", "Refunds"),
                 ("net", "Thực thu", "Net"), ("duplicates", "Thu trùng phải trả lại", "Duplicates owed back"))


@dataclass(frozen=True)
class Line:
    """One line of a cut: its key (None: no channel) and its totals."""

    key: str | date | None
    totals: Totals


@dataclass(frozen=True)
class Collections:
    """The period's ledger movements, their cuts and their grand total."""

    period_start: date
    period_end: date
    movements: tuple[Movement, ...]

    @property
    def totals(self) -> Totals:
        """The grand total of the period (equal to every cut's)."""
        return grand_total(self.movements)

    def cut(self, name: str) -> list[Line]:
        """The lines of cut ``name`` (one of ``CUTS``), ordered by key; every day of the period for ``day``."""
        key_of = _KEYS[name]
        sums: dict[object, Totals] = defaultdict(Totals)
        for movement in self.movements:
            key = key_of(movement)
            sums[key] = sums[key] + movement.totals
        if name == "day":
            return [Line(day, sums.get(day, Totals())) for day in _days(self.period_start, self.period_end)]
        return [Line(key, sums[key]) for key in sorted(sums, key=_order)]


def collections(session: Session, period_start: date, period_end: date) -> Collections:
    """The collections of Vietnamese days ``period_start``..``period_end``, read from the ledger in one query."""
    return Collections(period_start, period_end, tuple(ledger_movements(session, period_start, period_end)))


def _order(key: object) -> tuple[int, str]:
    # Named keys first, then money waiting for a payout, then money that went through no channel.
    return (2, "") if key is None else (1, "") if key == NOT_PAID_OUT else (0, str(key))


def _days(first: date, last: date) -> list[date]:
    # Days without collections still appear (with 0): a gap in a daily report must be visible.
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def collections_table(data: Collections, cut: str, *, generated_at: datetime) -> ReportTable:
    """Return one cut of ``data`` as a report table (money in whole dong)."""
    title_vi, title_en = _HEADINGS[cut]
    columns = (Column("key", title_vi, title_en, "date" if cut == "day" else "text"),
               Column("count", "Số khoản thu", "Collections", "count"),
               *(Column(key, vi, en, "money") for key, vi, en in MONEY_COLUMNS))
    rows = tuple({"key": NO_CHANNEL if line.key is None else line.key, "count": line.totals.count,
                  **{key: getattr(line.totals, key) for key, _, _ in MONEY_COLUMNS}} for line in data.cut(cut))
    return ReportTable(title=_TITLES[cut], period=period_label(data.period_start, data.period_end), columns=columns,
                       rows=rows, generated_at=generated_at)


def period_label(first: date, last: date) -> str:
    """The period as a report shows it: ``dd/mm/yyyy – dd/mm/yyyy``."""
    return f"{first:%d/%m/%Y} – {last:%d/%m/%Y}"
