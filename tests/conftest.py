"""Shared fixtures: every database test runs on SQLite *and* PostgreSQL, each test in a rolled-back transaction.

``database_url`` is parametrized over both backends at session scope, so pytest runs each database test
twice (ids end in ``[sqlite]`` / ``[postgresql]``) and migrates each backend once with the real Alembic
migrations. Under ``CI=true`` an unreachable PostgreSQL fails the run; locally it is skipped with a loud
banner at the end. The summary prints how many tests passed on each backend.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from core.clock import SYSTEM_CLOCK
from core.db import Base, make_engine, make_session_factory
from core.migrations import upgrade
from core.settings import Settings
from gateway import create_app
from payments.providers import register_provider, registered_providers, unregister_provider
from payments.providers.sandbox import SandboxProvider
from payments.providers.sandbox_store import SandboxStore, sandbox_sessions

#: The headless browser (chromium, page) is one session-wide fixture for every folder that drives one.
pytest_plugins = ["tests.browser_fixtures", "tests.log_scan"]

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")
_passed: Counter[str] = Counter()
_backend_of: dict[str, str] = {}
_pg_problem: list[str] = []


def postgres_url() -> str:
    """Return the PostgreSQL URL the tests use."""
    return os.environ.get("GATEWAY_TEST_DATABASE_URL", DEFAULT_PG_URL)


def reset_postgres(url: str) -> None:
    """Drop everything in the test database's public schema (it belongs to the tests alone)."""
    engine = create_engine(Settings.from_env({}, database_url=url, env="test",
                                             instance_path="/tmp/gateway-test").database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def make_test_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    """Return settings for a test app: memory queue, fixed secret, test mode."""
    values = {"env": "test", "database_url": database_url, "instance_path": str(tmp_path),
              "queue_url": "memory://", "secret_key": "t" * 40, "base_url": "http://localhost"}
    values.update(overrides)
    return Settings.from_env({}, **values)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> str:
    """A migrated database of each backend, shared by the session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    else:
        url = postgres_url()
        try:
            reset_postgres(url)
        except OperationalError as exc:
            reason = f"PostgreSQL at {url} is unreachable: {str(exc).splitlines()[0]}"
            if os.environ.get("CI") == "true":
                pytest.fail(f"{reason} (CI requires PostgreSQL)", pytrace=False)
            _pg_problem.append(reason)
            pytest.skip(reason)
    settings = Settings.from_env({}, database_url=url, env="test", instance_path=str(tmp_path_factory.mktemp("i")))
    upgrade(settings.database_url)
    return settings.database_url


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    """The gateway app on one backend."""
    app = create_app(make_test_settings(tmp_path_factory.mktemp("app"), database_url))
    yield app
    app.extensions["gateway.runtime"].dispose()


@pytest.fixture(scope="module")
def make_app(database_url, tmp_path_factory):
    """Build a separate app (for tests that mount extra routes or change settings) on this backend."""
    built = []

    def build(**overrides):
        built.append(create_app(make_test_settings(tmp_path_factory.mktemp("app"), database_url, **overrides)))
        return built[-1]

    yield build
    for app in built:
        app.extensions["gateway.runtime"].dispose()


@pytest.fixture()
def db(app):
    """A session whose work is rolled back after the test; the app's requests share its transaction."""
    database = app.extensions["gateway.db"]
    connection = database.engine.connect()
    outer = connection.begin()
    database.session_factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    session = database.session_factory()
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()
        database.session_factory.configure(bind=database.engine)


@pytest.fixture()
def client(app, db):
    """A test client whose requests run inside the test's transaction."""
    return app.test_client()


@pytest.fixture()
def committed_db(app):
    """A session factory that really commits (for tests across processes); tables are emptied afterwards."""
    database = app.extensions["gateway.db"]
    yield database.session_factory
    empty_all_tables(database.engine)


def empty_all_tables(engine) -> None:
    """Empty every table. Append-only tables refuse DELETE and TRUNCATE by trigger: PostgreSQL truncates
    as the test superuser past them, SQLite keeps what it may not delete."""
    names = [table.name for table in reversed(Base.metadata.sorted_tables)]
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            truncate_as_the_test_superuser(connection, names)
        return
    for name in names:
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(f"DELETE FROM {name}")
        except DBAPIError:
            continue  # an append-only table: its rows stay, as they would in production


def truncate_as_the_test_superuser(connection, names) -> None:
    """TRUNCATE ``names`` past the append-only tables' TRUNCATE triggers (migration 0019), which a test
    superuser may skip for its transaction (replica mode fires no ordinary trigger); the app cannot."""
    connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
    connection.exec_driver_sql(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")


@pytest.fixture()
def sandbox_store(database_url, tmp_path):
    """The sandbox provider's own store on this backend, empty for this test (it commits for real)."""
    if database_url.startswith("sqlite"):
        store = SandboxStore.for_database(f"sqlite:///{tmp_path / 'gateway.db'}")  # its own file beside it
        yield store
        store.dispose()
        return
    engine = make_engine(database_url)
    store = SandboxStore.for_database(database_url, engine)
    with engine.begin() as connection:  # apps of other tests share the table and commit to it
        connection.execute(sandbox_sessions.delete())
    yield store
    engine.dispose()


@pytest.fixture()
def sandbox(clock, sandbox_store):
    """A fresh sandbox provider registered as ``sandbox``, on the test clock (the package's ``clock`` fixture)."""
    provider = register_provider(SandboxProvider(secret="s" * 32, base_url="https://pay.test", clock=clock,
                                                 store=sandbox_store))
    yield provider
    unregister_provider("sandbox")


@pytest.fixture()
def registered_sandbox(sandbox_store):
    """A sandbox provider registered for this test (other tests may have unregistered the app's own)."""
    previous = registered_providers().get("sandbox")
    provider = register_provider(SandboxProvider(secret="s" * 32, base_url="https://pay.test", clock=SYSTEM_CLOCK,
                                                 store=sandbox_store))
    yield provider
    unregister_provider("sandbox")
    if previous is not None:
        register_provider(previous)


@pytest.fixture()
def fresh_engine(database_url):
    """A separate engine on the test database, for code that manages its own connections."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def session_factory(fresh_engine):
    """A plain session factory on the test database."""
    return make_session_factory(fresh_engine)


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "database_url" in callspec.params:
            _backend_of[item.nodeid] = callspec.params["database_url"]


def pytest_runtest_logreport(report) -> None:
    if report.when == "call" and report.passed:
        _passed[_backend_of.get(report.nodeid, "no database")] += 1


def pytest_terminal_summary(terminalreporter) -> None:
    counts = ", ".join(f"{name}: {_passed[name]} passed" for name in (*BACKENDS, "no database"))
    terminalreporter.write_sep("=", f"database backends: {counts}")
    for problem in _pg_problem:
        terminalreporter.write_sep("!", "POSTGRESQL NOT TESTED", red=True, bold=True)
        terminalreporter.write_line(f"{problem}. Start it or set GATEWAY_TEST_DATABASE_URL.", red=True, bold=True)
