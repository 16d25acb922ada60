"""Background jobs of the subsidies package, registered with the outbox (listed in web/jobs.py).

Expiring quotes gives their fund reservations back; the handler is idempotent (an expired quote is not
open any more, so a second run changes nothing). A dry run over a long period goes to the worker instead
of holding a web request: running it again only replaces the attached report.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.clock import SYSTEM_CLOCK, Clock
from core.outbox import OutboxJob, job_handler, stage_job
from subsidies.errors import RuleImmutable, WorkflowRefused
from subsidies.quotes import expire_quotes
from subsidies.rule_store import RuleVersion
from subsidies.simulation import count_past_quotes
from subsidies.workflow import simulate_version

EXPIRE_QUOTES_JOB = "subsidies.expire_quotes"
SIMULATE_JOB = "subsidies.simulate_version"
#: Above this many stored quotes a dry run goes to the worker (about 250,000 quotes a second with explanations).
INLINE_SIMULATION_LIMIT = 200_000


@job_handler(EXPIRE_QUOTES_JOB, max_attempts=3)
def expire_open_quotes(session: Session, payload: dict[str, Any]) -> None:
    """Expire every open quote past its time and release its reservations."""
    expire_quotes(session, clock=SYSTEM_CLOCK)


def schedule_expiry(session_factory: sessionmaker[Session]) -> None:
    """Stage the expiry sweep now; the worker calls this periodically (e.g. every 5 minutes from Huey)."""
    with session_factory() as session, session.begin():
        stage_job(session, EXPIRE_QUOTES_JOB, {}, clock=SYSTEM_CLOCK)


@job_handler(SIMULATE_JOB, max_attempts=2)
def simulate_in_background(session: Session, payload: dict[str, Any]) -> None:
    """Run a staged dry run and attach its report to the version."""
    simulate_version(session, payload["row_id"], date.fromisoformat(payload["start"]),
                     date.fromisoformat(payload["end"]), payload["actor_id"], clock=SYSTEM_CLOCK)


def start_simulation(session: Session, row_id: int, start: date, end: date, actor_id: str, *,
                     inline_limit: int = INLINE_SIMULATION_LIMIT, clock: Clock = SYSTEM_CLOCK) -> OutboxJob | None:
    """Dry-run now when the period is small (None); otherwise stage the run for the worker and return its job."""
    if start > end:
        raise WorkflowRefused("the period ends before it starts", code="period_reversed")
    row = session.get(RuleVersion, row_id)
    if row is None:
        raise WorkflowRefused(f"no rule version {row_id}", code="rule_version_not_found")
    if row.status not in ("draft", "in_review"):
        raise RuleImmutable(f"{row.rule_id}@{row.version} is {row.status}; its report is final")
    cases = count_past_quotes(session, start, end)
    if cases <= inline_limit:
        simulate_version(session, row_id, start, end, actor_id, clock=clock)
        return None
    return stage_job(session, SIMULATE_JOB, {"row_id": row_id, "start": start.isoformat(), "end": end.isoformat(),
                                             "actor_id": actor_id, "cases": cases}, clock=clock)
