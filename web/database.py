"""One database session per request, committed once at the edge.

Services flush and never commit; ``GatewayFlask.dispatch_request`` commits after the view returns, so a
response is only sent for work that is durable, and any exception rolls everything back.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from web.runtime import Database


def init_app(app: Flask, database: Database) -> Database:
    """Serve requests from ``database`` and close each request's session at teardown."""
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
