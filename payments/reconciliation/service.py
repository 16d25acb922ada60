"""Run a provider reconciliation end to end, and sign a run off."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from payments import periods
from payments.reconciliation.bank import classify_bank_lines, expected_payouts
from payments.reconciliation.breaks import record_breaks, supersede_earlier_runs
from payments.reconciliation.matching import (
    PROVIDER_FORMATS,
    RULE_VERSION,
    ExpectedItem,
    MatchingPolicy,
    classify_provider_lines,
    result_digest,
    snapshot_items,
)
from payments.reconciliation.postings import post_bank_run
from payments.reconciliation.runs import ReconResult, ReconRun
from payments.reconciliation.statement_checks import refuse_foreign_lines
from payments.reconciliation.status_queries import stage_status_queries

Progress = Callable[[int], None]


def reconcile_provider(session: Session, *, provider: str, period_start: date, period_end: date,
                       items: Iterable[ExpectedItem], started_by: str, as_of: date | None = None,
                       policy: MatchingPolicy = MatchingPolicy(), clock: Clock = SYSTEM_CLOCK,
                       progress: Progress | None = None) -> ReconRun:
    """Match our ``items`` against ``provider``'s imported lines for the period; record results and breaks."""
    if provider not in PROVIDER_FORMATS:
        raise ValidationFailed(f"no reports are read for provider {provider!r}", code="unknown_provider")
    if period_start > period_end:
        raise ValidationFailed("the period ends before it starts", code="period_reversed")
    scope = f"provider:{provider}"
    report = progress or (lambda percent: None)
    run = open_run(session, scope, period_start, period_end, started_by, clock)
    snapshot_items(session, run.id, items)
    report(25)
    classify_provider_lines(session, run_id=run.id, provider=provider, period_start=period_start,
                            period_end=period_end, as_of=as_of or clock.today_in_vietnam(), policy=policy)
    report(60)
    run = _finish(session, run, clock, report)
    stage_status_queries(session, run, clock)  # missing-at-provider breaks: ask the provider first
    return run


def reconcile_bank(session: Session, *, account: str, period_start: date, period_end: date,
                   items: Iterable[ExpectedItem], started_by: str, payout_providers: tuple[str, ...] = (),
                   as_of: date | None = None, policy: MatchingPolicy = MatchingPolicy(),
                   clock: Clock = SYSTEM_CLOCK, progress: Progress | None = None) -> ReconRun:
    """Match what should reach bank ``account`` (transfers, payouts) against its statement lines.

    Refused (``account_not_vnd`` / ``currency_mismatch``, nothing written) while the account has lines in
    another currency than dong in the run's window: they were stored before imports refused them.
    """
    if period_start > period_end:
        raise ValidationFailed("the period ends before it starts", code="period_reversed")
    scope = f"bank:{account}"
    report = progress or (lambda percent: None)
    refuse_foreign_lines(session, [account], first=period_start - timedelta(days=policy.context_days))
    run = open_run(session, scope, period_start, period_end, started_by, clock)
    payouts = expected_payouts(session, providers=payout_providers, period_start=period_start,
                               period_end=period_end, context_days=policy.context_days)
    snapshot_items(session, run.id, [*items, *payouts])
    report(25)
    classify_bank_lines(session, run=run, account=account, as_of=as_of or clock.today_in_vietnam(), policy=policy)
    report(60)
    post_bank_run(session, run, account, clock)  # before _finish: it writes the open events of payout breaks
    report(80)
    return _finish(session, run, clock, report)


def open_run(session: Session, scope: str, start: date, end: date, started_by: str, clock: Clock) -> ReconRun:
    """Record a new running run of ``scope`` for the period; refused when the period is signed off."""
    _refuse_signed_off(session, scope, start, end)
    run = ReconRun(scope=scope, period_start=start, period_end=end, rule_version=RULE_VERSION, status="running",
                   started_by=started_by, started_at=clock.now())
    session.add(run)
    session.flush()
    return run


def _finish(session: Session, run: ReconRun, clock: Clock, report: Progress) -> ReconRun:
    ensure_still_open(session, run)
    run.break_count = record_breaks(session, run, clock)
    report(90)
    run.matched_count = session.scalar(select(func.count()).select_from(ReconResult).where(
        ReconResult.run_id == run.id, ReconResult.outcome == "matched"))
    run.result_digest = result_digest(session, run.id)
    supersede_earlier_runs(session, run)
    run.status, run.finished_at = "completed", clock.now()
    session.flush()
    report(100)
    return run


def outcome_counts(session: Session, run_id: int) -> dict[str, int]:
    """Return how many results of each outcome the run produced."""
    rows = session.execute(select(ReconResult.outcome, func.count()).where(ReconResult.run_id == run_id)
                           .group_by(ReconResult.outcome))
    return dict(rows.all())


def sign_off(session: Session, run_id: int, *, approver: str, clock: Clock = SYSTEM_CLOCK) -> ReconRun:
    """Freeze a completed run's period: later runs of its scope and period are refused, and the ledger
    takes no more postings dated in it (corrections land in the next open day)."""
    periods.lock_ledger(session)  # before the run's row lock: a run in flight may hold the ledger, then wait for it
    run = session.get(ReconRun, run_id, with_for_update=True)
    if run is None:
        raise NotFound(f"run {run_id} does not exist", code="run_not_found")
    if run.status != "completed":
        raise InvalidTransition(f"run {run_id} is {run.status}; only a completed run can be signed off")
    if run.period_end >= clock.today_in_vietnam():
        # Signing off closes the days in the ledger for good: today and later days are still being written.
        raise Conflict(f"run {run_id}'s period ends {run.period_end:%d/%m/%Y}, which is not over yet",
                       code="period_not_over", details={"period_end": run.period_end.isoformat()})
    run.status, run.signed_off_by, run.signed_off_at = "signed_off", approver, clock.now()
    periods.close_days(session, run.period_start, run.period_end, closed_by=approver, clock=clock, run_id=run.id)
    return run


def ensure_still_open(session: Session, run: ReconRun) -> None:
    """Refuse to finish ``run`` if an approver signed its period off while it was working (it rolls back)."""
    _refuse_signed_off(session, run.scope, run.period_start, run.period_end)


def _refuse_signed_off(session: Session, scope: str, start: date, end: date) -> None:
    frozen = session.scalar(select(ReconRun.id).where(
        ReconRun.scope == scope, ReconRun.status == "signed_off", ReconRun.period_start <= end,
        ReconRun.period_end >= start).limit(1))
    if frozen is not None:
        raise Conflict(f"run {frozen} signed this period off; corrections go into the next period",
                       code="period_signed_off", details={"run_id": frozen})

