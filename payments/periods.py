"""Ledger periods: a day whose reconciliation is signed off takes no more postings.

Design overview
---------------
* Closing: signing a reconciliation run off closes every day of its period (``close_days``). A closed
  day is never reopened; ``ledger_closed_days`` keeps, for each closed day, the first open day after it
  (``reopens_on``), updated whenever more days close.
* Posting: an undated posting (one that happens now: a settlement, a refund, an approved resolution)
  asks for today and lands in the first open day on or after it. ``open_day_on_or_after`` is a SQL
  expression the posting's own INSERT evaluates (one primary-key look-up, no extra round trip), so a
  citizen's payment that settles after its day was signed off books into the next open day instead of
  failing. A posting dated explicitly in a closed day is refused with ``LedgerPeriodClosed`` (HTTP 409).
* The database refuses the rest: a trigger on ``ledger_postings`` (migration 0011, both backends) rejects
  any posting whose transaction is dated in a closed day, whatever SQL wrote it.
* Races (PostgreSQL): closing takes a SHARE ROW EXCLUSIVE lock on ``ledger_transactions``, so it waits
  for postings in flight to commit and postings that start meanwhile wait for the close; none can land
  in a day after the close committed. The wait is bounded (``CLOSE_LOCK_TIMEOUT``); a busy ledger makes
  the sign-off fail with ``ledger_busy`` rather than hold payments up. SQLite has one writer at a time.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Date, func, literal, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from core.clock import Clock
from core.errors import Conflict
from payments.models.ledger import LedgerClosedDay
from payments.sql import insert_if_absent

#: How long a sign-off waits for postings in flight before giving up (PostgreSQL).
CLOSE_LOCK_TIMEOUT = "3s"


def open_day_on_or_after(day: date | ColumnElement) -> ColumnElement:
    """SQL for the first open day on or after ``day`` (a date or a bound parameter): ``day`` unless it is closed."""
    value = day if isinstance(day, ColumnElement) else literal(day, Date)
    reopens = select(LedgerClosedDay.reopens_on).where(LedgerClosedDay.day == value).scalar_subquery()
    return func.coalesce(reopens, value, type_=Date)


def first_open_day(session: Session, day: date) -> date:
    """Return the first open day on or after ``day``."""
    reopens = session.scalar(select(LedgerClosedDay.reopens_on).where(LedgerClosedDay.day == day))
    return reopens or day


def is_closed(session: Session, day: date) -> bool:
    """Whether ``day`` is signed off."""
    return session.scalar(select(LedgerClosedDay.day).where(LedgerClosedDay.day == day)) is not None


def closed_days(session: Session, first: date, last: date) -> list[date]:
    """The closed days between ``first`` and ``last`` (inclusive), in order."""
    return list(session.scalars(select(LedgerClosedDay.day).where(LedgerClosedDay.day.between(first, last))
                                .order_by(LedgerClosedDay.day)))


def close_days(session: Session, first: date, last: date, *, closed_by: str, clock: Clock,
               run_id: int | None = None) -> int:
    """Close ``first`` .. ``last`` to postings; return how many days were newly closed."""
    lock_ledger(session)
    after = last + timedelta(days=1)
    reopens = first_open_day(session, after)
    newly, day = 0, first
    while day <= last:
        values = {"day": day, "reopens_on": reopens, "run_id": run_id, "closed_by": closed_by,
                  "closed_at": clock.now()}
        newly += insert_if_absent(session, LedgerClosedDay.__table__, values, ["day"]) is not None
        day += timedelta(days=1)
    # Earlier closed days that reopened inside this period now reopen after it (and so do ours closed before).
    session.execute(update(LedgerClosedDay).where(LedgerClosedDay.reopens_on.between(first, after))
                    .values(reopens_on=reopens))
    session.flush()
    return newly


def lock_ledger(session: Session) -> None:
    """Wait (boundedly) until no posting is in flight, and hold new ones until this transaction ends.

    Taken again in the same transaction it costs nothing; raises ``Conflict`` (``ledger_busy``) on timeout.
    """
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite transactions take the write lock when they begin
    try:
        with session.begin_nested():
            session.execute(text(f"SET LOCAL lock_timeout = '{CLOSE_LOCK_TIMEOUT}'"))
            session.execute(text("LOCK TABLE ledger_transactions IN SHARE ROW EXCLUSIVE MODE"))
    except OperationalError as error:
        raise Conflict("the ledger is busy with postings; sign off again in a moment", code="ledger_busy") from error
    session.execute(text("SET LOCAL lock_timeout = DEFAULT"))
