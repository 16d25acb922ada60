"""Collected to remitted: Treasury transfers on an agency's statements against what it owes the State budget.

Design overview
---------------
A run of scope ``treasury:<agency>`` over a period of Vietnamese days:

1. Finds the debits on the agency's own statement accounts (``remittance_rules.yaml``) that go to the
   State Treasury: the counterparty or text names it (KBNN, Kho bạc Nhà nước …, without diacritics) or a
   configured Treasury account. Reversals are ignored; a line delivered in two files counts once.
2. Reads from each such line the budget code (``TM 2557`` / ``tiểu mục 2557``, ``C418`` / ``chương 418``)
   and the month it pays (``T03/2026``, ``tháng 3/2026``, ``kỳ 03/2026``). Without a code, an agency that
   owes under a single budget code in the period is assumed to pay it; otherwise the line stays
   unresolved (``not_ours``) for an officer.
   Without a month, it pays the months still outstanding oldest first, each up to what it owes, and what
   is left the month the line was booked in (one ``treasury_remittances`` row per month it pays).
3. Posts each matched remittance once: Dr ``budget_payable:{agency}``, Cr ``bank:{agency}`` or
   ``treasury_awaiting:{agency}`` (by the statement account's role), external id
   ``remittance:<account>:<reference|day|amount>``, and its ``treasury_remittances`` rows with the code and
   months. Importing or running again posts nothing more.
4. Raises an ``unremitted`` break for each budget code and month with money overdue at ``as_of``
   (``payments.remittance``; under the 24-hour rule, keyed by the oldest unpaid day of the month too);
   a later run that finds it remitted auto-closes the break.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock, to_vietnam
from core.db import bulk_insert
from core.errors import Conflict, ValidationFailed
from core.money import Money
from payments import accounts, ledger
from payments.models.ledger import LedgerTransaction
from payments.models.treasury import TreasuryRemittance
from payments.reconciliation.breaks import Difference, record_differences, supersede_earlier_runs
from payments.reconciliation.matching import result_digest
from payments.reconciliation.models import ReportLine, ReportStatement
from payments.reconciliation.runs import ReconResult, ReconRun
from payments.reconciliation.service import ensure_still_open, open_run
from payments.reconciliation.statement_checks import refuse_foreign_lines
from payments.remittance import Obligation, obligations
from payments.remittance_rules import AgencyAccount, RemittanceRules, agency_ledger_account, first_of_month, fold
from payments.sql import insert_if_absent

SOURCE = "treasury"
_SUB_ITEM = re.compile(r"\b(?:TM|TIEU MUC)[\s.:]*(\d{4})\b")
_CHAPTER = re.compile(r"\b(?:C|CHUONG)[\s.:]*(\d{3})\b")
_MONTH = (re.compile(r"\b(?:THANG|KY|T)[\s.:]*(\d{1,2})\s*(?:/|-|\.|NAM)\s*(\d{4})\b"),
          re.compile(r"(?<![\d/.-])(\d{1,2})/(\d{4})(?![\d/])"))


@dataclass(frozen=True)
class TreasuryLine:
    """A debit on one of the agency's accounts that goes to the Treasury, or a credit it sends back."""

    id: int
    account: AgencyAccount
    line_key: str
    booked_on: date
    #: Whole dong moved (positive either way).
    amount: int
    currency: str
    text: str
    #: True for money the Treasury returned (a credit), e.g. a transfer refused for wrong details.
    returned: bool = False


