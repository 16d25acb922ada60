"""Alembic, driven from code: upgrade to head, and tell whether a database is at head."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, make_url, text

from core.settings import PROJECT_ROOT

MIGRATIONS_PATH = PROJECT_ROOT / "migrations"


def alembic_config(database_url: str) -> Config:
    """Return an Alembic config pointing at our migrations and ``database_url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_PATH))
    # Alembic's config is ConfigParser-based: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Apply every pending migration up to ``revision`` (default: every head, should branches exist)."""
    command.upgrade(alembic_config(database_url), revision)


@cache
def head_revisions() -> frozenset[str]:
    """Return the revision ids at the head of the migration scripts (they do not change while running)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current_revisions(bind: Engine | Connection) -> set[str]:
    """Return the revision ids the database says it is at (empty for a new database)."""
    if isinstance(bind, Connection):
        return set(MigrationContext.configure(bind).get_current_heads())
    with bind.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def pending_migrations(bind: Engine | Connection) -> bool:
    """True when the database is not at the head revision."""
    return current_revisions(bind) != head_revisions()


def app_role(app_url: str, owner_url: str) -> str | None:
    """The PostgreSQL role the app connects as, when it is not the schema owner's; else None."""
    app, owner = make_url(app_url), make_url(owner_url)
    if app.get_backend_name() != "postgresql" or app.username in (None, owner.username):
        return None
    return app.username


def grant_app_role(owner: Engine, role: str) -> None:
    """Let ``role`` read and write rows of every table and use every sequence, and nothing more.

    Not owning the tables, it cannot ALTER or DROP them, switch their triggers off or TRUNCATE them (no
    TRUNCATE privilege is granted); the append-only triggers still refuse its UPDATEs and DELETEs.
    """
    quoted = owner.dialect.identifier_preparer.quote(role)
    with owner.begin() as connection:
        connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
        connection.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"))
        connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"))


def is_superuser(bind: Engine) -> bool:
    """True when ``bind`` connects to PostgreSQL as a superuser (who could switch any trigger off)."""
    if bind.dialect.name != "postgresql":
        return False
    with bind.connect() as connection:
        return connection.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) is True
