"""Finance reports from the ledger at scale: the one query behind every cut, next to a bare SUM over the same postings.

A ledger of N collections (a quarter of them subsidised, 1 % refunded, half placed in provider payouts by an
imported report) spread over DAYS Vietnamese days is written with plain SQL, then ``collections()`` (every
cut's rows, the payout look-up included) is timed for a 7-day and a 31-day period and compared with the
cheapest possible answer: one ``SUM`` over the period's postings. Set BENCH_REPORT_ROWS (default 1,000,000),
BENCH_REPORT_DAYS (default 365) and GATEWAY_BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/bench_reports; it is reset).
"""

from __future__ import annotations

import os
import time
from datetime import date, timedelta
from functools import partial

from sqlalchemy import text

from bench.database import fresh_database
from core.db import make_engine, make_session_factory
from payments.reporting.collections import CUTS, collections

FIRST_DAY = date(2026, 9, 1)
_BASELINE = text("""
SELECT coalesce(sum(p.amount), 0) FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id
WHERE t.effective_date BETWEEN :first AND :last
""")


def run() -> dict[str, float]:
    """Measure and print; return the timings."""
    rows, days = int(os.environ.get("BENCH_REPORT_ROWS", "1000000")), int(os.environ.get("BENCH_REPORT_DAYS", "365"))
    url = fresh_database("bench_reports")
    engine = make_engine(url)
    started = time.perf_counter()
    with engine.begin() as connection:
        _generate(connection, rows, days)
    print(f"{rows:,} collections over {days} days written in {time.perf_counter() - started:.1f} s")
    factory = make_session_factory(engine)
    results = {}
    last = FIRST_DAY + timedelta(days=days - 1)
    for span in (7, 31):
        first = last - timedelta(days=span - 1)
        with factory() as session:
            report, report_s = _best_of(3, partial(collections, session, first, last))
            _, baseline_s = _best_of(3, partial(session.scalar, _BASELINE, {"first": first, "last": last}))
            for cut in CUTS:
                assert sum(line.totals.net for line in report.cut(cut)) == report.totals.net
            plan = "\n".join(session.scalars(text("EXPLAIN " + _compiled(session, first, last))))
        indexed = "ix_ledger_transactions_effective_date" in plan
        print(f"  {span:2}-day period: {report.totals.count:,} collections, {len(report.movements):,} rows; "
              f"report {report_s * 1000:7.0f} ms, bare SUM {baseline_s * 1000:6.0f} ms, "
              f"ratio {report_s / baseline_s:.1f}x, effective-date index used: {indexed}")
        results[f"report_{span}d_s"], results[f"baseline_{span}d_s"] = report_s, baseline_s
    engine.dispose()
    return results


def _best_of(times: int, work):
    best, result = float("inf"), None
    for _ in range(times):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return result, best


def _compiled(session, first: date, last: date) -> str:
    from payments.reporting.movements import _postings

    query = _postings(first, last)
    return str(query.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))


def _generate(connection, rows: int, days: int) -> None:
    # Triggers (the ledger's balance check) are off while writing: every transaction below balances by construction.
    connection.execute(text("SET session_replication_role = replica"))
    params = {"n": rows, "days": days, "first": FIRST_DAY}
    for statement in _GENERATE:
        connection.execute(text(statement), params)
    connection.execute(text("SET session_replication_role = origin"))
    connection.execute(text("ANALYZE"))