def reconcile_treasury(session: Session, *, agency: str, period_start: date, period_end: date,
                       started_by: str, rules: RemittanceRules, as_of: datetime | None = None,
                       clock: Clock = SYSTEM_CLOCK) -> ReconRun:
    """Match the agency's Treasury transfers, post them, and raise or close ``unremitted`` breaks."""
    if period_start > period_end:
        raise ValidationFailed("the period ends before it starts", code="period_reversed")
    as_of = as_of or clock.now()
    scope = f"treasury:{agency}"
    # Lines stored in another currency before imports refused them: refused, never posted as dong.
    refuse_foreign_lines(session, _statement_accounts(session, rules, agency), first=period_start,
                         last=to_vietnam(as_of).date())
    run = open_run(session, scope, period_start, period_end, started_by, clock)
    owed = {(o.budget_code, o.month): o for o in obligations(
        session, rules, first=period_start, last=period_end, as_of=as_of, agency=agency)}
    codes = _known_codes(rules, agency, owed)
    done: dict[tuple[str, str], list[TreasuryRemittance]] = {}
    for row in session.scalars(select(TreasuryRemittance).where(TreasuryRemittance.agency_code == agency)
                               .order_by(TreasuryRemittance.period_month)):
        done.setdefault((row.account, row.line_key), []).append(row)
    results = []
    lines = treasury_lines(session, rules, agency, first=period_start, last=to_vietnam(as_of).date())
    for line in [line for line in lines if not line.returned]:
        earlier = done.get((line.account.number, line.line_key))
        if earlier is not None:  # posted by an earlier run: already counted in the obligations' remitted
            results.append(_result(run, line, "matched", _paid(earlier)))
            continue
        code = budget_code_of(line.text, codes)
        if code is None:
            results.append(_result(run, line, "not_ours", "treasury:unresolved"))
            continue
        named = month_of(line.text)
        paid = [(named, line.amount)] if named else allocate(owed, code, line.amount, first_of_month(line.booked_on))
        rows = _post(session, run, agency, line, code, paid, clock)
        for row in rows:
            if (code, row.period_month) in owed:
                owed[(code, row.period_month)].remitted += row.amount
        results.append(_result(run, line, "matched", _paid(rows)))
    results += [_take_back(session, run, agency, line, clock) for line in lines if line.returned]
    bulk_insert(session, ReconResult, results)
    ensure_still_open(session, run)
    differences = [_unremitted(o) for o in obligations(session, rules, first=period_start, last=period_end,
                                                       as_of=as_of, agency=agency) if o.overdue > 0]
    run.break_count = record_differences(session, run, differences, closes=("unremitted",),
                                         window=(first_of_month(period_start), period_end), clock=clock)
    run.matched_count = sum(1 for r in results if r["outcome"] == "matched")
    run.result_digest = result_digest(session, run.id)
    supersede_earlier_runs(session, run)
    run.status, run.progress, run.finished_at = "completed", 100, clock.now()
    session.flush()
    return run


def treasury_lines(session: Session, rules: RemittanceRules, agency: str, *, first: date,
                   last: date) -> list[TreasuryLine]:
    """The agency's debits to the Treasury booked from ``first`` to ``last``, oldest first, each once."""
    own = {_digits(a.number): a for a in rules.agency(agency).accounts}
    statement_accounts = _statement_accounts(session, rules, agency)
    if not statement_accounts:
        return []
    query = (select(ReportLine.id, ReportLine.file_id, ReportStatement.account, ReportLine.bank_reference,
                    ReportLine.booked_on, ReportLine.amount, ReportLine.currency, ReportLine.description,
                    ReportLine.counterparty)
             .join(ReportStatement, and_(ReportStatement.file_id == ReportLine.file_id,
                                         ReportStatement.index == ReportLine.statement_index))
             .where(ReportLine.kind == "bank", ReportLine.amount != 0, ReportLine.reversal.is_(False),
                    ReportStatement.account.in_(statement_accounts), ReportLine.booked_on >= first,
                    ReportLine.booked_on <= last)
             .order_by(ReportLine.booked_on, ReportLine.id))
    lines, seen, occurrences = [], set(), Counter()
    for row in session.execute(query):
        account = own[_digits(row.account)]
        if not rules.names_treasury(row.description, row.counterparty) or \
                rules.names_own_awaiting_account(agency, row.description, row.counterparty):
            continue  # not the Treasury; or money moved into the agency's own awaiting account, not remitted yet
        key = f"{row.bank_reference or ''}|{row.booked_on.isoformat()}|{row.amount}"
        # The n-th movement of one file with the same reference, day and amount is a movement of its own; the
        # same movement exported again (another file, another format) has the same n, so it counts once.
        occurrences[(row.file_id, account.number, key)] += 1
        if occurrences[(row.file_id, account.number, key)] > 1:
            key = f"{key}|{occurrences[(row.file_id, account.number, key)]}"
        if (account.number, key) in seen:
            continue
        seen.add((account.number, key))
        lines.append(TreasuryLine(row.id, account, key, row.booked_on, abs(row.amount), row.currency,
                                  fold(f"{row.description} {row.counterparty or ''}"), returned=row.amount > 0))
    return lines


def _statement_accounts(session: Session, rules: RemittanceRules, agency: str) -> list[str]:
    """The accounts, as statements write them, that the rules give to ``agency``."""
    own = {_digits(a.number) for a in rules.agency(agency).accounts}
    return [a for a in session.scalars(select(ReportStatement.account).distinct()) if _digits(a) in own]


