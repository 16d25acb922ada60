"""Ledger tables: accounts, transactions (journal entries) and their postings.

Design overview
---------------
* Double entry: a transaction has at least two postings; each posting is a positive amount on one side
  (debit or credit) of one account, and a transaction's debits equal its credits.
* Append-only: rows are never updated or deleted. A correction is a new transaction that reverses an
  old one (``reverses_id``, unique, so a transaction is reversed at most once).
* Exactly once: ``(source, external_id)`` is unique, so replaying the notification or job that posted a
  transaction posts nothing.
* PostgreSQL enforces balance with a deferred constraint trigger and refuses UPDATE/DELETE with a
  trigger (migration 0004); ``payments.ledger`` checks the same in Python for every backend.
* Periods: a day signed off by reconciliation is a ``LedgerClosedDay``; no posting may land in it (checked
  in the posting statement itself and by a trigger on both backends, migration 0011). Corrections land
  in the next open day and name the original (``corrects_id``).
* Payouts: ``LedgerPayoutTag`` says which transactions a provider payout settled, so the clearing entries
  tagged with one payout can be summed (zero for a payout that matched to the dong).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime
from payments.models.columns import ID

ACCOUNT_KINDS = ("asset", "liability", "revenue", "expense")
SIDES = ("debit", "credit")


class LedgerAccount(Base):
    """One account of the chart (see ``payments.accounts``), created the first time it is posted to."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (CheckConstraint(f"kind IN {ACCOUNT_KINDS}", name="kind_known"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    #: Structured name, e.g. ``clearing:stripe`` or ``fee_retained:HN-TP:LLTP``.
    code: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerTransaction(Base):
    """A balanced journal entry: what happened, once, with its postings."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    #: Who posted it: ``payments``, ``refunds``, ``reconciliation``…; scopes ``external_id``.
    source: Mapped[str] = mapped_column(String(50))
    #: The idempotency key of the posting, e.g. ``payment:<public id>:captured``.
    external_id: Mapped[str] = mapped_column(String(200))
    #: What kind of movement: ``payment_captured``, ``bill_settled_free``, ``refund``, ``reversal``…
    kind: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(String(500), default="")
    #: The accounting date in Asia/Ho_Chi_Minh (reports and period sign-off use it; indexed for reports).
    effective_date: Mapped[date] = mapped_column(Date, index=True)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    bill_id: Mapped[int | None] = mapped_column(ID, ForeignKey("bills.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ID, ForeignKey("payments.id"), index=True)
    #: Set on a correction: the transaction this one cancels out.
    reverses_id: Mapped[int | None] = mapped_column(ID, ForeignKey("ledger_transactions.id"), unique=True)
    #: Set on an adjustment of an earlier transaction (a reclassification, a correction after sign-off).
    corrects_id: Mapped[int | None] = mapped_column(ID, ForeignKey("ledger_transactions.id"), index=True)

    postings: Mapped[list[LedgerPosting]] = relationship(back_populates="transaction", order_by="LedgerPosting.id")


class LedgerPosting(Base):
    """One line of a transaction: an amount on the debit or credit side of one account."""

    __tablename__ = "ledger_postings"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(f"side IN {SIDES}", name="side_known"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ID, ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ID, ForeignKey("ledger_accounts.id"), index=True)
    side: Mapped[str] = mapped_column(String(6))
    #: Minor units of ``currency`` (whole dong for VND); the side gives the sign.
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="postings")
    account: Mapped[LedgerAccount] = relationship()


class LedgerClosedDay(Base):
    """A Vietnamese calendar day whose reconciliation was signed off: the ledger takes no more postings in it.

    Rows are never deleted (a signed-off period stays frozen). ``reopens_on`` is the first open day after
    ``day``, kept up to date when more days close, so a posting dated in a closed day finds the day it
    moves to with one primary-key look-up inside its own INSERT.
    """

    __tablename__ = "ledger_closed_days"
    __table_args__ = (CheckConstraint("reopens_on > day", name="reopens_after_day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    #: The first day after ``day`` that is still open.
    reopens_on: Mapped[date] = mapped_column(Date)
    #: The signed-off reconciliation run that closed the day.
    run_id: Mapped[int | None] = mapped_column(ID, ForeignKey("recon_runs.id"))
    closed_by: Mapped[str] = mapped_column(String(100))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerPayoutTag(Base):
    """Says that a transaction belongs to a provider payout: its captures, its fees and the payout itself.

    A separate append-only row, because captures are posted long before the payout that settles them and
    the ledger itself is never updated. A transaction belongs to at most one payout.
    """

    __tablename__ = "ledger_payout_tags"
    __table_args__ = (Index("ix_ledger_payout_tags_provider_payout_ref", "provider", "payout_ref"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    provider: Mapped[str] = mapped_column(String(30))
    #: The provider's payout id (Stripe ``po_…``, VNPay's settlement batch).
    payout_ref: Mapped[str] = mapped_column(String(64))
    transaction_id: Mapped[int] = mapped_column(ID, ForeignKey("ledger_transactions.id"), unique=True)
    tagged_at: Mapped[datetime] = mapped_column(UTCDateTime)
