"""SWIFT MT940 customer statements, through the ``mt-940`` library, one statement at a time.

The library reads the many bank dialects (ABN AMRO headers, Rabobank padding, SWIFT FIN envelopes, CRLF)
but merges every statement of a file into one list; we split on ``:20:`` so each statement keeps its own
balances and can be checked (opening + lines = closing). ``RC`` (reversal of a credit) is a debit and
``RD`` a credit. The ``:86:`` field is read by ``mt940_details`` (German ``?nn`` sub-fields and SEPA
keywords, Dutch ``/EREF/`` codes), not by the library, whose splitting put ``KREF+``, a line break and the
purpose into one reference.
"""

from __future__ import annotations

import re
import warnings
from datetime import date

import mt940

from payments.codes import extract_payment_code
from payments.reconciliation.mt940_details import Details, read_details
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
#: The library's own ``:86:`` splitting is off: ``mt940_details`` reads the raw field.
_PROCESSORS = {"post_transaction_details": []}
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{8,30}$")


def parse(content: bytes) -> ParsedFile:
    """Read an MT940 file with one or more statements."""
    text = decode_text(content, source=SOURCE).replace("\r\n", "\n")
    starts = [m.start() for m in _STATEMENT_START.finditer(text)]
    if not starts:
        raise ImportRejected("no :20: statement header", source=SOURCE)
    entry_rows = [text.count("\n", 0, m.start()) + 1 for m in _ENTRY_TAG.finditer(text)]
    statements, taken, width = [], 0, detail_width(text)
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        first_line = text.count("\n", 0, start) + 1
        statement = _statement(text[start:end], first_line, entry_rows[taken:], width)
        taken += len(statement.lines)
        statements.append(statement)
    if taken != len(entry_rows):
        raise ImportRejected(f"read {taken} entries but the file has {len(entry_rows)} :61: lines", source=SOURCE)
    return ParsedFile("mt940", sha256_of(content), statements=tuple(statements))


def detail_width(text: str) -> int | None:
    """The length of the file's longest :86: line without its tag: the width the bank cuts the field at."""
    widths, inside = [], False
    for line in text.split("\n"):
        line = line.rstrip()
        if line.startswith(":86:"):
            inside = True
            widths.append(len(line) - 4)
        elif _TAG.match(line) or line.startswith(("-", "{")):
            inside = False
        elif inside:
            widths.append(len(line))
    return max(widths, default=None)


def _statement(chunk: str, first_line: int, rows: list[int], width: int | None) -> Statement:
    transactions = mt940.models.Transactions(processors=_PROCESSORS)
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
    lines = tuple(_line(t.data, row, width) for t, row in zip(transactions.transactions, rows, strict=False))
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


def _line(data: dict, row: int, width: int | None) -> StatementLine:
    status = data.get("status")
    if status not in _SIGNS:
        raise ImportRejected(f"unknown debit/credit mark {status!r}", row=row, source=SOURCE)
    amount = data["amount"]
    value = minor(abs(amount.amount), amount.currency, row=row, source=SOURCE)
    details = read_details(data.get("transaction_details"), width)
    extra = " ".join(str(data.get("extra_details") or "").split())
    reference = _own_reference(data.get("customer_reference"))
    end_to_end = details.end_to_end_id if details.structured else reference
    description = _description(details, extra)
    return StatementLine(
        row=row, booked_on=_plain(data.get("entry_date") or data["date"]), value_on=_plain(data["date"]),
        amount=_SIGNS[status] * value, currency=amount.currency, description=description,
        bank_reference=(data.get("bank_reference") or "").strip() or None, end_to_end_id=end_to_end,
        counterparty=details.counterparty,
        counterparty_account=details.counterparty_account or (extra if _IBAN.match(extra) else None),
        reversal=status.startswith("R"),
        payment_code=extract_payment_code(end_to_end, reference, *details.references, description),
    )


def _own_reference(value: str | None) -> str | None:
    """The :61: reference for the account owner, unless it says there is none."""
    value = (value or "").strip()
    return None if value in ("", "NONREF") else value


def _description(details: Details, extra: str) -> str:
    """The purpose; free text keeps the :61: supplementary details after it, as the bank printed them."""
    if details.structured:
        return details.description or extra
    return " ".join(part for part in (details.description, extra) if part)


def _plain(value) -> date:
    """The library's Date subclass, as a plain date."""
    return date(value.year, value.month, value.day)
