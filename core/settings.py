"""Settings: one object built from ``GATEWAY_*`` environment variables, validated at start-up.

Every variable is declared once in ``VARIABLES`` with its parser, default and meaning; the README's
configuration table is checked against it by a test. A bad value raises ``SettingsError`` naming the
variable, which the entry points print as one line. Only this module reads the environment; domain code
receives the values it needs as arguments.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

from core.setting_values import (
    DEMO_AGENCY_KEY,
    SettingsError,
    bank_connections,
    boolean,
    choice,
    claim_name,
    database_url,
    day_list,
    demo_agency_key,
    http_url,
    instance_path,
    key_file,
    mail_sender,
    optional_http_url,
    optional_secret,
    password,
    positive_int,
    queue_url,
    rate_limit,
    scopes,
    secret_key,
    secret_list,
    smtp_host,
    storage_url,
    stripe_key,
    text,
    tmn_code,
    webhook_secrets,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "test", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class Variable:
    """One environment variable: how to read it, its embedded default and what it means."""

    name: str
    parse: Callable[[str, str], object]
    default: Callable[[dict], str | None]
    doc: str
    secret: bool = False


def _instance_default(values: dict) -> str:
    return str(PROJECT_ROOT / "instance")


def _generated_secret(values: dict) -> str | None:
    """Keep a random key under instance/ so development sessions survive restarts; never in production."""
    if values["env"] == "production":
        return None
    key_file = Path(values["instance_path"]) / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


VARIABLES: tuple[Variable, ...] = (
    Variable("GATEWAY_ENV", choice(ENVIRONMENTS), lambda v: "development",
             "`development` (embedded default), `test` or `production` (strict checks, no demo switches)."),
    Variable("GATEWAY_INSTANCE_PATH", instance_path, _instance_default,
             "Folder for local state in the embedded mode: SQLite files, the generated secret key."),
    Variable("GATEWAY_DATABASE_URL", database_url,
             lambda v: f"sqlite:///{Path(v['instance_path']) / 'gateway.db'}",
             "SQLAlchemy URL: `sqlite:///…` (embedded) or `postgresql://user@host:5432/db` (production)."),
    Variable("GATEWAY_MIGRATION_DATABASE_URL", database_url, lambda v: v["database_url"],
             "The schema owner's URL, used only by `gateway migrate`; the web app and the worker connect with "
             "`GATEWAY_DATABASE_URL` as a role that may read and write rows but owns nothing, so it can neither "
             "TRUNCATE the ledger nor switch its triggers off. `migrate` grants that role what it needs. "
             "Default: the same URL (one role, as in the embedded mode)."),
    Variable("GATEWAY_SECRET_KEY", secret_key, _generated_secret,
             "Signs sessions and CSRF tokens; at least 32 characters. Required in production; in development "
             "a random key is kept in `instance/secret_key`.", secret=True),
    Variable("GATEWAY_BASE_URL", http_url, lambda v: "http://127.0.0.1:8000",
             "Public URL of the gateway, used for redirects and links; must be https in production."),
    Variable("GATEWAY_QUEUE_URL", queue_url,
             lambda v: f"sqlite:///{Path(v['instance_path']) / 'queue.db'}",
             "Task queue: `redis://host:6379/0` (production) or `sqlite:///…` (embedded, no extra service)."),
    Variable("GATEWAY_RATELIMIT_STORAGE_URL", storage_url, lambda v: "memory://",
             "Where rate-limit counters live: `memory://` for one process, `redis://…` for several nodes."),
    Variable("GATEWAY_LOGIN_RATE_LIMIT", rate_limit, lambda v: "30 per minute",
             "Logins started and finished per client address (citizen and staff, shared), on top of the general "
             "limit."),
    Variable("GATEWAY_JOB_LEASE_SECONDS", positive_int, lambda v: "300",
             "How long a job may run before another worker may take it over (a crashed worker's job is retried)."),
    Variable("GATEWAY_TRUSTED_PROXIES", positive_int, lambda v: "0",
             "Number of reverse proxies in front of gunicorn whose X-Forwarded-* headers are trusted."),
    Variable("GATEWAY_LOG_LEVEL", choice(LOG_LEVELS), lambda v: "INFO", "Lowest level written to the JSON log."),
    Variable("GATEWAY_OIDC_ISSUER", optional_http_url, lambda v: "",
             "Citizen e-ID (VNeID) OpenID Provider issuer, exactly as in its discovery document. Empty: the "
             "bundled VNeID stand-in at `GATEWAY_BASE_URL/dev-idp` (development and test only)."),
    Variable("GATEWAY_OIDC_CLIENT_ID", text, lambda v: "city-payment-gateway",
             "Our client id at the citizen e-ID provider."),
    Variable("GATEWAY_OIDC_CLIENT_SECRET", optional_secret, lambda v: "",
             "Client secret for `client_secret_basic` at the citizen provider (or use the key file).", secret=True),
    Variable("GATEWAY_OIDC_CLIENT_KEY_FILE", key_file, lambda v: "",
             "Path to our private JWK (EC P-256 or RSA) for `private_key_jwt` at the citizen provider; wins over "
             "the secret."),
    Variable("GATEWAY_OIDC_SCOPES", scopes, lambda v: "openid profile vneid",
             "Scopes asked of the citizen provider (space-separated, must include openid)."),
    Variable("GATEWAY_OIDC_CLAIM_PERSONAL_ID", claim_name, lambda v: "so_dinh_danh",
             "Claim carrying the 12-digit personal identification number."),
    Variable("GATEWAY_OIDC_CLAIM_NAME", claim_name, lambda v: "name", "Claim carrying the full name."),
    Variable("GATEWAY_OIDC_CLAIM_BIRTHDATE", claim_name, lambda v: "birthdate",
             "Claim carrying the date of birth (YYYY-MM-DD or YYYYMMDD)."),
    Variable("GATEWAY_OIDC_CLAIM_RESIDENCE", claim_name, lambda v: "ma_tinh_thuong_tru",
             "Claim carrying the permanent-residence province code (2 digits, QĐ 19/2025)."),
    Variable("GATEWAY_OIDC_ACR_LEVEL1", text, lambda v: "urn:vn:vneid:loa:1", "`acr` value of e-ID level 1."),
    Variable("GATEWAY_OIDC_ACR_LEVEL2", text, lambda v: "urn:vn:vneid:loa:2", "`acr` value of e-ID level 2."),
    Variable("GATEWAY_STAFF_OIDC_ISSUER", optional_http_url, lambda v: "",
             "Workforce OpenID Provider for staff logins. Empty: the bundled stand-in (development and test)."),
    Variable("GATEWAY_STAFF_OIDC_CLIENT_ID", text, lambda v: "city-payment-gateway-staff",
             "Our client id at the workforce provider."),
    Variable("GATEWAY_STAFF_OIDC_CLIENT_SECRET", optional_secret, lambda v: "",
             "Client secret for `client_secret_basic` at the workforce provider.", secret=True),
    Variable("GATEWAY_STAFF_OIDC_CLIENT_KEY_FILE", key_file, lambda v: "",
             "Path to our private JWK for `private_key_jwt` at the workforce provider."),
    Variable("GATEWAY_STAFF_OIDC_SCOPES", scopes, lambda v: "openid profile email",
             "Scopes asked of the workforce provider."),
    Variable("GATEWAY_DEV_IDP_ENABLED", boolean, lambda v: "false" if v["env"] == "production" else "true",
             "Serve the bundled VNeID stand-in under `/dev-idp`. On by default except in production."),
    Variable("GATEWAY_PERSONAL_DATA_KEY", optional_secret, lambda v: "",
             "Master key (32+ characters) for encrypting personal ID numbers and keying their lookup hash. "
             "Empty: derived from `GATEWAY_SECRET_KEY`; set it separately in production.", secret=True),
    Variable("GATEWAY_DOCUMENT_SIGNING_SECRETS", secret_list, lambda v: "",
             "Comma-separated secrets (32+ characters each) the receipt signing keys are derived from: the first "
             "signs, the others still verify (rotation). Empty: derived from `GATEWAY_SECRET_KEY`.", secret=True),
    Variable("GATEWAY_SANDBOX_ENABLED", boolean, lambda v: "false" if v["env"] == "production" else "true",
             "Offer the sandbox payment provider (test cards, no real money). On by default except in production."),
    Variable("GATEWAY_STRIPE_SECRET_KEY", stripe_key, lambda v: "",
             "Stripe secret key (`sk_…`); empty: card payments through Stripe are off.", secret=True),
    Variable("GATEWAY_STRIPE_WEBHOOK_SECRETS", webhook_secrets, lambda v: "",
             "Comma-separated Stripe webhook signing secrets (`whsec_…`); several during a rotation.", secret=True),
    Variable("GATEWAY_STRIPE_API_BASE", optional_http_url, lambda v: "",
             "Another address for the Stripe API (a local fake in tests); empty: Stripe's own."),
    Variable("GATEWAY_VIETQR_ENABLED", boolean, lambda v: "true",
             "Offer payment by VietQR bank transfer to the agency's receiving account (set in the back office)."),
    Variable("GATEWAY_BANK_CONNECTIONS", bank_connections, lambda v: "",
             "The bank feeds that report transfers on agencies' accounts, comma-separated "
             "`name=account:apikey:KEY` or `name=account:hmac:SECRET[:Header]`; each posts to "
             "`/webhooks/bank/<name>`. Empty outside production: the built-in `dev-bank` stand-in.", secret=True),
    Variable("GATEWAY_VNPAY_TMN_CODE", tmn_code, lambda v: "",
             "The VNPay merchant terminal code (`vnp_TmnCode`). With none of the four `GATEWAY_VNPAY_*` set, outside "
             "production the built-in VNPay simulator (`/vnpay-sim`) stands in; in production VNPay is off."),
    Variable("GATEWAY_VNPAY_HASH_SECRET", optional_secret, lambda v: "",
             "The terminal's hash secret (`vnp_HashSecret`), which signs payment URLs, IPNs and API calls.",
             secret=True),
    Variable("GATEWAY_VNPAY_PAYMENT_URL", optional_http_url, lambda v: "",
             "VNPay's payment page, e.g. `https://sandbox.vnpayment.vn/paymentv2/vpcpay.html`."),
    Variable("GATEWAY_VNPAY_API_URL", optional_http_url, lambda v: "",
             "VNPay's merchant API (querydr, refund), e.g. `https://sandbox.vnpayment.vn/merchant_webapi/api/transaction`."),
    Variable("GATEWAY_PAYMENT_EXPIRY_MINUTES", positive_int, lambda v: "30",
             "Minutes a payment attempt may stay unfinished before it expires (Stripe needs at least 30)."),
    Variable("GATEWAY_REFUND_APPROVAL_THRESHOLD", positive_int, lambda v: "1000000",
             "Refunds above this many dong need a finance approver besides the officer who asks."),
    Variable("GATEWAY_SMTP_HOST", smtp_host, lambda v: "",
             "The SMTP relay that sends receipts and payment reminders by e-mail. Empty: outside production each "
             "message is written to the log (masked) instead; in production e-mail is off."),
    Variable("GATEWAY_SMTP_PORT", positive_int, lambda v: "587",
             "The relay's port: 587 (submission with STARTTLS) or 465 (TLS from the start)."),
    Variable("GATEWAY_SMTP_USER", text, lambda v: "", "User name at the relay; empty: no login."),
    Variable("GATEWAY_SMTP_PASSWORD", password, lambda v: "", "Password at the relay.", secret=True),
    Variable("GATEWAY_SMTP_FROM", mail_sender, lambda v: f"no-reply@{urlsplit(v['base_url']).hostname}",
             "The sender of every e-mail, `address` or `Name <address>`. Default: no-reply at the base URL's host."),
    Variable("GATEWAY_SMTP_STARTTLS", boolean, lambda v: "true",
             "Upgrade the connection with STARTTLS before logging in (ignored on port 465, which is TLS already)."),
    Variable("GATEWAY_REMINDER_DAYS", day_list, lambda v: "3",
             "How many days before a bill's due date its payer is reminded by e-mail, comma-separated for several "
             "reminders (e.g. `7,1`); one reminder per bill per lead time."),
    Variable("GATEWAY_DEMO_AGENCY_KEY", demo_agency_key, lambda v: "" if v["env"] == "production" else DEMO_AGENCY_KEY,
             "API key of the demo agency client seeded in the embedded default (development and test only; "
             "production refuses to start with it set).", secret=True),
)


@dataclass(frozen=True)
class Settings:
    """The validated configuration of one gateway process."""

    env: str
    instance_path: Path
    database_url: str
    migration_database_url: str
    secret_key: str
    base_url: str
    queue_url: str
    ratelimit_storage_url: str
    login_rate_limit: str
    job_lease_seconds: int
    trusted_proxies: int
    log_level: str
    oidc_issuer: str
    oidc_client_id: str
    oidc_client_secret: str
    oidc_client_key_file: str
    oidc_scopes: str
    oidc_claim_personal_id: str
    oidc_claim_name: str
    oidc_claim_birthdate: str
    oidc_claim_residence: str
    oidc_acr_level1: str
    oidc_acr_level2: str
    staff_oidc_issuer: str
    staff_oidc_client_id: str
    staff_oidc_client_secret: str
    staff_oidc_client_key_file: str
    staff_oidc_scopes: str
    dev_idp_enabled: bool
    personal_data_key: str
    document_signing_secrets: tuple[str, ...]
    sandbox_enabled: bool
    stripe_secret_key: str
    stripe_webhook_secrets: tuple[str, ...]
    stripe_api_base: str
    vietqr_enabled: bool
    bank_connections: tuple[tuple[str, str, str, str, str], ...]
    vnpay_tmn_code: str
    vnpay_hash_secret: str
    vnpay_payment_url: str
    vnpay_api_url: str
    payment_expiry_minutes: int
    refund_approval_threshold: int
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_password: str
    smtp_from: str
    smtp_starttls: bool
    reminder_days: tuple[int, ...]
    demo_agency_key: str

    @property
    def vnpay_simulated(self) -> bool:
        """True when the built-in VNPay simulator stands in (nothing configured, not production)."""
        return not self.vnpay_tmn_code and not self.production

    @property
    def mail_enabled(self) -> bool:
        """True when e-mail goes somewhere: a configured relay, or the log outside production."""
        return bool(self.smtp_host) or not self.production

    @property
    def production(self) -> bool:
        """True when strict production checks apply."""
        return self.env == "production"

    @property
    def https(self) -> bool:
        """True when the gateway is served over https (cookies are then Secure, HSTS is sent)."""
        return self.base_url.startswith("https://")

    def secret_values(self) -> list[str]:
        """Return the values that must never appear in a log line, passwords inside URLs included."""
        values: list = []
        for variable in VARIABLES:
            value = getattr(self, _field_name(variable))
            if variable.secret:
                values += list(value) if isinstance(value, tuple) else [value]
        values += [urlsplit(url).password for url in (self.database_url, self.migration_database_url, self.queue_url,
                                                      self.ratelimit_storage_url)]
        return [value for value in values if value]

    def display(self) -> dict[str, str]:
        """Return every variable's value for an operator to read, with secrets and passwords hidden."""
        shown = {}
        for variable in VARIABLES:
            value = str(getattr(self, _field_name(variable)))
            for secret in self.secret_values():
                value = value.replace(secret, "***")
            shown[variable.name] = value
        return shown

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``); ``overrides`` use field names."""
        source = dict(os.environ if environ is None else environ)
        for key, value in overrides.items():
            source[f"GATEWAY_{key.upper()}"] = str(value)
        values: dict[str, object] = {}
        for variable in VARIABLES:
            raw = source.get(variable.name)
            if raw is None or raw == "":
                raw = variable.default(values)
            if raw is None:
                raise SettingsError(variable.name, "is required in production")
            values[_field_name(variable)] = variable.parse(variable.name, raw)
        settings = cls(**values)
        settings.check_payments()
        settings.check_production()
        return settings

    def check_payments(self) -> None:
        """Refuse a Stripe set-up that would take payments it can never confirm."""
        if self.stripe_secret_key and not self.stripe_webhook_secrets:
            raise SettingsError("GATEWAY_STRIPE_WEBHOOK_SECRETS", "is required when GATEWAY_STRIPE_SECRET_KEY is set")
        if self.stripe_secret_key and self.payment_expiry_minutes < 30:
            raise SettingsError("GATEWAY_PAYMENT_EXPIRY_MINUTES", "must be at least 30 with Stripe (its minimum)")
        vnpay = {"GATEWAY_VNPAY_TMN_CODE": self.vnpay_tmn_code, "GATEWAY_VNPAY_HASH_SECRET": self.vnpay_hash_secret,
                 "GATEWAY_VNPAY_PAYMENT_URL": self.vnpay_payment_url, "GATEWAY_VNPAY_API_URL": self.vnpay_api_url}
        if any(vnpay.values()) and not all(vnpay.values()):
            missing = next(name for name, value in vnpay.items() if not value)
            raise SettingsError(missing, "is required when any GATEWAY_VNPAY_* setting is set (VNPay needs all four)")
        if self.payment_expiry_minutes < 5:
            raise SettingsError("GATEWAY_PAYMENT_EXPIRY_MINUTES", "must be at least 5")

    def check_production(self) -> None:
        """Refuse settings that are fine on a laptop and dangerous in production."""
        if not self.production:
            return
        if not self.https:
            raise SettingsError("GATEWAY_BASE_URL", "must be an https URL in production")
        if self.database_url.startswith("sqlite"):
            raise SettingsError("GATEWAY_DATABASE_URL", "production needs PostgreSQL, not SQLite")
        if not self.queue_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("GATEWAY_QUEUE_URL", "production needs a Redis queue (redis://…)")
        for name, url in (("GATEWAY_VNPAY_PAYMENT_URL", self.vnpay_payment_url),
                          ("GATEWAY_VNPAY_API_URL", self.vnpay_api_url)):
            if url and not url.startswith("https://"):
                raise SettingsError(name, "must be an https URL in production")
        if self.smtp_password and not (self.smtp_starttls or self.smtp_port == 465):
            raise SettingsError("GATEWAY_SMTP_STARTTLS", "must be on in production when a password is sent "
                                                         "(or use port 465)")
        if self.demo_agency_key:
            raise SettingsError("GATEWAY_DEMO_AGENCY_KEY", "must not be set in production (it is a public demo key)")


def _field_name(variable: Variable) -> str:
    return variable.name.removeprefix("GATEWAY_").lower()


assert [f.name for f in fields(Settings)] == [_field_name(v) for v in VARIABLES], "settings table out of sync"
