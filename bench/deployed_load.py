"""The create + pay journey under load on the deployed shape, for minutes, next to the path's floor.

The gateway runs as production runs it: `gateway serve` (gunicorn, two threaded workers) and a separate
`gateway worker`, started by the same CLI, on PostgreSQL with Redis (queue and rate limits), seeded by
`gateway seed` as `make run` seeds it. Each journey is what an agency's system and a citizen's browser send:

1. ``POST /api/v1/bills`` by the demo agency (Bearer key, Idempotency-Key) for Lê Minh Châu (HCMC, full fee);
2. ``GET /bills/{id}``, the bill page, by the citizen, logged in at the e-ID stand-in beforehand;
3. ``POST`` the pay form (sandbox card), answered 303 to the sandbox's page;
4. ``GET`` the sandbox page; 5. ``POST`` the card form, answered 303 back to the gateway;
6. ``GET /bills/{id}/return``, where the gateway asks the provider and confirms the payment.

The job worker meanwhile applies the sandbox's notifications and delivers the agency's signed callbacks
(to the demo agency's receiver on the same node). Phases: the peak, closed loop (``USERS`` journeys at a
time for ``PEAK_SECONDS``); then journeys started at half the peak, open loop, for ``BENCH_LOAD_SECONDS``
(default 300), latency counted from each journey's planned start; then every bill must be paid and the
whole database must hold its invariants. Last, in the same run, the floor of ``bench/payments_floor.py``
(the path's own SQL through SQLAlchemy Core) and the payments services alone (``bench/payments_app.py``
``/pay``) under wrk, for the ratios.

Every citizen journey comes from an address of its own (``X-Forwarded-For`` behind one trusted proxy, as
behind a load balancer), since the per-address limit is what one person may send, and the demo agency's
per-client limit is raised to 100,000 a minute: the benchmark is many citizens and one busy agency.
Set GATEWAY_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/bench_deployed; it is reset)
and GATEWAY_BENCH_REDIS_URL (default redis://127.0.0.1:6379/10; it is flushed).
"""

from __future__ import annotations

import itertools
import os
import platform
import queue
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

import requests
from sqlalchemy import func, select, text

from bench.database import bench_database, fresh_database
from bench.http import gunicorn, wrk
from bench.payments import LUA, post
from core.settings import PROJECT_ROOT
from payments.agency_models import CallbackDelivery
from payments.models.billing import Bill
from tests.deployed.forms import form_with_button, log_in_at_stand_in
from tests.deployment import deployed, whole_database_invariants

USERS = int(os.environ.get("BENCH_LOAD_USERS", "8"))
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "2"))  # gunicorn workers of the node (make run: 2)
PEAK_SECONDS = int(os.environ.get("BENCH_PEAK_SECONDS", "30"))
LOAD_SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "300"))
FLOOR_SECONDS = 8
FLOOR_WORKERS = 4
SETTLE_SECONDS = 120
REDIS = os.environ.get("GATEWAY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
DEMO_KEY = "gwk_demo_agency_key_for_local_development_only"
CITIZEN = ("Lê Minh Châu", "079090045678")
CARD = {"card_number": "4242 4242 4242 4242", "expiry": "12/39", "cvc": "123"}
STEPS = ("create bill", "bill page", "pay form", "sandbox page", "card", "return page")
REFERENCE = "LOAD-"
DOC_FILE = PROJECT_ROOT / "docs" / "deployed-load.md"
_addresses = (f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}" for n in itertools.count(1))
_address_lock = threading.Lock()


def next_address() -> str:
    """A client address not used before in this run (one per journey: many citizens, not one)."""
    with _address_lock:
        return next(_addresses)


@dataclass
class Results:
    """What the clients saw: latencies per step (ms), per journey (ms, from the planned start), errors."""

    steps: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in STEPS})
    journeys: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, step: str, milliseconds: float) -> None:
        with self.lock:
            self.steps[step].append(milliseconds)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] += 1

    def requests(self) -> list[float]:
        return sorted(itertools.chain.from_iterable(self.steps.values()))


