"""Bills (what someone owes), payments (attempts to settle a bill) and their event history.

Design overview
---------------
* A bill carries its pinned quote as a snapshot: amount due, base amount, the subsidy lines, the
  explanation and the rule-set hash. The amount is always computed by the server.
* A payment is one attempt through one provider, for exactly the bill's amount due when it started.
  Its ``status`` is written only by ``payments.states.transition``, which appends a ``PaymentEvent``.
* A bill's ``status`` is written only by ``payments.bill_states``, which appends a ``BillEvent``.
* A bill is never paid twice: a unique partial index allows one ``succeeded`` payment per bill, and a
  second one allows at most one *live* (unfinished) payment per bill, so two tabs cannot race.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, one_of
from payments.models.columns import ID

BILL_STATUSES = ("open", "paid", "cancelled")
FEE_KINDS = ("phi", "le_phi")
#: Kept in step with ``payments.states.PaymentStatus`` (a test checks it).
PAYMENT_STATUSES = ("created", "started", "submitted", "unknown", "succeeded", "duplicate", "declined",
                    "cancelled", "expired", "error")
LIVE_PAYMENT_STATUSES = ("created", "started", "submitted", "unknown")


class Bill(Base):
    """What a payer owes for one service, priced by the subsidies engine and pinned as a snapshot."""

    __tablename__ = "bills"
    __table_args__ = (
        UniqueConstraint("agency_code", "agency_reference"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount_due >= 0", name="amount_due_not_negative"),
        CheckConstraint("base_amount >= amount_due", name="base_covers_amount_due"),
        CheckConstraint(one_of("status", BILL_STATUSES), name="status_known"),
        CheckConstraint(one_of("fee_kind", FEE_KINDS), name="fee_kind_known"),
        CheckConstraint("retained_basis_points BETWEEN 0 AND 10000", name="retained_share_in_range"),
        CheckConstraint("fee_kind = 'phi' OR retained_basis_points = 0", name="le_phi_retains_nothing"),
        CheckConstraint("min_eid_level IN (1, 2)", name="min_eid_level_known"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    #: Unguessable id for URLs and the API; the integer id never leaves the server.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    #: Keyed hash (HMAC) of the payer's personal ID number; the number itself is never stored here.
    payer_id_hash: Mapped[str] = mapped_column(String(128), index=True)
    #: How the payer is named on the receipt: full name and the masked ID number (``001******789``).
    payer_name: Mapped[str | None] = mapped_column(String(200))
    payer_masked_id: Mapped[str | None] = mapped_column(String(20))
    #: The citizen profile, once known (no foreign key until the identity tables settle).
    citizen_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    service_code: Mapped[str] = mapped_column(String(50))
    quantity: Mapped[int] = mapped_column(Integer)
    #: What the payer pays now: the pinned quote's amount after subsidies.
    amount_due: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    #: The fee before programme subsidies (statutory exemptions are already out of it).
    base_amount: Mapped[int] = mapped_column(BigInteger)
    #: ``[{"programme": code, "amount": int}]`` funded by each programme; sums to base - due.
    subsidy_lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: The subsidies engine's explanation tree, as it was when the quote was pinned.
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)
    rule_set_hash: Mapped[str] = mapped_column(String(64))
    #: The pinned subsidies quote's id (a UUID; no foreign key: that table lives in another package).
    #: None for a bill priced outside the engine. ``explanation["quote_id"]`` repeats it for readers.
    quote_id: Mapped[str | None] = mapped_column(String(36))
    quoted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The e-ID level the service required when the bill was priced: a payer below it is refused.
    min_eid_level: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: The quote before the last requote, so the payer can be shown why the amount changed.
    previous_amount_due: Mapped[int | None] = mapped_column(BigInteger)
    previous_explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Phí (partly retained by the agency) or lệ phí (remitted in full to the budget).
    fee_kind: Mapped[str] = mapped_column(String(6))
    #: Share of a phí the agency keeps, in 1/100 of a percent (8000 = 80 %).
    retained_basis_points: Mapped[int] = mapped_column(Integer, default=0)
    agency_code: Mapped[str] = mapped_column(String(50))
    #: The agency's own reference (file number, dossier code); unique per agency.
    agency_reference: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(300), default="")
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    payments: Mapped[list[Payment]] = relationship(back_populates="bill", order_by="Payment.id")


class Payment(Base):
    """One attempt to settle a bill through one provider."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("provider", "provider_session_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(one_of("status", PAYMENT_STATUSES), name="status_known"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refunds_within_amount"),
        Index("uq_payments_one_success_per_bill", "bill_id", unique=True,
              postgresql_where=text("status = 'succeeded'"), sqlite_where=text("status = 'succeeded'")),
        Index("uq_payments_one_live_per_bill", "bill_id", unique=True,
              postgresql_where=text(one_of("status", LIVE_PAYMENT_STATUSES)),
              sqlite_where=text(one_of("status", LIVE_PAYMENT_STATUSES))),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    bill_id: Mapped[int] = mapped_column(ID, ForeignKey("bills.id"), index=True)
    provider: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(10), index=True)
    #: The bill's amount due when this attempt started; the provider must report exactly this.
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The provider's id of the hosted session (Stripe Checkout Session id, sandbox session id).
    provider_session_id: Mapped[str | None] = mapped_column(String(200))
    #: The provider's id of the money movement once known (Stripe PaymentIntent id).
    provider_payment_ref: Mapped[str | None] = mapped_column(String(200))
    #: Where the payer is sent to pay (the provider's hosted page).
    next_url: Mapped[str | None] = mapped_column(String(2000))
    return_url: Mapped[str | None] = mapped_column(String(2000))
    #: Why it failed, when it did: ``declined``, ``expired``, ``provider_error``, ``cancelled_by_payer``.
    failure_code: Mapped[str | None] = mapped_column(String(50))
    #: The e-ID session that made this payment: issuer, subject, assurance level and login time.
    iss: Mapped[str | None] = mapped_column(String(255))
    sub: Mapped[str | None] = mapped_column(String(255))
    acr: Mapped[str | None] = mapped_column(String(100))
    auth_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When an unfinished attempt is expired (created_at + the configured window); the provider's
    #: session is asked to end then too.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    bill: Mapped[Bill] = relationship(back_populates="payments")


class BillEvent(Base):
    """One applied status change of a bill: the history ``payments.bill_states`` appends to."""

    __tablename__ = "bill_events"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    bill_id: Mapped[int] = mapped_column(ID, ForeignKey("bills.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(10))
    to_status: Mapped[str] = mapped_column(String(10))
    #: The edge's name in the transition table, e.g. ``created``, ``paid`` or ``cancelled``.
    event: Mapped[str] = mapped_column(String(40))
    #: Who or what moved it: ``agency:<code>``, ``payment:<id>``, ``payer``, ``api_client:<id>``…
    actor: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PaymentEvent(Base):
    """One applied status change of a payment: the audit trail ``transition()`` appends to."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ID, ForeignKey("payments.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(10))
    to_status: Mapped[str] = mapped_column(String(10))
    #: The edge's name in the transition table, e.g. ``succeeded`` or ``corrected_to_succeeded``.
    event: Mapped[str] = mapped_column(String(50))
    #: What caused it: ``notification``, ``status_query``, ``expiry``, ``payer``…
    cause: Mapped[str] = mapped_column(String(30))
    provider_event_id: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProviderEvent(Base):
    """A provider notification already received; its primary key makes a replay a no-op."""

    __tablename__ = "provider_events"

    provider: Mapped[str] = mapped_column(String(30), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    provider_session_id: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
