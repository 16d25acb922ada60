"""Background jobs of the subsidies package, registered with the outbox (to be listed in gateway/jobs.py).

Expiring quotes gives their fund reservations back; the handler is idempotent (an expired quote is not
open any more, so a second run changes nothing).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.clock import SYSTEM_CLOCK
from core.outbox import job_handler, stage_job
from subsidies.quotes import expire_quotes

EXPIRE_QUOTES_JOB = "subsidies.expire_quotes"


@job_handler(EXPIRE_QUOTES_JOB, max_attempts=3)
def expire_open_quotes(session: Session, payload: dict[str, Any]) -> None:
    """Expire every open quote past its time and release its reservations."""
    expire_quotes(session, clock=SYSTEM_CLOCK)


def schedule_expiry(session_factory: sessionmaker[Session]) -> None:
    """Stage the expiry sweep now; the worker calls this periodically (e.g. every 5 minutes from Huey)."""
    with session_factory() as session, session.begin():
        stage_job(session, EXPIRE_QUOTES_JOB, {}, clock=SYSTEM_CLOCK)
