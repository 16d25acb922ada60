"""The crash matrix: concurrent citizen and agency journeys through the production shape while faults hit it.

One node on PostgreSQL (`gateway serve`, two gunicorn workers, and one `gateway worker`) with a Redis of its
own (a private redis-server on a free port: stopping it touches nobody else). For each fault a batch of
journeys runs in threads, each as an agency's system and a citizen would do it over HTTP:

* the agency creates a bill through the API with an Idempotency-Key, sending the SAME key again after a
  connection error, a 5xx or a 409 ``idempotency_key_in_progress``;
* Lê Minh Châu logs in at the bundled e-ID stand-in, pays the bill by sandbox card (the same pay form and
  the same card form sent again after an error) and waits on the return page as a browser would;
* the agency asks for a partial refund through the API with its own Idempotency-Key.

Faults, each injected while its batch runs: kill -9 of a gunicorn web worker (repeatedly; gunicorn starts
another), kill -9 of the job worker (restarted two seconds later, repeatedly), ``pg_terminate_backend`` of
every connection to the deployment's database in a loop, the private Redis stopped and started, and
provider faults (late notification, status query timeout, decline, provider error) left to the scheduled
jobs. The provider batch runs on a second deployment of its own (own database and Redis, no other fault),
started first, because the sweep only looks at a payment 5 minutes after it went quiet (the shortest
allowed ``GATEWAY_PAYMENT_EXPIRY_MINUTES`` and the unknown-payment threshold of ``payments.expiry``).

After each fault the injection stops and the test waits (bounded) until every payment and refund of the
batch is final and no outbox job is due, then checks the invariants: no bill paid twice, no duplicate
ledger posting, the ledger balanced, nothing stuck, no outbox job failed or lost. It prints one table and
writes it to docs/crash-matrix.md.
"""

from __future__ import annotations

import os
import platform
import random
import re
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from agencies.models import ApiClient
from bench.http import free_port
from core.clock import SYSTEM_CLOCK
from core.outbox import OutboxJob
from core.settings import PROJECT_ROOT
from payments.agency_models import CallbackDelivery
from payments.jobs import SANDBOX_NOTIFY_JOB
from payments.models.billing import LIVE_PAYMENT_STATUSES, Bill, Payment
from payments.models.ledger import LedgerTransaction
from payments.models.refunds import Refund
from tests.deployed.conftest import deployed_postgres_url, require_production_parts
from tests.deployed.forms import form_with_button, log_in_at_stand_in
from tests.deployment import Deployment, deployed, due_jobs, whole_database_invariants

pytestmark = [pytest.mark.soak, pytest.mark.slow]

DEMO_KEY = "gwk_demo_agency_key_for_local_development_only"
CHAU = ("Lê Minh Châu", "079090045678")
GOOD_CARD, LATE_CARD, TIMEOUT_CARD = "4242 4242 4242 4242", "4000 0000 0000 0259", "4000 0000 0000 0341"
DECLINED_CARD, ERROR_CARD = "4000 0000 0000 0002", "4000 0000 0000 0119"

BATCH = 8  # concurrent journeys per fault ...
BATCH_WINDOW = 20  # s: ... each thread starting one journey after another for this long
LEASE_SECONDS = 15  # GATEWAY_JOB_LEASE_SECONDS: a killed job worker's job is taken over this soon
PROVIDER_EXPIRY_MINUTES = 5  # the provider deployment's GATEWAY_PAYMENT_EXPIRY_MINUTES (the smallest allowed)
REFUND = 50_000
#: Every journey logs in from the same loopback address: the per-address login limit (30 a minute) would
#: turn the batch into a rate-limit test.
LOGIN_RATE_LIMIT = "5000 per minute"
JOURNEY_BOUND = 240  # s: one journey's HTTP part (retries included) must end within this
INJECT_CAP = 90  # s: a fault is injected at most this long ...
INJECT_TAIL = 6  # s: ... and this long after the batch's last journey ended (background work in flight)
SETTLE_BOUND = 180  # s: after the injection stopped, everything final and the outbox drained within this
PROVIDER_SETTLE_BOUND = 540  # s: the provider batch, from its last payment (the sweep waits 5 min first)
MATRIX_FILE = PROJECT_ROOT / "docs" / "crash-matrix.md"
TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


