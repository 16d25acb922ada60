"""Ask the provider about every payment its report is missing, before an officer works the break.

A payment we recorded as succeeded but absent from the provider's report is usually a report that lags
behind, and sometimes money the provider never captured. The run opens a ``missing_at_provider`` break
either way; this job then asks the provider for the payment's current status (the same query the return
URL and the sweeps use) and writes the answer on the break as an event (``ANSWERS``), so the officer starts from the
provider's word. A provider that denies the payment raises the break to the top priority. A provider
that does not answer is asked again later; a later run that finds the line closes the break by itself.
The answer never changes the payment: a succeeded payment is final (``payments.states``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from core.money import Money, format_money
from core.outbox import job_handler, stage_job
from payments.errors import ProviderError, ProviderUnavailable, UnknownProvider
from payments.models.billing import Payment
from payments.providers import get_provider
from payments.providers.base import ProviderStatus, StatusReport
from payments.reconciliation import break_states
from payments.reconciliation.break_states import LIVE
from payments.reconciliation.runs import BreakEvent, ReconBreak, ReconRun

QUERY_JOB = "reconciliation.query_missing"
ACTOR = "status-query"
RETRY_DELAY = timedelta(minutes=10)
#: After this many rounds without an answer the break says so, and the officer takes over.
MAX_ROUNDS = 6
#: The answer codes an event's note starts with.
ANSWERS = ("confirmed", "denied", "no_session", "not_asked", "unanswered")
#: A provider that denies a payment we counted as paid is as urgent as a status mismatch.
DENIED_PRIORITY = 1


@dataclass
class QueryRound:
    """What one round of queries found: break ids by what the provider said."""

    confirmed: list[int] = field(default_factory=list)
    denied: list[int] = field(default_factory=list)
    unanswered: list[int] = field(default_factory=list)
    not_queryable: list[int] = field(default_factory=list)


def stage_status_queries(session: Session, run: ReconRun, clock: Clock = SYSTEM_CLOCK) -> None:
    """Stage the status queries for the missing-at-provider breaks ``run`` opened, in the caller's transaction."""
    opened = session.scalar(select(exists().where(ReconBreak.opened_run_id == run.id,
                                                  ReconBreak.kind == "missing_at_provider")))
    if opened:
        stage_job(session, QUERY_JOB, {"run_id": run.id, "round": 1}, dedupe_key=f"{QUERY_JOB}:{run.id}:1",
                  clock=clock)


@job_handler(QUERY_JOB)
def query_missing_job(session: Session, payload: dict) -> None:
    """Outbox job: one round of status queries for a run's missing-at-provider breaks."""
    query_missing(session, int(payload["run_id"]), round_number=int(payload.get("round", 1)), clock=SYSTEM_CLOCK)


def query_missing(session: Session, run_id: int, *, round_number: int = 1, clock: Clock = SYSTEM_CLOCK) -> QueryRound:
    """Ask the provider about each live, not yet answered missing-at-provider break ``run_id`` opened.

    Every question is asked before the first answer is written: a write holds its row until the job's
    transaction ends, and a provider may take seconds to answer each of the following questions.
    """
    answers = [(broken, _ask(session, broken)) for broken in _waiting(session, run_id)]
    found = QueryRound()
    for broken, answer in answers:
        _write(session, broken, answer, found, clock)
    if found.unanswered:
        _retry_or_give_up(session, run_id, round_number, found.unanswered, clock)
    session.flush()
    return found


def _waiting(session: Session, run_id: int) -> list[ReconBreak]:
    answered = exists().where(BreakEvent.break_id == ReconBreak.id, BreakEvent.actor == ACTOR)
    return list(session.scalars(select(ReconBreak).where(
        ReconBreak.opened_run_id == run_id, ReconBreak.kind == "missing_at_provider",
        ReconBreak.status.in_(LIVE), ~answered).order_by(ReconBreak.id)))


@dataclass(frozen=True)
class _Answer:
    """What asking about one break gave: the provider's report, or why there is none."""

    payment: Payment | None
    report: StatusReport | None = None
    unavailable: bool = False
    refusal: str | None = None


def _ask(session: Session, broken: ReconBreak) -> _Answer:
    payment = session.scalar(select(Payment).where(Payment.public_id == broken.key.removeprefix("ref:")))
    if payment is None or payment.provider_session_id is None:
        return _Answer(payment)
    try:
        return _Answer(payment, report=get_provider(payment.provider).fetch_status(payment.provider_session_id))
    except ProviderUnavailable:
        return _Answer(payment, unavailable=True)
    except (ProviderError, UnknownProvider) as error:
        return _Answer(payment, refusal=error.code)


def _write(session: Session, broken: ReconBreak, answer: _Answer, found: QueryRound, clock: Clock) -> None:
    if answer.unavailable:
        found.unanswered.append(broken.id)
    elif answer.refusal is not None:
        _note(session, broken, f"not_asked: {answer.refusal}", clock)
        found.not_queryable.append(broken.id)
    elif answer.report is None:
        _note(session, broken, "no_session", clock)
        found.not_queryable.append(broken.id)
    elif _confirms(answer.report, answer.payment):
        _note(session, broken, "confirmed", clock)
        found.confirmed.append(broken.id)
    else:
        broken.priority = DENIED_PRIORITY
        _note(session, broken, f"denied: {_describe(answer.report)}", clock)
        found.denied.append(broken.id)


def _confirms(report: StatusReport, payment: Payment) -> bool:
    return (report.status is ProviderStatus.SUCCEEDED and report.reference == payment.public_id
            and report.amount == Money(payment.amount, payment.currency))


def _describe(report: StatusReport) -> str:
    return f"{report.status.value}, {format_money(report.amount)}, reference {report.reference or '-'}"


def _retry_or_give_up(session: Session, run_id: int, round_number: int, unanswered: list[int], clock: Clock) -> None:
    if round_number < MAX_ROUNDS:
        stage_job(session, QUERY_JOB, {"run_id": run_id, "round": round_number + 1}, delay=RETRY_DELAY,
                  dedupe_key=f"{QUERY_JOB}:{run_id}:{round_number + 1}", clock=clock)
        return
    for broken in session.scalars(select(ReconBreak).where(ReconBreak.id.in_(unanswered))):
        _note(session, broken, f"unanswered: {MAX_ROUNDS}", clock)


def _note(session: Session, broken: ReconBreak, note: str, clock: Clock) -> None:
    # The note is an answer code (and its details after ": "), which the workbench shows in the officer's
    # language; the break does not move.
    break_states.annotate(session, broken, note, actor=ACTOR, at=clock.now())
