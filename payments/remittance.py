"""What each agency owes the State budget, per budget code and month, read from the ledger.

Design overview
---------------
A collection credits ``budget_payable:{agency}`` (the share to remit) and ``fee_retained:{agency}:{service}``
(the share a phí leaves with the agency); a refund debits them back. A remittance matched on a bank
statement debits ``budget_payable:{agency}`` (``payments.reconciliation.treasury``) and its
``treasury_remittances`` row says which budget code and month it paid. So, per agency × budget code ×
month (the Vietnamese calendar month of the posting's effective date):

    collected = retained + to remit      (credits less debits of both accounts, remittances aside)
    remitted  = what the remittances paid, by the month they pay (a transfer naming no month may pay
                several), unless the Treasury returned the transfer (its posting reversed)
    outstanding = to remit - remitted    (summed over every month: minus the budget_payable balance)

The budget code comes from the bill's service and the agency (``remittance_rules``). What is *due* at an
instant follows the agency's deadline rule: under an hourly rule the collections posted at least that
many hours before; under a monthly rule the whole month once its deadline has passed. ``overdue`` is what
is due and not remitted: what the unremitted check raises a break for.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.orm import Session

from payments import ledger
from payments.models.billing import Bill
from payments.models.ledger import LedgerAccount, LedgerPosting, LedgerTransaction
from payments.models.treasury import TreasuryRemittance
from payments.remittance_rules import DeadlineRule, RemittanceRules, first_of_month, months_between

BUDGET_PAYABLE, FEE_RETAINED = "budget_payable:", "fee_retained:"
_CREDIT_POSITIVE = -ledger.DEBIT_POSITIVE


@dataclass
class Obligation:
    """One agency's money of one budget code and month: collected, its split, and what became of it."""

    agency: str
    budget_code: str
    month: date
    rule: DeadlineRule
    collected: int = 0
    retained: int = 0
    to_remit: int = 0
    remitted: int = 0
    #: What had to be remitted by the instant the obligations were read at.
    due: int = 0
    fee_kinds: set[str] = field(default_factory=set)
    #: Under an hourly rule: what was due, per Vietnamese day of collection (to tell which day is unpaid).
    due_days: dict[date, int] = field(default_factory=dict)

    @property
    def outstanding(self) -> int:
        """What is still to remit (negative if more was remitted than collected)."""
        return self.to_remit - self.remitted

    @property
    def overdue(self) -> int:
        """What was due by the instant of reading and has not been remitted."""
        return max(0, min(self.due, self.to_remit) - self.remitted)

    def first_overdue_day(self) -> date | None:
        """Under an hourly rule, the day of the oldest collection not covered by the remittances (first in,
        first out); None when nothing is overdue or the rule is monthly."""
        covered = self.remitted
        for day in sorted(self.due_days):
            covered -= self.due_days[day]
            if covered < 0:
                return day
        return None

    @property
    def deadline(self) -> datetime | None:
        """When the month's money is due (monthly rules); None under an hourly rule."""
        return self.rule.month_deadline(self.month)


def obligations(session: Session, rules: RemittanceRules, *, first: date, last: date, as_of: datetime,
                agency: str | None = None) -> list[Obligation]:
    """The obligations of the months from ``first``'s to ``last``'s, by agency, budget code and month."""
    months = months_between(first, last)
    if not months:
        return []
    found: dict[tuple[str, str, date], Obligation] = {}

    def obligation(agency_code: str, code: str, month: date, fee_kind: str | None) -> Obligation:
        key = (agency_code, code, month)
        if key not in found:
            found[key] = Obligation(agency_code, code, month, rules.deadline_rule(agency_code, fee_kind))
        return found[key]

    hours = sorted({r.hours_after_collection for r in rules.deadline_rules if r.hours_after_collection})
    for row in _collections(session, months, as_of, hours, agency):
        agency_code, retained_account = _agency_of(row.code)
        code = rules.budget_code(agency_code, row.service_code)
        item = obligation(agency_code, code, first_of_month(row.effective_date), row.fee_kind)
        item.fee_kinds.add(row.fee_kind or "")
        rule = rules.deadline_rule(agency_code, row.fee_kind)
        amount = int(row.amount)
        item.collected += amount
        if retained_account:
            item.retained += amount
            continue
        item.to_remit += amount
        if rule.hours_after_collection:
            due = int(getattr(row, f"due_{rule.hours_after_collection}"))
            item.due += due
            item.due_days[row.effective_date] = item.due_days.get(row.effective_date, 0) + due
        elif rule.month_deadline(item.month) <= as_of:
            item.due += amount
    for agency_code, code, month, amount in _remitted(session, months, agency):
        obligation(agency_code, code, month, None).remitted += int(amount)
    return sorted(found.values(), key=lambda o: (o.agency, o.budget_code, o.month))


