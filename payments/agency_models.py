"""Agency integration tables: which API client made a bill, one-time pay links, callbacks and their attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from payments.models.columns import ID

DELIVERY_STATUSES = ("waiting", "pending", "delivered", "failed")


class AgencyBill(Base):
    """A bill made through the API by one client: only that client sees it and hears about it."""

    __tablename__ = "agency_bills"

    bill_id: Mapped[int] = mapped_column(ID, ForeignKey("bills.id"), primary_key=True)
    client_id: Mapped[int] = mapped_column(ID, ForeignKey("api_clients.id"), index=True)
    return_url: Mapped[str | None] = mapped_column(String(2000))
    #: The last callback sequence number used for this bill (1, 2, 3 … per bill).
    last_sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BillLink(Base):
    """A one-time ``next_url`` token that takes a citizen from the agency to the bill's pay page."""

    __tablename__ = "bill_links"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    bill_id: Mapped[int] = mapped_column(ID, ForeignKey("bills.id"), index=True)
    #: SHA-256 of the token; the token itself is only in the URL handed to the agency.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CallbackDelivery(Base):
    """One event for one client about one bill: the exact body signed and sent, and where it stands."""

    __tablename__ = "callback_deliveries"
    __table_args__ = (
        UniqueConstraint("bill_id", "sequence"),
        CheckConstraint(f"status IN {DELIVERY_STATUSES}", name="status_known"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    #: Public id of the event (``Gateway-Event-Id``): receivers dedupe by it.
    event_id: Mapped[str] = mapped_column(String(32), unique=True)
    client_id: Mapped[int] = mapped_column(ID, ForeignKey("api_clients.id"), index=True)
    bill_id: Mapped[int] = mapped_column(ID, ForeignKey("bills.id"), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    sequence: Mapped[int] = mapped_column(Integer)
    #: The JSON body exactly as signed (the raw bytes a receiver verifies).
    body: Mapped[str] = mapped_column(Text)
    #: waiting (an earlier event of the bill is not through yet), pending, delivered or failed.
    status: Mapped[str] = mapped_column(String(10), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CallbackAttempt(Base):
    """One HTTP attempt at a delivery: when, the answer, and how long it took."""

    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ID, ForeignKey("callback_deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The receiver's HTTP status; None when no answer came (timeout, refused connection).
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))
    duration_ms: Mapped[int] = mapped_column(Integer)
    #: Who asked for it: ``job`` or ``resend:<staff>``.
    trigger: Mapped[str] = mapped_column(String(100))