class JourneyFailed(AssertionError):
    """A journey could not finish within its bound (it says where it stopped)."""


# --- what clients saw -------------------------------------------------------------------------------


@dataclass
class Tally:
    """Every answer the clients of one batch got: statuses, connection errors, and each 5xx in detail."""

    statuses: Counter = field(default_factory=Counter)
    connection_errors: int = 0
    server_errors: list[tuple[int, str, str, str | None, str]] = field(default_factory=list)
    client_errors: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, response: requests.Response) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            if 400 <= response.status_code < 500:
                path = re.sub(r"[0-9a-f]{24,}", "…", response.request.path_url.split("?")[0])
                self.client_errors[(response.status_code, response.request.method, path)] += 1
            if response.status_code >= 500:
                code = ""
                if response.headers.get("Content-Type", "").startswith("application/json"):
                    try:
                        code = response.json().get("code", "")
                    except ValueError:
                        code = "?"
                path = re.sub(r"[0-9a-f]{24,}", "…", response.request.path_url.split("?")[0])
                self.server_errors.append((response.status_code, response.request.method, path,
                                           response.headers.get("Retry-After"), code))

    def no_answer(self) -> None:
        with self.lock:
            self.connection_errors += 1

    def count(self, predicate: Callable[[int], bool]) -> int:
        return sum(n for status, n in self.statuses.items() if predicate(status))

    def without_retry_after(self) -> int:
        return sum(1 for status, *_, retry_after, _ in self.server_errors if status == 503 and not retry_after)


class Client:
    """One HTTP client (an agency's system or a citizen's browser) that retries what is safe to retry."""

    def __init__(self, tally: Tally, deadline: float, where: list[str]):
        self.http = requests.Session()
        self.tally, self.deadline, self.where = tally, deadline, where

    def send(self, method: str, url: str, *, retry_conflict: Callable[[requests.Response], bool] = lambda r: False,
             **options) -> requests.Response:
        """Send until an answer that is not transient: a connection error, a 5xx, a 429 or a retryable 409.

        A retry is the same request again (same Idempotency-Key, same form), which is what makes it safe.
        """
        options.setdefault("timeout", 35)
        pause = 0.5
        while True:
            try:
                response = self.http.request(method, url, **options)
            except TRANSIENT:
                self.tally.no_answer()
            else:
                self.tally.answer(response)
                retry = (response.status_code >= 500 or response.status_code == 429
                         or (response.status_code == 409 and retry_conflict(response)))
                if not retry:
                    return response
                pause = min(float(response.headers.get("Retry-After") or pause), 5.0)
            if time.monotonic() + pause > self.deadline:
                raise JourneyFailed(f"gave up at {' > '.join(self.where)} ({method} {url.split('?')[0]})")
            time.sleep(pause * random.uniform(0.8, 1.2))
            pause = min(pause * 1.5, 5.0)


def _in_progress(response: requests.Response) -> bool:
    try:
        return response.json().get("code") == "idempotency_key_in_progress"
    except ValueError:
        return False


