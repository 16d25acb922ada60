"""Money as integer minor units plus an ISO 4217 currency.

VND has exponent 0: ``Money(200_000, "VND")`` is two hundred thousand dong. Floats never appear; a
percentage is applied with ``Decimal`` and rounded half-up to a whole minor unit, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

#: Minor-unit exponents of the currencies the gateway accepts. Stripe treats VND as zero-decimal too.
CURRENCY_EXPONENTS: dict[str, int] = {"VND": 0}

#: Thousands separators by display locale: Vietnamese writes 200.000, English 200,000.
_GROUPING = {"vi": ".", "en": ","}


class MoneyError(ValueError):
    """An amount that cannot be money: a float, a bool, an unknown currency, mixed currencies."""


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in the minor units of ``currency``."""

    amount: int
    currency: str = "VND"

    def __post_init__(self) -> None:
        # bool is an int subclass and float sneaks in from JSON: refuse both loudly.
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise MoneyError(f"amount must be an integer number of minor units, got {self.amount!r}")
        if self.currency not in CURRENCY_EXPONENTS:
            raise MoneyError(f"unsupported currency {self.currency!r}")

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise MoneyError(f"cannot combine money with {other!r}")
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def times(self, quantity: int) -> Money:
        """Return this amount multiplied by a whole ``quantity``."""
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise MoneyError(f"quantity must be an integer, got {quantity!r}")
        return Money(self.amount * quantity, self.currency)

    def percent(self, rate: Decimal | int | str) -> Money:
        """Return ``rate`` percent of this amount, rounded half-up to a whole minor unit."""
        if isinstance(rate, float):
            raise MoneyError("percent rates are Decimal, int or str, never float")
        exact = Decimal(self.amount) * Decimal(rate) / Decimal(100)
        return Money(int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)), self.currency)

    def clamp_at_zero(self) -> Money:
        """Return this amount, or zero if it is negative (an amount due is never below 0)."""
        return self if self.amount >= 0 else Money(0, self.currency)

    def format(self, locale: str = "vi") -> str:
        """Return the amount as people read it: ``200.000 ₫`` (vi) or ``200,000 ₫`` (en)."""
        return format_money(self, locale)


def vnd(amount: int) -> Money:
    """Return ``amount`` dong."""
    return Money(amount, "VND")


def format_money(money: Money, locale: str = "vi") -> str:
    """Format ``money`` with grouped digits and the currency sign after the number."""
    separator = _GROUPING.get(locale[:2], ".")
    digits = f"{abs(money.amount):,}".replace(",", separator)
    sign = "-" if money.amount < 0 else ""
    symbol = "₫" if money.currency == "VND" else money.currency
    return f"{sign}{digits} {symbol}"
