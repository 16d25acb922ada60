"""The database kernel: declarative ``Base`` with named constraints, the UTC datetime type, engines.

Both backends are first-class: PostgreSQL in production and CI, SQLite in the embedded default. SQLite is
configured to behave: foreign keys on, WAL, a busy timeout, and transactions that take the write lock
when they begin, so concurrent writers (web workers, the job worker) queue instead of failing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Engine, Integer, MetaData, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from core.clock import UTC, ensure_utc

#: Every constraint gets a predictable name, so migrations can drop or alter it on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: A 64-bit surrogate key; SQLite auto-increments only a column declared exactly INTEGER.
BigId = BigInteger().with_variant(Integer, "sqlite")


def one_of(column: str, values: Iterable[str]) -> str:
    """Return the SQL of a CHECK that ``column`` holds one of ``values``."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Base(DeclarativeBase):
    """Base class of every mapped model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC; naive datetimes are refused on the way in.

    SQLite has no timezone type and hands back naive values: they were written as UTC, so UTC is attached.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        value = ensure_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(url: str, **options: object) -> Engine:
    """Create an engine for ``url`` with the pragmas and pool settings this project relies on."""
    # Statement parameters are citizens' data (hashes, names, free text): errors never quote them.
    options.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    # Every checkout pings first (one short round trip): a connection the server dropped (a restart, a
    # failover, a firewall's idle timeout) is replaced before use, however recently it was returned.
    options.setdefault("pool_pre_ping", True)
    return create_engine(url, **options)


def _configure_sqlite(dbapi_connection, _record) -> None:
    # pysqlite's own transaction handling is broken for SAVEPOINT; SQLAlchemy emits BEGIN itself (below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin_sqlite(connection) -> None:
    # IMMEDIATE takes the write lock up front. A deferred transaction that read first and writes later
    # fails at once with "database is locked" when another writer committed in between (WAL snapshot
    # rule), and busy_timeout cannot help it; taking the lock first makes writers queue instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory; ``expire_on_commit`` is off so committed objects stay readable."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def postgres_settings(session: Session, **settings: str) -> Iterator[None]:
    """Run the statements inside with PostgreSQL ``settings`` (``work_mem="192MB"``), then restore them.

    A no-op elsewhere. On an error the transaction (or savepoint) rolls back, and the settings with it.
    """
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    before = {name: session.scalar(text("SELECT current_setting(:name)"), {"name": name}) for name in settings}
    for name, value in settings.items():
        session.execute(text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value})
    yield
    for name, value in before.items():
        session.execute(text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value})


def bulk_insert(session: Session, table, rows: list, *, columns: tuple[str, ...] | None = None,
                chunk: int = 10_000) -> None:
    """Insert many rows in the caller's transaction: COPY on PostgreSQL, batched INSERTs elsewhere.

    ``rows`` are dicts, or tuples in the order of ``columns`` (a million tuples are cheaper to build).
    COPY moves a million rows in seconds where row-by-row INSERT statements take minutes; it runs on the
    session's own connection, so the rows commit or roll back with everything else.
    """
    if not rows:
        return
    table = getattr(table, "__table__", table)
    if columns is None:
        columns = tuple(rows[0])
        rows = [tuple(row[c] for c in columns) for row in rows]
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        names = ", ".join(connection.dialect.identifier_preparer.quote(c) for c in columns)
        adapters = [(index, adapter) for index, adapter in enumerate(_copy_adapter(table.c[c].type) for c in columns)
                    if adapter is not None]
        cursor = connection.connection.driver_connection.cursor()
        # psycopg formats each row in C; only instants (UTC, naive refused) and JSON need a Python hand.
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for values in rows:
                if adapters:
                    values = list(values)
                    for index, adapter in adapters:
                        if values[index] is not None:
                            values[index] = adapter(values[index])
                copy.write_row(values)
        return
    for start in range(0, len(rows), chunk):
        session.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows[start:start + chunk]])


def _copy_adapter(column_type):
    """What a value of ``column_type`` goes through before COPY, or None when psycopg takes it as it is."""
    if isinstance(column_type, UTCDateTime):
        return ensure_utc
    if isinstance(column_type, JSON):
        return lambda value: json.dumps(value, ensure_ascii=False)
    return None
