"""Run requests: an officer asks for a run, a background job performs it and reports its progress.

The run itself (``recon_runs``) only exists once the job's transaction commits, so what a person watches
meanwhile is the request: queued -> running (with a percentage) -> completed (with its run) or failed
(with the reason). On PostgreSQL the job publishes progress in short transactions of its own, so the
page sees it move during a long run; elsewhere (SQLite allows one writer) it is seen when the run ends.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Engine, ForeignKey, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import SYSTEM_CLOCK, Clock
from core.db import Base, BigId, UTCDateTime, one_of
from core.errors import DomainError, NotFound, ValidationFailed
from payments.reconciliation.expected import BANK_TRANSFER_PROVIDERS, expected_items
from payments.reconciliation.matching import PROVIDER_FORMATS
from payments.reconciliation.runs import ReconRun
from payments.reconciliation.service import reconcile_bank, reconcile_provider

REQUEST_STATUSES = ("queued", "running", "completed", "failed")


class ReconRunRequest(Base):
    """An officer's request for a run of one scope and period, and how far its job has got."""

    __tablename__ = "recon_run_requests"
    __table_args__ = (CheckConstraint(one_of("status", REQUEST_STATUSES), name="status_known"),
                      CheckConstraint("progress BETWEEN 0 AND 100", name="progress_in_range"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: ``provider:<name>`` or ``bank:<account>``, as the run will carry it.
    scope: Mapped[str] = mapped_column(String(100))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    #: 0-100, written from the engine's progress callback.
    progress: Mapped[int] = mapped_column(Integer, default=0)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("recon_runs.id"))
    #: Why the run was refused (a domain error's code), when it was.
    error_code: Mapped[str | None] = mapped_column(String(60))
    error: Mapped[str | None] = mapped_column(Text)


def make_scope(kind: str, target: str) -> str:
    """Return the run scope for a provider name or a bank account number; refuse anything else."""
    target = target.strip()
    if kind == "provider" and target in PROVIDER_FORMATS:
        return f"provider:{target}"
    if kind == "bank" and target and len(target) <= 64 and target.replace("-", "").isalnum():
        return f"bank:{target}"
    raise ValidationFailed(f"no {kind} scope {target!r}", code="unknown_scope")


def request_run(session: Session, *, scope: str, period_start: date, period_end: date, requested_by: str,
                clock: Clock = SYSTEM_CLOCK) -> ReconRunRequest:
    """Record a request for a run; the caller stages the job that performs it."""
    if period_start > period_end:
        raise ValidationFailed("the period ends before it starts", code="period_reversed")
    if period_end > clock.today_in_vietnam():
        raise ValidationFailed("the period ends in the future", code="period_in_future")
    request = ReconRunRequest(scope=scope, period_start=period_start, period_end=period_end, status="queued",
                              progress=0, requested_by=requested_by, requested_at=clock.now())
    session.add(request)
    session.flush()
    return request


def perform_request(session: Session, request_id: int, *, clock: Clock = SYSTEM_CLOCK) -> ReconRunRequest:
    """Run what was requested, publishing progress; a refused run marks the request failed, not retried."""
    request = session.get(ReconRunRequest, request_id)
    if request is None:
        raise NotFound(f"run request {request_id} does not exist", code="run_request_not_found")
    if request.status in ("completed", "failed"):
        return request
    publish = _publisher(session, request_id)
    publish(1)
    try:
        with session.begin_nested():
            run = _reconcile(session, request, clock, publish)
    except DomainError as error:
        request.status, request.error_code, request.error = "failed", error.code, error.message[:2000]
    else:
        request.status, request.run_id, request.progress = "completed", run.id, 100
        run.progress = 100
    request.finished_at = clock.now()
    session.flush()
    return request


def _reconcile(session: Session, request: ReconRunRequest, clock: Clock, publish) -> ReconRun:
    kind, target = request.scope.split(":", 1)
    common = {"period_start": request.period_start, "period_end": request.period_end, "clock": clock,
              "started_by": request.requested_by, "progress": publish}
    if kind == "provider":
        items = expected_items(session, period_start=request.period_start, period_end=request.period_end,
                               providers=(target,))
        return reconcile_provider(session, provider=target, items=items, **common)
    items = expected_items(session, period_start=request.period_start, period_end=request.period_end,
                           providers=BANK_TRANSFER_PROVIDERS)
    return reconcile_bank(session, account=target, items=items, payout_providers=tuple(PROVIDER_FORMATS), **common)


def _publisher(session: Session, request_id: int):
    """Return ``progress(percent)``: its own committed transaction on PostgreSQL, else in the job's."""
    bind = session.get_bind()
    independent = isinstance(bind, Engine) and bind.dialect.name == "postgresql"

    def publish(percent: int) -> None:
        values = {"progress": percent, "status": "running"}
        if independent:
            with Session(bind) as own, own.begin():
                own.execute(update(ReconRunRequest).where(ReconRunRequest.id == request_id).values(**values))
        else:
            session.execute(update(ReconRunRequest).where(ReconRunRequest.id == request_id).values(**values))

    return publish


def latest_requests(session: Session, limit: int = 20) -> list[ReconRunRequest]:
    """Return the newest run requests first."""
    return list(session.scalars(select(ReconRunRequest).order_by(ReconRunRequest.id.desc()).limit(limit)))