# --- one journey ------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What one journey does: the cards it tries in order, and how the citizen's browser behaves.

    ``follow``: ``"wait"`` (back to the gateway, the return page refreshed until the bill is paid), ``"once"``
    (the return page is seen once, then the browser is closed) or ``"never"`` (closed right after the card).
    """

    cards: tuple[str, ...] = (GOOD_CARD,)
    follow: str = "wait"
    poll_every: float = 1.5


@dataclass
class Journey:
    label: str
    plan: Plan
    bill_id: str | None = None
    refund_id: str | None = None
    error: str | None = None
    paid_at: float | None = None  # monotonic: when the last card was sent
    where: list[str] = field(default_factory=list)


def run_journey(deployment: Deployment, tally: Tally, journey: Journey, *, bound: float = JOURNEY_BOUND) -> Journey:
    """Bill, log in, pay, see the bill paid, refund part of it; record what happened in ``journey``."""
    base = deployment.base_url
    deadline = time.monotonic() + bound
    agency = Client(tally, deadline, journey.where)
    citizen = Client(tally, deadline, journey.where)
    try:
        journey.where.append("create bill")
        body = {"service_code": "LLTP", "personal_id_number": CHAU[1], "return_url": base + "/demo/agency",
                "agency_reference": f"CRASH-{journey.label}-{uuid.uuid4().hex[:8]}"}
        created = agency.send("POST", base + "/api/v1/bills", json=body, headers=_api_headers(),
                              retry_conflict=_in_progress)
        assert created.status_code == 201, (created.status_code, created.text[:300])
        journey.bill_id = created.json()["id"]
        journey.where.append("log in")
        _log_in(citizen, base)
        for number, card in enumerate(journey.plan.cards):
            journey.where.append(f"pay {card[-4:]}")
            final_card = number == len(journey.plan.cards) - 1
            _pay(citizen, base, journey.bill_id, card, follow=journey.plan.follow if final_card else "once")
        journey.paid_at = time.monotonic()
        journey.where.append("wait until paid")
        bill = _wait_until_paid(agency, citizen, base, journey)
        journey.where.append("refund")
        refund_body = {"amount": REFUND, "refund_amount_available": bill["latest_payment"]["amount"],
                       "reason": "Hồ sơ trùng (crash matrix)"}
        refund = agency.send("POST", f"{base}/api/v1/bills/{journey.bill_id}/refunds", json=refund_body,
                             headers=_api_headers(), retry_conflict=_in_progress)
        assert refund.status_code == 202, (refund.status_code, refund.text[:300])
        journey.refund_id = refund.json()["id"]
        journey.where.append("done")
    except (AssertionError, KeyError, ValueError) as exc:
        journey.error = f"{type(exc).__name__}: {exc}"[:400]
    return journey


def _api_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {DEMO_KEY}", "Idempotency-Key": str(uuid.uuid4())}


def _log_in(citizen: Client, base: str) -> None:
    """Log Lê Minh Châu in at the stand-in; a login broken half-way (its code spent) starts again."""
    for _ in range(8):
        citizen.http.cookies.clear()
        if log_in_at_stand_in(citizen.send, base, CHAU[0]):
            return
    raise JourneyFailed("the login never finished")


_SANDBOX_URL = re.compile(r"(?:https?://[^\"'\s]+)?/sandbox/pay/sbx_[0-9a-f]{24}")


def _pay(citizen: Client, base: str, bill_id: str, card: str, *, follow: str) -> None:
    """Start paying (one form, sent again until answered), pay at the sandbox, go back as ``follow`` says."""
    for _ in range(20):
        page = citizen.send("GET", f"{base}/bills/{bill_id}")
        assert page.status_code == 200, (page.status_code, page.text[:300])
        continuing = _SANDBOX_URL.search(page.text)  # an attempt in progress: "continue paying"
        if continuing:
            sandbox_url = urljoin(base, continuing.group(0))
            break
        try:
            form, sent = form_with_button(page.text, "Thanh toán")
        except AssertionError:
            return  # nothing to pay any more: the bill is paid (the last card went through)
        # The same form sent again is the same payment (its form token is the idempotency key).
        started = citizen.send("POST", urljoin(page.url, form.action), data={**sent, "provider": "sandbox"},
                               allow_redirects=False, retry_conflict=lambda r: True)
        location = started.headers.get("Location", "")
        if started.status_code == 303 and "/sandbox/pay/" in location:
            sandbox_url = urljoin(base, location)
            break
        time.sleep(1)  # back to the bill page: another attempt is being recorded or closed
    else:
        raise JourneyFailed("the pay form never led to the sandbox")
    sandbox = citizen.send("GET", sandbox_url)
    try:
        form, sent = form_with_button(sandbox.text, "Thanh toán")
    except AssertionError:  # the session is no longer open: an earlier card went through
        return_url = f"{base}/bills/{bill_id}/return"
    else:
        card_form = {**sent, "card_number": card, "expiry": "12/39", "cvc": "123"}
        paid = citizen.send("POST", urljoin(sandbox.url, form.action), data=card_form, allow_redirects=False)
        assert paid.status_code == 303, (paid.status_code, paid.text[:300])
        return_url = urljoin(base, paid.headers["Location"])
    if follow != "never":
        citizen.send("GET", return_url)


def _wait_until_paid(agency: Client, citizen: Client, base: str, journey: Journey) -> dict:
    """The agency reads the bill until it is paid; meanwhile a waiting browser refreshes the return page."""
    while True:
        answer = agency.send("GET", f"{base}/api/v1/bills/{journey.bill_id}", headers=_api_headers())
        assert answer.status_code == 200, (answer.status_code, answer.text[:300])
        bill = answer.json()
        if bill["status"] == "paid":
            return bill
        if time.monotonic() + journey.plan.poll_every > agency.deadline:
            raise JourneyFailed(f"the bill is still {bill['status']} (payment "
                                f"{(bill.get('latest_payment') or {}).get('status')})")
        time.sleep(journey.plan.poll_every)
        if journey.plan.follow == "wait":
            citizen.send("GET", f"{base}/bills/{journey.bill_id}/return")


# --- faults ---------------------------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of this test alone on a free loopback port, without persistence: a stop loses its data."""

    def __init__(self, folder: Path):
        self.folder, self.port = folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        deadline = time.monotonic() + 20
        while True:
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=1).ping():
                    return
            except redis.RedisError:
                pass
            assert time.monotonic() < deadline and self.process.poll() is None, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@dataclass
