"""A PostgreSQL database of a benchmark's own: created if missing, emptied, migrated."""

from __future__ import annotations

import os
import tempfile

from sqlalchemy import create_engine, make_url, text

from core.migrations import upgrade
from core.settings import Settings


def bench_database(default_name: str) -> str:
    """Return the URL of ``GATEWAY_BENCH_DATABASE_URL`` (default: ``default_name`` on local PostgreSQL), which
    is created when missing."""
    raw = os.environ.get("GATEWAY_BENCH_DATABASE_URL", f"postgresql://postgres@127.0.0.1:5432/{default_name}")
    url = Settings.from_env({}, database_url=raw, env="test", instance_path=tempfile.gettempdir()).database_url
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}):
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return url


def fresh_database(default_name: str) -> str:
    """The benchmark's database (``bench_database``), emptied and migrated."""
    url = bench_database(default_name)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(url)
    return url
