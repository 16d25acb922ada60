"""A fund's use as one horizontal bar drawn on the server (no script: the CSP allows none inline).

Widths are thousandths of the cap: committed, then reserved, then what is left. The page shows the same
numbers as text, so the bar is a picture of them and never the only place to read them.
"""

from __future__ import annotations

from dataclasses import dataclass

from subsidies.budgets import Fund

SCALE = 1000


@dataclass(frozen=True)
class FundBar:
    """Segment widths (in thousandths of the cap) and the share of the cap in use, in whole percent."""

    committed: int
    reserved: int
    remaining: int
    used_percent: int


def fund_bar(fund: Fund) -> FundBar:
    """The bar of ``fund``; an empty fund (cap 0) draws nothing in use."""
    if fund.cap <= 0:
        return FundBar(0, 0, SCALE, 0)
    committed = fund.committed * SCALE // fund.cap
    in_use = (fund.committed + fund.reserved) * SCALE // fund.cap
    used_percent = (fund.committed + fund.reserved) * 100 // fund.cap
    return FundBar(committed, in_use - committed, SCALE - in_use, used_percent)
