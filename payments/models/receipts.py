"""E-receipts (Decree 123/2020/NĐ-CP): one per settled bill, numbered per series and year without gaps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from payments.models.columns import ID


class ReceiptCounter(Base):
    """The last number issued in one series and year; its row lock makes numbering gap-free."""

    __tablename__ = "receipt_counters"
    __table_args__ = (CheckConstraint("last_number BETWEEN 0 AND 9999999", name="seven_digits"),)

    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    #: The calendar year in Asia/Ho_Chi_Minh; numbering restarts at 1 each 1 January.
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class Receipt(Base):
    """An issued e-receipt: a snapshot of what was collected, from whom, for what, and how."""

    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("series", "year", "number"),
        CheckConstraint("number BETWEEN 1 AND 9999999", name="seven_digits"),
        CheckConstraint("status IN ('issued', 'cancelled')", name="status_known"),
        CheckConstraint("amount_paid >= 0 AND base_amount >= amount_paid", name="amounts_consistent"),
        Index("uq_receipts_one_issued_per_bill", "bill_id", unique=True,
              postgresql_where=text("status = 'issued'"), sqlite_where=text("status = 'issued'")),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    bill_id: Mapped[int] = mapped_column(ID, ForeignKey("bills.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ID, ForeignKey("payments.id"))
    series: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="issued")
    #: The receipt this one replaces (after a partial refund); the old one is then ``cancelled``.
    replaces_id: Mapped[int | None] = mapped_column(ID, ForeignKey("receipts.id"), unique=True)
    #: The collecting agency, the payer (keyed hash), the service and the fee's legal nature.
    agency_code: Mapped[str] = mapped_column(String(50))
    payer_id_hash: Mapped[str] = mapped_column(String(128))
    payer_name: Mapped[str | None] = mapped_column(String(200))
    payer_masked_id: Mapped[str | None] = mapped_column(String(20))
    service_code: Mapped[str] = mapped_column(String(50))
    fee_kind: Mapped[str] = mapped_column(String(6))
    base_amount: Mapped[int] = mapped_column(BigInteger)
    #: What the payer paid and what is still held after refunds.
    amount_paid: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    #: ``[{"programme": code, "amount": int}]``, as on the bill.
    subsidy_lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: The bill's explanation (legal basis of the fee and of each subsidy), frozen at issue.
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: ``sandbox``, ``stripe``… or ``subsidy`` for a bill settled at 0 đ.
    method: Mapped[str] = mapped_column(String(30))
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
