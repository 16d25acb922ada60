"""The transactional outbox: jobs are rows written in the same transaction as the change they follow.

Design overview
---------------
* ``stage_job`` adds an ``outbox_jobs`` row in the caller's transaction. If that transaction rolls back,
  the job never existed; when it commits, an ``after_commit`` hook hands the job id to the queue
  (``install_dispatch_hook``). Nothing is sent before the commit and nothing committed is lost. A
  savepoint's release is not a commit: jobs staged inside one wait for the outer commit, and those of a
  savepoint that rolled back are dropped with it.
* The queue (Huey) delivers ids at least once; the outbox makes the *effect* happen once. A worker
  first claims the row with a lease in one short transaction (a guarded UPDATE, so two workers can
  never both own it), then runs the handler and marks the row done **in the same transaction** as the
  handler's writes. A worker killed mid-job commits nothing; once its lease expires the relay sends the
  job again and another worker completes it.
* ``relay`` re-sends rows that were never delivered (the queue was down at commit) or whose lease
  expired (the worker died). It is safe to run anywhere, any number of times.
* A handler that raises is retried with exponential backoff up to its ``max_attempts``; then the row
  is ``failed`` and stays for an operator. Handlers with outside effects (HTTP callbacks) must be
  idempotent themselves: they can run again after a crash between their call and the commit.
* A job whose work is an outside call (``effect_job``) runs it between two transactions, never inside
  one: *prepare* reads what the call needs, the call runs with no connection held, *record* writes what
  came back and marks the job done. A slow receiver then holds no row lock, no pooled connection and, on
  SQLite, not the database's one write lock (a receiver on the same database, such as the demo agency's
  callback endpoint, would otherwise wait for the job that waits for it). The lease covers the call.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Integer, String, Text, event, inspect, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from core.clock import SYSTEM_CLOCK, Clock
from core.db import Base, BigId, UTCDateTime
from core.errors import ValidationFailed

log = logging.getLogger(__name__)

STATUSES = ("pending", "running", "done", "failed")
Handler = Callable[[Session, dict[str, Any]], None]
#: Sends one job id to the queue, optionally not before the given instant.
Dispatch = Callable[[int, datetime | None], None]


@dataclass(frozen=True)
class OutsideEffect:
    """The three steps of a job whose work is an outside call (see ``effect_job``)."""

    #: Reads what the call needs in a transaction of its own; None when there is nothing to do.
    prepare: Callable[[Session, dict[str, Any]], Any]
    #: The outside call itself, given what ``prepare`` returned; it gets no database session.
    call: Callable[[Any], Any]
    #: Writes the call's result in the transaction that marks the job done.
    record: Callable[[Session, Any, Any], None]

    def run_in(self, session: Session, payload: dict[str, Any]) -> Any:
        """All three steps in the caller's session (for callers already in a transaction); the result."""
        plan = self.prepare(session, payload)
        if plan is None:
            return None
        result = self.call(plan)
        self.record(session, plan, result)
        return result


@dataclass(frozen=True)
class JobSpec:
    """A registered job: its handler (or outside effect) and how often it may be tried."""

    name: str
    handler: Handler
    max_attempts: int
    effect: OutsideEffect | None = None


_REGISTRY: dict[str, JobSpec] = {}


def job_handler(name: str, *, max_attempts: int = 8) -> Callable[[Handler], Handler]:
    """Register ``handler(session, payload)`` as the job called ``name``."""

    def register(handler: Handler) -> Handler:
        if name in _REGISTRY and _REGISTRY[name].handler is not handler:
            raise ValueError(f"job {name!r} is registered twice")
        _REGISTRY[name] = JobSpec(name, handler, max_attempts)
        return handler

    return register


def effect_job(name: str, effect: OutsideEffect, *, max_attempts: int = 8) -> OutsideEffect:
    """Register the job called ``name`` whose work is ``effect``'s outside call (prepare, call, record)."""
    if name in _REGISTRY and _REGISTRY[name].effect is not effect:
        raise ValueError(f"job {name!r} is registered twice")
    _REGISTRY[name] = JobSpec(name, effect.run_in, max_attempts, effect)
    return effect