_GENERATE = (
    """INSERT INTO ledger_accounts (id, code, kind, currency, created_at)
       SELECT row_number() OVER (), code, kind, 'VND', now() FROM (
         SELECT 'clearing:' || p AS code, 'asset' AS kind FROM unnest(ARRAY['stripe', 'vnpay', 'vietqr']) p
         UNION ALL SELECT 'subsidy_receivable' || ':' || 'P' || g, 'asset' FROM generate_series(0, 1) g
         UNION ALL SELECT 'budget_payable' || ':' || 'A' || g, 'liability' FROM generate_series(0, 9) g
         UNION ALL SELECT 'fee_retained' || ':' || 'A' || (g % 10) || ':' || 'S' || g, 'revenue'
                   FROM generate_series(0, 19) g
         UNION ALL SELECT 'refunds_payable', 'liability') accounts""",
    """CREATE TEMP TABLE gen AS
       SELECT i, (:first + (i % :days)) AS day, 'S' || (i % 20) AS service, 'A' || (i % 10) AS agency,
              (ARRAY['stripe', 'vnpay', 'vietqr'])[1 + i % 3] AS provider, 10000 + (i % 50) * 1000 AS base,
              CASE WHEN i % 4 = 0 THEN (5000 + (i % 50) * 500) ELSE 0 END AS subsidy
       FROM generate_series(1, :n) i""",
    """INSERT INTO bills (id, public_id, payer_id_hash, service_code, quantity, amount_due, currency, base_amount,
                          subsidy_lines, explanation, rule_set_hash, quoted_at, fee_kind, retained_basis_points,
                          agency_code, agency_reference, description, status, paid_at, created_at, updated_at)
       SELECT i, 'B' || i, 'payer', service, 1, base - subsidy, 'VND', base, '[]', '{}', 'r', day, 'phi', 1000,
              agency, 'R' || i, '', 'paid', day, day, day FROM gen""",
    """INSERT INTO payments (id, public_id, bill_id, provider, status, amount, currency, refunded_amount,
                             created_at, expires_at, updated_at, finished_at)
       SELECT i, 'GW' || lpad(i::text, 10, '0'), i, provider, 'succeeded', base - subsidy, 'VND', 0, day, day, day,
              day FROM gen""",
    """INSERT INTO ledger_transactions (id, source, external_id, kind, description, effective_date, posted_at,
                                        bill_id, payment_id)
       SELECT i, 'payments', 'bill:' || i, 'payment_captured', '', day, day, i, i FROM gen
       UNION ALL
       SELECT :n + i, 'refunds', 'refund:' || i, 'refund_approved', '', day + 1, day + 1, i, i FROM gen
       WHERE i % 100 = 7""",
    # Postings stored next to their transaction's other postings, in posting order, as ``ledger.post`` writes them.
    """INSERT INTO ledger_postings (transaction_id, account_id, side, amount, currency)
       SELECT leg.transaction_id, a.id, leg.side, leg.amount, 'VND'
       FROM gen CROSS JOIN LATERAL (VALUES
         (i, 'clearing' || ':' || provider, 'debit', base - subsidy),
         (i, 'subsidy_receivable' || ':' || 'P' || (i % 2), 'debit', subsidy),
         (i, 'budget_payable' || ':' || agency, 'credit', base - base / 10),
         (i, 'fee_retained' || ':' || agency || ':' || service, 'credit', base / 10),
         (CASE WHEN i % 100 = 7 THEN :n + i END, 'budget_payable' || ':' || agency, 'debit', 1000),
         (CASE WHEN i % 100 = 7 THEN :n + i END, 'refunds_payable', 'credit', 1000)
       ) AS leg (transaction_id, code, side, amount)
       JOIN ledger_accounts a ON a.code = leg.code
       WHERE leg.amount > 0 AND leg.transaction_id IS NOT NULL
       ORDER BY leg.transaction_id""",
    """INSERT INTO report_files (id, format, sha256, filename, size, content, imported_at, imported_by, line_count)
       VALUES (1, 'stripe_payout_reconciliation', repeat('0', 64), 'payouts.csv', 0, '', now(), 'bench', 0)""",
    """INSERT INTO report_lines (file_id, kind, statement_index, row, booked_on, amount, fee, net, currency,
                                 description, payment_code, provider_reference, payout_id, category, reversal)
       SELECT 1, 'provider', -1, i, day, base - subsidy, 0, base - subsidy, 'VND', '', 'GW' || lpad(i::text, 10, '0'),
              'txn_' || i, 'po_' || provider || '_' || day, 'charge', false FROM gen WHERE i % 2 = 0""",
)


if __name__ == "__main__":
    run()