class Unexpected(Exception):
    """A step answered another status than the journey expects."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class Citizen:
    """A logged-in citizen's browser and the agency's connection it is billed through (one journey at a time)."""

    def __init__(self, base: str):
        self.base, self.browser, self.agency = base, requests.Session(), requests.Session()
        self.address = next_address()
        if not log_in_at_stand_in(self._send_plain, base, CITIZEN[0]):
            raise SystemExit("the citizen could not log in at the e-ID stand-in")

    def _send_plain(self, method: str, url: str, **options) -> requests.Response:
        return self.browser.request(method, url, headers={"X-Forwarded-For": self.address}, timeout=30, **options)

    def journey(self, results: Results) -> None:
        """Create a bill and pay it by sandbox card; record each step's latency, or the step that failed."""
        self.address = next_address()
        step = "create bill"
        try:
            body = {"service_code": "LLTP", "personal_id_number": CITIZEN[1], "return_url": self.base + "/demo/agency",
                    "agency_reference": REFERENCE + uuid.uuid4().hex[:16]}
            headers = {"Authorization": f"Bearer {DEMO_KEY}", "Idempotency-Key": str(uuid.uuid4())}
            answer = self._timed(results, step, self.agency, "POST", self.base + "/api/v1/bills", json=body,
                                 headers=headers)
            self._expect(answer, 201)
            bill = answer.json()["id"]
            step = "bill page"
            page = self._expect(self._timed(results, step, self.browser, "GET", f"{self.base}/bills/{bill}"), 200)
            step = "pay form"
            form, sent = form_with_button(page.text, "Thanh toán")
            started = self._timed(results, step, self.browser, "POST", urljoin(page.url, form.action),
                                  data={**sent, "provider": "sandbox"})
            step = "sandbox page"
            sandbox = self._timed(results, step, self.browser, "GET",
                                  urljoin(page.url, self._expect(started, 303).headers["Location"]))
            step = "card"
            form, sent = form_with_button(self._expect(sandbox, 200).text, "Thanh toán")
            paid = self._timed(results, step, self.browser, "POST", urljoin(sandbox.url, form.action),
                               data={**sent, **CARD})
            step = "return page"
            back = self._timed(results, step, self.browser, "GET",
                               urljoin(sandbox.url, self._expect(paid, 303).headers["Location"]))
            self._expect(back, 200)
        except Unexpected as exc:
            results.error(f"{step}: {exc.status}")
        except (requests.RequestException, AssertionError, KeyError, ValueError) as exc:
            results.error(f"{step}: {type(exc).__name__}")

    def _timed(self, results: Results, step: str, session: requests.Session, method: str, url: str,
               **options) -> requests.Response:
        headers = {"X-Forwarded-For": self.address, **options.pop("headers", {})}
        started = time.perf_counter()
        answer = session.request(method, url, headers=headers, allow_redirects=False, timeout=30, **options)
        results.record(step, (time.perf_counter() - started) * 1000)
        return answer

    @staticmethod
    def _expect(answer: requests.Response, status: int) -> requests.Response:
        if answer.status_code != status:
            raise Unexpected(answer.status_code)
        return answer


def closed_loop(citizens: list[Citizen], seconds: int) -> tuple[float, Results]:
    """Every citizen runs journeys back to back for ``seconds``; return journeys per second and what was seen."""
    results, stop = Results(), time.monotonic() + seconds

    def loop(citizen: Citizen) -> int:
        done = 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            citizen.journey(results)
            results.journeys.append((time.perf_counter() - started) * 1000)
            done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(len(citizens)) as pool:
        total = sum(pool.map(loop, citizens))
    return total / (time.perf_counter() - started), results


def open_loop(citizens: list[Citizen], rate: float, seconds: int) -> tuple[float, Results]:
    """Start journeys at ``rate`` a second for ``seconds`` whatever the answers; a journey waits for a free
    citizen's browser, and that wait counts in its latency (no coordinated omission)."""
    results, idle = Results(), queue.SimpleQueue()
    for citizen in citizens:
        idle.put(citizen)
    count, started = max(1, int(rate * seconds)), time.perf_counter()

    def one(n: int) -> None:
        planned = started + n / rate
        time.sleep(max(0.0, planned - time.perf_counter()))
        citizen = idle.get()
        try:
            citizen.journey(results)
        finally:
            idle.put(citizen)
        with results.lock:
            results.journeys.append((time.perf_counter() - planned) * 1000)

    with ThreadPoolExecutor(len(citizens)) as pool:
        list(pool.map(one, range(count)))
    return count / (time.perf_counter() - started), results


