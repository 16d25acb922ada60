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
from core.mail import LogMailer, Mailer, SmtpMailer
from core.money import Money, vnd
from core.settings import Settings
from mailing import jobs as mailing_jobs
from payments.bank_transfers import BankConnection, register_connections
from payments.providers import register_provider
from payments.providers.base import PaymentProvider
from payments.providers.sandbox_store import SandboxStore
from payments.providers.setup import configure_providers
from payments.providers.vnpay import JsonTransport, RequestsJsonTransport, VnpayConfig
from payments.providers.vnpay_simulator import SimulatorTransport, VnpaySimulator
from payments.providers.vnpay_simulator_store import SimulatorStore
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
    #: The built-in VNPay simulator, when it stands in for VNPay (served under ``/vnpay-sim``).
    vnpay_simulator: VnpaySimulator | None = None

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
    stand_ins = settings.sandbox_enabled or settings.vnpay_simulated
    store = SandboxStore.for_database(settings.database_url, engine) if stand_ins else None
    simulator = vnpay_simulator(settings, store) if settings.vnpay_simulated and store is not None else None
    vnpay, transport = vnpay_terminal(settings, simulator)
    providers = configure_providers(
        base_url=settings.base_url, clock=SYSTEM_CLOCK,
        sandbox_secret=sandbox_secret(settings.secret_key) if settings.sandbox_enabled else None,
        sandbox_store=store if settings.sandbox_enabled else None,
        stripe_secret_key=settings.stripe_secret_key or None, stripe_webhook_secrets=settings.stripe_webhook_secrets,
        stripe_api_base=settings.stripe_api_base or None, vietqr=settings.vietqr_enabled,
        vnpay=vnpay, vnpay_transport=transport)
    keyring = configure_callbacks(settings)
    queue = build_queue(settings, database.session_factory)
    limits = PaymentLimits(expiry_window=timedelta(minutes=settings.payment_expiry_minutes),
                           refund_approval_threshold=vnd(settings.refund_approval_threshold))
    feeds = bank_feeds(settings)
    register_connections(list(feeds.values()))
    configure_mail(settings)
    return Runtime(settings, database, queue, {p.name: p for p in providers}, keyring, limits, store, feeds,
                   simulator)


def sandbox_secret(secret_key: str) -> str:
    """The key signing sandbox notifications, derived so there is nothing more to configure."""
    return hmac.new(secret_key.encode(), b"sandbox-notifications", hashlib.sha256).hexdigest()


#: The built-in VNPay simulator's terminal, and where the gateway serves its page and API.
SIMULATOR_TMN_CODE = "GWSIMVNP"
SIMULATOR_PAYMENT_PATH = "/vnpay-sim/paymentv2/vpcpay.html"
SIMULATOR_API_PATH = "/vnpay-sim/merchant_webapi/api/transaction"


def vnpay_simulator(settings: Settings, store: SandboxStore) -> VnpaySimulator:
    """The simulator standing in for VNPay, keeping its transactions in the stand-ins' database."""
    return VnpaySimulator(tmn_code=SIMULATOR_TMN_CODE, hash_secret=vnpay_simulator_secret(settings.secret_key),
                          store=SimulatorStore(store.engine), clock=SYSTEM_CLOCK)


def vnpay_simulator_secret(secret_key: str) -> str:
    """The simulator terminal's hash secret, derived so there is nothing more to configure."""
    return hmac.new(secret_key.encode(), b"vnpay-simulator", hashlib.sha256).hexdigest()


def vnpay_terminal(settings: Settings, simulator: VnpaySimulator | None,
                   ) -> tuple[VnpayConfig | None, JsonTransport | None]:
    """VNPay's terminal and how to reach its API: the configured one, else the simulator, else none."""
    if settings.vnpay_tmn_code:
        return VnpayConfig(settings.vnpay_tmn_code, settings.vnpay_hash_secret, settings.vnpay_payment_url,
                           settings.vnpay_api_url), RequestsJsonTransport()
    if simulator is None:
        return None, None
    base = settings.base_url.rstrip("/")
    return (VnpayConfig(SIMULATOR_TMN_CODE, vnpay_simulator_secret(settings.secret_key), base + SIMULATOR_PAYMENT_PATH,
                        base + SIMULATOR_API_PATH), SimulatorTransport(simulator))


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


def mail_enabled(settings: Settings) -> bool:
    """Whether these settings send e-mail: a relay is configured, or outside production (the log stands in)."""
    return bool(settings.smtp_host) or not settings.production


def mailer(settings: Settings) -> Mailer | None:
    """The configured SMTP relay; with none, the log outside production, and no e-mail at all in production."""
    if settings.smtp_host:
        return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_from, user=settings.smtp_user,
                          password=settings.smtp_password, starttls=settings.smtp_starttls)
    return None if settings.production else LogMailer(settings.smtp_from)


def configure_mail(settings: Settings) -> None:
    """Give the e-mail jobs their sender, the links' base URL and the reminders' lead times."""
    mailing_jobs.configure(mailer(settings), base_url=settings.base_url, reminder_days=settings.reminder_days)
