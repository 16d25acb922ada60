"""Refunds: part or all of a captured payment, requested by finance, sometimes approved by a second person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime
from payments.models.billing import Payment
from payments.models.columns import ID

REFUND_STATUSES = ("awaiting_approval", "submitted", "succeeded", "failed", "rejected")


class Refund(Base):
    """One refund of a payment and where it is."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(f"status IN {REFUND_STATUSES}", name="status_known"),
        CheckConstraint("approved_by IS NULL OR approved_by <> requested_by", name="four_eyes"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    payment_id: Mapped[int] = mapped_column(ID, ForeignKey("payments.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    #: Staff identifiers (not foreign keys: staff accounts live in the identity package).
    requested_by: Mapped[str] = mapped_column(String(200))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    #: The provider's refund id, once sent.
    provider_refund_ref: Mapped[str | None] = mapped_column(String(200))
    failure_code: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    payment: Mapped[Payment] = relationship()


class RefundEvent(Base):
    """One applied status change of a refund: the history ``payments.refund_states`` appends to."""

    __tablename__ = "refund_events"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    refund_id: Mapped[int] = mapped_column(ID, ForeignKey("refunds.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    #: The edge's name in the transition table, e.g. ``approved`` or ``paid_out``.
    event: Mapped[str] = mapped_column(String(40))
    #: Who or what moved it: the officer's label, ``provider`` for the provider's answer.
    actor: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
