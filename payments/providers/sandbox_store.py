"""The sandbox provider's own database: one row per hosted session, shared by every worker and node.

The sandbox stands in for an acquirer, so its sessions live where a real provider keeps them: outside
the gateway's tables and transactions. Only this store reads or writes ``sandbox_sessions``; services
never do (they learn a session's state from the provider's answers, as with any rail).

On PostgreSQL the table sits in the gateway's database, reached through connections of its own. On
SQLite it sits in a file of its own next to the gateway's: SQLite has one writer per file and the
gateway's transactions take the write lock up front (``BEGIN IMMEDIATE``), so a provider call made
while a gateway transaction is open would otherwise wait for that same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from core.db import UTCDateTime, make_engine

log = logging.getLogger(__name__)
metadata = MetaData()

sandbox_sessions = Table(
    "sandbox_sessions", metadata,
    Column("session_id", String(40), primary_key=True),
    # A digest of the whole SessionRequest: the same idempotency key must come with the same request.
    Column("request_digest", String(64), nullable=False),
    Column("reference", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("failure_code", String(40)),
    Column("payment_ref", String(64)),
    Column("query_timeouts", Integer, nullable=False, default=0),
    Column("events", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)


@dataclass
class SessionRow:
    """One sandbox session as stored; the provider changes it inside ``SandboxStore.changing``."""

    session_id: str
    request_digest: str
    reference: str
    amount: int
    currency: str
    expires_at: datetime
    status: str
    failure_code: str | None
    payment_ref: str | None
    query_timeouts: int
    events: int
    created_at: datetime
    updated_at: datetime


_COLUMNS = tuple(field.name for field in fields(SessionRow))
# Built once: a payment reads or changes its session four times (the SQL's cache key is computed once too).
_INSERT = insert(sandbox_sessions)
_SELECT = select(*(sandbox_sessions.c[name] for name in _COLUMNS)).where(
    sandbox_sessions.c.session_id == bindparam("session_id"))
_SELECT_FOR_UPDATE = _SELECT.with_for_update()
#: The columns to set are the parameters of each call besides ``row_id``.
_UPDATE = update(sandbox_sessions).where(sandbox_sessions.c.session_id == bindparam("row_id"))


def sandbox_database_url(database_url: str) -> str:
    """Where the sandbox keeps its sessions for a gateway on ``database_url`` (see the module docstring)."""
    if not database_url.startswith("sqlite:///"):
        return database_url
    path = Path(database_url.removeprefix("sqlite:///"))
    return f"sqlite:///{path.with_name(path.stem + '-sandbox' + path.suffix)}"


class SessionMissing(LookupError):
    """No sandbox session has this id."""


class SandboxStore:
    """Atomic reads and changes of sandbox sessions, each in a short transaction of its own."""

    def __init__(self, engine: Engine, *, owns_engine: bool = True):
        self._engine = engine
        self._owns_engine = owns_engine

    @classmethod
    def for_database(cls, database_url: str, engine: Engine | None = None) -> SandboxStore:
        """The store of a gateway on ``database_url`` (reusing its ``engine`` where they share a database)."""
        url = sandbox_database_url(database_url)
        if engine is not None and url == database_url:
            store = cls(engine, owns_engine=False)
        else:
            store = cls(make_engine(url))
        try:
            store.create_schema()
        except SQLAlchemyError as exc:
            # The database is down, or another process is creating the table this instant: start anyway
            # (``gateway migrate`` creates it, and a page that needs it answers 503 until it is there).
            log.warning("sandbox sessions table not checked at start-up", extra={"error_type": type(exc).__name__})
        return store

    @property
    def engine(self) -> Engine:
        """The stand-ins' database, which the VNPay simulator's store shares."""
        return self._engine

    def create_schema(self) -> None:
        """Create the stand-ins' tables unless they exist (idempotent; ``gateway migrate`` calls it too)."""
        from payments.providers import vnpay_simulator_store  # noqa: F401  its tables are in this metadata

        metadata.create_all(self._engine, checkfirst=True)

    def dispose(self) -> None:
        """Close the store's connections (unless it borrowed the gateway's engine)."""
        if self._owns_engine:
            self._engine.dispose()

    def insert_or_get(self, row: SessionRow) -> SessionRow:
        """Store ``row`` unless a session with its id exists; return what is stored."""
        try:
            with self._engine.begin() as connection:
                connection.execute(_INSERT, vars(row))
            return row
        except IntegrityError:  # opened before (a retry) or by another worker at the same moment
            return self.get(row.session_id)

    def get(self, session_id: str) -> SessionRow:
        """Return the session, or raise ``SessionMissing``."""
        with self._engine.connect() as connection:
            return self._read(connection, session_id, lock=False)

    @contextmanager
    def changing(self, session_id: str, now: datetime) -> Iterator[SessionRow]:
        """Lock the session, let the caller change the row it yields, and write it back on success."""
        with self._engine.begin() as connection:
            row = self._read(connection, session_id, lock=True)
            before = vars(row).copy()
            yield row
            if vars(row) != before:
                row.updated_at = now
                values = {name: getattr(row, name) for name in _COLUMNS if name != "session_id"}
                connection.execute(_UPDATE, {"row_id": session_id, **values})

    def count(self) -> int:
        """How many sessions were ever opened."""
        with self._engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(sandbox_sessions))

    @staticmethod
    def _read(connection, session_id: str, *, lock: bool) -> SessionRow:
        # SQLite's BEGIN IMMEDIATE already serialises writers (and it has no FOR UPDATE).
        query = _SELECT_FOR_UPDATE if lock and connection.dialect.name == "postgresql" else _SELECT
        found = connection.execute(query, {"session_id": session_id}).one_or_none()
        if found is None:
            raise SessionMissing(session_id)
        return SessionRow(**found._mapping)
