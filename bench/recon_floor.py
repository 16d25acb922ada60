"""PostgreSQL's own floor for the reconciliation benchmark: what any design that keeps the run durable pays.

The gateway keeps three things of a run in PostgreSQL: the provider's lines (finance looks them up by
payment code, payout and day), the run's snapshot of our side (unique by reference, so a run can be
repeated and explained), and one result row per pair (the workbench and the digest read them). This
floor does only that, as cheaply as PostgreSQL allows: both files COPYed as typed columns into fresh logged
tables with no checks or conversion, the same indexes built after the load (cheaper than maintaining them
row by row, which a shared table cannot do), and DuckDB's join and classification written into a logged,
indexed result table. Whatever the gateway adds on top (reading untrusted text, line numbers, the break
register, the digest) comes on top of it, so ``floor / DuckDB`` bounds the ratio any implementation reaches.
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
from sqlalchemy import make_url

SCHEMA = "recon_floor"
_TABLES = f"""
CREATE TABLE {SCHEMA}.lines (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, file_id int NOT NULL DEFAULT 1,
    txn text, created timestamp, available timestamp, currency text, gross bigint, fee bigint, net bigint,
    category text, source text, description text, payout text, code text);
CREATE TABLE {SCHEMA}.items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, run_id int NOT NULL DEFAULT 1,
    reference text, amount bigint, status text, occurred_on date, service_code text);
CREATE TABLE {SCHEMA}.results (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, run_id int NOT NULL DEFAULT 1,
    outcome text, reference text, service_code text, amount bigint);
CREATE INDEX ON {SCHEMA}.results (run_id, outcome);
"""
#: The indexes the gateway's ``report_lines`` and ``recon_items`` carry.
_INDEXES = f"""
CREATE INDEX ON {SCHEMA}.lines (code);
CREATE INDEX ON {SCHEMA}.lines (payout);
CREATE INDEX ON {SCHEMA}.lines (((created + interval '7 hours')::date));
CREATE UNIQUE INDEX ON {SCHEMA}.lines (file_id, id);
CREATE UNIQUE INDEX ON {SCHEMA}.items (run_id, reference);
"""
_CLASSIFY = f"""
INSERT INTO {SCHEMA}.results (outcome, reference, service_code, amount)
WITH lines AS (SELECT code, gross AS amount, created AS at, count(*) OVER (PARTITION BY code) AS per_code
               FROM {SCHEMA}.lines)
SELECT CASE WHEN i.reference IS NULL THEN 'missing_internally'
            WHEN lines.code IS NULL THEN 'missing_at_provider'
            WHEN i.status <> 'succeeded' THEN 'status_mismatch'
            WHEN per_code > 1 THEN 'duplicate_at_provider'
            WHEN lines.amount <> i.amount THEN 'amount_mismatch'
            WHEN (lines.at + interval '7 hours')::date - i.occurred_on > 2 THEN 'date_out_of_window'
            ELSE 'matched' END, coalesce(i.reference, lines.code), i.service_code, i.amount
FROM {SCHEMA}.items i FULL OUTER JOIN lines ON lines.code = i.reference
"""


def durable_floor(url: str, report_path: Path, items_path: Path) -> dict[str, float]:
    """Run the floor on ``url``'s database (in schema ``recon_floor``, reset); return seconds per phase."""
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    timings: dict[str, float] = {}
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        connection.execute(f"CREATE SCHEMA {SCHEMA}")
        connection.execute(_TABLES)
        connection.execute("CHECKPOINT")  # the gateway's tables start from a checkpoint too (fresh database)
        started = time.perf_counter()
        _copy(connection, f"{SCHEMA}.lines (txn, created, available, currency, gross, fee, net, category, source,"
                          " description, payout, code)", report_path)
        _copy(connection, f"{SCHEMA}.items (reference, amount, status, occurred_on, service_code)", items_path)
        connection.execute(_INDEXES)
        timings["load + index"] = time.perf_counter() - started
        started = time.perf_counter()
        connection.execute("SET work_mem = '192MB'")
        connection.execute(_CLASSIFY)
        timings["classify into results"] = time.perf_counter() - started
        started = time.perf_counter()
        connection.execute(f"SELECT service_code, outcome, count(*), sum(amount) FROM {SCHEMA}.results"
                           " GROUP BY 1, 2").fetchall()
        timings["report"] = time.perf_counter() - started
        connection.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
    return timings


def _copy(connection: psycopg.Connection, target: str, path: Path) -> None:
    with connection.cursor().copy(f"COPY {target} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
