"""Background jobs of the identity package, registered with the outbox (listed in web/jobs.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.outbox import job_handler
from identity.housekeeping import purge_expired

PURGE_JOB = "identity.purge_expired"


@job_handler(PURGE_JOB, max_attempts=3)
def purge(session: Session, payload: dict[str, Any]) -> None:
    """Delete expired login flows and sessions (the daily housekeeping)."""
    purge_expired(session)