def _cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # it ended meanwhile
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": utime and stime are fields 12 and 13
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pids_named(command: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == command:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def cpu_by_part(deployment) -> dict[str, float]:
    """CPU seconds used so far by each part of the deployed shape and by this client (Linux /proc)."""
    parts = {"web workers": deployment.process("web1").children(),
             "job worker": [deployment.process("worker1").popen.pid],
             "PostgreSQL": _pids_named("postgres"), "Redis": _pids_named("redis-server"), "client": [os.getpid()]}
    return {part: sum(_cpu_seconds(pid) for pid in pids) for part, pids in parts.items()}


def percentile(values: list[float], pct: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * pct / 100))] if values else float("nan")


def settle(deployment, since: float) -> dict[str, object]:
    """Wait until every bill of the run is paid and no job is due; return the whole database's invariants."""
    while True:
        with deployment.session_factory() as session:
            open_bills = session.scalar(select(func.count()).select_from(Bill).where(
                Bill.agency_reference.like(REFERENCE + "%"), Bill.status != "paid"))
            checks = whole_database_invariants(session)
            checks["bills"] = session.scalar(select(func.count()).select_from(Bill).where(
                Bill.agency_reference.like(REFERENCE + "%")))
            callbacks = session.execute(select(CallbackDelivery.status, func.count()).join(
                Bill, CallbackDelivery.bill_id == Bill.id).where(Bill.agency_reference.like(REFERENCE + "%"))
                .group_by(CallbackDelivery.status)).all()
            checks["callbacks"] = dict(callbacks)
        checks["bills not paid"] = open_bills
        undelivered = sum(n for status, n in checks["callbacks"].items() if status != "delivered")
        settled = open_bills == 0 and checks["jobs lost"] == 0 and undelivered == 0
        if settled or time.monotonic() - since > SETTLE_SECONDS:
            checks["settled in s"] = round(time.monotonic() - since, 1)
            return checks
        time.sleep(1)


def raise_agency_limit(deployment) -> None:
    with deployment.session_factory() as session, session.begin():
        session.execute(text("UPDATE api_clients SET rate_limit_per_minute = 100000"))


