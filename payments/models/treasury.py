"""Remittances to the State Treasury found on bank statements, each tied to the ledger transaction it posted."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from payments.models.columns import ID


class TreasuryRemittance(Base):
    """What one Treasury transfer on an agency's statement paid for one month (agency, budget code, month), and
    the posting of the whole transfer. A transfer that names no month may pay several: one row each."""

    __tablename__ = "treasury_remittances"
    __table_args__ = (
        # One allocation per bank movement and month, however often the statement is re-exported or re-imported.
        UniqueConstraint("account", "line_key", "period_month"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    #: The statement account the money left (the agency's collection or awaiting-remittance account).
    account: Mapped[str] = mapped_column(String(64))
    #: The line as banks identify it: ``reference|booking day|amount`` (as in bank runs).
    line_key: Mapped[str] = mapped_column(String(160))
    #: The first imported copy of the line.
    line_id: Mapped[int] = mapped_column(ID, ForeignKey("report_lines.id"))
    agency_code: Mapped[str] = mapped_column(String(50), index=True)
    #: ``chương-tiểu mục`` of the State Budget Index (see payments/remittance_rules.yaml).
    budget_code: Mapped[str] = mapped_column(String(40))
    #: First day of the month of collections this remittance pays.
    period_month: Mapped[date] = mapped_column(Date)
    #: Whole dong of the transfer that pay this month (positive); the month's rows of a transfer add up to it.
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    booked_on: Mapped[date] = mapped_column(Date)
    #: The transfer's one posting, shared by its months' rows.
    ledger_transaction_id: Mapped[int] = mapped_column(ID, ForeignKey("ledger_transactions.id"), index=True)
    matched_run_id: Mapped[int] = mapped_column(ID, ForeignKey("recon_runs.id"))
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime)
