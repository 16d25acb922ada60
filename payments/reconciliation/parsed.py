"""What every report reader returns, whatever the source format."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from core.errors import ValidationFailed
from core.money import MoneyError, to_minor_units


class ImportRejected(ValidationFailed):
    """A report that cannot be read; nothing from it is kept. ``details`` name the row and the reason.

    A refusal the finance officer acts on differently (a statement in another currency) has its own stable
    ``code`` (``account_not_vnd``, ``currency_mismatch``), repeated in ``details`` with the facts behind it.
    """

    code = "import_rejected"

    def __init__(self, reason: str, *, row: int | None = None, source: str | None = None, code: str | None = None,
                 **facts: object):
        where = f" at row {row}" if row is not None else ""
        details = {"row": row, "reason": reason} | ({"code": code, **facts} if code else {})
        super().__init__(f"{source or 'file'} rejected{where}: {reason}", code=code, details=details)
        self.row = row
        self.reason = reason


@dataclass(frozen=True)
class Balance:
    """A statement balance in minor units; positive is in the account holder's favour."""

    amount: int
    currency: str
    on: date | None = None


@dataclass(frozen=True)
class StatementLine:
    """One booked movement on a bank account; ``amount`` is signed minor units (credit +, debit -)."""

    row: int
    booked_on: date
    amount: int
    currency: str
    description: str = ""
    value_on: date | None = None
    bank_reference: str | None = None
    end_to_end_id: str | None = None
    counterparty: str | None = None
    #: The other party's account (IBAN or other id), when the format gives it.
    counterparty_account: str | None = None
    reversal: bool = False
    #: Our payment code found in the reference or free text, if any.
    payment_code: str | None = None


@dataclass(frozen=True)
class Statement:
    """One statement of one account, with its balances when the file gives them."""

    account: str
    currency: str
    statement_id: str | None
    lines: tuple[StatementLine, ...]
    opening: Balance | None = None
    closing: Balance | None = None

    def reconciles(self) -> bool | None:
        """True when opening + lines = closing in one currency; None when the file gives no balances."""
        if self.opening is None or self.closing is None:
            return None
        if self.opening.currency != self.closing.currency or any(
                line.currency != self.closing.currency for line in self.lines):
            return False
        return self.opening.amount + sum(line.amount for line in self.lines) == self.closing.amount


@dataclass(frozen=True)
class ProviderLine:
    """One line of a payment provider's report (Stripe balance transaction, VNPay settlement row)."""

    row: int
    provider_reference: str
    occurred_at: datetime | None
    currency: str
    gross: int
    fee: int
    net: int
    category: str
    payment_code: str | None = None
    payout_id: str | None = None
    available_on: date | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedFile:
    """A whole report: its format, the SHA-256 of its exact bytes, and what it contained."""

    format: str
    sha256: str
    statements: tuple[Statement, ...] = ()
    provider_lines: tuple[ProviderLine, ...] = ()


def sha256_of(content: bytes) -> str:
    """Return the hex SHA-256 of ``content`` (files are stored unchanged and deduplicated by it)."""
    return hashlib.sha256(content).hexdigest()


def minor(value: Decimal | str, currency: str, *, row: int | None, source: str) -> int:
    """Convert a report amount to minor units, or reject the file naming the row."""
    try:
        return to_minor_units(value, currency)
    except MoneyError as exc:
        raise ImportRejected(str(exc), row=row, source=source) from None


def decode_text(content: bytes, *, source: str) -> str:
    """Decode a text report as UTF-8 (a BOM is allowed); anything else is rejected, not guessed."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(f"not UTF-8 text (byte {exc.start})", source=source) from None
