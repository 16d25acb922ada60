"""The deployed-shape tier: the gateway started exactly as `make run` and production start it.

Every test here talks to real processes (`gateway serve` with two gunicorn workers, `gateway worker`) over
loopback, on SQLite with the SQLite queue (the embedded default) and on PostgreSQL with Redis (production).
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests.conftest import postgres_url
from tests.deployment import REDIS_URL, deployed

pytestmark = pytest.mark.slow


def deployed_postgres_url() -> str:
    """A database of its own on the tests' PostgreSQL server (created when missing)."""
    url = make_url(postgres_url()).set(database=make_url(postgres_url()).database + "_deployed")
    server = create_engine(make_url(postgres_url()).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": url.database})
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        server.dispose()
    return url.render_as_string(hide_password=False)


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def require_production_parts() -> str:
    """The PostgreSQL URL for the production shape; under CI a missing PostgreSQL or Redis fails the run."""
    try:
        url = deployed_postgres_url()
    except OperationalError as exc:
        reason = f"PostgreSQL unreachable: {str(exc).splitlines()[0]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    if not _redis_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis unreachable at {REDIS_URL}", pytrace=False)
        pytest.skip(f"Redis unreachable at {REDIS_URL}")
    return url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shape(request, tmp_path_factory):
    """The demo data of `make run`, served by one node of two gunicorn workers and one job worker.

    Refunds above 100,000 đ need a second person here, so the demo bills' refunds go through approval.
    """
    postgres = require_production_parts() if request.param == "postgresql" else None
    with deployed(tmp_path_factory.mktemp(f"deployed-{request.param}"), backend=request.param, seed="demo",
                  postgres_url=postgres, GATEWAY_REFUND_APPROVAL_THRESHOLD="100000") as deployment:
        yield deployment
        failures = deployment.failures()
    assert not failures, f"failed requests or jobs: {failures}"
