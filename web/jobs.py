"""The task queue (Huey) behind the outbox: Redis in production, a SQLite file in the embedded default.

The web process only ever *sends* outbox job ids (``JobQueue.dispatch``, called after commit); the worker
(``python -m gateway worker``) receives them and runs ``core.outbox.run_job``. A periodic relay re-sends
anything lost between a commit and the queue, or held by a worker that died. See docs/adr/0001.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from pathlib import Path

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core import outbox
from core.clock import SYSTEM_CLOCK
from core.settings import Settings
from web.logs import request_id_var

log = logging.getLogger(__name__)

#: Modules whose import registers job handlers; the web process and the worker import the same list.
JOB_MODULES: tuple[str, ...] = ("payments.jobs", "subsidies.jobs", "identity.jobs",
                                "payments.reconciliation.jobs", "payments.agency_delivery", "payments.dev_bank",
                                "payments.dev_vnpay", "mailing.jobs")
#: Jobs the worker stages on a schedule, as Huey crontab fields. Each time slot is staged through the
#: outbox with a dedupe key, so several worker nodes running the scheduler stage it once between them.
PERIODIC_JOBS: dict[str, dict[str, str]] = {
    "payments.sweep_stale": {"minute": "*"},
    "payments.purge_idempotency_keys": {"minute": "41", "hour": "2"},
    "subsidies.expire_quotes": {"minute": "*/5"},
    "identity.purge_expired": {"minute": "7", "hour": "3"},
    # 06:20 in Hà Nội (Huey's crontab runs on UTC): the previous days' Stripe payouts, when Stripe is configured.
    "reconciliation.fetch_stripe_payouts": {"minute": "20", "hour": "23"},
    # 07:10 in Hà Nội: every agency's Treasury check (overdue money opens an ``unremitted`` break).
    "reconciliation.treasury_check": {"minute": "10", "hour": "0"},
    # Hourly from 07:05 to 20:05 in Hà Nội: payment reminders by e-mail (each bill once per lead time).
    "mailing.sweep_reminders": {"minute": "5", "hour": "0-13"},
}
#: Completed jobs are kept this long for inspection, then purged.
KEEP_DONE_JOBS = timedelta(days=14)


def make_huey(queue_url: str, name: str = "gateway") -> Huey:
    """Return the Huey instance for ``queue_url`` (redis://, unix:// (Redis on a socket), sqlite:///path or memory://).

    ``name`` keys the queue inside its store: two gateways (or two test runs) can share one Redis.
    """
    if queue_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=queue_url, utc=True)
    if queue_url.startswith("sqlite:///"):
        return SqliteHuey(name, filename=str(Path(queue_url.removeprefix("sqlite:///"))), utc=True)
    return MemoryHuey(name, utc=True)


@dataclass
class JobQueue:
    """The queue of one process: sends outbox ids, and (in the worker) runs them."""

    huey: Huey
    session_factory: sessionmaker[Session]
    lease_seconds: int

    def dispatch(self, job_id: int, eta: datetime | None = None) -> None:
        """Hand outbox job ``job_id`` to the queue, to run not before ``eta``."""
        if eta is not None and eta > SYSTEM_CLOCK.now():
            self._run_task.schedule(args=(job_id,), eta=eta)
        else:
            self._run_task(job_id)

    def run(self, job_id: int) -> outbox.Outcome:
        """Run one outbox job now (what the worker does for each id it receives)."""
        token = request_id_var.set(f"job-{job_id}")
        try:
            outcome = outbox.run_job(self.session_factory, job_id, lease_seconds=self.lease_seconds)
        finally:
            request_id_var.reset(token)
        if outcome.retry_at is not None:
            self.dispatch(job_id, outcome.retry_at)
        log.info("job %s", outcome.status, extra={"job_id": job_id})
        return outcome

    def relay(self) -> int:
        """Re-send jobs that were lost on the way or whose worker died."""
        return outbox.relay(self.session_factory, self.dispatch)

    def drain(self) -> int:
        """Run every queued task in this process until none is left; for tests and one-off scripts."""
        count = 0
        while (task := self.huey.dequeue()) is not None:
            self.huey.execute(task)
            count += 1
        return count

    def stage_periodic(self, name: str) -> bool:
        """Stage job ``name`` for the current minute unless another scheduler already did."""
        slot = SYSTEM_CLOCK.now().replace(second=0, microsecond=0).isoformat()
        try:
            with self.session_factory() as session, session.begin():
                outbox.stage_job(session, name, {}, dedupe_key=f"periodic:{name}:{slot}")
        except IntegrityError:
            return False
        return True

    def __post_init__(self) -> None:
        self._run_task = self.huey.task(name="outbox.run")(self.run)
        for job_name, schedule in PERIODIC_JOBS.items():
            self.huey.periodic_task(crontab(**schedule), name=f"periodic.{job_name}")(self._stager(job_name))
        self.huey.periodic_task(crontab(minute="*"), name="outbox.relay")(self.relay)
        self.huey.periodic_task(crontab(minute="17", hour="3"), name="outbox.purge")(self.purge)
        self.huey.on_startup("outbox.relay_on_start")(self.relay)

    def _stager(self, job_name: str):
        def stage() -> bool:
            return self.stage_periodic(job_name)

        stage.__name__ = f"stage_{job_name.replace('.', '_')}"
        return stage

    def purge(self) -> int:
        """Delete completed jobs older than ``KEEP_DONE_JOBS``; failed ones stay for an operator."""
        cutoff = SYSTEM_CLOCK.now() - KEEP_DONE_JOBS
        with self.session_factory() as session, session.begin():
            result = session.execute(delete(outbox.OutboxJob).where(
                outbox.OutboxJob.status == "done", outbox.OutboxJob.completed_at < cutoff))
        return result.rowcount


def build_queue(settings: Settings, session_factory: sessionmaker[Session], *, name: str = "gateway") -> JobQueue:
    """Create the queue for ``settings`` and send staged jobs whenever a session commits."""
    for module in JOB_MODULES:
        import_module(module)
    queue = JobQueue(make_huey(settings.queue_url, name), session_factory, settings.job_lease_seconds)
    outbox.install_dispatch_hook(session_factory, queue.dispatch)
    return queue


def run_worker(queue: JobQueue, threads: int = 2) -> None:
    """Run the Huey consumer in the foreground until it is told to stop."""
    consumer = queue.huey.create_consumer(workers=threads, worker_type="thread", check_worker_health=True)
    consumer.run()
