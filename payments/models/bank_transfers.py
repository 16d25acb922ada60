"""Bank transfers the banks' feeds reported: each once, with what the gateway did with the money."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from payments.models.columns import ID

#: What a transfer did: paid its payment, or held in suspense for a finance officer (``reason`` says why),
#: or nothing (a debit: money leaving the account is not ours to match).
TRANSFER_OUTCOMES = ("paid", "held", "not_a_credit")


class BankTransferRecord(Base):
    """One transfer on an agency's account, as a bank feed reported it (a retried delivery is the same row)."""

    __tablename__ = "bank_transfers"
    __table_args__ = (
        UniqueConstraint("connection", "feed_id"),
        # The bank's own reference is the one its statement carries: a second feed reporting it is the same money.
        Index("uq_bank_transfers_bank_reference", "account_number", "bank_reference", unique=True,
              postgresql_where=text("bank_reference IS NOT NULL"), sqlite_where=text("bank_reference IS NOT NULL")),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(f"outcome IN {TRANSFER_OUTCOMES}", name="outcome_known"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    connection: Mapped[str] = mapped_column(String(64))
    feed_id: Mapped[str] = mapped_column(String(64))
    bank: Mapped[str] = mapped_column(String(64))
    account_number: Mapped[str] = mapped_column(String(32))
    credit: Mapped[bool] = mapped_column(Boolean)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    memo: Mapped[str] = mapped_column(String(1000))
    bank_reference: Mapped[str | None] = mapped_column(String(64))
    payment_code: Mapped[str | None] = mapped_column(String(32), index=True)
    payment_id: Mapped[int | None] = mapped_column(ID, ForeignKey("payments.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    #: Why a held transfer was not applied (``amount_short``, ``late``, ``already_paid``…); empty when paid.
    reason: Mapped[str] = mapped_column(String(40), default="")
    #: The statement line the transfer was booked as (``postings.line_key``): reconciliation finds the feed's
    #: transfer again by the bank's reference and amount and keeps this key, whatever day the statement gives.
    line_key: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