def registered_jobs() -> dict[str, JobSpec]:
    """Return the registered jobs by name."""
    return dict(_REGISTRY)


class OutboxJob(Base):
    """A job staged in a transaction, and its progress."""

    __tablename__ = "outbox_jobs"
    __table_args__ = (CheckConstraint(f"status IN {STATUSES}", name="status_known"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    #: Set when the same logical job must not be staged twice (e.g. one callback per event).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    #: Not to be run before this instant (delays and retry backoff).
    available_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the id was last handed to the queue; the relay re-sends rows that sat too long.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def stage_job(session: Session, name: str, payload: dict[str, Any], *, delay: timedelta = timedelta(0),
              dedupe_key: str | None = None, clock: Clock = SYSTEM_CLOCK) -> OutboxJob:
    """Stage job ``name`` in the caller's transaction; it is sent to the queue when that commits."""
    spec = _REGISTRY.get(name)
    if spec is None:
        raise ValidationFailed(f"unknown job {name!r}", code="unknown_job")
    now = clock.now()
    job = OutboxJob(name=name, payload=payload, status="pending", attempts=0, max_attempts=spec.max_attempts,
                    available_at=now + delay, dispatched_at=now, dedupe_key=dedupe_key, created_at=now)
    session.add(job)
    session.flush()
    session.info.setdefault("outbox_staged", []).append(job)
    return job


def install_dispatch_hook(session_factory: sessionmaker, dispatch: Dispatch) -> None:
    """Send staged jobs to the queue exactly when their transaction commits, and forget them on rollback."""

    @event.listens_for(session_factory, "after_commit")
    def _send(session: Session) -> None:
        # SQLAlchemy fires after_commit when a savepoint is released too, while the outer transaction is
        # still open: sending then let a worker look for a job not yet committed, skip it, and leave it
        # to the relay a minute or two later. Only the outermost commit sends; jobs staged in a
        # savepoint that rolled back are no longer persistent and are dropped.
        if session.in_nested_transaction():
            return
        for job in session.info.pop("outbox_staged", []):
            if not inspect(job).persistent:
                continue
            try:
                dispatch(job.id, job.available_at)
            except Exception:  # the commit stands; the relay re-sends what could not be sent now
                log.warning("outbox dispatch failed; the relay will retry", extra={"job_id": job.id},
                            exc_info=True)

    @event.listens_for(session_factory, "after_soft_rollback")
    def _forget(session: Session, _transaction) -> None:
        # Fired for savepoints too: keep the jobs staged before the savepoint, drop those staged in it
        # (a rolled-back insert leaves its object transient). After a full rollback none is left.
        staged = session.info.get("outbox_staged")
        if staged:
            session.info["outbox_staged"] = [job for job in staged if inspect(job).persistent]


@dataclass(frozen=True)
class Outcome:
    """What happened to one delivery of a job; ``retry_at`` is set when it should be sent again."""

    status: str
    retry_at: datetime | None = None


def run_job(session_factory: sessionmaker, job_id: int, *, lease_seconds: int, clock: Clock = SYSTEM_CLOCK,
            worker_id: str | None = None) -> Outcome:
    """Claim job ``job_id``, run its handler and mark it done in one transaction; retry on failure."""
    worker_id = worker_id or uuid.uuid4().hex
    claimed = _claim(session_factory, job_id, worker_id, lease_seconds, clock)
    if claimed is None:
        return Outcome("skipped")
    name, payload = claimed
    spec = _REGISTRY.get(name)
    if spec is None:  # deployed without the code that staged it: park it for an operator
        return _record_failure(session_factory, job_id, worker_id, LookupError(f"no handler {name!r}"), clock,
                               give_up=True)
    try:
        if spec.effect is None:
            with session_factory() as session, session.begin():
                spec.handler(session, payload)
                _finish(session, job_id, worker_id, clock)
        else:
            _run_effect(session_factory, spec.effect, payload, job_id, worker_id, clock)
    except Exception as exc:
        return _record_failure(session_factory, job_id, worker_id, exc, clock)
    return Outcome("done")


def _run_effect(session_factory: sessionmaker, effect: OutsideEffect, payload: dict[str, Any], job_id: int,
                worker_id: str, clock: Clock) -> None:
    with session_factory() as session, session.begin():
        plan = effect.prepare(session, payload)
        if plan is None:
            _finish(session, job_id, worker_id, clock)
            return
    result = effect.call(plan)  # no transaction open: nothing is locked while the outside answers
    with session_factory() as session, session.begin():
        effect.record(session, plan, result)
        _finish(session, job_id, worker_id, clock)


class LeaseLost(RuntimeError):
    """Another worker took the job over while this one ran it; this run's writes are rolled back."""


def _claim(session_factory: sessionmaker, job_id: int, worker_id: str, lease_seconds: int,
           clock: Clock) -> tuple[str, dict[str, Any]] | None:
    now = clock.now()
    claimable = or_(OutboxJob.status == "pending",
                    (OutboxJob.status == "running") & (OutboxJob.lease_expires_at < now))
    with session_factory() as session, session.begin():
        # One guarded UPDATE decides ownership on every backend: no SELECT … FOR UPDATE race.
        result = session.execute(
            update(OutboxJob)
            .where(OutboxJob.id == job_id, OutboxJob.available_at <= now, claimable)
            .values(status="running", lease_owner=worker_id, attempts=OutboxJob.attempts + 1,
                    lease_expires_at=now + timedelta(seconds=lease_seconds))
        )
        if result.rowcount != 1:
            return None
        name, payload = session.execute(
            select(OutboxJob.name, OutboxJob.payload).where(OutboxJob.id == job_id)).one()
    return name, payload


def _finish(session: Session, job_id: int, worker_id: str, clock: Clock) -> None:
    result = session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == job_id, OutboxJob.lease_owner == worker_id, OutboxJob.status == "running")
        .values(status="done", completed_at=clock.now(), lease_owner=None, lease_expires_at=None,
                last_error=None)
    )
    if result.rowcount != 1:
        raise LeaseLost(f"job {job_id} lease lost")