def budget_code_of(text: str, codes: set[str]) -> str | None:
    """The one budget code of ``codes`` the (folded) text names, or the only code there is; else None."""
    sub_items, chapters = set(_SUB_ITEM.findall(text)), set(_CHAPTER.findall(text))
    candidates = {c for c in codes if "-" in c and (not sub_items or c.split("-")[1] in sub_items)
                  and (not chapters or c.split("-")[0] in chapters)}
    if not sub_items and not chapters:
        candidates = codes
    return next(iter(candidates)) if len(candidates) == 1 else None


def month_of(text: str) -> date | None:
    """The month a (folded) transfer text says it pays, e.g. ``T03/2026`` or ``THANG 3 NAM 2026``."""
    for pattern in _MONTH:
        for month, year in pattern.findall(text):
            if 1 <= int(month) <= 12 and 2000 <= int(year) <= 2100:
                return date(int(year), int(month), 1)
    return None


def _unremitted(item: Obligation) -> Difference:
    """The break of an overdue obligation: one per month, or under an hourly rule one per oldest unpaid day,
    so money that falls overdue after an earlier remittance closed the month's first break opens a new one."""
    day = item.first_overdue_day()
    key = f"{item.budget_code}|{item.month:%Y-%m}" + (f"|{day:%d}" if day else "")
    return Difference("unremitted", key, day or item.month, item.overdue, item.remitted)


def _known_codes(rules: RemittanceRules, agency: str, owed: dict[tuple[str, date], Obligation]) -> set[str]:
    """The codes a transfer may pay: those the agency owes under in the period, else every configured one."""
    owing = {code for code, _ in owed}
    chapter = rules.agency(agency).chapter
    return owing or ({f"{chapter}-{sub_item}" for sub_item in rules.sub_items.values()} if chapter else set())


def allocate(owed: dict[tuple[str, date], Obligation], code: str, amount: int,
             booked_month: date) -> list[tuple[date, int]]:
    """Split a transfer that names no month: the months of ``code`` still outstanding oldest first, each up to
    what it owes; what is left pays ``booked_month`` (ahead of what it will owe)."""
    paid: dict[date, int] = {}
    for (owed_code, month), obligation in sorted(owed.items(), key=lambda item: item[0][1]):
        if owed_code == code and obligation.outstanding > 0 and amount > 0:
            paid[month] = min(amount, obligation.outstanding)
            amount -= paid[month]
    if amount > 0:
        paid[booked_month] = paid.get(booked_month, 0) + amount
    return sorted(paid.items())


def _paid(rows) -> str:
    """A result's reference: the budget code and the months the transfer paid (``418-2557|2026-03+2026-04``)."""
    return f"{rows[0].budget_code}|{'+'.join(f'{row.period_month:%Y-%m}' for row in rows)}"


def _post(session: Session, run: ReconRun, agency: str, line: TreasuryLine, code: str,
          paid: list[tuple[date, int]], clock: Clock) -> list[TreasuryRemittance]:
    """Post the transfer once and record what it paid, a row per month; both happen once per bank movement."""
    amount = Money(line.amount, line.currency)
    source_account = agency_ledger_account(agency, line.account.ledger)
    months = ", ".join(f"{month:%m/%Y}" for month, _ in paid)
    posted = ledger.post(session, source=SOURCE, external_id=f"remittance:{line.account.number}:{line.line_key}",
                         kind="treasury_remittance", clock=clock,
                         legs=[ledger.debit(accounts.budget_payable(agency), amount),
                               ledger.credit(source_account, amount)],
                         description=f"Nộp KBNN {agency} {code} {months} ({line.booked_on:%d/%m/%Y})")
    if posted.created:  # else a concurrent run posted it first: its rows stand
        for month, part in paid:
            insert_if_absent(session, TreasuryRemittance.__table__, {
                "account": line.account.number, "line_key": line.line_key, "line_id": line.id,
                "agency_code": agency, "budget_code": code, "period_month": month, "amount": part,
                "currency": line.currency, "booked_on": line.booked_on, "ledger_transaction_id": posted.transaction.id,
                "matched_run_id": run.id, "matched_at": clock.now()}, ["account", "line_key", "period_month"])
    return session.scalars(select(TreasuryRemittance).where(
        TreasuryRemittance.account == line.account.number, TreasuryRemittance.line_key == line.line_key)
        .order_by(TreasuryRemittance.period_month)).all()