def _collections(session: Session, months: list[date], as_of: datetime, hours: list[int], agency: str | None):
    """Credit-positive sums of the two accounts per account, service, fee kind and day, remittances aside."""
    end = _month_end(months[-1])
    due = [func.sum(case((LedgerTransaction.posted_at <= as_of - timedelta(hours=h), _CREDIT_POSITIVE), else_=0))
           .label(f"due_{h}") for h in hours]
    query = (select(LedgerAccount.code, Bill.service_code, Bill.fee_kind, LedgerTransaction.effective_date,
                    func.sum(_CREDIT_POSITIVE).label("amount"), *due)
             .select_from(LedgerPosting).join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
             .join(LedgerTransaction, LedgerTransaction.id == LedgerPosting.transaction_id)
             .outerjoin(Bill, Bill.id == LedgerTransaction.bill_id)
             .outerjoin(TreasuryRemittance, TreasuryRemittance.ledger_transaction_id == LedgerTransaction.id)
             .where(_agency_accounts(agency), TreasuryRemittance.id.is_(None),
                    LedgerTransaction.effective_date >= months[0], LedgerTransaction.effective_date <= end)
             .group_by(LedgerAccount.code, Bill.service_code, Bill.fee_kind, LedgerTransaction.effective_date))
    return session.execute(query).all()


def _remitted(session: Session, months: list[date], agency: str | None):
    """What the matched remittances paid, per agency, budget code and month they pay; a transfer the Treasury
    sent back (its posting reversed) pays nothing. A transfer's rows add up to what its posting debited."""
    remittance = TreasuryRemittance
    returned = exists().where(LedgerTransaction.reverses_id == remittance.ledger_transaction_id)
    query = (select(remittance.agency_code, remittance.budget_code, remittance.period_month,
                    func.sum(remittance.amount))
             .where(remittance.period_month >= months[0], remittance.period_month <= months[-1], ~returned)
             .group_by(remittance.agency_code, remittance.budget_code, remittance.period_month))
    if agency is not None:
        query = query.where(remittance.agency_code == agency)
    return session.execute(query).all()


def _agency_accounts(agency: str | None):
    if agency is None:
        return or_(LedgerAccount.code.like(BUDGET_PAYABLE + "%"), LedgerAccount.code.like(FEE_RETAINED + "%"))
    return or_(LedgerAccount.code == BUDGET_PAYABLE + agency, LedgerAccount.code.like(f"{FEE_RETAINED}{agency}:%"))


def _agency_of(account_code: str) -> tuple[str, bool]:
    """The agency of a budget_payable or fee_retained account, and whether it is the retained one."""
    if account_code.startswith(BUDGET_PAYABLE):
        return account_code[len(BUDGET_PAYABLE):], False
    return account_code[len(FEE_RETAINED):].rsplit(":", 1)[0], True


def _month_end(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1) - timedelta(days=1)


def totals_by_agency(items: list[Obligation]) -> dict[str, dict[str, int]]:
    """Sums per agency of every money figure (for checks against the ledger and for page summaries)."""
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in items:
        for name in ("collected", "retained", "to_remit", "remitted", "outstanding", "overdue"):
            sums[item.agency][name] += getattr(item, name)
    return {agency: dict(values) for agency, values in sums.items()}
