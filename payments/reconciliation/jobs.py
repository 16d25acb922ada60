"""Background jobs of reconciliation: starting a run in the background, and performing it (registered on import)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from core.outbox import job_handler, stage_job
from payments.reconciliation import status_queries, stripe_fetch  # noqa: F401  (register their jobs)
from payments.reconciliation.requests import ReconRunRequest, perform_request, request_run
from payments.reconciliation.treasury import CheckedAgencies, check_all_agencies
from payments.remittance_rules import first_of_month, load_rules

RUN_JOB = "reconciliation.run"
TREASURY_JOB = "reconciliation.treasury_check"


@job_handler(RUN_JOB, max_attempts=3)
def run_requested(session: Session, payload: dict[str, Any]) -> None:
    """Perform run request ``payload["request_id"]``."""
    perform_request(session, int(payload["request_id"]))


def start_run(session: Session, *, scope: str, period_start: date, period_end: date, requested_by: str,
              clock: Clock = SYSTEM_CLOCK) -> ReconRunRequest:
    """Record a run request and stage the job that performs it, in the caller's transaction."""
    request = request_run(session, scope=scope, period_start=period_start, period_end=period_end,
                          requested_by=requested_by, clock=clock)
    stage_job(session, RUN_JOB, {"request_id": request.id}, clock=clock)
    return request


@job_handler(TREASURY_JOB, max_attempts=3)
def treasury_check(session: Session, payload: dict[str, Any]) -> None:
    """Daily: the Treasury check of every agency, so overdue money is a break without anyone asking."""
    check_recent_remittances(session)


def check_recent_remittances(session: Session, *, clock: Clock = SYSTEM_CLOCK) -> CheckedAgencies:
    """The Treasury check of every agency from the 1st of last month to today (Asia/Ho_Chi_Minh).

    Last month is still being remitted until the 5th; a run of an overlapping period supersedes the day
    before's, and a remittance already posted is never posted again.
    """
    today = clock.today_in_vietnam()
    first = first_of_month(first_of_month(today) - timedelta(days=1))
    return check_all_agencies(session, period_start=first, period_end=today, started_by="scheduler",
                              rules=load_rules(), as_of=clock.now())
