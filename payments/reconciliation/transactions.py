"""Transaction search for finance officers: payment attempts filtered by period, service, agency, channel and more.

A payment belongs to the Vietnamese calendar day it finished on (as in the collections reports), or the
day it started while it is unfinished. Results are newest first, a page at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from payments.models.billing import PAYMENT_STATUSES, Bill, Payment
from payments.reconciliation.expected import vietnam_day_bounds

PAGE_SIZE = 50


@dataclass(frozen=True)
class SearchFilters:
    """What an officer is looking for; ``None`` means any."""

    first: date
    last: date
    service: str | None = None
    agency: str | None = None
    provider: str | None = None
    status: str | None = None
    code: str | None = None
    min_amount: int | None = None
    max_amount: int | None = None


@dataclass(frozen=True)
class TransactionRow:
    """One payment attempt as the search lists it."""

    code: str
    at: datetime
    service: str
    agency: str
    provider: str
    status: str
    amount: int
    bill_reference: str


@dataclass(frozen=True)
class Page:
    """One page of results and where it sits among them."""

    rows: tuple[TransactionRow, ...]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the results fill (at least one)."""
        return max(1, -(-self.total // self.size))

    @property
    def has_next(self) -> bool:
        """Whether a later page exists."""
        return self.number < self.pages


def _when():
    return func.coalesce(Payment.finished_at, Payment.created_at)


def _code_condition(code: str):
    # A whole code matches as typed or in capitals; a shorter one is a prefix of the (upper-case) code.
    return or_(Payment.public_id.in_({code, code.upper()}), Payment.public_id.startswith(code.upper(), autoescape=True))


def _conditions(filters: SearchFilters) -> list:
    start, end = vietnam_day_bounds(filters.first, filters.last)
    when = [_when() >= start, _when() < end]
    optional = [(filters.service, Bill.service_code == filters.service),
                (filters.agency, Bill.agency_code == filters.agency),
                (filters.provider, Payment.provider == filters.provider),
                (filters.status in PAYMENT_STATUSES, Payment.status == filters.status),
                (filters.code, _code_condition(filters.code or "")),
                (filters.min_amount is not None, Payment.amount >= (filters.min_amount or 0)),
                (filters.max_amount is not None, Payment.amount <= (filters.max_amount or 0))]
    return when + [condition for wanted, condition in optional if wanted]


def search_transactions(session: Session, filters: SearchFilters, *, page: int = 1,
                        size: int = PAGE_SIZE) -> Page:
    """Return page ``page`` of the payments matching ``filters``, newest first."""
    where = _conditions(filters)
    joined = select(func.count()).select_from(Payment).join(Bill, Bill.id == Payment.bill_id).where(*where)
    total = session.scalar(joined) or 0
    number = min(max(page, 1), max(1, -(-total // size)))
    query = (select(Payment.public_id, _when(), Bill.service_code, Bill.agency_code, Payment.provider,
                    Payment.status, Payment.amount, Bill.agency_reference)
             .join(Bill, Bill.id == Payment.bill_id).where(*where)
             .order_by(_when().desc(), Payment.id.desc()).limit(size).offset((number - 1) * size))
    rows = tuple(TransactionRow(*row) for row in session.execute(query))
    return Page(rows, number, size, total)


def filter_choices(session: Session) -> dict[str, list[str]]:
    """The services, agencies and channels known to the gateway, for the search form's lists."""
    return {"service": list(session.scalars(select(Bill.service_code).distinct().order_by(Bill.service_code))),
            "agency": list(session.scalars(select(Bill.agency_code).distinct().order_by(Bill.agency_code))),
            "provider": list(session.scalars(select(Payment.provider).distinct().order_by(Payment.provider))),
            "status": list(PAYMENT_STATUSES)}
