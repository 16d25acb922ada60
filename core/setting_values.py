"""Parsers of settings values: each takes the variable's name and the raw text, and returns the value or
raises ``SettingsError`` naming the variable (never echoing a secret)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class SettingsError(ValueError):
    """A configuration value that cannot be used; the message starts with the variable's name."""

    def __init__(self, variable: str, reason: str):
        super().__init__(f"{variable}: {reason}")
        self.variable = variable


def choice(options: tuple[str, ...]) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        value = raw.strip()
        if value not in options:
            raise SettingsError(name, f"{raw!r} is not one of {', '.join(options)}")
        return value

    return parse


def database_url(name: str, raw: str) -> str:
    hint = "expected sqlite:///path/to/file.db or postgresql://user@host:port/dbname"
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise SettingsError(name, f"{raw!r} is not a database URL; {hint}") from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise SettingsError(name, f"unsupported database {backend!r}; {hint}")
    if backend == "postgresql":
        # Plain postgresql:// means psycopg2 to SQLAlchemy; we ship psycopg 3.
        url = url.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    return url.render_as_string(hide_password=False)


def http_url(name: str, raw: str) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(name, f"{raw!r} is not an http(s) URL such as https://pay.example.gov.vn")
    if parts.query or parts.fragment:
        raise SettingsError(name, "must not carry a query string or fragment")
    return raw.strip().rstrip("/")


