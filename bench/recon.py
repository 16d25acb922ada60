"""Reconciliation end to end at scale: import, match, classify and report on PostgreSQL, next to DuckDB.

A seeded day of N payments and the provider's report of about N lines (0.5% planted breaks of each kind)
go through the real code: the Stripe reader and importer, the run's snapshot and SQL classification, the
break register, and a totals-by-service report. DuckDB runs the same join and classification over the same
files in the same run, as the baseline, and PostgreSQL's own floor (``bench.recon_floor``: the same join over
the same files COPYed into durable, indexed tables, nothing else), which bounds what any design that keeps
the run in PostgreSQL can reach against DuckDB. Set BENCH_RECON_ROWS (default 1,000,000) and
GATEWAY_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/bench; it is reset).
"""

from __future__ import annotations

import csv
import os
import resource
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import text

from bench.database import fresh_database
from bench.recon_floor import durable_floor
from core.clock import FixedClock
from core.db import make_engine, make_session_factory
from payments.reconciliation.imports import import_report
from payments.reconciliation.service import outcome_counts, reconcile_provider
from payments.reconciliation.synthetic import generate_day

DAY = date(2026, 12, 1)
CLOCK = FixedClock(datetime(2026, 12, 8, tzinfo=UTC))


def run() -> dict[str, float]:
    """Measure and print; return the timings."""
    rows = int(os.environ.get("BENCH_RECON_ROWS", "1000000"))
    url = fresh_database("bench")
    started = time.perf_counter()
    day = generate_day(DAY, rows, breaks_per_kind=rows // 200)
    generated = time.perf_counter() - started
    generation_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as folder:
        report_path, items_path = Path(folder) / "provider.csv", Path(folder) / "items.csv"
        report_path.write_bytes(day.report)
        _write_items(items_path, day.items)
        timings, counts, backend_mib = _gateway(url, day)
        duck = _duckdb(report_path, items_path)
        floor = durable_floor(url, report_path, items_path)
    assert counts == day.expected, f"engine found {counts}, planted {day.expected}"
    total = sum(timings.values())
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{rows:,} payments vs {rows:,}+ provider lines, planted breaks found exactly "
          f"(generation {generated:.1f} s, {generation_mib:,.0f} MiB)")
    for phase, seconds in timings.items():
        print(f"  {phase:34} {seconds:8.2f} s")
    print(f"  {'gateway end to end (PostgreSQL)':34} {total:8.2f} s   peak memory {peak_mib:,.0f} MiB (Python, "
          f"generation included), {backend_mib:,.0f} MiB (PostgreSQL backend)")
    print(f"  {'DuckDB same join + classify':34} {duck:8.2f} s   (baseline, same files)")
    floor_total = sum(floor.values())
    phases = ", ".join(f"{phase} {seconds:.2f} s" for phase, seconds in floor.items())
    print(f"  {'PostgreSQL floor (durable, indexed)':34} {floor_total:8.2f} s   ({phases})")
    print(f"  ratio gateway / DuckDB: {total / duck:.1f}x   goal: under 30 s and within 10x")
    print(f"  ratio PostgreSQL floor / DuckDB: {floor_total / duck:.1f}x (no design keeping the run in PostgreSQL "
          f"goes below it); gateway / floor: {total / floor_total:.1f}x")
    return {**timings, "total": total, "duckdb": duck, "floor": floor_total, "peak_mib": peak_mib,
            "backend_peak_mib": backend_mib}


def _gateway(url: str, day) -> tuple[dict[str, float], dict[str, int], float]:
    engine = make_engine(url, pool_size=1, max_overflow=0)  # one backend, so its peak memory is the run's
    factory = make_session_factory(engine)
    timings: dict[str, float] = {}
    with factory() as session, session.begin():
        started = time.perf_counter()
        import_report(session, day.report, "stripe", filename="provider.csv", imported_by="bench", clock=CLOCK)
        timings["import (COPY, convert, check, store)"] = time.perf_counter() - started
    with factory() as session, session.begin():
        started = time.perf_counter()
        run = reconcile_provider(session, provider="stripe", period_start=DAY, period_end=DAY, items=day.items,
                                 started_by="bench", clock=CLOCK)
        timings["match + classify + breaks"] = time.perf_counter() - started
        counts = outcome_counts(session, run.id)
        started = time.perf_counter()
        session.execute(text("SELECT i.service_code, r.outcome, count(*), sum(r.our_amount) FROM recon_results r "
                             "JOIN recon_items i ON i.id = r.item_id WHERE r.run_id = :r GROUP BY 1, 2"),
                        {"r": run.id}).all()
        timings["report (totals by service)"] = time.perf_counter() - started
        backend_mib = _peak_mib(session.scalar(text("SELECT pg_backend_pid()")))
    engine.dispose()
    return timings, counts, backend_mib


def _peak_mib(pid: int) -> float:
    """Peak resident memory of a local PostgreSQL backend (shared buffers it touched included); 0 if unknown."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0.0)


def _write_items(path: Path, items) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["reference", "amount", "status", "occurred_on", "service_code"])
        writer.writerows((i.reference, i.amount, i.status, i.occurred_on.isoformat(), i.service_code) for i in items)


def _duckdb(report_path: Path, items_path: Path) -> float:
    import duckdb

    started = time.perf_counter()
    connection = duckdb.connect()
    connection.execute(f"CREATE TABLE l AS SELECT * FROM read_csv_auto('{report_path}', all_varchar=true)")
    connection.execute(f"CREATE TABLE i AS SELECT * FROM read_csv_auto('{items_path}')")
    connection.execute("""
        CREATE TABLE r AS
        WITH lines AS (SELECT "payment_metadata[payment_code]" AS code, CAST(gross AS BIGINT) AS amount,
                              CAST(created_utc AS TIMESTAMP) AS at, count(*) OVER (PARTITION BY code) AS per_code
                       FROM l)
        SELECT CASE WHEN i.reference IS NULL THEN 'missing_internally'
                    WHEN lines.code IS NULL THEN 'missing_at_provider'
                    WHEN i.status <> 'succeeded' THEN 'status_mismatch'
                    WHEN per_code > 1 THEN 'duplicate_at_provider'
                    WHEN lines.amount <> i.amount THEN 'amount_mismatch'
                    WHEN date_diff('day', i.occurred_on, CAST(lines.at + INTERVAL 7 HOUR AS DATE)) > 2
                        THEN 'date_out_of_window'
                    ELSE 'matched' END AS outcome, i.service_code, i.amount
        FROM i FULL OUTER JOIN lines ON lines.code = i.reference""")
    connection.execute("SELECT service_code, outcome, count(*), sum(amount) FROM r GROUP BY 1, 2").fetchall()
    connection.close()
    return time.perf_counter() - started


if __name__ == "__main__":
    run()
