"""Fixtures for the payments tests: a fixed clock, bill factories, and clean-up after committed work."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from core.clock import FixedClock
from core.db import make_engine, make_session_factory
from core.migrations import upgrade
from tests.conftest import truncate_as_the_test_superuser
from tests.payments.providers.fake_stripe import serving

#: Every table of the payments package, children first, for TRUNCATE after tests that really commit.
PAYMENTS_TABLES = ("receipts", "receipt_counters", "refund_events", "refunds", "ledger_payout_tags",
                   "ledger_closed_days", "ledger_postings", "ledger_transactions", "ledger_accounts", "payment_events",
                   "provider_events", "idempotency_keys", "payments", "bill_events", "bills")


@pytest.fixture()
def clock() -> FixedClock:
    """A clock standing at 10:00 in Hà Nội on 2 March 2026."""
    return FixedClock(datetime(2026, 3, 2, 3, 0, tzinfo=UTC))


@pytest.fixture()
def postgres_only(database_url):
    """Skip on SQLite: the test needs PostgreSQL's concurrency or its triggers."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (concurrent writers, row locks or ledger triggers)")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file that committing tests copy, so each starts from an empty database."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture()
def committing(database_url, sqlite_template, tmp_path):
    """A session factory that really commits, on an empty database of this test's backend.

    PostgreSQL: the shared test database, emptied with TRUNCATE afterwards (the ledger refuses DELETE,
    as it should). SQLite: a private copy of a migrated file, so nothing leaks into other tests.
    """
    if database_url.startswith("sqlite"):
        copy = tmp_path / "committing.db"
        shutil.copy(sqlite_template, copy)
        database_url = f"sqlite:///{copy}"
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            # A committed run leaves its breaks (cascaded from recon_runs) and its items and results (no
            # foreign keys since migration 0013, so named here).
            truncate_as_the_test_superuser(connection, [*PAYMENTS_TABLES, "outbox_jobs", "recon_runs",
                                                        "recon_items", "recon_results"])
    engine.dispose()


@pytest.fixture()
def fake():
    """A local fake of the Stripe endpoints we use (never the internet)."""
    with serving() as server:
        yield server


@pytest.fixture()
def private_database(database_url, tmp_path):
    """An empty database of this backend for migrating by hand: a new SQLite file, or a PostgreSQL schema."""
    if database_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path / 'quote_id.db'}")
        with engine.connect() as connection:
            yield connection
        engine.dispose()
        return
    schema = f"migration_{uuid.uuid4().hex[:12]}"
    engine = make_engine(database_url)
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        connection.execute(text(f'SET search_path TO "{schema}"'))
        connection.commit()
        try:
            yield connection
        finally:
            connection.rollback()
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            connection.commit()
    engine.dispose()