def _take_back(session: Session, run: ReconRun, agency: str, line: TreasuryLine, clock: Clock) -> dict:
    """Money the Treasury sent back undoes the remittance it returns: its posting is reversed, once.

    The remittance is the latest one of the same account and amount, booked no later, not returned yet,
    preferring one whose budget code and month the credit's text names. The reversal's external id is the
    credit's, so a re-run finds it posted; ``reverses_id`` is unique, so no remittance is returned twice.
    """
    external_id = f"treasury-return:{line.account.number}:{line.line_key}"
    posted = session.scalar(select(LedgerTransaction).where(LedgerTransaction.source == SOURCE,
                                                            LedgerTransaction.external_id == external_id))
    if posted is None:
        returned = _returned_remittance(session, agency, line)
        if returned is None:
            return _result(run, line, "not_ours", "treasury:return_unmatched")
        posted = ledger.reverse(session, returned.ledger_transaction_id, source=SOURCE,
                                kind="treasury_remittance_returned", clock=clock, external_id=external_id,
                                description=f"KBNN trả lại {agency} ({line.booked_on:%d/%m/%Y})").transaction
    rows = session.scalars(select(TreasuryRemittance).where(
        TreasuryRemittance.ledger_transaction_id == posted.reverses_id)
        .order_by(TreasuryRemittance.period_month)).all()
    return _result(run, line, "matched", f"returned|{_paid(rows)}")


def _returned_remittance(session: Session, agency: str, line: TreasuryLine) -> TreasuryRemittance | None:
    """The latest transfer of the same account and whole amount, booked no later and not returned yet."""
    reversed_already = select(LedgerTransaction.reverses_id).where(LedgerTransaction.reverses_id.is_not(None))
    rows = session.scalars(select(TreasuryRemittance).where(
        TreasuryRemittance.agency_code == agency, TreasuryRemittance.account == line.account.number,
        TreasuryRemittance.booked_on <= line.booked_on,
        TreasuryRemittance.ledger_transaction_id.not_in(reversed_already))
        .order_by(TreasuryRemittance.booked_on.desc(), TreasuryRemittance.ledger_transaction_id.desc())).all()
    transfers: dict[int, list[TreasuryRemittance]] = {}
    for row in rows:  # newest transfer first; a transfer's rows are its months
        transfers.setdefault(row.ledger_transaction_id, []).append(row)
    named = month_of(line.text)
    return next((parts[0] for parts in transfers.values() if sum(r.amount for r in parts) == line.amount
                 and (named is None or any(r.period_month == named for r in parts))), None)


def _result(run: ReconRun, line: TreasuryLine, outcome: str, reference: str) -> dict:
    return {"run_id": run.id, "item_id": None, "line_id": line.id, "outcome": outcome, "reference": reference,
            "provider_reference": line.line_key, "our_amount": None,
            "their_amount": line.amount if line.returned else -line.amount,
            "day": line.booked_on}


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


@dataclass(frozen=True)
class CheckedAgencies:
    """Which agencies a Treasury check ran for, and which it skipped because their period is signed off."""

    checked: tuple[str, ...]
    refused: tuple[str, ...]


def check_all_agencies(session: Session, *, period_start: date, period_end: date, started_by: str,
                       rules: RemittanceRules, as_of: datetime) -> CheckedAgencies:
    """Run the Treasury check of every agency the rules or the period's obligations name, each in a savepoint.

    An agency whose period is signed off is skipped and named (its corrections go into the next period).
    """
    named = {o.agency for o in obligations(session, rules, first=period_start, last=period_end, as_of=as_of)}
    checked, refused = [], []
    for agency in sorted(set(rules.agencies) | named):
        # Days an approver signed off stay as they are; the check goes on from the day after (a daily check
        # over a moving window would otherwise overlap a signed-off run, and be refused, for weeks).
        first = max(period_start, _after_signed_off(session, f"treasury:{agency}"))
        if first > period_end:
            refused.append(agency)
            continue
        try:
            with session.begin_nested():
                reconcile_treasury(session, agency=agency, period_start=first, period_end=period_end,
                                   started_by=started_by, rules=rules, as_of=as_of)
            checked.append(agency)
        except Conflict:
            refused.append(agency)
    return CheckedAgencies(tuple(checked), tuple(refused))


def _after_signed_off(session: Session, scope: str) -> date:
    """The day after the last day of ``scope`` a signed-off run covers (``date.min`` if none)."""
    last = session.scalar(select(func.max(ReconRun.period_end)).where(ReconRun.scope == scope,
                                                                       ReconRun.status == "signed_off"))
    return last + timedelta(days=1) if last else date.min
