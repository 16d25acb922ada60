"""Bills created and paid per second over HTTP on gunicorn with PostgreSQL and the sandbox provider, next to
three baselines measured in the same run: a bare Flask JSON endpoint, a Flask endpoint issuing the same
INSERTs through SQLAlchemy Core, and pgbench running the same SQL; and a fourth, the floor: the create + pay
path's own statements in its own transactions through SQLAlchemy Core (``bench/payments_floor.py``).

The gateway's HTTP API cannot pay a bill by itself (the citizen pays on the provider's page after e-ID
login), so ``bench/payments_app.py`` (benchmark-only) runs the payments services a paying citizen's
requests run, once per HTTP request with a unique Idempotency-Key. wrk varies the key and body with
``bench/payments.lua``. Afterwards some keys are sent again and SQL checks that no bill was paid twice.
Set GATEWAY_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/bench_payments; it is reset).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from bench.database import fresh_database
from bench.http import ROOT, gunicorn, wrk
from bench.payments_sql import pgbench_script

ROUNDS = 2
SECONDS = 8
WORKERS = 4
CONNECTIONS = 8
LUA = str(ROOT / "bench" / "payments.lua")
ENDPOINTS = (("bare Flask JSON endpoint", "/bare"), ("Flask + same INSERTs (Core)", "/sql"),
             ("create + pay a bill", "/pay"), ("floor: the path's SQL (Core)", "/floor"))
PGBENCH = "pgbench, same SQL"
REPLAYS = 20


def post(url: str, reference: str, key: str) -> dict:
    """POST one create-and-pay request; return the JSON answer."""
    request = urllib.request.Request(url, data=json.dumps({"reference": reference}).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Idempotency-Key": key})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def pgbench(url: str, seconds: int, folder: str) -> dict[str, float]:
    """Run the baseline SQL with pgbench (WORKERS clients); return tps and latency percentiles (ms)."""
    if shutil.which("pgbench") is None:
        raise SystemExit("pgbench is not installed: apt-get install postgresql-client")
    parsed, script = make_url(url), Path(folder) / "paid_bill.sql"
    script.write_text(pgbench_script())
    prefix = Path(folder) / f"pgbench{len(list(Path(folder).glob('pgbench*')))}"
    out = subprocess.run(["pgbench", "-n", "-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
                          "-U", parsed.username or "postgres", "-c", str(WORKERS), "-j", "2", "-T", str(seconds),
                          "-f", str(script), "--log", f"--log-prefix={prefix}", parsed.database],
                         capture_output=True, text=True, check=True, timeout=seconds + 60, cwd=folder).stdout
    tps = float(out.split("tps = ", 1)[1].split()[0])
    latencies = sorted(int(line.split()[2]) / 1000 for log in Path(folder).glob(f"{prefix.name}.*")
                       for line in log.read_text().splitlines())
    return {"rps": tps, "p50_ms": _percentile(latencies, 50), "p99_ms": _percentile(latencies, 99), "non_2xx": 0}


def _percentile(values: list[float], pct: int) -> float:
    return values[min(len(values) - 1, len(values) * pct // 100)] if values else float("nan")


def checks(url: str) -> dict[str, int]:
    """Count what the load wrote: bills, payments, successes, receipts, keys, double payments, ledger sum."""
    queries = {
        "bills": "SELECT count(*) FROM bills WHERE agency_code = 'BENCH'",
        "payments": "SELECT count(*) FROM payments p JOIN bills b ON b.id = p.bill_id WHERE b.agency_code = 'BENCH'",
        "succeeded": "SELECT count(*) FROM payments p JOIN bills b ON b.id = p.bill_id"
                     " WHERE b.agency_code = 'BENCH' AND p.status = 'succeeded'",
        "receipts": "SELECT count(*) FROM receipts WHERE agency_code = 'BENCH' AND status = 'issued'",
        "keys": "SELECT count(*) FROM idempotency_keys WHERE scope = 'client:bench'",
        "bills paid twice": "SELECT count(*) FROM (SELECT bill_id FROM payments GROUP BY bill_id"
                            " HAVING count(*) FILTER (WHERE status = 'succeeded') > 1) AS twice",
        "bills with two attempts": "SELECT count(*) FROM (SELECT p.bill_id FROM payments p JOIN bills b"
                                   " ON b.id = p.bill_id WHERE b.agency_code = 'BENCH' GROUP BY p.bill_id"
                                   " HAVING count(*) > 1) AS twice",
        "ledger sum": "SELECT coalesce(sum(CASE side WHEN 'debit' THEN amount ELSE -amount END), 0)"
                      " FROM ledger_postings",
    }
    engine = create_engine(url)
    with engine.connect() as connection:
        counts = {name: int(connection.scalar(text(sql))) for name, sql in queries.items()}
    engine.dispose()
    return counts


def paced(base: str, rate: float, seconds: int) -> dict[str, float]:
    """Start create-and-pay requests at a fixed ``rate`` (open loop); return the rate and percentiles (ms)."""
    # Threads, so a slow answer never delays the next start; latency counts from the planned start.
    count, started = max(1, int(rate * seconds)), time.perf_counter()

    def one(n: int) -> float:
        planned = started + n / rate
        time.sleep(max(0.0, planned - time.perf_counter()))
        post(base + "/pay", f"paced-{n}", f"k-paced-{n}")
        return (time.perf_counter() - planned) * 1000

    with ThreadPoolExecutor(max_workers=32) as pool:
        latencies = sorted(pool.map(one, range(count)))
    return {"rps": count / (time.perf_counter() - started), "p50_ms": _percentile(latencies, 50),
            "p99_ms": _percentile(latencies, 99), "non_2xx": 0}


def settled_checks(url: str) -> dict[str, int]:
    """The checks once requests wrk abandoned at the end of its run have finished on the server."""
    previous, current = None, checks(url)
    while current != previous:
        time.sleep(0.5)
        previous, current = current, checks(url)
    return current


def measure(base: str, url: str, folder: str) -> dict[str, list[dict[str, float]]]:
    """Interleaved rounds of every endpoint under wrk and of pgbench."""
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _ in ENDPOINTS} | {PGBENCH: []}
    for number in range(ROUNDS):
        for name, path in ENDPOINTS:
            result = wrk(base + path, seconds=SECONDS, connections=CONNECTIONS, script=LUA,
                         script_args=(f"{path[1:]}{number}",))
            if result["non_2xx"]:
                raise SystemExit(f"{name} answered {result['non_2xx']} errors")
            results[name].append(result)
        results[PGBENCH].append(pgbench(url, SECONDS, folder))
    return results


def replay(base: str, url: str) -> int:
    """Send earlier create-and-pay requests again (same key and body); return how many answered differently."""
    engine = create_engine(url)
    with engine.connect() as connection:
        references = connection.scalars(text("SELECT agency_reference FROM bills WHERE agency_reference LIKE 'pay%'"
                                             " ORDER BY id LIMIT :n"), {"n": REPLAYS}).all()
    engine.dispose()
    differing = 0
    for reference in references:
        first, again = (post(base + "/pay", reference, f"k-{reference}") for _ in range(2))
        differing += first != again or first["status"] != "succeeded"
    return differing


def report(results: dict[str, list[dict[str, float]]], light: dict[str, float]) -> dict[str, float]:
    """Print the table with ratios; return the mean rates."""
    rates = {name: statistics.mean(r["rps"] for r in rounds) for name, rounds in results.items()}
    sql_rate, pay_rate = rates[ENDPOINTS[1][0]], rates[ENDPOINTS[2][0]]
    print(f"gunicorn {WORKERS} sync workers, wrk 2 threads x {CONNECTIONS} connections (unique Idempotency-Key "
          f"per request), pgbench {WORKERS} clients; {ROUNDS} interleaved rounds of {SECONDS} s; PostgreSQL")
    print(f"  {'':30} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs SQL endpoint':>16}   rounds")
    for name, rounds in results.items():
        p50 = statistics.mean(r["p50_ms"] for r in rounds)
        p99 = statistics.mean(r["p99_ms"] for r in rounds)
        listed = ", ".join(f"{r['rps']:,.0f}" for r in rounds)
        print(f"  {name:30} {rates[name]:9,.0f} {p50:8.1f} {p99:8.1f} {rates[name] / sql_rate:15.2f}x   {listed}")
    print(f"  create + pay paced at half the peak ({light['rps']:,.1f} req/s, open loop): "
          f"p50 {light['p50_ms']:.1f} ms, p99 {light['p99_ms']:.1f} ms (goal p99 < 50 ms)")
    floor_rate = rates[ENDPOINTS[3][0]]
    print(f"  ratio create+pay / SQL endpoint: {pay_rate / sql_rate:.2f} (goal >= 0.50); "
          f"/ bare Flask: {pay_rate / rates[ENDPOINTS[0][0]]:.2f}; / pgbench: {pay_rate / rates[PGBENCH]:.2f}")
    print(f"  ratio floor / SQL endpoint: {floor_rate / sql_rate:.2f} (the best the path's 25 statements in 8 "
          f"transactions allow); create+pay / floor: {pay_rate / floor_rate:.2f} (what the services add)")
    return {**{name: rate for name, rate in rates.items()}, "light_p99_ms": light["p99_ms"]}


def run() -> dict[str, float]:
    """Reset the database, serve the bench app, measure, check exactly-once; print and return the numbers."""
    url = fresh_database("bench_payments")
    with tempfile.TemporaryDirectory() as folder, \
            gunicorn("bench.payments_app:app", workers=WORKERS, env={"BENCH_PAYMENTS_DB": url}) as base:
        assert post(base + "/pay", "warm-up", "k-warm-up")["status"] == "succeeded"  # creates the ledger accounts
        results = measure(base, url, folder)
        peak = statistics.mean(r["rps"] for r in results[ENDPOINTS[2][0]])
        light = paced(base, peak / 2, SECONDS)
        before = settled_checks(url)
        differing = replay(base, url)
        after = checks(url)
    numbers = report(results, light)
    print(f"  exactly once: {before['bills']:,} bills, {before['payments']:,} payments, {before['succeeded']:,} "
          f"succeeded, {before['receipts']:,} receipts, {before['keys']:,} keys; bills paid twice: "
          f"{after['bills paid twice']}, with two attempts: {after['bills with two attempts']}; "
          f"ledger sum: {after['ledger sum']}; {REPLAYS} replayed keys changed nothing: {before == after}")
    ok = (before == after and differing == 0 and after["bills paid twice"] == 0
          and after["bills with two attempts"] == 0 and after["ledger sum"] == 0
          and len({before[k] for k in ("bills", "payments", "succeeded", "receipts", "keys")}) == 1)
    if not ok:
        raise SystemExit(f"exactly-once check failed: before {before}, after {after}, differing {differing}")
    return {**numbers, "bills": before["bills"]}


if __name__ == "__main__":
    run()