def backoff(attempt: int) -> timedelta:
    """Return the wait before retry number ``attempt``: 10 s, 20 s, 40 s … capped at one hour."""
    return timedelta(seconds=min(10 * 2 ** (attempt - 1), 3600))


def _record_failure(session_factory: sessionmaker, job_id: int, worker_id: str, exc: Exception,
                    clock: Clock, *, give_up: bool = False) -> Outcome:
    # Only the exception type goes to the log: messages may carry personal data.
    log.warning("job failed", extra={"job_id": job_id, "error_type": type(exc).__name__})
    now = clock.now()
    with session_factory() as session, session.begin():
        job = session.get(OutboxJob, job_id, with_for_update=True)
        if job is None or job.lease_owner != worker_id:
            return Outcome("skipped")
        job.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        job.lease_owner = job.lease_expires_at = None
        if give_up or job.attempts >= job.max_attempts:
            job.status = "failed"
            return Outcome("failed")
        job.status = "pending"
        job.available_at = job.dispatched_at = now + backoff(job.attempts)
        return Outcome("retry", job.available_at)


def due_job_ids(session: Session, *, now: datetime, redispatch_after: timedelta, limit: int = 500) -> list[int]:
    """Return ids that should be (re)sent: undelivered for too long, or held by an expired lease."""
    stale = or_(OutboxJob.dispatched_at.is_(None), OutboxJob.dispatched_at < now - redispatch_after)
    query = (
        select(OutboxJob.id)
        .where(or_((OutboxJob.status == "pending") & (OutboxJob.available_at <= now) & stale,
                   (OutboxJob.status == "running") & (OutboxJob.lease_expires_at < now)))
        .order_by(OutboxJob.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def relay(session_factory: sessionmaker, dispatch: Dispatch, *, clock: Clock = SYSTEM_CLOCK,
          redispatch_after: timedelta = timedelta(seconds=60)) -> int:
    """Re-send every job that is due and was lost on the way; return how many were sent."""
    now = clock.now()
    with session_factory() as session, session.begin():
        ids = due_job_ids(session, now=now, redispatch_after=redispatch_after)
        if ids:
            session.execute(update(OutboxJob).where(OutboxJob.id.in_(ids)).values(dispatched_at=now))
    for job_id in ids:
        dispatch(job_id, None)
    return len(ids)
