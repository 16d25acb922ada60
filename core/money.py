"""Money as integer minor units plus an ISO 4217 currency.

VND has exponent 0: ``Money(200_000, "VND")`` is two hundred thousand dong. Floats never appear; a
percentage is applied with ``Decimal`` and rounded half-up to a whole minor unit, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

#: Minor-unit exponents of the currencies the gateway accepts. Stripe treats VND as zero-decimal too.
CURRENCY_EXPONENTS: dict[str, int] = {"VND": 0}

#: ISO 4217 exponents of currencies that may appear in bank and provider reports we read (not accept).
ISO4217_EXPONENTS: dict[str, int] = {
    "VND": 0, "JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "SEK": 2,
    "NOK": 2, "DKK": 2, "HKD": 2, "SGD": 2, "AUD": 2, "CAD": 2, "CNY": 2, "THB": 2, "RON": 2, "PLN": 2,
    "CZK": 2, "HUF": 2, "KHR": 2, "LAK": 2, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}

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


def to_minor_units(value: Decimal | str, currency: str) -> int:
    """Convert a major-unit amount (``"26338000"``, ``Decimal("8.85")``) to integer minor units, exactly.

    A value with more decimals than the currency has (``8.855 EUR``, ``1.5 VND``) is refused, not rounded:
    it means the file was misread.
    """
    exponent = ISO4217_EXPONENTS.get(currency)
    if exponent is None:
        raise MoneyError(f"unknown currency {currency!r}")
    if exponent == 0 and isinstance(value, str) and value.isascii() and value.removeprefix("-").isdigit():
        return _in_range(int(value), value)  # the common case in dong reports, a hundred times cheaper than Decimal
    try:
        exact = Decimal(value) if isinstance(value, str) else value
    except ArithmeticError:
        raise MoneyError(f"{value!r} is not a number") from None
    if not isinstance(exact, Decimal) or not exact.is_finite():
        raise MoneyError(f"{value!r} is not a finite decimal amount")
    minor = exact.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise MoneyError(f"{value} {currency} has more than {exponent} decimal places")
    return _in_range(int(minor), value)


#: Amounts are stored as signed 64-bit integers (BIGINT): anything larger is a misread file, not money.
MAX_MINOR_UNITS = 2**63 - 1


def _in_range(minor: int, value: object) -> int:
    if abs(minor) > MAX_MINOR_UNITS:
        raise MoneyError(f"{value!r} is beyond any amount the gateway can hold")
    return minor


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