def queue_url(name: str, raw: str) -> str:
    value = raw.strip()
    scheme = urlsplit(value).scheme
    if scheme not in ("sqlite", "redis", "rediss", "unix", "memory"):
        raise SettingsError(name, f"{raw!r} is not a queue URL; expected redis://host:6379/0, "
                                  "unix:///path/redis.sock?db=0 or sqlite:///path")
    if scheme == "sqlite":
        Path(value.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return value


def storage_url(name: str, raw: str) -> str:
    value = raw.strip()
    if urlsplit(value).scheme not in ("memory", "redis", "rediss", "redis+unix"):
        raise SettingsError(name, f"{raw!r} is not a rate-limit storage URL; expected memory://, redis://… "
                                  "or redis+unix:///path/redis.sock")
    return value


def positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(name, f"{raw!r} is not a whole number") from None
    if value < 0:
        raise SettingsError(name, "must not be negative")
    return value


def rate_limit(name: str, raw: str) -> str:
    from limits import parse  # flask-limiter's own notation: the value is handed to it as it is

    try:
        parse(raw.strip())
    except ValueError:
        raise SettingsError(name, f"{raw!r} is not a rate limit; expected e.g. '30 per minute' or '5/second'") from None
    return raw.strip()


def secret_key(name: str, raw: str) -> str:
    # Never echo the value: it is a secret.
    if len(raw) < 32:
        raise SettingsError(name, "must be at least 32 characters (generate one with `openssl rand -hex 32`)")
    return raw


def instance_path(name: str, raw: str) -> Path:
    path = Path(raw).expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(name, f"cannot create directory {path}: {exc.strerror}") from None
    return path


def optional_http_url(name: str, raw: str) -> str:
    """An http(s) URL kept exactly as given (issuers compare as exact strings), or empty for "not set"."""
    value = raw.strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise SettingsError(name, f"{raw!r} is not an issuer URL such as https://sso.example.gov.vn/realms/citizen")
    return value


def tmn_code(name: str, raw: str) -> str:
    """A VNPay terminal code (letters and digits), or empty for "not set"."""
    value = raw.strip()
    if value and (not value.isascii() or not value.isalnum() or len(value) > 20):
        raise SettingsError(name, f"{raw!r} is not a VNPay terminal code (letters and digits, e.g. DEMOV210)")
    return value


def text(name: str, raw: str) -> str:
    value = raw.strip()
    if len(value) > 500 or any(ord(ch) < 32 for ch in value):
        raise SettingsError(name, "must be one line of at most 500 characters")
    return value


def claim_name(name: str, raw: str) -> str:
    value = raw.strip()
    if not value or len(value) > 100 or not value.replace("_", "").replace(".", "").replace("-", "").isalnum():
        raise SettingsError(name, f"{raw!r} is not a claim name (letters, digits, _ . -)")
    return value


def scopes(name: str, raw: str) -> str:
    scopes = raw.split()
    if "openid" not in scopes:
        raise SettingsError(name, "must include the openid scope")
    return " ".join(scopes)


def key_file(name: str, raw: str) -> str:
    value = raw.strip()
    if value and not Path(value).expanduser().is_file():
        raise SettingsError(name, f"no such file {value!r} (expected a private JWK in JSON)")
    return str(Path(value).expanduser()) if value else ""


def boolean(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        raise SettingsError(name, f"{raw!r} is not true or false")
    return value in ("true", "1", "yes", "on")


def optional_secret(name: str, raw: str) -> str:
    # Never echo the value: it is a secret.
    if raw and len(raw) < 16:
        raise SettingsError(name, "must be at least 16 characters when set")
    return raw


def stripe_key(name: str, raw: str) -> str:
    value = raw.strip()
    if value and not value.startswith(("sk_", "rk_")):
        raise SettingsError(name, "is not a Stripe secret or restricted key (sk_… or rk_…)")
    return value


def webhook_secrets(name: str, raw: str) -> tuple[str, ...]:
    secrets_ = tuple(part.strip() for part in raw.split(",") if part.strip())
    if any(not part.startswith("whsec_") for part in secrets_):
        raise SettingsError(name, "must be a comma-separated list of Stripe signing secrets (whsec_…)")
    return secrets_


def secret_list(name: str, raw: str) -> tuple[str, ...]:
    # Never echo a value: they are secrets.
    values = tuple(part.strip() for part in raw.split(",") if part.strip())
    if any(len(value) < 32 for value in values):
        raise SettingsError(name, "must be a comma-separated list of secrets of at least 32 characters each")
    return values


#: The documented development key of the demo agency client (README, docs/api.md); never valid in production.
DEMO_AGENCY_KEY = "gwk_demo_agency_key_for_local_development_only"


def demo_agency_key(name: str, raw: str) -> str:
    # Never echo the value: it is a key.
    value = raw.strip()
    if value and len(value) < 24:
        raise SettingsError(name, "must be at least 24 characters when set")
    return value


_CONNECTION = re.compile(r"([a-z0-9][a-z0-9-]{0,63})=([0-9A-Za-z]{1,19}):(apikey|hmac):([^:,\s]{16,})"
                         r"(?::([A-Za-z0-9-]{1,64}))?")


def bank_connections(name: str, raw: str) -> tuple[tuple[str, str, str, str, str], ...]:
    """``name=account:apikey:KEY`` or ``name=account:hmac:SECRET[:Header]``, comma-separated, each feed once."""
    found = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        match = _CONNECTION.fullmatch(part)
        if match is None:  # never echo the part: it holds a secret
            raise SettingsError(name, "must be comma-separated name=account:apikey:KEY or "
                                      "name=account:hmac:SECRET[:Header] (keys of 16+ characters)")
        found.append((match[1], match[2], match[3], match[4], match[5] or "X-Signature"))
    if len({connection[0] for connection in found}) != len(found):
        raise SettingsError(name, "names a bank connection twice")
    return tuple(found)


def smtp_host(name: str, raw: str) -> str:
    """A host name or address (no scheme, no port: the port is its own setting), or empty for "not set"."""
    value = raw.strip()
    if value and not re.fullmatch(r"[A-Za-z0-9.:\[\]-]{1,253}", value) or "://" in value:
        raise SettingsError(name, f"{raw!r} is not a host name such as smtp.example.gov.vn")
    return value


def password(name: str, raw: str) -> str:
    # Never echo the value: it is a secret.
    if any(ord(ch) < 32 for ch in raw):
        raise SettingsError(name, "must be one line")
    return raw


def mail_sender(name: str, raw: str) -> str:
    """``address`` or ``Name <address>``, one line."""
    from email.utils import parseaddr

    value = raw.strip()
    _, address = parseaddr(value)
    if any(ord(ch) < 32 for ch in value) or "@" not in address or " " in address:
        raise SettingsError(name, f"{raw!r} is not a sender such as 'Cổng thanh toán <no-reply@pay.example.gov.vn>'")
    return value


def day_list(name: str, raw: str) -> tuple[int, ...]:
    """Comma-separated whole days of at least 1, e.g. ``7,1``; kept largest first, without repeats."""
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts or not all(part.isdigit() and 1 <= int(part) <= 365 for part in parts):
        raise SettingsError(name, f"{raw!r} is not a comma-separated list of days between 1 and 365, e.g. 7,1")
    return tuple(sorted({int(part) for part in parts}, reverse=True))
