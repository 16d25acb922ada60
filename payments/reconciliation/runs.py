"""Reconciliation runs, their results, and the break register that outlives runs.

A run compares one scope (a provider's reports, or a bank account) for one period of Vietnamese calendar
days. It snapshots our side into ``recon_items`` so the run can be repeated and explained later whatever
happens to the payments afterwards, then classifies every pair in ``recon_results``. Breaks live across
runs in ``recon_breaks``: a later run that matches an open break closes it, and every change of a break is
a ``break_events`` row. The proposer of a resolution can never approve it: the database refuses it too.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, UTCDateTime, one_of

RUN_STATUSES = ("running", "completed", "superseded", "signed_off")
OUTCOMES = ("matched", "suggested", "pending", "unpaid", "not_ours", "missing_at_provider", "missing_internally",
            "amount_mismatch", "duplicate_at_provider", "date_out_of_window", "status_mismatch", "bank_mismatch")
ITEM_KINDS = ("payment", "payout")
BREAK_KINDS = ("status_mismatch", "missing_at_provider", "missing_internally", "amount_mismatch",
               "duplicate_at_provider", "date_out_of_window", "payout_mismatch", "bank_mismatch", "unremitted")
#: Lower is more urgent. A citizen charged for what we recorded as failed comes first.
PRIORITY = {"status_mismatch": 1, "missing_at_provider": 2, "amount_mismatch": 2, "duplicate_at_provider": 2,
            "payout_mismatch": 2, "bank_mismatch": 2, "missing_internally": 3, "date_out_of_window": 3,
            "unremitted": 1}
BREAK_STATUSES = ("open", "investigating", "resolution_proposed", "approved", "resolved", "auto_closed")


class ReconRun(Base):
    """One reconciliation of one scope over one period."""

    __tablename__ = "recon_runs"
    __table_args__ = (CheckConstraint(one_of("status", RUN_STATUSES), name="status_known"),
                      CheckConstraint("period_start <= period_end", name="period_ordered"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: What is reconciled: ``provider:stripe``, ``provider:vnpay``, ``bank:<account>``.
    scope: Mapped[str] = mapped_column(String(100), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    #: Version of the matching rules; with the same inputs and version a run gives identical results.
    rule_version: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    #: 0-100, for people watching a long run.
    progress: Mapped[int] = mapped_column(Integer, default=0)
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: SHA-256 of the canonical, sorted results: equal digests mean byte-identical exports.
    result_digest: Mapped[str | None] = mapped_column(String(64))
    matched_count: Mapped[int] = mapped_column(Integer, default=0)
    break_count: Mapped[int] = mapped_column(Integer, default=0)
    signed_off_by: Mapped[str | None] = mapped_column(String(100))
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReconItem(Base):
    """Our side of a run, frozen when the run started: one payment (or refund) we say happened."""

    __tablename__ = "recon_items"
    __table_args__ = (UniqueConstraint("run_id", "reference"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Looked up through the unique (run_id, reference) key, which leads with it. No foreign key (migration
    #: 0012): the snapshot is written with its run, a million rows at a time, and runs are never deleted.
    run_id: Mapped[int] = mapped_column(BigId)
    #: ``payment`` (one of ours) or ``payout`` (a provider's transfer of many payments to a bank account).
    kind: Mapped[str] = mapped_column(String(10), default="payment")
    #: Our payment code (``GW…``), or the provider's payout id for payouts.
    reference: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    #: Our status: ``succeeded`` expects money at the provider; ``failed`` expects none.
    status: Mapped[str] = mapped_column(String(20))
    occurred_on: Mapped[date] = mapped_column(Date)
    #: False for context items from just before the period: they only claim their late report lines.
    in_period: Mapped[bool] = mapped_column(Boolean, default=True)
    service_code: Mapped[str | None] = mapped_column(String(50))
    agency_code: Mapped[str | None] = mapped_column(String(50))


class ReconConfirmation(Base):
    """An officer's confirmation of a suggested pair; later runs of the scope take it as matched."""

    __tablename__ = "recon_confirmations"
    __table_args__ = (UniqueConstraint("scope", "line_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(100))
    #: The bank line as banks identify it: ``reference|booking day|amount`` (stable across re-exports).
    line_key: Mapped[str] = mapped_column(String(160))
    reference: Mapped[str] = mapped_column(String(40))
    confirmed_by: Mapped[str] = mapped_column(String(100))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReconResult(Base):
    """How one item, one report line, or one pair of them was classified in a run."""

    __tablename__ = "recon_results"
    __table_args__ = (CheckConstraint(one_of("outcome", OUTCOMES), name="outcome_known"),
                      Index("ix_recon_results_run_id_outcome", "run_id", "outcome"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # No foreign keys on purpose (migration 0012): a run inserts a million of these in one statement that
    # takes the ids from the run, its snapshot and the imported lines, which are never deleted.
    run_id: Mapped[int] = mapped_column(BigId)
    item_id: Mapped[int | None] = mapped_column(BigId)
    line_id: Mapped[int | None] = mapped_column(BigId)
    outcome: Mapped[str] = mapped_column(String(30))
    reference: Mapped[str | None] = mapped_column(String(40))
    provider_reference: Mapped[str | None] = mapped_column(String(100))
    our_amount: Mapped[int | None] = mapped_column(BigInteger)
    their_amount: Mapped[int | None] = mapped_column(BigInteger)
    #: The Vietnamese calendar day the result belongs to (the item's day, else the line's).
    day: Mapped[date] = mapped_column(Date)


class ReconBreak(Base):
    """A difference someone must explain; it lives across runs until matched or resolved."""

    __tablename__ = "recon_breaks"
    __table_args__ = (
        UniqueConstraint("scope", "kind", "key"),
        CheckConstraint(one_of("kind", BREAK_KINDS), name="kind_known"),
        CheckConstraint(one_of("status", BREAK_STATUSES), name="status_known"),
        # Four eyes: whoever proposed a resolution may not approve it, whatever path the write takes.
        CheckConstraint("approved_by IS NULL OR approved_by <> proposed_by", name="approver_is_not_proposer"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    #: Stable identity across runs: our reference, or the provider's for lines we do not know.
    key: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(30), index=True)
    #: 1 is most urgent: a citizen charged for something we recorded as failed.
    priority: Mapped[int] = mapped_column(Integer)
    #: The Vietnamese calendar day the difference belongs to.
    day: Mapped[date] = mapped_column(Date)
    our_amount: Mapped[int | None] = mapped_column(BigInteger)
    their_amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    opened_run_id: Mapped[int] = mapped_column(ForeignKey("recon_runs.id"))
    last_seen_run_id: Mapped[int] = mapped_column(ForeignKey("recon_runs.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposed_by: Mapped[str | None] = mapped_column(String(100))
    approved_by: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(Text)
    #: The money the proposed resolution moves, from the closed list in ``resolutions.MOVEMENTS`` (or none).
    movement: Mapped[str | None] = mapped_column(String(30))
    #: The account the officer chose for the movement (the other side follows from the movement).
    movement_account: Mapped[str | None] = mapped_column(String(200))
    #: Whole dong, positive.
    movement_amount: Mapped[int | None] = mapped_column(BigInteger)
    #: The ledger transaction posted when a second officer approved the movement.
    ledger_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))


class BreakEvent(Base):
    """One change of a break: who, when, what, and why."""

    __tablename__ = "break_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    break_id: Mapped[int] = mapped_column(ForeignKey("recon_breaks.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("recon_runs.id"))
    #: The ledger transaction this change posted (an approved resolution that moves money).
    ledger_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))
