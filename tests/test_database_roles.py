"""On PostgreSQL the app connects as a role that owns nothing: it cannot TRUNCATE the ledger or switch its
triggers off, and the owner cannot TRUNCATE the append-only tables either (issue 17).

The probe that found it: ``TRUNCATE ledger_postings`` succeeded and wiped the ledger, and the app, a
superuser, could have disabled the ledger's triggers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, ProgrammingError

from core.db import make_engine
from core.migrations import is_superuser
from core.settings import PROJECT_ROOT
from tests.conftest import postgres_url

OWNER, APP = "gateway_owner_test", "gateway_app_test"


@pytest.fixture(scope="module")
def split_roles():
    """A new database owned by OWNER, migrated by ``gateway migrate`` as OWNER for APP; yields both URLs."""
    server_url = make_url(postgres_url()).set(drivername="postgresql+psycopg")
    name = f"roles_{uuid.uuid4().hex[:8]}"
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            for role in (OWNER, APP):
                if not connection.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}):
                    connection.execute(text(f"CREATE ROLE {role} LOGIN"))
            connection.execute(text(f"CREATE DATABASE {name} OWNER {OWNER}"))
    except DBAPIError as exc:
        pytest.fail(f"PostgreSQL at {server_url.render_as_string()} is needed: {exc}", pytrace=False)
    owner_url = server_url.set(username=OWNER, password=None, database=name).render_as_string(hide_password=False)
    app_url = server_url.set(username=APP, password=None, database=name).render_as_string(hide_password=False)
    # PostgreSQL 15 gives CREATE on public to its owner only; the database owner gets the schema too.
    inside = create_engine(server_url.set(database=name), isolation_level="AUTOCOMMIT")
    with inside.connect() as connection:
        connection.execute(text(f"ALTER SCHEMA public OWNER TO {OWNER}"))
    inside.dispose()
    migrated = subprocess.run([sys.executable, "-m", "gateway", "migrate"], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=300,
                              env={**os.environ, "GATEWAY_DATABASE_URL": app_url, "GATEWAY_MIGRATION_DATABASE_URL":
                                   owner_url, "GATEWAY_ENV": "development", "GATEWAY_LOG_LEVEL": "WARNING"})
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    assert f"role {APP} may read and write rows" in migrated.stdout
    yield owner_url, app_url
    with server.connect() as connection:
        connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    server.dispose()


def _refused(url: str, statement: str) -> str:
    engine = make_engine(url)
    try:
        with pytest.raises(DBAPIError) as refused, engine.begin() as connection:
            connection.execute(text(statement))
        return str(refused.value.orig)
    finally:
        engine.dispose()


def test_the_app_role_cannot_truncate_the_ledger_or_switch_its_triggers_off(split_roles):
    _, app_url = split_roles
    assert "permission denied" in _refused(app_url, "TRUNCATE ledger_postings")
    assert "must be owner" in _refused(app_url, "ALTER TABLE ledger_postings DISABLE TRIGGER ALL")
    assert "must be owner" in _refused(app_url, "DROP TABLE audit_events")
    engine = make_engine(app_url)
    try:
        assert not is_superuser(engine)
    finally:
        engine.dispose()


def test_even_the_owner_cannot_truncate_an_append_only_table(split_roles):
    owner_url, _ = split_roles
    for table in ("ledger_postings", "ledger_transactions", "audit_events", "rule_versions"):
        assert "append-only: TRUNCATE refused" in _refused(owner_url, f"TRUNCATE {table} CASCADE")
    assert "append-only: TRUNCATE refused" in _refused(owner_url, "TRUNCATE ledger_accounts CASCADE")


def test_the_app_role_does_its_work_seeding_and_serving_a_quote(split_roles):
    _, app_url = split_roles
    env = {**os.environ, "GATEWAY_DATABASE_URL": app_url, "GATEWAY_ENV": "development",
           "GATEWAY_LOG_LEVEL": "WARNING"}
    seeded = subprocess.run([sys.executable, "-m", "gateway", "seed"], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=300, env=env)
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    engine = make_engine(app_url)
    try:
        with engine.begin() as connection:
            assert connection.scalar(text("SELECT count(*) FROM provinces")) == 34
            with pytest.raises(ProgrammingError):  # but it may not change the schema
                connection.execute(text("CREATE TABLE app_made (id int)"))
    finally:
        engine.dispose()
