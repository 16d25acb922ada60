"""Parking's tables: operators, their lots, the gate events they send, and the sessions made from them.

A session records the use of a right (APDS): a vehicle's stay at a lot from an entry to an exit event,
priced from the lot's tariff. Sessions are derived from a vehicle's events (``parking.sessions``), so late
and out-of-order events give the same sessions as the ordered stream.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from payments.models.columns import ID

OPERATOR_KINDS = ("licensed_company", "city_unit")
EVENT_TYPES = ("entry", "exit")
CREDENTIAL_KINDS = ("rfid", "ticket_qr", "plate_read")
#: ``open``: inside; ``closed``: exited and priced; ``superseded``: another entry came before any exit.
SESSION_STATUSES = ("open", "closed", "superseded")
#: Who counted vehicles independently of the operator's sessions: the gate's own counter, a sensor, an inspector.
COUNT_SOURCES = ("gate_counter", "sensor", "inspector")


class ParkingOperator(Base):
    """A licensed company or the city's own unit that runs lots under a contract."""

    __tablename__ = "parking_operators"
    __table_args__ = (CheckConstraint(f"kind IN {OPERATOR_KINDS}", name="kind_known"),
                      CheckConstraint("revenue_share_bp BETWEEN 0 AND 10000", name="share_in_range"))

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    #: The city agency the charges are collected for (bills, receiving account, Treasury remittance).
    agency_code: Mapped[str] = mapped_column(String(50))
    contract_reference: Mapped[str] = mapped_column(String(100))
    #: The operator's share of what its lots collect, in basis points (3000 = 30 %).
    revenue_share_bp: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ParkingLot(Base):
    """A lot: where it is, its zone and site group (the tariff's dimensions), capacity and tariff service."""

    __tablename__ = "parking_lots"
    __table_args__ = (CheckConstraint("capacity >= 0", name="capacity_not_negative"),
                      CheckConstraint("grace_minutes BETWEEN 0 AND 60", name="grace_in_range"))

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    operator_id: Mapped[int] = mapped_column(ID, ForeignKey("parking_operators.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    commune_code: Mapped[str] = mapped_column(String(5))
    zone: Mapped[str | None] = mapped_column(String(50))
    site_group: Mapped[str | None] = mapped_column(String(50))
    capacity: Mapped[int] = mapped_column(Integer)
    #: The subsidies service whose rules price this lot (``PARKING_HN``).
    tariff_service: Mapped[str] = mapped_column(String(50))
    vehicle_classes: Mapped[list] = mapped_column(JSON)
    grace_minutes: Mapped[int] = mapped_column(Integer)
    #: An exit without an entry is priced as a stay of this many hours ending at the exit (the lot's rule).
    unmatched_exit_hours: Mapped[int] = mapped_column(Integer)
    #: The subsidies service whose rules price the lot's monthly passes (``PARKING_HN_MONTHLY``); None: none sold.
    pass_service: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GateEvent(Base):
    """One event an operator's system sent, once (its ``event_id`` is the operator's idempotency key)."""

    __tablename__ = "parking_events"
    __table_args__ = (UniqueConstraint("operator_id", "event_id"),
                      # A vehicle's sessions are rebuilt from its events at a lot, on every event.
                      Index("ix_parking_events_lot_id_plate", "lot_id", "plate"),
                      CheckConstraint(f"type IN {EVENT_TYPES}", name="type_known"),
                      CheckConstraint(f"credential_kind IN {CREDENTIAL_KINDS}", name="credential_kind_known"))

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ID, ForeignKey("parking_operators.id"))
    event_id: Mapped[str] = mapped_column(String(100))
    #: SHA-256 of the event as sent: the same id with other content is refused, not taken as a retry.
    digest: Mapped[str] = mapped_column(String(64))
    lot_id: Mapped[int] = mapped_column(ID, ForeignKey("parking_lots.id"))
    type: Mapped[str] = mapped_column(String(10))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The vehicle as the gate read it: plate normalised (upper case, letters and digits), class.
    plate: Mapped[str] = mapped_column(String(20))
    vehicle_class: Mapped[str] = mapped_column(String(20))
    credential_kind: Mapped[str] = mapped_column(String(20))
    credential: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: How far ahead of our clock the gate's time was, in seconds, when it arrived (clock skew, shown to staff).
    skew_seconds: Mapped[int] = mapped_column(Integer)


class ParkingSession(Base):
    """A vehicle's stay at a lot: entry and exit events, the price, and what is odd about it (``flags``)."""

    __tablename__ = "parking_sessions"
    __table_args__ = (CheckConstraint(f"status IN {SESSION_STATUSES}", name="status_known"),
                      UniqueConstraint("entry_event_id"), UniqueConstraint("exit_event_id"),
                      Index("ix_parking_sessions_lot_id_plate", "lot_id", "plate"),
                      Index("uq_parking_sessions_bill_id", "bill_id", unique=True))

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    lot_id: Mapped[int] = mapped_column(ID, ForeignKey("parking_lots.id"))
    #: Indexed for a citizen's linked plates across lots.
    plate: Mapped[str] = mapped_column(String(20), index=True)
    vehicle_class: Mapped[str] = mapped_column(String(20))
    entry_event_id: Mapped[int | None] = mapped_column(ID, ForeignKey("parking_events.id"))
    exit_event_id: Mapped[int | None] = mapped_column(ID, ForeignKey("parking_events.id"))
    entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10))
    #: ``exit_without_entry``, ``entry_without_exit`` (another entry came first), ``clock_skew``.
    flags: Mapped[list] = mapped_column(JSON)
    amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    #: The priced stay (``parking.pricing.PricedStay.to_dict``): segments, rules applied, legal basis.
    pricing: Mapped[dict | None] = mapped_column(JSON)
    #: The bill the session is paid through (``parking.charges``): a closed session with something to pay.
    bill_id: Mapped[int | None] = mapped_column(ID, ForeignKey("bills.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ParkingVehicle(Base):
    """A plate a citizen linked to their e-ID profile: its sessions are billed to them while it is linked."""

    __tablename__ = "parking_vehicles"
    __table_args__ = (Index("uq_parking_vehicles_one_link_per_plate", "plate", unique=True,
                            postgresql_where=text("unlinked_at IS NULL"), sqlite_where=text("unlinked_at IS NULL")),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ID, ForeignKey("citizens.id"), index=True)
    #: Normalised as the gates' plates are (``parking.plates.normalise_plate``).
    plate: Mapped[str] = mapped_column(String(20))
    vehicle_class: Mapped[str] = mapped_column(String(20))
    rfid_tag: Mapped[str | None] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    unlinked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VehicleCount(Base):
    """Vehicles counted at a lot over a period by someone other than the operator's session system."""

    __tablename__ = "parking_counts"
    __table_args__ = (UniqueConstraint("operator_id", "count_id"),
                      Index("ix_parking_counts_lot_id_period_start", "lot_id", "period_start"),
                      CheckConstraint(f"source IN {COUNT_SOURCES}", name="source_known"),
                      CheckConstraint("vehicles >= 0", name="vehicles_not_negative"),
                      CheckConstraint("period_end > period_start", name="period_ordered"))

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ID, ForeignKey("parking_operators.id"))
    #: The sender's id for the count: a retry is the same count.
    count_id: Mapped[str] = mapped_column(String(100))
    lot_id: Mapped[int] = mapped_column(ID, ForeignKey("parking_lots.id"))
    source: Mapped[str] = mapped_column(String(20))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Vehicles that entered during the period.
    vehicles: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ParkingPass(Base):
    """A monthly pass (vé tháng): one plate at one lot for one calendar month in Vietnam, paid through a bill.

    It covers the plate's stays at the lot while its bill is paid and nothing of it refunded
    (``parking.passes``); ``cancelled_at`` marks a pass whose bill was cancelled before it was paid.
    """

    __tablename__ = "parking_passes"
    __table_args__ = (Index("uq_parking_passes_one_per_month", "lot_id", "plate", "valid_from", unique=True,
                            postgresql_where=text("cancelled_at IS NULL"), sqlite_where=text("cancelled_at IS NULL")),
                      Index("ix_parking_passes_citizen_id", "citizen_id"),
                      CheckConstraint("valid_until > valid_from", name="period_ordered"))

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    lot_id: Mapped[int] = mapped_column(ID, ForeignKey("parking_lots.id"))
    citizen_id: Mapped[int] = mapped_column(ID, ForeignKey("citizens.id"))
    plate: Mapped[str] = mapped_column(String(20))
    vehicle_class: Mapped[str] = mapped_column(String(20))
    #: Midnight in Vietnam on the month's first day, and on the next month's first day (UTC).
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    bill_id: Mapped[int] = mapped_column(ID, ForeignKey("bills.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


#: ``open``: waiting for a finance officer or the operator; ``upheld``: the citizen was right (the charge is
#: refunded or cancelled); ``rejected``: the charge stands, with the reason given.
DISPUTE_STATUSES = ("open", "upheld", "rejected")
#: What the citizen says is wrong with the session.
DISPUTE_REASONS = ("not_my_vehicle", "wrong_times", "covered_by_pass", "exempt", "other")


class ParkingDispute(Base):
    """A citizen's dispute of one parking session's charge, and how it was resolved (``parking.disputes``).

    One per session: disputing again answers the same dispute. Upholding a paid charge refunds it through
    the refund path (``refund_id``); upholding an unpaid one cancels its bill.
    """

    __tablename__ = "parking_disputes"
    __table_args__ = (CheckConstraint("status IN ('open', 'upheld', 'rejected')", name="status_known"),
                      Index("ix_parking_disputes_status", "status"),
                      Index("ix_parking_disputes_citizen_id", "citizen_id"))

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    session_id: Mapped[int] = mapped_column(ID, ForeignKey("parking_sessions.id"), unique=True)
    citizen_id: Mapped[int] = mapped_column(ID, ForeignKey("citizens.id"))
    reason: Mapped[str] = mapped_column(String(30))
    statement: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(10))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: ``staff:<id>`` (a finance officer) or ``client:<id>`` (the operator's system).
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_note: Mapped[str | None] = mapped_column(String(1000))
    #: ``refund`` (paid charge refunded), ``bill_cancelled`` (unpaid charge dropped) or ``none``.
    remedy: Mapped[str | None] = mapped_column(String(20))
    refund_id: Mapped[int | None] = mapped_column(ID, ForeignKey("refunds.id"))