def flush(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def deployed_run(folder: Path) -> dict[str, object]:
    """Serve the deployed shape, find its peak, hold half of it for LOAD_SECONDS, settle and check."""
    flush(REDIS)
    with deployed(folder, backend="postgresql", seed="demo", postgres_url=bench_database("bench_deployed"),
                  workers=WEB_WORKERS,
                  GATEWAY_QUEUE_URL=REDIS, GATEWAY_RATELIMIT_STORAGE_URL=REDIS,
                  GATEWAY_TRUSTED_PROXIES="1") as deployment:
        raise_agency_limit(deployment)
        citizens = [Citizen(deployment.base_url) for _ in range(USERS)]
        closed_loop(citizens[:2], 5)  # warm-up: every worker has built its app and filled its pools
        before = cpu_by_part(deployment)
        peak, peak_results = closed_loop(citizens, PEAK_SECONDS)
        after = cpu_by_part(deployment)
        cpu = {part: (after[part] - before[part]) * 1000 / max(1, len(peak_results.journeys)) for part in after}
        rate, paced = open_loop(citizens, peak / 2, LOAD_SECONDS)
        checks = settle(deployment, time.monotonic())
        unhandled = len(deployment.failures())
    return {"peak": peak, "peak_results": peak_results, "cpu": cpu, "rate": rate, "paced": paced, "checks": checks,
            "unhandled": unhandled}


def floor_run() -> dict[str, float]:
    """The path's floor and the payments services alone, each under wrk, on a database of their own."""
    url = fresh_database("bench_payments")
    rates = {}
    with gunicorn("bench.payments_app:app", workers=FLOOR_WORKERS, env={"BENCH_PAYMENTS_DB": url}) as base:
        assert post(base + "/pay", "warm-up", "k-warm-up")["status"] == "succeeded"  # creates the ledger accounts
        for path in ("/floor", "/pay", "/floor", "/pay"):  # interleaved, two rounds each
            result = wrk(base + path, seconds=FLOOR_SECONDS, connections=8, script=LUA,
                         script_args=(f"{path[1:]}{len(rates)}-{time.monotonic_ns()}",))
            if result["non_2xx"]:
                raise SystemExit(f"{path} answered {result['non_2xx']} errors")
            rates.setdefault(path, []).append(result["rps"])
    return {path: statistics.mean(values) for path, values in rates.items()}


def report(run: dict[str, object], floor: dict[str, float]) -> list[str]:
    """The run's numbers as lines of text."""
    paced: Results = run["paced"]
    every, checks = paced.requests(), run["checks"]
    out = [
        f"deployed shape: gateway serve ({WEB_WORKERS} gthread workers x 4 threads) + gateway worker, PostgreSQL "
        f"+ Redis; {USERS} citizens' browsers, 6 requests a journey",
        f"  peak (closed loop, {PEAK_SECONDS} s): {run['peak']:.1f} journeys/s = {run['peak'] * len(STEPS):.0f} "
        f"requests/s; errors {sum(run['peak_results'].errors.values())}",
        "  CPU per journey at the peak (ms): " + ", ".join(f"{part} {ms:.1f}" for part, ms in run["cpu"].items())
        + f" (the machine has {os.cpu_count()} cores)",
        f"  half the peak, open loop, {LOAD_SECONDS} s: {run['rate']:.1f} journeys/s, {len(paced.journeys):,} "
        f"journeys, {len(every):,} requests, errors {sum(paced.errors.values())} {dict(paced.errors) or ''}",
        f"  per request: p50 {percentile(every, 50):.1f} ms, p99 {percentile(every, 99):.1f} ms (goal: p99 < 50 ms, "
        f"0 errors); per journey from its planned start: p50 {percentile(paced.journeys, 50):.0f} ms, "
        f"p99 {percentile(paced.journeys, 99):.0f} ms",
        f"  {'step':14} {'p50 ms':>8} {'p99 ms':>8}",
        *(f"  {step:14} {percentile(values, 50):8.1f} {percentile(values, 99):8.1f}"
          for step, values in paced.steps.items()),
        f"  afterwards: {checks['bills']:,} bills, not paid {checks['bills not paid']}, paid twice "
        f"{checks['bills paid twice']}, duplicate postings {checks['duplicate postings']}, ledger balanced "
        f"{checks['ledger balanced']}, jobs failed {checks['jobs failed']}, jobs due {checks['jobs lost']} "
        f"(settled in {checks['settled in s']} s); unhandled errors in the logs {run['unhandled']}",
        f"  agency callbacks signed and delivered by the job worker to the demo agency's receiver on the node: "
        f"{checks['callbacks']}",
        f"  same run, gunicorn {FLOOR_WORKERS} sync workers under wrk: floor (the path's SQL) "
        f"{floor['/floor']:.0f}/s, payments services alone {floor['/pay']:.0f}/s",
        f"  ratios: services / floor {floor['/pay'] / floor['/floor']:.2f} (goal >= 0.80); deployed peak / floor "
        f"{run['peak'] / floor['/floor']:.2f}; deployed peak / services {run['peak'] / floor['/pay']:.2f} "
        "(six HTTP requests, sessions, pages and the job worker on top)",
    ]
    return out


def keep(lines: list[str]) -> None:
    """Write the run's output to docs/deployed-load.md, the record the README points to."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    DOC_FILE.write_text("\n".join([
        "# Load on the deployed shape", "",
        "Written by `bench/deployed_load.py` (`make bench`, or `python -m bench.deployed_load`) after every full "
        "run; do not edit.", "",
        f"- Run: {when}; machine: {os.cpu_count()} cores, shared ({platform.machine()}, Python "
        f"{platform.python_version()}); the load generator runs on the same machine", "",
        "```", *lines, "```", ""]))


def run() -> None:
    with tempfile.TemporaryDirectory() as folder:
        result = deployed_run(Path(folder))
    floor = floor_run()
    lines = report(result, floor)
    print("\n".join(lines))
    if LOAD_SECONDS >= 300:  # a shortened run (BENCH_LOAD_SECONDS) is printed, not kept
        keep(lines)
    checks = result["checks"]
    if (checks["bills not paid"] or checks["bills paid twice"] or checks["duplicate postings"]
            or not checks["ledger balanced"] or checks["jobs failed"]):
        raise SystemExit(f"the deployed run broke an invariant: {checks}")


if __name__ == "__main__":
    run()
