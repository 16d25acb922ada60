"""Operator commands: ``python -m gateway migrate|seed|serve|worker|relay|check-config``.

Configuration errors end the command with one line naming the variable and exit status 2, never a
traceback, because this is the first thing a newcomer or an operator sees.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys

import click

from core.db import make_engine, make_session_factory
from core.migrations import app_role, grant_app_role, is_superuser, pending_migrations, upgrade
from core.settings import Settings, SettingsError


def _settings() -> Settings:
    return Settings.from_env()


@click.group()
def cli() -> None:
    """Operate the city payment gateway."""


@cli.command()
def migrate() -> None:
    """Bring the database schema to the newest migration."""
    from payments.providers.sandbox_store import SandboxStore

    settings = _settings()
    owner_url = settings.migration_database_url
    upgrade(owner_url)
    if settings.sandbox_enabled or settings.vnpay_simulated:
        SandboxStore.for_database(owner_url).dispose()  # the stand-in providers' own tables
    role = app_role(settings.database_url, owner_url)
    if role is not None:
        owner = make_engine(owner_url)
        grant_app_role(owner, role)
        owner.dispose()
        click.echo(f"role {role} may read and write rows, and owns nothing")
    click.echo("database schema is up to date")


@cli.command()
def seed() -> None:
    """Load reference and demo data; running it twice changes nothing."""
    from gateway.seed import seed_all

    settings = _settings()
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session, session.begin():
        added = seed_all(session)
    for label, count in added.items():
        click.echo(f"seed: {label}: {count} added")


@cli.command("check-config")
def check_config() -> None:
    """Validate the configuration and print it, secrets hidden."""
    for name, value in _settings().display().items():
        click.echo(f"{name}={value}")


@cli.command()
@click.option("--bind", default=lambda: f"127.0.0.1:{os.environ.get('PORT', '8000')}", show_default="127.0.0.1:$PORT")
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes")
@click.option("--threads", default=4, show_default=True, help="request threads per worker (gthread)")
def serve(bind: str, workers: int, threads: int) -> None:
    """Check configuration and schema, then replace this process with gunicorn serving wsgi:app."""
    settings = _settings()
    engine = make_engine(settings.database_url)
    if pending_migrations(engine):
        raise click.ClickException("the database has pending migrations; run `python -m gateway migrate` first")
    if settings.env == "production" and is_superuser(engine):
        raise click.ClickException("GATEWAY_DATABASE_URL connects as a PostgreSQL superuser, who can switch the "
                                   "ledger's triggers off: connect as a role that owns nothing and migrate with "
                                   "GATEWAY_MIGRATION_DATABASE_URL (see README, Configuration)")
    engine.dispose()
    _build_app_once()
    gunicorn = shutil.which("gunicorn") or os.path.join(os.path.dirname(sys.executable), "gunicorn")
    args = [gunicorn, "wsgi:app", "--bind", bind, "--workers", str(workers), "--threads", str(threads),
            "--config", "python:gateway.gunicorn_conf", "--forwarded-allow-ips", "127.0.0.1"]
    click.echo(f"serving on http://{bind}")
    os.execv(gunicorn, args)


def _build_app_once() -> None:
    """Build the app as gunicorn will, so a bad key or provider setting fails here in one line, not per worker."""
    from gateway.app import StartupRefused, create_app

    try:
        app = create_app()
    except StartupRefused as exc:
        raise click.ClickException(str(exc)) from None
    app.extensions["gateway.runtime"].dispose()


@cli.command()
@click.option("--threads", default=4, show_default=True, help="jobs run at once (most wait on the network)")
def worker(threads: int) -> None:
    """Run the background job worker (Huey consumer) in the foreground, wired exactly as the web app."""
    from web.jobs import run_worker
    from web.logs import configure_logging
    from web.runtime import build_runtime

    settings = _settings()
    configure_logging(settings.log_level, settings.secret_values())
    runtime = build_runtime(settings)
    logging.getLogger("gateway.worker").info("worker starting", extra={
        "providers": sorted(runtime.providers), "threads": threads})
    run_worker(runtime.queue, threads)


@cli.command()
def relay() -> None:
    """Re-send outbox jobs that were lost between a commit and the queue (normally periodic)."""
    from web.runtime import build_runtime

    runtime = build_runtime(_settings())
    click.echo(f"re-sent {runtime.queue.relay()} jobs")
    runtime.dispose()


@cli.command("create-admin")
@click.option("--subject", required=True, help="the staff member's `sub` at the workforce identity provider")
@click.option("--name", default="", help="display name until their first login brings the real one")
@click.option("--issuer", default=None, help="workforce issuer (default: GATEWAY_STAFF_OIDC_ISSUER or the stand-in)")
def create_admin(subject: str, name: str, issuer: str | None) -> None:
    """Make a staff member a system admin (the first admin; later ones are named in the back office)."""
    from identity.staff import create_admin as make_admin
    from web.identity_runtime import DEV_IDP_PATH

    settings = _settings()
    issuer = issuer or settings.staff_oidc_issuer or settings.base_url + DEV_IDP_PATH
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session, session.begin():
        account, changed = make_admin(session, issuer=issuer, subject=subject, display_name=name or subject)
        account_id = account.id
    state = "is now" if changed else "was already"
    click.echo(f"staff account {account_id} ({subject} at {issuer}) {state} a system admin")


@cli.command("purge-identity")
def purge_identity() -> None:
    """Delete expired login flows, spent stand-in codes and long-ended sessions (run daily)."""
    from identity.housekeeping import purge_expired

    settings = _settings()
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session, session.begin():
        purged = purge_expired(session)
    for kind, count in purged.items():
        click.echo(f"purged {kind}: {count}")


@cli.command("dev-idp-keys")
@click.option("--rotate", is_flag=True, help="add a new signing key; the old ones stay published")
@click.option("--retire", "retire_kid", default=None, help="remove the key with this kid from the JWKS")
def dev_idp_keys(rotate: bool, retire_kid: str | None) -> None:
    """List, rotate or retire the bundled VNeID stand-in's signing keys (development only)."""
    from identity.devidp.keys import SigningKeys

    keys = SigningKeys(_settings().instance_path / "devidp_keys.json")
    if rotate:
        click.echo(f"new signing key {keys.rotate()}")
    if retire_kid:
        try:
            keys.retire(retire_kid)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"retired {retire_kid}")
    signing = keys.signing_key().kid
    for key in keys.public_jwks()["keys"]:
        click.echo(f"{key['kid']}{'  (signing)' if key['kid'] == signing else ''}")


def main() -> None:
    """Run the CLI, turning configuration errors into one line and exit status 2."""
    try:
        cli(standalone_mode=True)
    except SettingsError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)
