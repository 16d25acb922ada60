"""Background jobs of reconciliation: starting a run in the background, and performing it (registered on import)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from core.outbox import job_handler, stage_job
from payments.reconciliation import status_queries, stripe_fetch  # noqa: F401  (register their jobs)
from payments.reconciliation.requests import ReconRunRequest, perform_request, request_run

RUN_JOB = "reconciliation.run"


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
