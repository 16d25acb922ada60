"""The ledger movements a collections report is cut from: one query, summed to the finest grain any cut needs.

Design overview
---------------
Every finance report of a period (by service, agency, day, channel, payout and programme), every format
(CSV, XLSX, PDF) and the dashboard sum the same ``Movement`` rows, so they agree to the dong by
construction. The rows come from the ledger postings, not from the payments table, so what a report says
was collected is what the books say.

Which transactions count (by ``ledger_transactions.kind``):

* ``COLLECTION_KINDS``: a bill settled by a payment (``payment_captured``) or by subsidies alone
  (``bill_settled_free``): Dr clearing + subsidy receivable / Cr budget payable + retained fee.
* ``REFUND_KINDS``: a refund booked as owed to the payer (``refund_approved``: Dr budget payable +
  retained fee) and its reversal when the provider refuses it (``refund_failed``).
* ``DUPLICATE_KINDS``: money captured for a bill already paid (Dr clearing / Cr refunds payable).

Anything else (refunds paid out, provider payouts and fees, remittances, subsidy funds arriving) moves
money between balance-sheet accounts after the fact and is not a collection.

What the columns are, from account movements (debit-positive on assets, credit-positive on the rest):

=============  =========================================================================================
``count``      collection transactions (bills collected, a 0 đ bill settled by subsidies included)
``collected``  credits minus debits on ``budget_payable:*`` and ``fee_retained:*`` by collections (the fee)
``subsidy``    debits minus credits on ``subsidy_receivable:*`` by collections (what programmes owe)
``paid``       debits minus credits on ``clearing:*`` by collections (what payers paid through a channel)
``refunds``    debits minus credits on ``budget_payable:*`` and ``fee_retained:*`` by refund transactions
``net``        ``collected - refunds``: the period's net credit to the collection accounts
``duplicates`` debits minus credits on ``clearing:*`` by duplicate captures (money owed back, not revenue)
=============  =========================================================================================

A balanced collection has ``collected == subsidy + paid``; the tests check it against the ledger.

Which day a movement belongs to: its transaction's ``effective_date``, the Asia/Ho_Chi_Minh calendar day
the ledger assigned when it posted (``ledger.post``), which is also the day period sign-off locks. So a
report of a signed-off period never changes, and a payment finishing at 23:30 Hà Nội time counts that day.

The channel is the provider of the transaction's payment (``None``: no payment, a bill settled by subsidies
alone). The payout is the provider payout the payment's charge was settled in, as the imported provider
reports say (``report_lines`` of kind ``provider``, category ``charge``, by payment code), ``None`` when no
imported report places it in a payout yet. A refund or duplicate belongs to the payout of its payment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date

from sqlalchemy import and_, case, func, select, text
from sqlalchemy.orm import Session

from payments.ledger import CREDIT, DEBIT
from payments.models.billing import Bill, Payment
from payments.models.ledger import LedgerAccount, LedgerPosting, LedgerTransaction
from payments.reconciliation.models import ReportLine

COLLECTION_KINDS = ("payment_captured", "bill_settled_free")
REFUND_KINDS = ("refund_approved", "refund_failed")
DUPLICATE_KINDS = ("duplicate_capture",)
REPORTED_KINDS = COLLECTION_KINDS + REFUND_KINDS + DUPLICATE_KINDS

#: Account code prefixes by the part they play in a collection.
COLLECTION_ACCOUNTS = ("budget_payable:", "fee_retained:")
SUBSIDY_ACCOUNTS = "subsidy_receivable:"
CLEARING_ACCOUNTS = "clearing:"


@dataclass(frozen=True)
class Totals:
    """Summed money columns of some movements (integer dong); see the module docstring for each."""

    count: int = 0
    collected: int = 0
    subsidy: int = 0
    paid: int = 0
    refunds: int = 0
    duplicates: int = 0

    @property
    def net(self) -> int:
        """What stays collected after refunds."""
        return self.collected - self.refunds

    def __add__(self, other: Totals) -> Totals:
        return Totals(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class Movement:
    """Summed movements of one day, service, agency, channel and payout (and programme, for subsidy lines).

    ``programme`` is set only on the subsidy part of collections, whose ``totals`` then hold only
    ``subsidy``, and ``funded`` counts the bills the programme funded; the other rows have ``programme``
    None. So summing every row's ``totals`` counts each collection once and each subsidy once.
    """

    day: date
    service: str
    agency: str
    channel: str | None
    payout: str | None
    programme: str | None
    totals: Totals
    funded: int = 0


def grand_total(movements: Iterable[Movement]) -> Totals:
    """The totals of every movement."""
    return sum((m.totals for m in movements), Totals())


def ledger_movements(session: Session, first: date, last: date) -> list[Movement]:
    """The period's reported movements (effective dates ``first``..``last`` inclusive), in one query."""
    if session.get_bind().dialect.name == "postgresql":
        # PostgreSQL's JIT compiler costs this query more than it saves (bench.reports measured 0.2-2.4 s of
        # compilation on 1M collections); SET LOCAL ends with the request's transaction.
        session.execute(text("SET LOCAL jit = off"))
    grain = _postings(first, last).subquery()
    side_sum = _side_sums(grain)
    query = (select(grain.c.day, grain.c.service, grain.c.agency, grain.c.channel, grain.c.payout,
                    grain.c.programme, grain.c.kind, func.count(func.distinct(grain.c.transaction_id)), *side_sum)
             .group_by(grain.c.day, grain.c.service, grain.c.agency, grain.c.channel, grain.c.payout,
                       grain.c.programme, grain.c.kind))
    merged: dict[tuple, Movement] = {}
    for day, service, agency, channel, payout, programme, kind, transactions, *sums in session.execute(query):
        movement = _movement(day, service, agency, channel, payout, programme, kind, int(transactions),
                             [int(s) for s in sums])
        key = (day, service, agency, channel, payout, programme)
        merged[key] = _merge(merged.get(key), movement)
    return list(merged.values())


