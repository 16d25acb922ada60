"""SWIFT MT940 customer statements, through the ``mt-940`` library, one statement at a time.

The library reads the many bank dialects (ABN AMRO headers, Rabobank padding, German ``?nn`` subfields,
SWIFT FIN envelopes, CRLF) but merges every statement of a file into one list; we split on ``:20:`` so
each statement keeps its own balances and can be checked (opening + lines = closing). ``RC`` (reversal of
a credit) is a debit and ``RD`` a credit.
"""

from __future__ import annotations

import re
import warnings
from datetime import date

import mt940

from payments.codes import extract_payment_code
from payments.reconciliation.parsed import (
    Balance,
    ImportRejected,
    ParsedFile,
    Statement,
    StatementLine,
    decode_text,
    minor,
    sha256_of,
)

SOURCE = "MT940"
_STATEMENT_START = re.compile(r"^:20:", re.MULTILINE)
_ENTRY_TAG = re.compile(r"^:61:", re.MULTILINE)
_TAG = re.compile(r"^:\w+:")
_SIGNS = {"C": 1, "D": -1, "RC": -1, "RD": 1}


def parse(content: bytes) -> ParsedFile:
    """Read an MT940 file with one or more statements."""
    text = decode_text(content, source=SOURCE).replace("\r\n", "\n")
    starts = [m.start() for m in _STATEMENT_START.finditer(text)]
    if not starts:
        raise ImportRejected("no :20: statement header", source=SOURCE)
    entry_rows = [text.count("\n", 0, m.start()) + 1 for m in _ENTRY_TAG.finditer(text)]
    statements, taken = [], 0
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        first_line = text.count("\n", 0, start) + 1
        statement = _statement(text[start:end], first_line, entry_rows[taken:])
        taken += len(statement.lines)
        statements.append(statement)
    if taken != len(entry_rows):
        raise ImportRejected(f"read {taken} entries but the file has {len(entry_rows)} :61: lines", source=SOURCE)
    return ParsedFile("mt940", sha256_of(content), statements=tuple(statements))


def _statement(chunk: str, first_line: int, rows: list[int]) -> Statement:
    transactions = mt940.models.Transactions()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the library warns on dialect quirks it handles anyway
            transactions.parse(chunk)
    except Exception as exc:  # the library raises bare exceptions of many kinds on malformed input
        raise ImportRejected("unreadable field", row=_offending_line(chunk, first_line, exc),
                             source=SOURCE) from None
    data = transactions.data
    opening = _balance(data.get("final_opening_balance") or data.get("intermediate_opening_balance"))
    closing = _balance(data.get("final_closing_balance") or data.get("intermediate_closing_balance"))
    lines = tuple(_line(t.data, row) for t, row in zip(transactions.transactions, rows, strict=False))
    if len(lines) != len(transactions.transactions):
        raise ImportRejected("entry count does not match the :61: lines", source=SOURCE)
    currency = (closing or opening).currency if (closing or opening) else (lines[0].currency if lines else "")
    return Statement(account=str(data.get("account_identification") or ""), currency=currency,
                     statement_id=str(data.get("transaction_reference") or "") or None, lines=lines,
                     opening=opening, closing=closing)


def _offending_line(chunk: str, first_line: int, exc: Exception) -> int:
    """Find the line holding the text the library could not parse; else the statement's first line."""
    fragments = [arg.strip() for arg in exc.args if isinstance(arg, str) and len(arg.strip()) > 4]
    for offset, line in enumerate(chunk.splitlines()):
        content = _TAG.sub("", line).strip()
        if content and any(content in fragment or fragment in line for fragment in fragments):
            return first_line + offset
    return first_line


def _balance(balance) -> Balance | None:
    if balance is None:
        return None
    amount = balance.amount
    return Balance(minor(amount.amount, amount.currency, row=None, source=SOURCE), amount.currency, balance.date)


def _line(data: dict, row: int) -> StatementLine:
    status = data.get("status")
    if status not in _SIGNS:
        raise ImportRejected(f"unknown debit/credit mark {status!r}", row=row, source=SOURCE)
    amount = data["amount"]
    value = minor(abs(amount.amount), amount.currency, row=row, source=SOURCE)
    details = " ".join(str(data.get(k) or "") for k in ("transaction_details", "purpose", "extra_details"))
    description = " ".join(details.split())
    reference = data.get("customer_reference")
    reference = None if not reference or reference.strip() in ("NONREF", "") else reference.strip()
    return StatementLine(
        row=row, booked_on=_plain(data.get("entry_date") or data["date"]), value_on=_plain(data["date"]),
        amount=_SIGNS[status] * value, currency=amount.currency, description=description,
        bank_reference=(data.get("bank_reference") or "").strip() or None, end_to_end_id=reference,
        counterparty=data.get("applicant_name") or data.get("recipient_name"), reversal=status.startswith("R"),
        payment_code=extract_payment_code(reference, description),
    )


def _plain(value) -> date:
    """The library's Date subclass, as a plain date."""
    return date(value.year, value.month, value.day)
