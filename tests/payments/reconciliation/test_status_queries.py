"""A payment missing from the provider's report is first checked with the provider, and the answer kept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.outbox import OutboxJob, run_job
from payments.errors import ProviderUnavailable
from payments.notifications import check_on_return
from payments.providers import register_provider
from payments.reconciliation.matching import ExpectedItem
from payments.reconciliation.runs import BreakEvent, ReconBreak
from payments.reconciliation.service import reconcile_provider
from payments.reconciliation.status_queries import ACTOR, MAX_ROUNDS, QUERY_JOB, query_missing
from payments.starting import session_request
from tests.admin.finance.support import payment as recorded_payment
from tests.payments.factories import open_sandbox_payment


def _paid(db, clock, sandbox):
    opened = open_sandbox_payment(db, clock, sandbox)
    sandbox.pay(opened.provider_session_id, "4242424242424242")
    return check_on_return(db, opened.public_id, clock=clock)


def _run_missing(db, clock, *payments):
    """A provider run whose report holds none of ``payments``: each becomes a missing-at-provider break."""
    day = clock.today_in_vietnam() - timedelta(days=7)  # well past the settlement lag: breaks, not pending
    items = [ExpectedItem(p.public_id, p.amount, p.currency, "succeeded", day) for p in payments]
    return reconcile_provider(db, provider="stripe", period_start=day, period_end=day, items=items,
                              started_by="test", clock=clock)


def _answers(db, run_id) -> dict[str, tuple[int, list[str]]]:
    rows = db.execute(select(ReconBreak.key, ReconBreak.priority, BreakEvent.note).join(
        BreakEvent, (BreakEvent.break_id == ReconBreak.id) & (BreakEvent.actor == ACTOR), isouter=True)
        .where(ReconBreak.opened_run_id == run_id)).all()
    found: dict[str, tuple[int, list[str]]] = {}
    for key, priority, note in rows:
        found.setdefault(key.removeprefix("ref:"), (priority, []))[1].extend([note] if note else [])
    return found


def test_a_run_with_missing_at_provider_breaks_stages_one_status_query(db, clock, sandbox):
    run = _run_missing(db, clock, _paid(db, clock, sandbox), _paid(db, clock, sandbox))
    jobs = db.scalars(select(OutboxJob).where(OutboxJob.name == QUERY_JOB)).all()
    assert [(j.payload, j.dedupe_key) for j in jobs] == [({"run_id": run.id, "round": 1}, f"{QUERY_JOB}:{run.id}:1")]


def test_a_run_without_missing_payments_stages_no_query(db, clock, sandbox):
    _run_missing(db, clock)
    assert db.scalars(select(OutboxJob).where(OutboxJob.name == QUERY_JOB)).all() == []


def test_the_provider_confirming_the_payment_is_written_on_the_break_and_the_payment_is_untouched(db, clock,
                                                                                                  sandbox):
    paid = _paid(db, clock, sandbox)
    run = _run_missing(db, clock, paid)
    found = query_missing(db, run.id, clock=clock)
    assert len(found.confirmed) == 1 and not (found.denied or found.unanswered)
    priority, notes = _answers(db, run.id)[paid.public_id]
    assert notes == ["confirmed"]
    assert priority == 2 and paid.status == "succeeded"
    assert query_missing(db, run.id, clock=clock).confirmed == []  # answered breaks are not asked again


def test_a_provider_that_does_not_confirm_a_payment_we_counted_raises_the_break_to_top_priority(db, clock,
                                                                                                sandbox):
    ours = recorded_payment(db, amount=200_000, finished_at=clock.now() - timedelta(days=7), provider="sandbox")
    ours.provider_session_id = sandbox.create_session(session_request(ours)).session_id  # never paid there
    db.flush()
    run = _run_missing(db, clock, ours)
    assert query_missing(db, run.id, clock=clock).denied == [db.scalar(select(ReconBreak.id))]
    priority, [note] = _answers(db, run.id)[ours.public_id]
    assert priority == 1 and note.startswith("denied: expired, 200.000 ₫, reference ")


def test_a_payment_without_a_provider_session_is_noted_as_not_queryable(db, clock, sandbox):
    ours = recorded_payment(db, amount=50_000, finished_at=clock.now() - timedelta(days=7), provider="sandbox")
    run = _run_missing(db, clock, ours)
    assert len(query_missing(db, run.id, clock=clock).not_queryable) == 1
    assert _answers(db, run.id)[ours.public_id][1] == ["no_session"]


class _Unreachable:
    """The sandbox behind a network that times out the next ``failures`` status queries."""

    name = "sandbox"

    def __init__(self, sandbox, failures: int):
        self.sandbox, self.failures = sandbox, failures

    def fetch_status(self, session_id):
        if self.failures > 0:
            self.failures -= 1
            raise ProviderUnavailable("timed out")
        return self.sandbox.fetch_status(session_id)


def test_an_unanswered_query_is_asked_again_later(db, clock, sandbox):
    paid = _paid(db, clock, sandbox)
    run = _run_missing(db, clock, paid)
    register_provider(_Unreachable(sandbox, failures=1))
    found = query_missing(db, run.id, clock=clock)
    assert found.unanswered and _answers(db, run.id)[paid.public_id][1] == []
    retry = db.scalar(select(OutboxJob).where(OutboxJob.dedupe_key == f"{QUERY_JOB}:{run.id}:2"))
    assert retry.payload == {"run_id": run.id, "round": 2} and retry.available_at > clock.now()
    assert query_missing(db, run.id, round_number=2, clock=clock).confirmed  # answered on the second round


def test_after_the_last_unanswered_round_the_break_says_so_and_nothing_more_is_staged(db, clock, sandbox):
    paid = _paid(db, clock, sandbox)
    run = _run_missing(db, clock, paid)
    register_provider(_Unreachable(sandbox, failures=1))
    query_missing(db, run.id, round_number=MAX_ROUNDS, clock=clock)
    assert _answers(db, run.id)[paid.public_id][1] == [f"unanswered: {MAX_ROUNDS}"]
    assert db.scalar(select(OutboxJob).where(OutboxJob.dedupe_key == f"{QUERY_JOB}:{run.id}:{MAX_ROUNDS + 1}")) is None


def test_the_staged_job_runs_the_queries_through_the_outbox(committing, clock, sandbox):
    with committing() as session, session.begin():
        paid = _paid(session, clock, sandbox)
        run_id = _run_missing(session, clock, paid).id
    with committing() as session:
        job_id = session.scalar(select(OutboxJob.id).where(OutboxJob.name == QUERY_JOB))
    assert run_job(committing, job_id, lease_seconds=60, clock=clock).status == "done"
    with committing() as session:
        assert _answers(session, run_id)[paid.public_id][1] == [
            "confirmed"]
