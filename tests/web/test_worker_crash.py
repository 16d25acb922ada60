"""A worker killed mid-job: the job is still completed, and its effect happens exactly once.

Real processes, a real queue (SQLite-backed Huey with the SQLite database, Redis with PostgreSQL, as in
production) and SIGKILL: nothing is simulated.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
import redis
from sqlalchemy import func, select

from core.db import make_engine, make_session_factory
from core.outbox import OutboxJob, stage_job
from core.settings import PROJECT_ROOT, Settings
from tests.web.crash_worker import crash_effects, metadata
from web.jobs import build_queue

pytestmark = pytest.mark.slow
REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _queue_url(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'queue.db'}"
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} is unreachable (CI requires it)", pytrace=False)
        pytest.skip(f"Redis at {REDIS_URL} is unreachable")
    return REDIS_URL


def _wait_for(predicate, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _start_worker(env):
    return subprocess.Popen([sys.executable, "-m", "tests.web.crash_worker"], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_job_survives_its_worker_being_killed_and_completes_once(database_url, tmp_path):
    lease = 3
    settings = Settings.from_env({}, env="test", database_url=database_url, instance_path=str(tmp_path),
                                 queue_url=_queue_url(database_url, tmp_path), job_lease_seconds=lease,
                                 secret_key="t" * 40)
    engine = make_engine(settings.database_url)
    metadata.create_all(engine)
    factory = make_session_factory(engine)
    # A queue name of its own: other test runs may share this Redis at the same time.
    queue_name = f"crash-test-{os.getpid()}-{tmp_path.name}"
    queue = build_queue(settings, factory, name=queue_name)
    marker = tmp_path / "started"
    env = {**os.environ, "GATEWAY_ENV": "test", "GATEWAY_DATABASE_URL": settings.database_url,
           "GATEWAY_QUEUE_URL": settings.queue_url, "GATEWAY_JOB_LEASE_SECONDS": str(lease),
           "GATEWAY_INSTANCE_PATH": str(tmp_path), "GATEWAY_SECRET_KEY": "t" * 40, "CRASH_MARKER": str(marker),
           "CRASH_QUEUE_NAME": queue_name}
    workers = []
    try:
        with factory() as session:
            job = stage_job(session, "test.crash_once", {"label": "certificate fee"})
            session.commit()  # the commit hands the job to the queue

        workers.append(_start_worker(env))
        _wait_for(marker.exists, what="the first worker to start the job")
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=10)

        with factory() as session:
            crashed = session.get(OutboxJob, job.id)
            assert crashed.status == "running" and crashed.attempts == 1
            assert session.scalar(select(func.count()).select_from(crash_effects)) == 0  # nothing committed

        workers.append(_start_worker(env))
        time.sleep(lease + 0.5)
        # The periodic relay (every minute) would re-send it; call it now that the dead worker's lease expired.
        queue.relay()

        def done():
            with factory() as session:
                return session.get(OutboxJob, job.id).status == "done"

        _wait_for(done, what="the second worker to complete the job")
        with factory() as session:
            assert session.scalar(select(func.count()).select_from(crash_effects)) == 1
            assert session.get(OutboxJob, job.id).attempts == 2
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGINT)
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
        metadata.drop_all(engine)
        with engine.begin() as connection:
            connection.execute(OutboxJob.__table__.delete())
        engine.dispose()
