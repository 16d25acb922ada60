"""What the finance pages read: runs, breaks with their age and escalation, a break's events, suggested matches.

A live break escalates when it outlasts two settlement dates after the one its money was due on
(``breaks.escalates_on``), counted with the matching policy's settlement lag. Runs do not store their
policy yet; every run uses ``MatchingPolicy()``, so that is the default here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, defer

from core.errors import NotFound
from payments.reconciliation.breaks import LIVE, escalates_on, is_escalated
from payments.reconciliation.feed_breaks import FEED_RULES
from payments.reconciliation.matching import MatchingPolicy
from payments.reconciliation.models import ReportFile, ReportStatement
from payments.reconciliation.runs import BreakEvent, ReconBreak, ReconConfirmation, ReconResult, ReconRun

#: Ageing buckets of the research note (section 8): name -> (youngest, oldest) age in days.
AGE_BUCKETS: dict[str, tuple[int, int | None]] = {"0-2": (0, 2), "3-7": (3, 7), "8-30": (8, 30), "31+": (31, None)}


def age_bucket(age_days: int) -> str:
    """Return the ageing bucket of a break ``age_days`` old."""
    for name, (youngest, oldest) in AGE_BUCKETS.items():
        if age_days >= youngest and (oldest is None or age_days <= oldest):
            return name
    return "0-2"  # a difference dated after today (a late clock) counts as new


@dataclass(frozen=True)
class BreakRow:
    """A break with its age on ``today``."""

    item: ReconBreak
    age_days: int
    escalated: bool = False

    @property
    def bucket(self) -> str:
        """The ageing bucket."""
        return age_bucket(self.age_days)


def latest_escalated_day(today: date, policy: MatchingPolicy) -> date:
    """The newest day whose live breaks are escalated on ``today``."""
    return today - (escalates_on(today, policy.settlement_lag_days) - today)


def _escalated(today: date, policy: MatchingPolicy):
    return ReconBreak.status.in_(LIVE) & (ReconBreak.day <= latest_escalated_day(today, policy))


def list_breaks(session: Session, *, today: date, status: str | None = None, kind: str | None = None,
                scope: str | None = None, bucket: str | None = None, escalated_only: bool = False,
                policy: MatchingPolicy = MatchingPolicy(), limit: int = 500) -> list[BreakRow]:
    """Breaks, most urgent first, then escalated, then oldest; live ones unless ``status`` names another."""
    query = select(ReconBreak).where(ReconBreak.status == status if status else ReconBreak.status.in_(LIVE))
    if escalated_only:
        query = query.where(_escalated(today, policy))
    if kind:
        query = query.where(ReconBreak.kind == kind)
    if scope:
        query = query.where(ReconBreak.scope == scope)
    if bucket in AGE_BUCKETS:
        youngest, oldest = AGE_BUCKETS[bucket]
        query = query.where(ReconBreak.day <= today - timedelta(days=youngest))
        if oldest is not None:
            query = query.where(ReconBreak.day >= today - timedelta(days=oldest))
    escalated_first = case((_escalated(today, policy), 0), else_=1)
    query = query.order_by(ReconBreak.priority, escalated_first, ReconBreak.day, ReconBreak.id).limit(limit)
    lag = policy.settlement_lag_days
    return [BreakRow(found, (today - found.day).days, is_escalated(found.status, found.day, today, lag))
            for found in session.scalars(query)]


def escalated_count(session: Session, *, today: date, policy: MatchingPolicy = MatchingPolicy()) -> int:
    """How many live breaks are escalated on ``today``."""
    return session.scalar(select(func.count()).select_from(ReconBreak).where(_escalated(today, policy))) or 0


def ageing(session: Session, *, today: date) -> dict[str, int]:
    """How many live breaks fall in each ageing bucket (every bucket present, in order)."""
    counts = dict.fromkeys(AGE_BUCKETS, 0)
    rows = session.execute(select(ReconBreak.day, func.count()).where(ReconBreak.status.in_(LIVE))
                           .group_by(ReconBreak.day))
    for day, count in rows:
        counts[age_bucket((today - day).days)] += count
    return counts


def get_break(session: Session, break_id: int) -> tuple[ReconBreak, list[BreakEvent]]:
    """Return a break and its events, oldest first."""
    found = session.get(ReconBreak, break_id)
    if found is None:
        raise NotFound(f"break {break_id} does not exist", code="break_not_found")
    events = session.scalars(select(BreakEvent).where(BreakEvent.break_id == break_id)
                             .order_by(BreakEvent.at, BreakEvent.id))
    return found, list(events)


def get_run(session: Session, run_id: int) -> ReconRun:
    """Return run ``run_id``."""
    run = session.get(ReconRun, run_id)
    if run is None:
        raise NotFound(f"run {run_id} does not exist", code="run_not_found")
    return run


def list_runs(session: Session, limit: int = 50) -> list[ReconRun]:
    """The newest runs first; a bank feed's one-break runs are not runs an officer signs off (their breaks are
    on the workbench)."""
    return list(session.scalars(select(ReconRun).where(ReconRun.rule_version != FEED_RULES)
                                .order_by(ReconRun.id.desc()).limit(limit)))


@dataclass(frozen=True)
class Suggestion:
    """A suggested pair of a bank run, and whether an officer already confirmed the bank line."""

    result: ReconResult
    confirmed: bool


def suggestions(session: Session, run: ReconRun) -> list[Suggestion]:
    """The run's suggested matches, by day and reference."""
    confirmed = set(session.scalars(select(ReconConfirmation.line_key).where(ReconConfirmation.scope == run.scope)))
    results = session.scalars(select(ReconResult).where(ReconResult.run_id == run.id,
                                                        ReconResult.outcome == "suggested")
                              .order_by(ReconResult.day, ReconResult.reference))
    return [Suggestion(result, result.provider_reference in confirmed) for result in results]


def bank_accounts(session: Session) -> list[str]:
    """Accounts seen in imported bank statements, for choosing a bank run's scope."""
    return list(session.scalars(select(ReportStatement.account).distinct().order_by(ReportStatement.account)))


def recent_files(session: Session, limit: int = 20) -> list[ReportFile]:
    """The newest imported report files."""
    return list(session.scalars(select(ReportFile).options(defer(ReportFile.content))
                                .order_by(ReportFile.id.desc()).limit(limit)))
