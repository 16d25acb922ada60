"""Imported reports: each file stored unchanged with its hash, and every line normalised."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, BigId, UTCDateTime


class ReportFile(Base):
    """One imported file, byte for byte; importing the same bytes again adds nothing."""

    __tablename__ = "report_files"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Reader that read it: camt053, mt940, vn_bank:<layout>, stripe_payout_reconciliation, vnpay …
    format: Mapped[str] = mapped_column(String(60))
    #: SHA-256 of the exact bytes: the idempotency key of an import.
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Who imported it (a staff account id or a job name).
    imported_by: Mapped[str] = mapped_column(String(100))
    line_count: Mapped[int] = mapped_column(Integer)

    statements: Mapped[list[ReportStatement]] = relationship(back_populates="file", order_by="ReportStatement.index")


class ReportStatement(Base):
    """One account statement inside a bank file, with the balances the bank gave."""

    __tablename__ = "report_statements"
    __table_args__ = (UniqueConstraint("file_id", "index"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("report_files.id"), index=True)
    #: 0-based position of the statement in its file.
    index: Mapped[int] = mapped_column(Integer)
    account: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    opening: Mapped[int | None] = mapped_column(BigInteger)
    closing: Mapped[int | None] = mapped_column(BigInteger)
    #: opening + lines = closing, as read; None when the bank gave no balances.
    reconciles: Mapped[bool | None] = mapped_column(Boolean)

    file: Mapped[ReportFile] = relationship(back_populates="statements")


class ReportLine(Base):
    """One line of a bank statement or provider report, in signed minor units with its source row.

    Indexed only where queries look (migration 0012): by file (the unique key leads with it) and by day.
    Every index costs seconds per million imported lines; matching reads the lines in bulk, not by code.
    """

    __tablename__ = "report_lines"
    __table_args__ = (
        UniqueConstraint("file_id", "statement_index", "row"),
        CheckConstraint("kind IN ('bank', 'provider')", name="kind_known"),
        CheckConstraint("net = amount - fee", name="net_is_amount_less_fee"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: No foreign key (migration 0012): the import writes the file and its lines together; files stay.
    file_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(10))
    #: Statement position for bank lines; -1 for provider lines.
    statement_index: Mapped[int] = mapped_column(Integer)
    #: 1-based row (line in a text file, entry number in XML) where the line stands in the source file.
    row: Mapped[int] = mapped_column(Integer)
    booked_on: Mapped[date] = mapped_column(Date, index=True)
    value_on: Mapped[date | None] = mapped_column(Date)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Signed minor units: credit (money in) positive. For provider lines, the gross amount.
    amount: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger, default=0)
    net: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(Text, default="")
    #: The other party of a bank movement as the bank names it (name and account), when the format says.
    counterparty: Mapped[str | None] = mapped_column(String(200))
    payment_code: Mapped[str | None] = mapped_column(String(20), index=True)
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    provider_reference: Mapped[str | None] = mapped_column(String(100))
    end_to_end_id: Mapped[str | None] = mapped_column(String(100))
    payout_id: Mapped[str | None] = mapped_column(String(64), index=True)
    category: Mapped[str | None] = mapped_column(String(40))
    reversal: Mapped[bool] = mapped_column(Boolean, default=False)
