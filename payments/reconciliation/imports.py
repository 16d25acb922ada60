"""Import a report: read it whole, then store the file and its lines; the same bytes twice add nothing.

Reading happens before any write, so a malformed file leaves nothing behind; so does a bank statement in
another currency than dong, refused after reading (``statement_checks``). Each statement's balances are
checked against its lines and the result says so, with the numbers. Two concurrent imports of
the same bytes meet at the unique SHA-256: the loser gets the winner's file. On PostgreSQL a Stripe CSV is
read set-based (``stripe_staged``: COPY, then SQL); whatever that path cannot vouch for goes through the
Python reader, so both paths accept the same files and store the same lines.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock, to_vietnam
from core.db import bulk_insert
from payments.reconciliation.models import ReportFile, ReportLine, ReportStatement
from payments.reconciliation.parsed import ParsedFile, ProviderLine, StatementLine, sha256_of
from payments.reconciliation.readers import read_report
from payments.reconciliation.statement_checks import (
    UNBALANCED,
    BalanceCheck,
    balance_check,
    refuse_foreign_currency,
    stored_balance_checks,
)
from payments.reconciliation.stripe_staged import stage_stripe, store_stripe_lines
from payments.reconciliation.vnpay_settlement import VnpayMapping


@dataclass(frozen=True)
class ImportResult:
    """The stored file, whether this call created it (False: it was imported before), and how each of its
    bank statements' balances compare with their lines."""

    file: ReportFile
    created: bool
    balance_checks: tuple[BalanceCheck, ...] = ()

    @property
    def unbalanced(self) -> tuple[BalanceCheck, ...]:
        """The statements whose opening balance plus lines is not their closing balance: to investigate."""
        return tuple(check for check in self.balance_checks if check.status == UNBALANCED)


def import_report(session: Session, content: bytes, format: str, *, filename: str, imported_by: str,
                  clock: Clock = SYSTEM_CLOCK, vnpay_mapping: VnpayMapping | None = None) -> ImportResult:
    """Read ``content`` as ``format`` and store it with every line; idempotent by content hash."""
    sha256 = sha256_of(content)
    existing = _by_hash(session, sha256)
    if existing is not None:
        return _imported_before(session, existing)
    if format == "stripe" and session.get_bind().dialect.name == "postgresql":
        staged = _import_staged(session, content, sha256, filename, imported_by, clock)
        if staged is not None:
            return staged
    parsed = read_report(content, format, vnpay_mapping=vnpay_mapping)
    refuse_foreign_currency(parsed)
    lines = _line_rows(parsed)
    file = _store_file(session, content, parsed.format, sha256, len(lines), filename, imported_by, clock)
    if file is None:
        return _imported_before(session, _by_hash(session, sha256))
    _store_statements(session, file, parsed)
    for line in lines:
        line["file_id"] = file.id
    bulk_insert(session, ReportLine, lines)
    session.flush()
    checks = tuple(balance_check(index, statement) for index, statement in enumerate(parsed.statements))
    return ImportResult(file, True, checks)


def _imported_before(session: Session, file: ReportFile) -> ImportResult:
    return ImportResult(file, False, stored_balance_checks(session, file.id))


def _import_staged(session: Session, content: bytes, sha256: str, filename: str, imported_by: str,
                   clock: Clock) -> ImportResult | None:
    """The set-based path: all of the file, or nothing and None (the Python reader then decides)."""
    savepoint = session.begin_nested()
    try:
        staged = stage_stripe(session, content)
        file = staged and _store_file(session, content, staged.format, sha256, staged.line_count, filename,
                                      imported_by, clock)
        if staged is not None and file is None:
            savepoint.rollback()
            return _imported_before(session, _by_hash(session, sha256))
        if staged is None or not store_stripe_lines(session, staged, file.id):
            savepoint.rollback()
            return None
    except DBAPIError:  # a cast that failed: a value the checks did not expect; Python will say what it is
        savepoint.rollback()
        return None
    savepoint.commit()
    return ImportResult(file, True)


def _store_file(session: Session, content: bytes, format: str, sha256: str, line_count: int, filename: str,
                imported_by: str, clock: Clock) -> ReportFile | None:
    """Store the file row; None when the same bytes were imported concurrently and committed first."""
    file = ReportFile(format=format, sha256=sha256, filename=filename[:255], size=len(content), content=content,
                      imported_at=clock.now(), imported_by=imported_by, line_count=line_count)
    try:
        with session.begin_nested():
            session.add(file)
            session.flush()
    except IntegrityError:
        return None
    return file


def _by_hash(session: Session, sha256: str) -> ReportFile | None:
    return session.scalar(select(ReportFile).where(ReportFile.sha256 == sha256))


def _store_statements(session: Session, file: ReportFile, parsed: ParsedFile) -> None:
    for index, statement in enumerate(parsed.statements):
        session.add(ReportStatement(
            file_id=file.id, index=index, account=statement.account[:64], currency=statement.currency,
            opening=statement.opening.amount if statement.opening else None,
            closing=statement.closing.amount if statement.closing else None, reconciles=statement.reconciles()))


def _line_rows(parsed: ParsedFile) -> list[dict]:
    rows = [_bank_row(index, line) for index, s in enumerate(parsed.statements) for line in s.lines]
    return rows + [_provider_row(line) for line in parsed.provider_lines]


def _bank_row(statement_index: int, line: StatementLine) -> dict:
    return {"kind": "bank", "statement_index": statement_index, "row": line.row, "booked_on": line.booked_on,
            "value_on": line.value_on, "occurred_at": None, "amount": line.amount, "fee": 0, "net": line.amount,
            "currency": line.currency, "description": line.description, "payment_code": line.payment_code,
            "counterparty": _cut(" ".join(p for p in (line.counterparty, line.counterparty_account) if p) or None, 200),
            "bank_reference": _cut(line.bank_reference, 100), "provider_reference": None,
            "end_to_end_id": _cut(line.end_to_end_id, 100), "payout_id": None, "category": None,
            "reversal": line.reversal}


def _provider_row(line: ProviderLine) -> dict:
    # A provider line's business day is its Vietnamese calendar date, like every other report cut.
    booked_on = to_vietnam(line.occurred_at).date() if line.occurred_at else line.available_on
    return {"kind": "provider", "statement_index": -1, "row": line.row, "booked_on": booked_on,
            "value_on": line.available_on, "occurred_at": line.occurred_at, "amount": line.gross, "fee": line.fee,
            "net": line.net, "currency": line.currency, "description": line.metadata.get("txn_ref", ""),
            "counterparty": None,
            "payment_code": line.payment_code, "bank_reference": None,
            "provider_reference": _cut(line.provider_reference, 100), "end_to_end_id": None,
            "payout_id": _cut(line.payout_id, 64), "category": line.category, "reversal": False}


def _cut(value: str | None, length: int) -> str | None:
    return value[:length] if value else value
