"""What a bank statement must be before its lines are kept (dong only), and whether it adds up.

Currency (issue 12). The ledger holds whole dong and nothing converts money, so a statement of an account
that is not in VND is refused whole (``account_not_vnd``), and so is a VND statement with a line or a
balance in another currency (``currency_mismatch``): minor units of another currency (CHF 4.50 is 450
rappen) must never be stored beside dong, where a run would book them as 450 dong. The refusal comes
before anything is written. Lines an earlier version stored in another currency make a run refuse too.

Balance. Opening balance + the lines = closing balance, per statement. A statement that does not add up
is imported and flagged, not refused: its lines are movements the bank booked, each booked once by its own
key, and what is wrong is what is missing (a page, an entry value-dated the next day) or the bank's
balance. The finance officer sees the opening, the sum of the lines, the closing and the difference in
the import result and investigates with the lines at hand; refusing would hide them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from core.errors import ValidationFailed
from payments.reconciliation.models import ReportLine, ReportStatement
from payments.reconciliation.parsed import Balance, ImportRejected, ParsedFile, Statement

VND = "VND"
#: ``status`` of a ``BalanceCheck``.
BALANCED, UNBALANCED, NO_BALANCES, CURRENCY_MISMATCH = "balanced", "unbalanced", "no_balances", "currency_mismatch"


@dataclass(frozen=True)
class BalanceCheck:
    """One statement's balances against its lines, in minor units of ``currency``."""

    #: 0-based position of the statement in its file.
    index: int
    account: str
    currency: str
    opening: int | None
    lines_total: int
    closing: int | None
    status: str
    opening_currency: str | None = None
    closing_currency: str | None = None

    @property
    def difference(self) -> int | None:
        """Closing - (opening + lines): 0 when it adds up; None when there is nothing to compare."""
        if self.status not in (BALANCED, UNBALANCED):
            return None
        return self.closing - (self.opening + self.lines_total)


def balance_check(index: int, statement: Statement) -> BalanceCheck:
    """Check a read statement: opening + lines = closing, all in the statement's currency."""
    opening, closing = statement.opening, statement.closing
    total = sum(line.amount for line in statement.lines)
    currencies = {b.currency for b in (opening, closing) if b} | {line.currency for line in statement.lines}
    if opening is None or closing is None:
        status = NO_BALANCES
    elif currencies != {statement.currency}:
        status = CURRENCY_MISMATCH
    else:
        status = BALANCED if opening.amount + total == closing.amount else UNBALANCED
    return BalanceCheck(index, statement.account, statement.currency, _amount(opening), total, _amount(closing),
                        status, _currency(opening), _currency(closing))


def _amount(balance: Balance | None) -> int | None:
    return balance.amount if balance else None


def _currency(balance: Balance | None) -> str | None:
    return balance.currency if balance else None


def refuse_foreign_currency(parsed: ParsedFile) -> None:
    """Raise ``ImportRejected`` (``account_not_vnd`` / ``currency_mismatch``) unless every statement is dong."""
    for index, statement in enumerate(parsed.statements):
        facts = {"statement": index + 1, "account": statement.account, "account_currency": statement.currency}
        if statement.currency != VND:
            raise ImportRejected(f"statement {index + 1} (account {statement.account or '?'}) is in "
                                 f"{statement.currency or 'no currency'}; only accounts in VND are imported, and "
                                 "amounts in other currencies are never converted to dong",
                                 source=parsed.format, code="account_not_vnd",
                                 **facts, currency=statement.currency)
        for which, balance in (("opening", statement.opening), ("closing", statement.closing)):
            if balance is not None and balance.currency != VND:
                raise ImportRejected(f"the {which} balance of statement {index + 1} is in {balance.currency}, "
                                     "its account in VND; amounts in other currencies are never converted to dong",
                                     source=parsed.format, code="currency_mismatch",
                                     **facts, currency=balance.currency, balance=which)
        for line in statement.lines:
            if line.currency != VND:
                raise ImportRejected(f"a line in {line.currency or 'no currency'} on an account in VND; amounts "
                                     "in other currencies are never converted to dong", row=line.row,
                                     source=parsed.format, code="currency_mismatch", **facts,
                                     currency=line.currency)


def stored_balance_checks(session: Session, file_id: int) -> tuple[BalanceCheck, ...]:
    """The checks of a stored file's statements, from what was stored (a file imported before)."""
    totals = dict(session.execute(
        select(ReportLine.statement_index, func.sum(ReportLine.amount))
        .where(ReportLine.file_id == file_id, ReportLine.kind == "bank").group_by(ReportLine.statement_index)).all())
    statements = session.scalars(select(ReportStatement).where(ReportStatement.file_id == file_id)
                                 .order_by(ReportStatement.index))
    return tuple(_stored(s, int(totals.get(s.index) or 0)) for s in statements)


def _stored(statement: ReportStatement, total: int) -> BalanceCheck:
    opening, closing = statement.opening, statement.closing
    if opening is None or closing is None:
        status = NO_BALANCES
    elif opening + total == closing:
        # Stored before balances in another currency were refused: the flag says what the numbers cannot.
        status = BALANCED if statement.reconciles is not False else CURRENCY_MISMATCH
    else:
        status = UNBALANCED
    return BalanceCheck(statement.index, statement.account, statement.currency, opening, total, closing, status,
                        statement.currency if opening is not None else None,
                        statement.currency if closing is not None else None)


def refuse_foreign_lines(session: Session, accounts: list[str], *, first: date, last: date | None = None) -> None:
    """Refuse a run over ``accounts`` while lines booked from ``first`` (to ``last``) are not dong.

    Such lines were stored before imports refused them; booking them would turn their minor units into dong.
    """
    window = [ReportLine.booked_on >= first] + ([ReportLine.booked_on <= last] if last is not None else [])
    found = session.execute(
        select(ReportStatement.account, ReportStatement.currency, ReportLine.currency, ReportLine.file_id,
               ReportLine.row)
        .join(ReportStatement, and_(ReportStatement.file_id == ReportLine.file_id,
                                    ReportStatement.index == ReportLine.statement_index))
        .where(ReportLine.kind == "bank", ReportStatement.account.in_(accounts), *window,
               or_(ReportStatement.currency != VND, ReportLine.currency != VND))
        .order_by(ReportLine.file_id, ReportLine.row).limit(1)).first()
    if found is None:
        return
    account, account_currency, currency, file_id, row = found
    code = "account_not_vnd" if account_currency != VND else "currency_mismatch"
    raise ValidationFailed(f"account {account} has statement lines in {currency} (file {file_id}, row {row}); only "
                           "dong are booked and amounts in other currencies are never converted",
                           code=code, details={"account": account, "currency": currency, "file_id": file_id,
                                               "row": row})