class Fault:
    """One row of the matrix: how it is injected (``inject(deployment, stop) -> what was done``)."""

    name: str
    inject: Callable[[Deployment, threading.Event], str] | None
    plans: tuple[Plan, ...] = tuple(Plan() for _ in range(BATCH))


def kill_web_workers(deployment: Deployment, stop: threading.Event) -> str:
    """kill -9 one gunicorn worker (never the master) every 1.5-3 s; gunicorn starts another."""
    kills = 0
    web = deployment.process("web1")
    while not stop.wait(random.uniform(1.5, 3.0)):
        workers = web.children()
        if workers:
            try:
                os.kill(random.choice(workers), signal.SIGKILL)
                kills += 1
            except ProcessLookupError:
                pass
    assert web.popen.poll() is None, "the gunicorn master died"
    return f"{kills} worker kills"


def kill_job_worker(deployment: Deployment, stop: threading.Event) -> str:
    """kill -9 the job worker, start it again 2 s later; again every 5 s or so."""
    kills = 0
    while not stop.wait(3.0):
        deployment.restart("worker1", signal.SIGKILL, after=2.0)
        kills += 1
    return f"{kills} kills, restarted after 2 s"


def terminate_backends(deployment: Deployment, stop: threading.Event) -> str:
    """Cut every connection to the deployment's database, every 0.4 s."""
    url = make_url(deployment.settings.database_url)
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    rounds = cut = 0
    try:
        with engine.connect() as connection:
            while not stop.wait(0.4):
                cut += len(connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": url.database}).all())
                rounds += 1
    finally:
        engine.dispose()
    return f"{rounds} rounds, {cut} connections cut"


def stop_and_start_redis(redis_server: PrivateRedis) -> Callable[[Deployment, threading.Event], str]:
    def inject(deployment: Deployment, stop: threading.Event) -> str:
        """Redis down 10 s, up 4 s, down again ... (data lost at each stop: no persistence)."""
        downs, down_for = 0, 0.0
        while not stop.wait(2.0 if downs == 0 else 4.0):
            redis_server.stop()
            downs += 1
            began = time.monotonic()
            stop.wait(10.0)
            redis_server.start()
            down_for += time.monotonic() - began
        return f"down {downs}× ({down_for:.0f} s in all), data lost"
    return inject


class AgencyReceiver:
    """The demo agency's callback endpoint, played by this test on its own port (not the gateway's demo page,
    whose per-address rate limit the batch's own requests would exhaust): answers 200, counts each event id."""

    def __init__(self):
        self.received: Counter = Counter()
        lock, received = threading.Lock(), self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    received[self.headers.get("Gateway-Event-Id", "?")] += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callbacks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def receiving_callbacks(deployment: Deployment):
    """Point the demo agency's callbacks at a receiver of this test's own."""
    receiver = AgencyReceiver()
    with deployment.session_factory() as session, session.begin():
        session.execute(update(ApiClient).where(ApiClient.agency_code == "DEMO-STP").values(callback_url=receiver.url))
    deployment.receiver = receiver
    try:
        yield receiver
    finally:
        receiver.close()


# --- after a fault: settle, then check --------------------------------------------------------------


def _batch_payments(session, bill_ids: list[str]):
    return session.scalars(select(Payment).join(Bill, Payment.bill_id == Bill.id).where(Bill.public_id.in_(bill_ids)))


def _undelivered(session, bill_ids: list[str]) -> int:
    return session.scalar(select(func.count()).select_from(CallbackDelivery).join(
        Bill, CallbackDelivery.bill_id == Bill.id).where(Bill.public_id.in_(bill_ids),
                                                         CallbackDelivery.status != "delivered"))


def _unsettled(session, bill_ids: list[str], refund_ids: list[str]) -> dict[str, int]:
    live = sum(1 for p in _batch_payments(session, bill_ids) if p.status in LIVE_PAYMENT_STATUSES)
    refunds = session.scalar(select(func.count()).select_from(Refund).where(
        Refund.public_id.in_(refund_ids), Refund.status.in_(("submitted", "awaiting_approval"))))
    return {"live payments": live, "open refunds": refunds, "due jobs": due_jobs(session),
            "callbacks undelivered": _undelivered(session, bill_ids)}


def settle(deployment: Deployment, journeys: list[Journey], since: float, bound: float) -> float | None:
    """Seconds from ``since`` until everything of the batch is final and no job is due; None past ``bound``."""
    bill_ids = [j.bill_id for j in journeys if j.bill_id]
    refund_ids = [j.refund_id for j in journeys if j.refund_id]
    while True:
        with deployment.session_factory() as session:
            if not any(_unsettled(session, bill_ids, refund_ids).values()):
                return time.monotonic() - since
        if time.monotonic() - since > bound:
            return None
        time.sleep(1)


def last_job_id(deployment: Deployment) -> int:
    with deployment.session_factory() as session:
        return session.scalar(select(func.coalesce(func.max(OutboxJob.id), 0)))


def invariants(deployment: Deployment, journeys: list[Journey], first_job: int = 0) -> dict[str, object]:
    """The invariants over the whole ledger and outbox, and over this batch's bills, payments and refunds
    (jobs retried: those staged since job ``first_job``)."""
    bill_ids = [j.bill_id for j in journeys if j.bill_id]
    refund_ids = [j.refund_id for j in journeys if j.refund_id]
    with deployment.session_factory() as session:
        whole = whole_database_invariants(session)
        batch = list(_batch_payments(session, bill_ids))
        paid_bills = session.scalar(select(func.count()).select_from(Bill).where(
            Bill.public_id.in_(bill_ids), Bill.status == "paid"))
        refunds = list(session.scalars(select(Refund).where(Refund.public_id.in_(refund_ids))))
        # Every captured payment and every refund paid out has its posting (none lost on the way).
        posted = set(session.scalars(select(LedgerTransaction.external_id).where(
            LedgerTransaction.bill_id.in_({p.bill_id for p in batch}))))
        bills_by_id = {b.id: b.public_id for b in session.scalars(select(Bill).where(Bill.public_id.in_(bill_ids)))}
        missing = [p.public_id for p in batch if p.status == "succeeded"
                   and f"bill:{bills_by_id[p.bill_id]}:settled" not in posted]
        missing += [r.public_id for r in refunds
                    if r.status == "succeeded" and f"refund:{r.public_id}:paid" not in posted]
        refunds_per_payment = Counter(r.payment_id for r in session.scalars(
            select(Refund).where(Refund.payment_id.in_([p.id for p in batch]))))
        jobs_retried = session.scalar(select(func.count()).select_from(OutboxJob).where(
            OutboxJob.attempts > 1, OutboxJob.id > first_job))
        late = session.scalar(select(func.count()).select_from(OutboxJob).where(
            OutboxJob.status == "pending", OutboxJob.available_at > SYSTEM_CLOCK.now(),
            OutboxJob.name != SANDBOX_NOTIFY_JOB))
        deliveries = list(session.scalars(select(CallbackDelivery.event_id).join(
            Bill, CallbackDelivery.bill_id == Bill.id).where(Bill.public_id.in_(bill_ids))))
        undelivered = _undelivered(session, bill_ids)
    received = deployment.receiver.received
    return {
        "bills paid twice": whole["bills paid twice"],
        "duplicate postings": whole["duplicate postings"],
        "postings missing": len(missing),
        "ledger balanced": whole["ledger balanced"],
        "bills not paid": len(bill_ids) - paid_bills,
        "stuck payments": sum(1 for p in batch if p.status in LIVE_PAYMENT_STATUSES),
        "stuck refunds": sum(1 for r in refunds if r.status in ("submitted", "awaiting_approval")),
        "refunds succeeded": sum(1 for r in refunds if r.status == "succeeded"),
        "second refunds": sum(1 for n in refunds_per_payment.values() if n > 1),
        "jobs failed": whole["jobs failed"],
        "jobs lost": whole["jobs lost"],
        "jobs retried": jobs_retried,
        "jobs waiting to retry": late,
        "callbacks": len(deliveries),
        "callbacks undelivered": undelivered,
        "callbacks sent twice": sum(1 for event in deliveries if received[event] > 1),
        "callbacks never received": sum(1 for event in deliveries if not received[event]),
        "payments": Counter(p.status for p in batch),
    }


def unhandled_errors(deployment: Deployment) -> int:
    """Requests that ended in a 500 according to the web processes' own logs."""
    return sum(1 for r in deployment.records("web") if r.get("message") == "unhandled error")


# --- the matrix ---------------------------------------------------------------------------------------


@dataclass
class Row:
    fault: str
    injected: str
    journeys: list[Journey]
    tally: Tally
    recovered_in: float | None
    checks: dict[str, object]
    server_500s: int


def run_batch(deployment: Deployment, fault: Fault) -> Row:
    """Run ``fault``'s journeys while injecting it, stop, settle, check.

    Each of the ``BATCH`` threads runs journeys back to back for ``BATCH_WINDOW`` seconds (at least one), so
    the fault keeps meeting requests and jobs in flight.
    """
    tally, stop = Tally(), threading.Event()
    before, first_job = unhandled_errors(deployment), last_job_id(deployment)
    journeys: list[Journey] = []
    window_ends = time.monotonic() + BATCH_WINDOW

    def thread(number: int, plan: Plan) -> None:
        for round_ in range(100):
            journey = Journey(f"{fault.name[:12]}-{number}.{round_}", plan)
            journeys.append(journey)
            run_journey(deployment, tally, journey)
            if time.monotonic() > window_ends:
                return

    with ThreadPoolExecutor(len(fault.plans) + 1) as pool:
        injected = pool.submit(fault.inject, deployment, stop) if fault.inject else None
        running = [pool.submit(thread, n, plan) for n, plan in enumerate(fault.plans)]
        cap = time.monotonic() + INJECT_CAP
        while not all(f.done() for f in running) and time.monotonic() < cap:
            time.sleep(0.2)
        stop.wait(max(0.0, min(INJECT_TAIL, cap - time.monotonic())))
        stop.set()
        what = injected.result() if injected else "-"
        stopped = time.monotonic()
        for f in running:
            f.result()
    recovered = settle(deployment, journeys, stopped, SETTLE_BOUND)
    return Row(fault.name, what, journeys, tally, recovered, invariants(deployment, journeys, first_job),
               unhandled_errors(deployment) - before)


PROVIDER_PLANS = (
    Plan((LATE_CARD,), follow="never", poll_every=5),  # paid, the notification 10 min late, nobody comes back
    Plan((LATE_CARD,), follow="never", poll_every=5),
    Plan((TIMEOUT_CARD,), follow="once", poll_every=5),  # the return page's query times out: unknown
    Plan((TIMEOUT_CARD,), follow="once", poll_every=5),
    Plan((TIMEOUT_CARD,), follow="never", poll_every=5),  # no notification, nobody comes back
    Plan((DECLINED_CARD, GOOD_CARD)),  # declined, then paid with another card
    Plan((ERROR_CARD, GOOD_CARD)),  # provider error, then paid with another card
)


def provider_batch(deployment: Deployment) -> tuple[ThreadPoolExecutor, list, Tally, float]:
    """Start the provider journeys; they end by themselves once the sweep has resolved their payments."""
    tally = Tally()
    journeys = [Journey(f"provider-{n}", plan) for n, plan in enumerate(PROVIDER_PLANS)]
    pool = ThreadPoolExecutor(len(journeys))
    bound = PROVIDER_SETTLE_BOUND + 120
    return pool, [pool.submit(run_journey, deployment, tally, j, bound=bound) for j in journeys], tally, \
        time.monotonic()


def _postgres_url_named(suffix: str) -> str:
    """A database of its own next to the deployed tier's (created when missing)."""
    url = make_url(deployed_postgres_url())
    own = url.set(database=url.database + suffix)
    server = create_engine(url.set(drivername="postgresql+psycopg", database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": own.database}):
                connection.execute(text(f'CREATE DATABASE "{own.database}"'))
    finally:
        server.dispose()
    return own.render_as_string(hide_password=False)


SETTINGS_NOTE = (f"one node: `gateway serve` (gunicorn, 2 workers) + one `gateway worker` (2 threads); "
                 f"PostgreSQL; a private redis-server (no persistence) for the queue and rate limits; "
                 f"GATEWAY_JOB_LEASE_SECONDS={LEASE_SECONDS} (default 300), GATEWAY_LOGIN_RATE_LIMIT="
                 f"{LOGIN_RATE_LIMIT} (every client shares one address), GATEWAY_PAYMENT_EXPIRY_MINUTES=30 "
                 f"(provider row: {PROVIDER_EXPIRY_MINUTES}, its own deployment and database); "
                 f"{BATCH} threads per fault, each running journeys back to back for {BATCH_WINDOW} s (provider "
                 f"row: 7 journeys, one each); each fault injected while its batch runs (at most {INJECT_CAP} s) "
                 f"and {INJECT_TAIL} s more; bounded wait after it: "
                 f"{SETTLE_BOUND // 60} min ({PROVIDER_SETTLE_BOUND // 60} min for the provider row)")


def _cell_5xx(row: Row) -> str:
    t = row.tally
    parts = [f"{n}×{status}" for status, n in sorted(t.statuses.items()) if status >= 500]
    text_ = ", ".join(parts) if parts else "0"
    if t.without_retry_after():
        text_ += f" ({t.without_retry_after()} without Retry-After)"
    return text_


def table(rows: list[Row]) -> str:
    head = ("fault", "injected", "journeys ok", "HTTP 5xx seen by clients", "500s logged", "no answer",
            "double-paid", "dup postings", "ledger balanced", "stuck pay/refund", "jobs failed/lost",
            "jobs retried", "callbacks delivered (twice)", "recovered in")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        c = row.checks
        ok = sum(1 for j in row.journeys if j.error is None)
        recovered = f"{row.recovered_in:.0f} s" if row.recovered_in is not None else "NOT within bound"
        cells = (row.fault, row.injected, f"{ok}/{len(row.journeys)}", _cell_5xx(row), str(row.server_500s),
                 str(row.tally.connection_errors), str(c["bills paid twice"]), str(c["duplicate postings"]),
                 "yes" if c["ledger balanced"] else "NO", f"{c['stuck payments']}/{c['stuck refunds']}",
                 f"{c['jobs failed']}/{c['jobs lost']}", str(c["jobs retried"]),
                 f"{c['callbacks'] - c['callbacks undelivered']}/{c['callbacks']} ({c['callbacks sent twice']})",
                 recovered)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_matrix(rows: list[Row], total_seconds: float) -> str:
    rendered = table(rows)
    details = []
    for row in rows:
        errors = Counter((s, m, p, "Retry-After" if ra else "no Retry-After", code)
                         for s, m, p, ra, code in row.tally.server_errors)
        described = "; ".join(f"{n}× {s} {m} {p} {code} ({ra})" for (s, m, p, ra, code), n in errors.most_common())
        failed = [f"{j.label}: {j.error}" for j in row.journeys if j.error]
        client = ", ".join(f"{n}× {s} {m} {p}" for (s, m, p), n in row.tally.client_errors.most_common())
        details.append(f"- **{row.fault}**: payments {dict(row.checks['payments'])}; refunds succeeded "
                       f"{row.checks['refunds succeeded']}/{len(row.journeys)}; jobs waiting to retry "
                       f"{row.checks['jobs waiting to retry']}; 5xx: {described or 'none'}; 4xx: {client or 'none'}"
                       + (f"; FAILED JOURNEYS: {failed}" if failed else ""))
    document = "\n".join([
        "# Crash matrix",
        "",
        "Written by `tests/deployed/test_crash_matrix.py` (`make test-all`; marked soak) on every run; do not edit.",
        "",
        f"- Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {total_seconds / 60:.1f} min in all",
        f"- Machine: 2 cores, shared ({platform.machine()}, Python {platform.python_version()})",
        f"- Settings: {SETTINGS_NOTE}",
        "- Journey: the agency creates a bill (API, Idempotency-Key), Lê Minh Châu logs in at the e-ID stand-in and "
        "pays by sandbox card, the agency refunds 50,000 ₫ (API, its own key). Clients resend the same request "
        "(same key, same form) after a connection error, a 5xx, a 429 or a 409 in progress.",
        "- Recovered in: from the end of the injection (provider row: from the last card) until every payment and "
        "refund of the batch is final and no outbox job is due. Invariants are over the whole database.",
        "",
        rendered,
        "",
        "Details:",
        "",
        *details,
        "",
    ])
    MATRIX_FILE.write_text(document)
    return rendered


@pytest.mark.timeout(1200)
def test_crash_matrix(tmp_path_factory):
    require_production_parts()
    began = time.monotonic()
    folder = tmp_path_factory.mktemp("crash-matrix")
    main_folder, provider_folder = folder / "main", folder / "providers"
    main_folder.mkdir()
    provider_folder.mkdir()
    main_redis, provider_redis = PrivateRedis(main_folder), PrivateRedis(provider_folder)
    main_redis.start()
    provider_redis.start()
    common = {"GATEWAY_JOB_LEASE_SECONDS": str(LEASE_SECONDS), "GATEWAY_LOGIN_RATE_LIMIT": LOGIN_RATE_LIMIT}
    rows: list[Row] = []
    try:
        with deployed(provider_folder, backend="postgresql", seed="demo",
                      postgres_url=_postgres_url_named("_providers"), GATEWAY_QUEUE_URL=provider_redis.url,
                      GATEWAY_RATELIMIT_STORAGE_URL=provider_redis.url,
                      GATEWAY_PAYMENT_EXPIRY_MINUTES=str(PROVIDER_EXPIRY_MINUTES), **common) as providers, \
                receiving_callbacks(providers):
            # First, so that its 5 minutes of waiting for the sweep pass while the other faults run.
            pool, running, provider_tally, provider_started = provider_batch(providers)
            with deployed(main_folder, backend="postgresql", seed="demo", postgres_url=deployed_postgres_url(),
                          GATEWAY_QUEUE_URL=main_redis.url, GATEWAY_RATELIMIT_STORAGE_URL=main_redis.url,
                          **common) as main, receiving_callbacks(main):
                faults = [Fault("web worker kill -9", kill_web_workers),
                          Fault("job worker kill -9", kill_job_worker),
                          Fault("pg_terminate_backend loop", terminate_backends),
                          Fault("Redis stopped/started", stop_and_start_redis(main_redis))]
                for fault in faults:
                    rows.append(run_batch(main, fault))
                    print(f"\n{fault.name}: {rows[-1].injected}, recovered in {rows[-1].recovered_in}", flush=True)
            provider_journeys = [f.result() for f in running]
            pool.shutdown()
            last_card = max((j.paid_at for j in provider_journeys if j.paid_at), default=provider_started)
            recovered = settle(providers, provider_journeys, last_card, PROVIDER_SETTLE_BOUND)
            rows.append(Row("provider: late notice, timeout, decline, error", "cards 0259 ×2, 0341 ×3, 0002, 0119",
                            provider_journeys, provider_tally, recovered, invariants(providers, provider_journeys),
                            unhandled_errors(providers)))
    finally:
        main_redis.stop()
        provider_redis.stop()
    rendered = write_matrix(rows, time.monotonic() - began)
    print("\n" + rendered + f"\n\nsettings: {SETTINGS_NOTE}\ntotal {(time.monotonic() - began) / 60:.1f} min",
          flush=True)
    problems = []
    for row in rows:
        c = row.checks
        for journey in row.journeys:
            if journey.error:
                problems.append(f"{row.fault}: journey {journey.label} failed: {journey.error}")
        if row.recovered_in is None:
            problems.append(f"{row.fault}: not settled within the bound")
        for name in ("bills paid twice", "duplicate postings", "postings missing", "bills not paid",
                     "stuck payments", "stuck refunds", "second refunds", "jobs failed", "jobs lost",
                     "callbacks undelivered", "callbacks never received"):
            if c[name]:
                problems.append(f"{row.fault}: {name} = {c[name]}")
        if not c["ledger balanced"]:
            problems.append(f"{row.fault}: the ledger is not balanced")
        if row.tally.statuses[500] or row.server_500s:
            problems.append(f"{row.fault}: HTTP 500 (a defect): {row.tally.server_errors}")
    assert not problems, "\n".join(problems)
