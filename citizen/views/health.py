"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.migrations import pending_migrations
from web.database import db_session
from web.security import limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """The process is alive and answering; checks nothing else, so it stays cheap."""
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
def readyz():
    """Ready to serve: the database answers and its schema is at the newest migration."""
    try:
        connection = db_session().connection()
        connection.execute(text("SELECT 1"))
        at_head = not pending_migrations(connection)
    except SQLAlchemyError:
        return jsonify(status="unavailable", database="unreachable", migrations="unknown"), 503
    if not at_head:
        return jsonify(status="unavailable", database="ok", migrations="pending"), 503
    return jsonify(status="ready", database="ok", migrations="head")
