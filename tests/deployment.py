"""The gateway as it is deployed, for tests: `gateway serve` (gunicorn, several workers) and `gateway worker`.

Each node is a pair of real processes started by the same CLI that `make run` and production use, so a
test sees what a citizen sees: requests land on whichever worker the kernel picks, background work runs
in a separate process, nothing is shared through one process's memory. The embedded default runs on
SQLite with the SQLite job queue; the production shape on PostgreSQL with Redis.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bench.http import free_port
from core.clock import SYSTEM_CLOCK
from core.db import make_engine, make_session_factory
from core.outbox import OutboxJob
from core.settings import PROJECT_ROOT, Settings
from payments import ledger
from payments.models.billing import Payment
from payments.models.ledger import LedgerPosting, LedgerTransaction

SECRET = "deployed-shape-secret-" + "k" * 20
REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def environment(folder: Path, database_url: str, base_url: str, *, queue_url: str | None = None,
                **extra: str) -> dict[str, str]:
    """The GATEWAY_* variables of one deployment (the same for every process of every node)."""
    values = {"GATEWAY_ENV": "development", "GATEWAY_INSTANCE_PATH": str(folder), "GATEWAY_DATABASE_URL": database_url,
              "GATEWAY_QUEUE_URL": queue_url or f"sqlite:///{folder / 'queue.db'}", "GATEWAY_SECRET_KEY": SECRET,
              "GATEWAY_BASE_URL": base_url, "GATEWAY_LOG_LEVEL": "INFO",
              # Every test citizen logs in from 127.0.0.1: one address doing what many people would.
              "GATEWAY_LOGIN_RATE_LIMIT": "1000 per minute"}
    values.update(extra)
    return values


@dataclass
class Process:
    """One started process and the file its output goes to."""

    name: str
    popen: subprocess.Popen
    log: Path

    def lines(self) -> list[str]:
        """What the process wrote so far."""
        return self.log.read_text(errors="replace").splitlines() if self.log.exists() else []

    def children(self) -> list[int]:
        """The pids of this process's direct children (gunicorn's workers, for a ``serve`` process)."""
        return child_pids(self.popen.pid)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        """Signal the process group, then kill it if it lingers."""
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, sig)
            self.popen.wait(timeout=timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(timeout=10)


@dataclass
class Deployment:
    """Web and worker processes sharing one database and queue; ``base_url`` is the first node's."""

    settings: Settings
    env: dict[str, str]
    folder: Path
    nodes: list[str] = field(default_factory=list)
    processes: list[Process] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.nodes[0]

    @property
    def session_factory(self) -> sessionmaker[Session]:
        if not hasattr(self, "_factory"):
            self._engine = make_engine(self.settings.database_url)
            self._factory = make_session_factory(self._engine)
        return self._factory

    def start(self, name: str, *args: str, prefix: tuple[str, ...] = (), env: Mapping[str, str] | None = None
              ) -> Process:
        """Start ``python -m gateway <args>`` (under ``prefix``, e.g. ``ip netns exec …``)."""
        log = self.folder / f"{name}.log"
        merged = {**_clean_environ(), **self.env, **(env or {})}
        with log.open("ab") as output:  # the child keeps its own copy of the descriptor
            popen = subprocess.Popen([*prefix, sys.executable, "-m", "gateway", *args], cwd=PROJECT_ROOT, env=merged,
                                     stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def start_node(self, host: str = "127.0.0.1", *, workers: int = 2, prefix: tuple[str, ...] = (),
                   port: int | None = None, job_worker: bool = True) -> str:
        """Start one node: gunicorn with ``workers`` workers on ``host`` and a job worker; return its URL."""
        port = port or free_port()
        index = len(self.nodes) + 1
        url = f"http://{host}:{port}"
        web = self.start(f"web{index}", "serve", "--bind", f"{host}:{port}", "--workers", str(workers),
                         prefix=prefix)
        if job_worker:
            self.start(f"worker{index}", "worker", prefix=prefix)
        wait_until_ready(url, web)
        self.nodes.append(url)
        return url

    def run(self, *args: str, timeout: float = 180) -> str:
        """Run ``python -m gateway <args>`` to its end (migrate, seed); fail with its output if it fails."""
        result = subprocess.run([sys.executable, "-m", "gateway", *args], cwd=PROJECT_ROOT, capture_output=True,
                                text=True, env={**_clean_environ(), **self.env}, timeout=timeout)
        assert result.returncode == 0, f"gateway {' '.join(args)}: {result.stdout}{result.stderr}"
        return result.stdout

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    def restart(self, name: str, sig: int = signal.SIGKILL, *, after: float = 0) -> Process:
        """Stop process ``name`` (by default kill -9 its group), wait ``after`` seconds, start the same command.

        The new process takes the old one's place and appends to the same log file.
        """
        old = self.process(name)
        old.stop(sig)
        time.sleep(after)
        command = list(old.popen.args)
        gateway_at = command.index("gateway", command.index("-m"))
        prefix, args = tuple(command[:command.index(sys.executable)]), command[gateway_at + 1:]
        self.processes.remove(old)
        return self.start(name, *args, prefix=prefix)

    def records(self, name_prefix: str = "") -> list[dict]:
        """Every JSON log line the processes whose name starts with ``name_prefix`` wrote."""
        found = []
        for process in self.processes:
            if process.name.startswith(name_prefix):
                for line in process.lines():
                    if line.startswith("{"):
                        try:
                            found.append(json.loads(line))
                        except ValueError:
                            continue
        return found

    def wait_for_jobs(self, timeout: float = 60) -> None:
        """Wait until the worker has run every job that is due (none pending or running)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.session_factory() as session:
                busy = session.scalar(select(func.count()).select_from(OutboxJob).where(
                    OutboxJob.status.in_(("pending", "running")), OutboxJob.available_at <= SYSTEM_CLOCK.now()))
            if busy == 0:
                return
            time.sleep(0.2)
        raise AssertionError(f"jobs still pending after {timeout} s")

    def wait_for(self, what: str, check, timeout: float = 60):
        """Poll ``check()`` until it returns something truthy."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.session_factory() as session:
                found = check(session)
            if found:
                return found
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        if hasattr(self, "_engine"):
            self._engine.dispose()

    def failures(self) -> list[dict]:
        """Log lines no journey should produce: an unhandled error (a 500) or a failed job attempt."""
        return [r for r in self.records() if r.get("message") in ("unhandled error", "job failed")
                or r.get("level") == "CRITICAL"]


def wait_until_ready(url: str, process: Process, timeout: float = 90) -> None:
    """Wait until ``url``/readyz answers 200; fail with the process's output if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise AssertionError(f"{process.name} exited: " + "\n".join(process.lines()[-30:]))
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready after {timeout} s: " + "\n".join(process.lines()[-30:]))


def child_pids(pid: int) -> list[int]:
    """The pids of the live direct children of ``pid`` (read from /proc; Linux only)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state, ppid, ...
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


def reset_postgres_database(url: str) -> None:
    """Empty the deployment's PostgreSQL schema (the tests own that database)."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def flush_redis(url: str) -> None:
    """Empty the Redis database the deployment's queue and rate limits use."""
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


@contextmanager
def deployed(folder: Path, *, backend: str = "sqlite", seed=None, host: str = "127.0.0.1", workers: int = 2,
             postgres_url: str | None = None, start: bool = True, **extra: str) -> Iterator[Deployment]:
    """A migrated, seeded deployment with one node started (unless ``start`` is false); stopped afterwards.

    ``seed`` is ``"demo"`` (``gateway seed``, as ``make run``) or ``seed(session, settings)``, run in one
    committed transaction before the processes start.
    """
    port = free_port()
    base_url = f"http://{host}:{port}"
    if backend == "postgresql":
        database_url = postgres_url
        reset_postgres_database(database_url)
        flush_redis(extra.get("GATEWAY_QUEUE_URL", REDIS_URL))
        env = environment(folder, database_url, base_url, queue_url=REDIS_URL,
                          **{"GATEWAY_RATELIMIT_STORAGE_URL": REDIS_URL, **extra})
    else:
        env = environment(folder, f"sqlite:///{folder / 'gateway.db'}", base_url, **extra)
    settings = Settings.from_env(env)
    deployment = Deployment(settings, env, folder)
    deployment.run("migrate")
    if seed == "demo":  # what `make run` seeds, through the same command
        deployment.run("seed")
    elif seed is not None:
        engine = make_engine(settings.database_url)
        with make_session_factory(engine)() as session, session.begin():
            seed(session, settings)
        engine.dispose()
    try:
        if start:
            deployment.start_node(host, workers=workers, port=port)
        yield deployment
    finally:
        deployment.stop()


def _clean_environ() -> dict[str, str]:
    """The test's environment without GATEWAY_* variables (each deployment sets its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}


def due_jobs(session: Session) -> int:
    """Outbox jobs that should have run by now: pending and due, or running (a late notification is not due)."""
    now = SYSTEM_CLOCK.now()
    return session.scalar(select(func.count()).select_from(OutboxJob).where(
        ((OutboxJob.status == "pending") & (OutboxJob.available_at <= now)) | (OutboxJob.status == "running")))


def whole_database_invariants(session: Session) -> dict[str, object]:
    """What must hold over the whole database whatever happened: no bill paid twice, no movement posted twice,
    the ledger balanced (per currency and per transaction), no outbox job failed or left due."""
    captured = Counter(p.bill_id for p in session.scalars(select(Payment).where(
        Payment.status.in_(("succeeded", "duplicate")))))
    # Postings are keyed by (source, external_id), unique; look for the same movement twice under other
    # keys too: two captures of one bill, two lines on one account and side in one transaction.
    captures = session.execute(select(LedgerTransaction.bill_id, func.count()).where(
        LedgerTransaction.kind.in_(("payment_captured", "duplicate_capture")))
        .group_by(LedgerTransaction.bill_id).having(func.count() > 1)).all()
    repeated_lines = session.execute(select(LedgerPosting.transaction_id, LedgerPosting.account_id,
                                            LedgerPosting.side, func.count())
                                     .group_by(LedgerPosting.transaction_id, LedgerPosting.account_id,
                                               LedgerPosting.side).having(func.count() > 1)).all()
    currencies = list(session.scalars(select(LedgerPosting.currency).distinct()))
    unbalanced_currencies = [c for c in currencies if sum(ledger.trial_balance(session, c).values()) != 0]
    unbalanced_transactions = session.execute(
        select(LedgerPosting.transaction_id).group_by(LedgerPosting.transaction_id)
        .having(func.sum(ledger.DEBIT_POSITIVE) != 0)).all()
    return {
        "bills paid twice": sum(1 for n in captured.values() if n > 1),
        "duplicate postings": len(captures) + len(repeated_lines),
        "ledger balanced": not unbalanced_currencies and not unbalanced_transactions,
        "jobs failed": session.scalar(select(func.count()).select_from(OutboxJob).where(OutboxJob.status == "failed")),
        "jobs lost": due_jobs(session),
    }
