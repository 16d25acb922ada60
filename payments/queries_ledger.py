"""Drill-down from a payment to the ledger: its bill, every attempt with its events, receipts and postings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from payments.errors import PaymentNotFound
from payments.ledger import CREDIT, DEBIT
from payments.models.billing import Bill, Payment, PaymentEvent
from payments.models.ledger import LedgerPosting, LedgerTransaction
from payments.models.receipts import Receipt


@dataclass(frozen=True)
class Attempt:
    """One payment attempt of the bill and its status changes, oldest first."""

    payment: Payment
    events: tuple[PaymentEvent, ...]


@dataclass(frozen=True)
class PostedEntry:
    """A ledger transaction with its postings and the sums of each side."""

    transaction: LedgerTransaction
    postings: tuple[LedgerPosting, ...]
    debits: int
    credits: int

    @property
    def balanced(self) -> bool:
        """Whether debits equal credits (the ledger refuses anything else)."""
        return self.debits == self.credits


@dataclass(frozen=True)
class TransactionDetail:
    """Everything behind one payment code: the bill, its attempts, receipts and ledger entries."""

    payment: Payment
    bill: Bill
    attempts: tuple[Attempt, ...]
    receipts: tuple[Receipt, ...]
    entries: tuple[PostedEntry, ...]

    @property
    def debits(self) -> int:
        """The debits of every entry shown."""
        return sum(entry.debits for entry in self.entries)

    @property
    def credits(self) -> int:
        """The credits of every entry shown."""
        return sum(entry.credits for entry in self.entries)


def _entry(transaction: LedgerTransaction) -> PostedEntry:
    postings = tuple(transaction.postings)
    return PostedEntry(transaction, postings, sum(p.amount for p in postings if p.side == DEBIT),
                       sum(p.amount for p in postings if p.side == CREDIT))


def ledger_entries(session: Session, bill: Bill, payment_ids: list[int]) -> tuple[PostedEntry, ...]:
    """The ledger transactions of a bill or any of its payments, oldest first, with their postings."""
    query = (select(LedgerTransaction)
             .where(or_(LedgerTransaction.bill_id == bill.id, LedgerTransaction.payment_id.in_(payment_ids)))
             .options(selectinload(LedgerTransaction.postings).selectinload(LedgerPosting.account))
             .order_by(LedgerTransaction.id))
    return tuple(_entry(transaction) for transaction in session.scalars(query))


def _attempts(session: Session, bill: Bill) -> tuple[Attempt, ...]:
    payments = list(session.scalars(select(Payment).where(Payment.bill_id == bill.id).order_by(Payment.id)))
    events = list(session.scalars(select(PaymentEvent).where(PaymentEvent.payment_id.in_([p.id for p in payments]))
                                  .order_by(PaymentEvent.occurred_at, PaymentEvent.id)))
    return tuple(Attempt(p, tuple(e for e in events if e.payment_id == p.id)) for p in payments)


def transaction_detail(session: Session, code: str) -> TransactionDetail:
    """Return the payment with public id ``code`` and everything a finance officer traces from it."""
    wanted = {code.strip(), code.strip().upper()}
    payment = session.scalars(select(Payment).where(Payment.public_id.in_(wanted))).one_or_none()
    if payment is None:
        raise PaymentNotFound(f"no payment {code}")
    bill = session.get(Bill, payment.bill_id)
    attempts = _attempts(session, bill)
    receipts = tuple(session.scalars(select(Receipt).where(Receipt.bill_id == bill.id).order_by(Receipt.id)))
    entries = ledger_entries(session, bill, [attempt.payment.id for attempt in attempts])
    return TransactionDetail(payment, bill, attempts, receipts, entries)
