"""The outbox sends a job exactly when its transaction commits, and its effect happens once."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from core import outbox
from core.clock import FixedClock
from core.errors import ValidationFailed
from core.outbox import OutboxJob, install_dispatch_hook, job_handler, relay, run_job, stage_job

effects_metadata = MetaData()
#: A table that exists only for these tests: each successful run of a job adds one row.
job_effects = Table("test_job_effects", effects_metadata, Column("id", Integer, primary_key=True),
                    Column("label", String(50)))
calls: list[str] = []


@job_handler("test.record_effect", max_attempts=3)
def record_effect(session, payload):
    calls.append(payload["label"])
    if payload.get("fail"):
        raise RuntimeError("handler failed on purpose")
    session.execute(insert(job_effects).values(label=payload["label"]))


@pytest.fixture()
def committing(session_factory, fresh_engine):
    """A session factory that really commits, with the effects table; both emptied afterwards."""
    effects_metadata.create_all(fresh_engine)
    calls.clear()
    yield session_factory
    effects_metadata.drop_all(fresh_engine)
    with fresh_engine.begin() as connection:
        connection.execute(OutboxJob.__table__.delete())


@pytest.fixture()
def jobs(committing):
    """The committing factory, and the list of ids its commits dispatched."""
    sent: list[tuple[int, datetime | None]] = []
    install_dispatch_hook(committing, lambda job_id, eta: sent.append((job_id, eta)))
    return committing, sent


def _effects(factory):
    with factory() as session:
        return session.scalar(select(func.count()).select_from(job_effects))


def test_a_job_is_sent_only_after_its_transaction_commits(jobs):
    factory, sent = jobs
    with factory() as session:
        job = stage_job(session, "test.record_effect", {"label": "a"})
        assert sent == []
        session.commit()
    assert [job_id for job_id, _ in sent] == [job.id]


def test_a_rolled_back_job_never_existed_and_is_never_sent(jobs):
    factory, sent = jobs
    with factory() as session:
        stage_job(session, "test.record_effect", {"label": "a"})
        session.rollback()
        session.commit()  # a later commit of the same session sends nothing it forgot
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxJob)) == 0
    assert sent == []


def test_an_unknown_job_name_is_refused(jobs):
    factory, _ = jobs
    with factory() as session, pytest.raises(ValidationFailed):
        stage_job(session, "test.no_such_job", {})


def test_a_job_delivered_twice_has_its_effect_once(jobs):
    factory, _ = jobs
    with factory() as session:
        job = stage_job(session, "test.record_effect", {"label": "once"})
        session.commit()
    assert run_job(factory, job.id, lease_seconds=60).status == "done"
    assert run_job(factory, job.id, lease_seconds=60).status == "skipped"
    assert _effects(factory) == 1 and calls == ["once"]


def test_a_failing_job_is_retried_with_backoff_then_parked(jobs):
    factory, _ = jobs
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    with factory() as session:
        job = stage_job(session, "test.record_effect", {"label": "bad", "fail": True}, clock=clock)
        session.commit()
    first = run_job(factory, job.id, lease_seconds=60, clock=clock)
    assert first.status == "retry" and first.retry_at == clock.now() + timedelta(seconds=10)
    assert run_job(factory, job.id, lease_seconds=60, clock=clock).status == "skipped"  # not yet due
    clock.advance(seconds=10)
    assert run_job(factory, job.id, lease_seconds=60, clock=clock).status == "retry"
    clock.advance(seconds=20)
    assert run_job(factory, job.id, lease_seconds=60, clock=clock).status == "failed"
    with factory() as session:
        parked = session.get(OutboxJob, job.id)
        assert (parked.status, parked.attempts) == ("failed", 3)
        assert "handler failed on purpose" in parked.last_error
    assert _effects(factory) == 0


def test_a_crashed_workers_job_is_taken_over_after_its_lease(jobs):
    factory, sent = jobs
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    with factory() as session:
        job = stage_job(session, "test.record_effect", {"label": "crash"}, clock=clock)
        session.commit()
    # A worker claims the job and dies before committing anything.
    assert outbox._claim(factory, job.id, "dead-worker", 60, clock) is not None
    assert run_job(factory, job.id, lease_seconds=60, clock=clock).status == "skipped"  # lease still held
    sent.clear()
    assert relay(factory, lambda job_id, eta: sent.append((job_id, eta)), clock=clock) == 0
    clock.advance(seconds=61)
    assert relay(factory, lambda job_id, eta: sent.append((job_id, eta)), clock=clock) == 1
    assert run_job(factory, job.id, lease_seconds=60, clock=clock).status == "done"
    assert _effects(factory) == 1


def test_a_worker_whose_lease_was_taken_commits_nothing(jobs):
    factory, _ = jobs
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    with factory() as session:
        job = stage_job(session, "test.record_effect", {"label": "slow"}, clock=clock)
        session.commit()
    outbox._claim(factory, job.id, "slow-worker", 60, clock)
    clock.advance(seconds=61)
    assert run_job(factory, job.id, lease_seconds=60, clock=clock, worker_id="new").status == "done"
    with factory() as session, pytest.raises(outbox.LeaseLost), session.begin():
        outbox._finish(session, job.id, "slow-worker", clock)
    assert _effects(factory) == 1


def test_the_relay_resends_jobs_the_queue_never_received(jobs):
    factory, _ = jobs
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    with factory() as session:
        stage_job(session, "test.record_effect", {"label": "lost"}, clock=clock)
        session.commit()
    resent: list[int] = []
    assert relay(factory, lambda job_id, eta: resent.append(job_id), clock=clock) == 0
    clock.advance(seconds=61)
    assert relay(factory, lambda job_id, eta: resent.append(job_id), clock=clock) == 1
    assert relay(factory, lambda job_id, eta: resent.append(job_id), clock=clock) == 0  # just re-sent


def test_a_dispatch_failure_does_not_undo_the_commit(committing):
    def broken(job_id, eta):
        raise ConnectionError("queue down")

    install_dispatch_hook(committing, broken)
    with committing() as session:
        stage_job(session, "test.record_effect", {"label": "x"})
        session.commit()
    with committing() as session:
        assert session.scalar(select(func.count()).select_from(OutboxJob)) == 1


#: The session factory the effect job's outside call writes through (set by the test using it).
effect_factory: list = []


def _prepare_effect(session, payload):
    if payload.get("nothing_to_do"):
        return None
    # A read, so the transaction has really begun (the ORM begins lazily) when prepare returns.
    session.scalar(select(func.count()).select_from(job_effects))
    return {"label": payload["label"], "fail": payload.get("fail", False)}


def _call_effect(plan):
    calls.append(plan["label"])
    if plan["fail"]:
        raise ConnectionError("receiver unreachable")
    # The outside party writes on its own: with a gateway transaction still open this would wait for
    # the write lock on SQLite (BEGIN IMMEDIATE) and fail, so it proves none is open during the call.
    with effect_factory[0]() as session, session.begin():
        session.execute(insert(job_effects).values(label="outside:" + plan["label"]))
    return "answered"


def _record_effect(session, plan, answer):
    session.execute(insert(job_effects).values(label=f"{plan['label']}:{answer}"))


outbox.effect_job("test.outside_effect", outbox.OutsideEffect(_prepare_effect, _call_effect, _record_effect),
                  max_attempts=2)


def _labels(factory):
    with factory() as session:
        return sorted(session.scalars(select(job_effects.c.label)))


def test_an_outside_call_runs_between_two_transactions_and_its_answer_is_recorded(jobs):
    factory, _ = jobs
    effect_factory[:] = [factory]
    with factory() as session:
        job = stage_job(session, "test.outside_effect", {"label": "cb"})
        session.commit()
    assert run_job(factory, job.id, lease_seconds=60).status == "done"
    assert _labels(factory) == ["cb:answered", "outside:cb"]
    assert run_job(factory, job.id, lease_seconds=60).status == "skipped"
    assert calls == ["cb"]


def test_an_outside_effect_with_nothing_to_do_is_done_without_calling(jobs):
    factory, _ = jobs
    with factory() as session:
        job = stage_job(session, "test.outside_effect", {"label": "none", "nothing_to_do": True})
        session.commit()
    assert run_job(factory, job.id, lease_seconds=60).status == "done"
    assert calls == [] and _labels(factory) == []


def test_a_failed_outside_call_records_nothing_and_is_retried(jobs):
    factory, _ = jobs
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    with factory() as session:
        job = stage_job(session, "test.outside_effect", {"label": "down", "fail": True}, clock=clock)
        session.commit()
    assert run_job(factory, job.id, lease_seconds=60, clock=clock).status == "retry"
    clock.advance(seconds=10)
    assert run_job(factory, job.id, lease_seconds=60, clock=clock).status == "failed"
    with factory() as session:
        assert "receiver unreachable" in session.get(OutboxJob, job.id).last_error
    assert calls == ["down", "down"] and _labels(factory) == []


def test_a_job_staged_in_a_savepoint_is_sent_when_the_whole_transaction_commits_not_before(jobs):
    factory, sent = jobs
    with factory() as session:
        with session.begin_nested():
            job = stage_job(session, "test.record_effect", {"label": "nested"})
        assert sent == []  # a released savepoint commits nothing: a worker would not find the job yet
        session.commit()
    assert [job_id for job_id, _ in sent] == [job.id]


def test_a_job_staged_in_a_rolled_back_savepoint_is_never_sent(jobs):
    factory, sent = jobs
    with factory() as session:
        kept = stage_job(session, "test.record_effect", {"label": "kept"})
        with pytest.raises(RuntimeError), session.begin_nested():
            stage_job(session, "test.record_effect", {"label": "undone"})
            raise RuntimeError("refused step")
        session.commit()
    assert [job_id for job_id, _ in sent] == [kept.id]
