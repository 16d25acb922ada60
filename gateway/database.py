"""One database session per request, committed once at the edge.

Services flush and never commit; ``GatewayFlask.dispatch_request`` commits after the view returns, so a
response is only sent for work that is durable, and any exception rolls everything back.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_session_factory
from core.settings import Settings


@dataclass
class Database:
    """The engine and session factory of one app."""

    engine: Engine
    session_factory: sessionmaker[Session]


def init_app(app: Flask, settings: Settings) -> Database:
    """Create the engine and session factory, and close each request's session at teardown."""
    engine = make_engine(settings.database_url)
    database = Database(engine, make_session_factory(engine))
    app.extensions["gateway.db"] = database
    app.teardown_appcontext(_close_session)
    return database


def get_database(app: Flask | None = None) -> Database:
    """Return the app's database."""
    return (app or current_app).extensions["gateway.db"]


def db_session() -> Session:
    """Return this request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = get_database().session_factory()
    return g.db_session


def commit_request_session() -> None:
    """Commit the request's session if the request used one."""
    session = g.get("db_session")
    if session is not None:
        session.commit()


def _close_session(_exc: BaseException | None) -> None:
    # Closing rolls back whatever was not committed: a failed request leaves nothing half-written.
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
