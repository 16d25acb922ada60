"""The chart of accounts (research/reconciliation.md section 8) and how a collection is split.

Account codes are structured strings, created the first time something is posted to them:

| code                                   | kind      | meaning                                            |
|----------------------------------------|-----------|----------------------------------------------------|
| ``clearing:{provider}``                | asset     | money the provider holds for us until it pays out |
| ``bank:{agency}``                      | asset     | the agency's dedicated collection account          |
| ``bank:{account number}``              | asset     | a collection account as its bank statement names it|
| ``treasury_awaiting:{agency}``         | asset     | the agency's awaiting-remittance Treasury account  |
| ``subsidy_receivable:{programme}``     | asset     | what a subsidy programme owes for bills it covered |
| ``budget_payable:{agency}``            | liability | collected money owed to the State budget           |
| ``refunds_payable``                    | liability | money owed back to payers                          |
| ``suspense:unidentified``              | liability | money received that nothing explains yet           |
| ``fee_retained:{agency}:{service}``    | revenue   | the agency's retained share of a phí               |
| ``provider_fees:{provider}``           | expense   | what providers charge us                           |
| ``write_offs:{provider}``              | expense   | differences written off as lost (two officers)     |

Debits increase assets and expenses; credits increase liabilities and revenue.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.money import Money

ASSET, LIABILITY, REVENUE, EXPENSE = "asset", "liability", "revenue", "expense"


@dataclass(frozen=True)
class Account:
    """An account by its code and kind; the currency comes from the amounts posted to it."""

    code: str
    kind: str


def provider_clearing(provider: str) -> Account:
    """Money a provider collected for us and has not paid out yet."""
    return Account(f"clearing:{provider}", ASSET)


def agency_bank(agency: str) -> Account:
    """The agency's dedicated collection bank account."""
    return Account(f"bank:{agency}", ASSET)


def bank_account(number: str) -> Account:
    """A collection account by the number its bank statements carry (reconciliation books what they show)."""
    return Account(f"bank:{number}", ASSET)


def treasury_awaiting(agency: str) -> Account:
    """The agency's awaiting-remittance account at the State Treasury."""
    return Account(f"treasury_awaiting:{agency}", ASSET)


def subsidy_receivable(programme: str) -> Account:
    """What subsidy ``programme`` owes for the bills it covered."""
    return Account(f"subsidy_receivable:{programme}", ASSET)


def budget_payable(agency: str) -> Account:
    """Collected money that ``agency`` must remit to the State budget."""
    return Account(f"budget_payable:{agency}", LIABILITY)


def refunds_payable() -> Account:
    """Money owed back to payers (refunds approved, duplicate captures)."""
    return Account("refunds_payable", LIABILITY)


def suspense() -> Account:
    """Money received that nothing explains yet; reclassified later by a new transaction."""
    return Account("suspense:unidentified", LIABILITY)


def fee_retained(agency: str, service: str) -> Account:
    """The share of a phí that ``agency`` keeps for ``service``."""
    return Account(f"fee_retained:{agency}:{service}", REVENUE)


def provider_fees(provider: str) -> Account:
    """Fees charged by ``provider``."""
    return Account(f"provider_fees:{provider}", EXPENSE)


def write_offs(provider: str) -> Account:
    """Differences with ``provider`` written off as lost, after a second officer approved it."""
    return Account(f"write_offs:{provider}", EXPENSE)


def retained_share(gross: Money, fee_kind: str, retained_basis_points: int) -> Money:
    """Return the agency's share of ``gross``: 0 for a lệ phí, ``basis points`` of a phí (half-up)."""
    if fee_kind == "le_phi" or retained_basis_points == 0:
        return Money(0, gross.currency)
    # Money.percent rounds half-up to whole dong, so budget + retained always equals gross exactly.
    return gross.percent(Decimal(retained_basis_points) / Decimal(100))

