"""The one wiring of a gateway process, shared by the web app and the job worker.

``build_runtime`` turns settings into everything services and jobs are called with: the database, the
job queue, the payment providers (each with what it needs, e.g. the sandbox's own store), the agency
callback sender and the payment limits. ``create_app`` and ``python -m gateway worker`` both call it,
so a provider, a job module or a setting cannot exist in one and be missing from the other (a worker
built separately once ran without any provider and retried every provider job for ever).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from agencies.clients import ClientKeyring
from core.clock import SYSTEM_CLOCK
from core.db import make_engine, make_session_factory
from core.money import Money, vnd
from core.settings import Settings
from payments.bank_transfers import BankConnection, register_connections
from payments.providers import register_provider
from payments.providers.base import PaymentProvider
from payments.providers.sandbox_store import SandboxStore
from payments.providers.setup import configure_providers
from web.agency_runtime import configure_callbacks
from web.jobs import JobQueue, build_queue


@dataclass
class Database:
    """The engine and session factory of one process."""

    engine: Engine
    session_factory: sessionmaker[Session]


@dataclass(frozen=True)
class PaymentLimits:
    """Values from settings that payment services take as arguments."""

    expiry_window: timedelta
    refund_approval_threshold: Money


@dataclass
class Runtime:
    """What one gateway process (web or worker) runs with."""

    settings: Settings
    database: Database
    queue: JobQueue
    providers: dict[str, PaymentProvider]
    keyring: ClientKeyring
    limits: PaymentLimits
    sandbox_store: SandboxStore | None
    #: The bank feeds by name (``/webhooks/bank/<name>``).
    bank_connections: dict[str, BankConnection]

    def register_providers(self) -> None:
        """Register this runtime's providers again (tests that swapped one put the configured ones back)."""
        for provider in self.providers.values():
            register_provider(provider)
        register_connections(list(self.bank_connections.values()))

    def dispose(self) -> None:
        """Close every pool this runtime opened."""
        self.database.engine.dispose()
        if self.sandbox_store is not None:
            self.sandbox_store.dispose()  # a no-op when it shares the gateway's engine (PostgreSQL)


def build_runtime(settings: Settings) -> Runtime:
    """Build the database, providers, callback sender and queue from ``settings``."""
    engine = make_engine(settings.database_url)
    database = Database(engine, make_session_factory(engine))
    store = SandboxStore.for_database(settings.database_url, engine) if settings.sandbox_enabled else None
    providers = configure_providers(
        base_url=settings.base_url, clock=SYSTEM_CLOCK,
        sandbox_secret=sandbox_secret(settings.secret_key) if store is not None else None, sandbox_store=store,
        stripe_secret_key=settings.stripe_secret_key or None, stripe_webhook_secrets=settings.stripe_webhook_secrets,
        stripe_api_base=settings.stripe_api_base or None, vietqr=settings.vietqr_enabled)
    keyring = configure_callbacks(settings)
    queue = build_queue(settings, database.session_factory)
    limits = PaymentLimits(expiry_window=timedelta(minutes=settings.payment_expiry_minutes),
                           refund_approval_threshold=vnd(settings.refund_approval_threshold))
    feeds = bank_feeds(settings)
    register_connections(list(feeds.values()))
    return Runtime(settings, database, queue, {p.name: p for p in providers}, keyring, limits, store, feeds)


def sandbox_secret(secret_key: str) -> str:
    """The key signing sandbox notifications, derived so there is nothing more to configure."""
    return hmac.new(secret_key.encode(), b"sandbox-notifications", hashlib.sha256).hexdigest()


#: The account of the demo agency's receiving account (seeded), which the built-in ``dev-bank`` feed reports on.
DEV_BANK_ACCOUNT = "0011001234567"


def bank_feeds(settings: Settings) -> dict[str, BankConnection]:
    """The configured bank feeds; outside production with none configured, the ``dev-bank`` stand-in's."""
    configured = [BankConnection(name, account, api_key=key if kind == "apikey" else None,
                                 hmac_secret=key if kind == "hmac" else None, signature_header=header)
                  for name, account, kind, key, header in settings.bank_connections]
    if not configured and not settings.production:
        configured = [BankConnection("dev-bank", DEV_BANK_ACCOUNT, api_key=dev_bank_key(settings.secret_key))]
    return {connection.name: connection for connection in configured}


def dev_bank_key(secret_key: str) -> str:
    """The API key of the built-in ``dev-bank`` feed, derived so there is nothing more to configure."""
    return hmac.new(secret_key.encode(), b"dev-bank-feed", hashlib.sha256).hexdigest()