def _postings(first: date, last: date):
    """One row per posting of a reported transaction of the period, with everything a cut groups by."""
    account = LedgerAccount.code
    is_collection = account.startswith(COLLECTION_ACCOUNTS[0], autoescape=True) | account.startswith(
        COLLECTION_ACCOUNTS[1], autoescape=True)
    is_subsidy = account.startswith(SUBSIDY_ACCOUNTS, autoescape=True)
    role = case((is_collection, "collection"), (is_subsidy, "subsidy"),
                (account.startswith(CLEARING_ACCOUNTS, autoescape=True), "clearing"), else_="other")
    payout = (select(func.min(ReportLine.payout_id))
              .where(ReportLine.payment_code == Payment.public_id, ReportLine.kind == "provider",
                     ReportLine.category == "charge", ReportLine.payout_id.is_not(None))
              .scalar_subquery())
    t = LedgerTransaction
    return (select(t.id.label("transaction_id"), t.kind.label("kind"), t.effective_date.label("day"),
                   Bill.service_code.label("service"), Bill.agency_code.label("agency"),
                   Payment.provider.label("channel"), payout.label("payout"),
                   case((is_subsidy, account), else_=None).label("programme"), role.label("role"),
                   LedgerPosting.side.label("side"), LedgerPosting.amount.label("amount"))
            .select_from(t)
            .join(LedgerPosting, LedgerPosting.transaction_id == t.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
            .join(Bill, Bill.id == t.bill_id)
            .outerjoin(Payment, Payment.id == t.payment_id)
            .where(t.effective_date >= first, t.effective_date <= last, t.kind.in_(REPORTED_KINDS),
                   LedgerPosting.currency == "VND"))


_SIDE_SUMS = tuple((role, side) for role in ("collection", "subsidy", "clearing") for side in (DEBIT, CREDIT))


def _side_sums(grain) -> list:
    return [func.coalesce(func.sum(case((and_(grain.c.role == role, grain.c.side == side), grain.c.amount),
                                        else_=0)), 0) for role, side in _SIDE_SUMS]


def _movement(day, service, agency, channel, payout, programme, kind, transactions: int,
              sums: list[int]) -> Movement:
    """Turn one group's debit and credit sums into report columns, by what kind of transaction it was."""
    side = dict(zip(_SIDE_SUMS, sums, strict=True))

    def debit_net(role: str) -> int:
        return side[(role, DEBIT)] - side[(role, CREDIT)]

    if kind in COLLECTION_KINDS and programme is not None:
        totals, funded = Totals(subsidy=debit_net("subsidy")), transactions
    elif kind in COLLECTION_KINDS:
        totals, funded = Totals(count=transactions, collected=-debit_net("collection"), paid=debit_net("clearing")), 0
    elif kind in REFUND_KINDS:
        totals, funded = Totals(refunds=debit_net("collection")), 0
    else:
        totals, funded = Totals(duplicates=debit_net("clearing")), 0
    programme = programme.removeprefix(SUBSIDY_ACCOUNTS) if programme else None
    return Movement(day, service, agency, channel, payout, programme, totals, funded)


def _merge(earlier: Movement | None, later: Movement) -> Movement:
    if earlier is None:
        return later
    return replace(earlier, totals=earlier.totals + later.totals, funded=earlier.funded + later.funded)
