"""The payments jobs run through the real outbox: sandbox notifications, refreshes, sweeps."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.clock import SYSTEM_CLOCK, FixedClock
from core.outbox import OutboxJob, registered_jobs, run_job
from payments import jobs
from payments.models.billing import Payment
from tests.payments.factories import open_sandbox_payment


def _run_due_jobs(factory, clock=SYSTEM_CLOCK) -> list[str]:
    """Run every pending job that is due, in order, until none is left; return their names."""
    ran = []
    while True:
        with factory() as session:
            due = session.scalars(select(OutboxJob).where(OutboxJob.status == "pending",
                                                          OutboxJob.available_at <= clock.now())
                                  .order_by(OutboxJob.id)).first()
        if due is None:
            return ran
        assert run_job(factory, due.id, lease_seconds=60, clock=clock).status == "done"
        ran.append(due.name)


def _status(factory, payment):
    with factory() as session:
        return session.scalar(select(Payment.status).where(Payment.id == payment.id))


def test_every_payments_job_is_registered():
    assert set(jobs.ALL_JOBS) <= set(registered_jobs())


def test_a_sandbox_payment_is_confirmed_through_the_webhook_path(committing, clock, sandbox):
    with committing() as session, session.begin():
        payment = open_sandbox_payment(session, clock, sandbox)
    with committing() as session, session.begin():
        jobs.stage_sandbox_notifications(session, payment.provider_session_id,
                                         sandbox.pay(payment.provider_session_id, "4242424242424242"))
    assert _run_due_jobs(committing) == [jobs.SANDBOX_NOTIFY_JOB, jobs.REFRESH_JOB]
    assert _status(committing, payment) == "succeeded"


def test_a_late_sandbox_notification_arrives_after_its_delay(committing, clock, sandbox):
    with committing() as session, session.begin():
        payment = open_sandbox_payment(session, clock, sandbox)
    with committing() as session, session.begin():
        jobs.stage_sandbox_notifications(session, payment.provider_session_id,
                                         sandbox.pay(payment.provider_session_id, "4000000000000259"))
    assert _run_due_jobs(committing) == []
    later = FixedClock(SYSTEM_CLOCK.now() + timedelta(minutes=11))
    assert _run_due_jobs(committing, later) == [jobs.SANDBOX_NOTIFY_JOB, jobs.REFRESH_JOB]
    assert _status(committing, payment) == "succeeded"


def test_the_scheduled_sweep_expires_abandoned_payments(committing, clock, sandbox, monkeypatch):
    monkeypatch.setattr(jobs, "SYSTEM_CLOCK", FixedClock(clock.now() + timedelta(minutes=31)))
    with committing() as session, session.begin():
        payment = open_sandbox_payment(session, clock, sandbox)
    jobs.schedule_sweep(committing)
    ran = _run_due_jobs(committing, FixedClock(clock.now() + timedelta(minutes=31)))
    assert sorted(ran) == sorted([jobs.SWEEP_JOB, jobs.PURGE_KEYS_JOB, jobs.EXPIRE_JOB])
    assert _status(committing, payment) == "expired"
