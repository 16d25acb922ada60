"""Subsidy funds: an annual cap, atomic reservations by pinned quotes, commit on payment, release otherwise.

Reservations use one guarded UPDATE (``... WHERE reserved + committed + :x <= cap``): the database
decides, so any number of concurrent quotes can never reserve more than the cap, on either backend.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import SYSTEM_CLOCK, Clock
from core.db import Base, BigId, UTCDateTime
from subsidies.errors import FundUnknown

RESERVATION_STATUSES = ("held", "committed", "released")


class Fund(Base):
    """An annual subsidy fund with a cap; ``reserved`` is held by open quotes, ``committed`` is spent."""

    __tablename__ = "subsidy_funds"
    __table_args__ = (
        CheckConstraint("cap >= 0", name="cap_not_negative"),
        CheckConstraint("reserved >= 0 AND committed >= 0", name="amounts_not_negative"),
        CheckConstraint("reserved + committed <= cap", name="within_cap"),
    )

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    #: VND the fund may pay out in its year.
    cap: Mapped[int] = mapped_column(BigInteger)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    committed: Mapped[int] = mapped_column(BigInteger, default=0)

    @property
    def room(self) -> int:
        """VND still available for new reservations."""
        return self.cap - self.reserved - self.committed


class FundReservation(Base):
    """The part of a fund one quote holds, and whether it was spent or given back."""

    __tablename__ = "fund_reservations"
    __table_args__ = (
        UniqueConstraint("quote_id", "fund_code"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(f"status IN {RESERVATION_STATUSES}", name="status_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    quote_id: Mapped[str] = mapped_column(ForeignKey("quotes.id"), index=True)
    fund_code: Mapped[str] = mapped_column(ForeignKey("subsidy_funds.code"))
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="held")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def fund_room(session: Session) -> dict[str, int]:
    """Room left in every fund (a snapshot for previews; reservations re-check atomically)."""
    return {code: cap - reserved - committed for code, cap, reserved, committed in
            session.execute(select(Fund.code, Fund.cap, Fund.reserved, Fund.committed))}


def try_reserve(session: Session, fund_code: str, amount: int) -> bool:
    """Atomically add ``amount`` to the fund's reservations if it fits under the cap; False if it does not."""
    result = session.execute(
        update(Fund)
        .where(Fund.code == fund_code, Fund.reserved + Fund.committed + amount <= Fund.cap)
        .values(reserved=Fund.reserved + amount)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def record_reservation(session: Session, quote_id: str, fund_code: str, amount: int,
                       clock: Clock = SYSTEM_CLOCK) -> FundReservation:
    """Record that ``quote_id`` holds ``amount`` of the fund (after ``try_reserve`` succeeded)."""
    reservation = FundReservation(quote_id=quote_id, fund_code=fund_code, amount=amount, status="held",
                                  created_at=clock.now())
    session.add(reservation)
    session.flush()
    return reservation


def unreserve(session: Session, fund_code: str, amount: int) -> None:
    """Give back an amount reserved in this transaction that will not be recorded (a retried quote)."""
    session.execute(update(Fund).where(Fund.code == fund_code).values(reserved=Fund.reserved - amount)
                    .execution_options(synchronize_session=False))


def close_reservations(session: Session, quote_id: str, outcome: str, clock: Clock = SYSTEM_CLOCK) -> int:
    """Commit (``committed``) or release (``released``) a quote's held reservations; return how many."""
    assert outcome in ("committed", "released")
    closed = 0
    for reservation in session.scalars(select(FundReservation).where(FundReservation.quote_id == quote_id,
                                                                       FundReservation.status == "held")):
        # Guarded on status so a second close of the same reservation moves no money.
        changed = session.execute(
            update(FundReservation).where(FundReservation.id == reservation.id, FundReservation.status == "held")
            .values(status=outcome, closed_at=clock.now()).execution_options(synchronize_session=False))
        if changed.rowcount != 1:
            continue
        values: dict[str, Any] = {"reserved": Fund.reserved - reservation.amount}
        if outcome == "committed":
            values["committed"] = Fund.committed + reservation.amount
        session.execute(update(Fund).where(Fund.code == reservation.fund_code).values(**values)
                        .execution_options(synchronize_session=False))
        closed += 1
    session.expire_all()
    return closed


def list_funds(session: Session) -> list[Fund]:
    """Every fund, newest year first, then by code."""
    return list(session.scalars(select(Fund).order_by(Fund.year.desc(), Fund.code)))


def get_fund(session: Session, code: str) -> Fund:
    """Return the fund or raise ``FundUnknown``."""
    fund = session.get(Fund, code)
    if fund is None:
        raise FundUnknown(f"no subsidy fund {code!r}", details={"fund_code": code})
    return fund


def seed_funds(session: Session, funds: list[dict[str, Any]]) -> int:
    """Insert funds that are missing (by code); return how many were added."""
    existing = set(session.scalars(select(Fund.code)))
    added = [Fund(code=f["code"], name=f["name"], year=f["year"], cap=f["cap"], reserved=0, committed=0)
             for f in funds if f["code"] not in existing]
    session.add_all(added)
    session.flush()
    return len(added)
