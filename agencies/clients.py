"""API clients: registering an agency's system, its keys (shown once, stored hashed) and its signing secrets.

Design overview
---------------
* A key is 32 random bytes, shown once. Only ``HMAC-SHA256(lookup key, api key)`` is stored, under a key
  derived from a master secret the database never holds, so a dump neither reveals keys nor lets anyone
  test guesses offline. Lookup is by that hash (deterministic), in constant time on the database side.
* Rotation overlaps: the new key works at once and the old one until ``overlap`` has passed. Revoking
  works at once. Every change is written to the append-only audit log with who made it.
* The callback signing secret must be read back to sign, so it is sealed with AES-GCM rather than hashed;
  rotating keeps the previous one for the overlap and callbacks carry a signature with each.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.errors import ApiClientInvalid, ApiClientNotFound, ApiKeyRejected, ScopeMissing
from agencies.models import SCOPES, ApiClient, ApiKey
from core.clock import Clock
from identity import audit

KEY_PREFIX = "gwk_"
DEFAULT_OVERLAP = timedelta(hours=24)


class ClientKeyring:
    """Hashes API keys and seals signing secrets under keys derived from one master key."""

    def __init__(self, master_key: bytes):
        if len(master_key) < 32:
            raise ValueError("the API-client master key needs at least 32 bytes")
        self._hash_key = _derive(master_key, b"api-key/lookup")
        self._aead = AESGCM(_derive(master_key, b"api-client/signing-secret"))

    def hash_key(self, api_key: str) -> str:
        """Return the keyed hash an API key is stored and found by."""
        return hmac.new(self._hash_key, api_key.encode(), hashlib.sha256).hexdigest()

    def seal(self, secret: str) -> bytes:
        """Return nonce + AES-GCM ciphertext of ``secret``."""
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, secret.encode(), b"signing_secret")

    def open(self, sealed: bytes) -> str:
        """Return the secret inside ``sealed``."""
        return self._aead.decrypt(sealed[:12], sealed[12:], b"signing_secret").decode()


def _derive(master_key: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"gateway/" + label).derive(master_key)


@dataclass(frozen=True)
class ClientSpec:
    """What a system admin registers for a client."""

    name: str
    agency_code: str
    service_codes: tuple[str, ...]
    scopes: tuple[str, ...]
    callback_url: str = ""
    return_url_domains: tuple[str, ...] = ()
    rate_limit_per_minute: int = 600


@dataclass(frozen=True)
class NewCredentials:
    """A client's fresh key and signing secret: the only time they are shown."""

    client: ApiClient
    api_key: str
    signing_secret: str


#: A client's highest allowance: a big city's evening peak of gate events (2,000 a second) with room to spare.
MAX_CALLS_PER_MINUTE = 300_000


def new_api_key() -> str:
    """Return a fresh API key (``gwk_`` + 43 URL-safe characters)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def check_spec(spec: ClientSpec) -> None:
    """Raise ApiClientInvalid unless the registration is usable."""
    if not spec.name.strip() or not spec.agency_code.strip():
        raise ApiClientInvalid("a client needs a name and an agency code")
    if not spec.service_codes:
        raise ApiClientInvalid("a client needs at least one service code")
    unknown = set(spec.scopes) - set(SCOPES)
    if unknown or not spec.scopes:
        raise ApiClientInvalid(f"scopes must be among {', '.join(SCOPES)}", details={"scopes": sorted(unknown)})
    if spec.callback_url and urlsplit(spec.callback_url).scheme not in ("http", "https"):
        raise ApiClientInvalid("the callback URL must be an http(s) URL")
    if any(not d or "/" in d or ":" in d for d in spec.return_url_domains):
        raise ApiClientInvalid("return-URL domains are host names such as tuphap.hanoi.gov.vn")
    if not 1 <= spec.rate_limit_per_minute <= MAX_CALLS_PER_MINUTE:
        raise ApiClientInvalid(f"the rate limit must be between 1 and {MAX_CALLS_PER_MINUTE} calls a minute")


def register_client(session: Session, spec: ClientSpec, *, keyring: ClientKeyring, actor: str, clock: Clock,
                    api_key: str | None = None) -> NewCredentials:
    """Register a client with its first key and signing secret; returns them to show once."""
    check_spec(spec)
    now = clock.now()
    signing_secret = "whsec_" + secrets.token_urlsafe(32)
    client = ApiClient(name=spec.name.strip(), agency_code=spec.agency_code.strip(),
                       service_codes=list(spec.service_codes), scopes=list(spec.scopes),
                       callback_url=spec.callback_url, return_url_domains=[d.lower() for d in spec.return_url_domains],
                       rate_limit_per_minute=spec.rate_limit_per_minute, active=True,
                       signing_secret_sealed=keyring.seal(signing_secret), created_by=actor, created_at=now,
                       updated_at=now)
    session.add(client)
    session.flush()
    key = _add_key(session, client, keyring, actor=actor, clock=clock, api_key=api_key)
    audit.record(session, "api_client_registered", actor=actor, target=f"client:{client.id}",
                 details={"agency": client.agency_code, "scopes": client.scopes}, clock=clock)
    return NewCredentials(client, key, signing_secret)


def update_client(session: Session, client_id: int, spec: ClientSpec, *, actor: str, clock: Clock) -> ApiClient:
    """Change a client's registration (services, scopes, URLs, rate limit)."""
    check_spec(spec)
    client = get_client(session, client_id)
    client.name, client.agency_code = spec.name.strip(), spec.agency_code.strip()
    client.service_codes, client.scopes = list(spec.service_codes), list(spec.scopes)
    client.callback_url = spec.callback_url
    client.return_url_domains = [d.lower() for d in spec.return_url_domains]
    client.rate_limit_per_minute, client.updated_at = spec.rate_limit_per_minute, clock.now()
    audit.record(session, "api_client_updated", actor=actor, target=f"client:{client.id}", clock=clock)
    session.flush()
    return client


def _add_key(session: Session, client: ApiClient, keyring: ClientKeyring, *, actor: str, clock: Clock,
             api_key: str | None = None) -> str:
    api_key = api_key or new_api_key()
    session.add(ApiKey(client_id=client.id, key_hash=keyring.hash_key(api_key), prefix=api_key[:10],
                       created_by=actor, created_at=clock.now()))
    session.flush()
    return api_key


def rotate_key(session: Session, client_id: int, *, keyring: ClientKeyring, actor: str, clock: Clock,
               overlap: timedelta = DEFAULT_OVERLAP) -> str:
    """Issue a new key; the client's current keys keep working for ``overlap``. Returns the new key."""
    client = get_client(session, client_id)
    ends = clock.now() + overlap
    for key in live_keys(client, clock.now()):
        key.expires_at = min(key.expires_at or ends, ends)
    new_key = _add_key(session, client, keyring, actor=actor, clock=clock)
    audit.record(session, "api_key_rotated", actor=actor, target=f"client:{client.id}",
                 details={"overlap_seconds": int(overlap.total_seconds())}, clock=clock)
    return new_key


def revoke_key(session: Session, key_id: int, *, actor: str, clock: Clock) -> ApiKey:
    """Revoke one key at once."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise ApiClientNotFound(f"no API key {key_id}")
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        audit.record(session, "api_key_revoked", actor=actor, target=f"client:{key.client_id}",
                     details={"key": key.prefix}, clock=clock)
    session.flush()
    return key


def set_active(session: Session, client_id: int, active: bool, *, actor: str, clock: Clock) -> ApiClient:
    """Enable or disable a client (a disabled client's keys are refused)."""
    client = get_client(session, client_id)
    client.active, client.updated_at = active, clock.now()
    audit.record(session, "api_client_enabled" if active else "api_client_disabled", actor=actor,
                 target=f"client:{client.id}", clock=clock)
    session.flush()
    return client


def rotate_signing_secret(session: Session, client_id: int, *, keyring: ClientKeyring, actor: str, clock: Clock,
                          overlap: timedelta = DEFAULT_OVERLAP) -> str:
    """Make a new callback signing secret; callbacks are signed with both until ``overlap`` ends."""
    client = get_client(session, client_id)
    secret = "whsec_" + secrets.token_urlsafe(32)
    client.previous_secret_sealed = client.signing_secret_sealed
    client.previous_secret_expires_at = clock.now() + overlap
    client.signing_secret_sealed, client.updated_at = keyring.seal(secret), clock.now()
    audit.record(session, "api_signing_secret_rotated", actor=actor, target=f"client:{client.id}", clock=clock)
    session.flush()
    return secret


def signing_secrets(client: ApiClient, keyring: ClientKeyring, now: datetime) -> list[str]:
    """Return the secrets a callback is signed with now: the current one, then the previous one if still on."""
    found = [keyring.open(client.signing_secret_sealed)]
    if client.previous_secret_sealed and client.previous_secret_expires_at and client.previous_secret_expires_at > now:
        found.append(keyring.open(client.previous_secret_sealed))
    return found


def live_keys(client: ApiClient, now: datetime) -> list[ApiKey]:
    """Return the keys that work now."""
    return [k for k in client.keys if k.revoked_at is None and (k.expires_at is None or k.expires_at > now)]


def authenticate(session: Session, api_key: str | None, *, keyring: ClientKeyring, clock: Clock) -> ApiClient:
    """Return the active client owning ``api_key``; raise ApiKeyRejected for anything else."""
    if not api_key or len(api_key) > 200:
        raise ApiKeyRejected("send the API key as 'Authorization: Bearer <key>'")
    key = session.scalars(select(ApiKey).where(ApiKey.key_hash == keyring.hash_key(api_key))).one_or_none()
    now = clock.now()
    if key is None or key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        raise ApiKeyRejected("this API key is unknown, expired or revoked")
    if not key.client.active:
        raise ApiKeyRejected("this API client is disabled")
    # One write a minute at most: a busy client should not turn every read into an UPDATE.
    if key.last_used_at is None or key.last_used_at < now - timedelta(minutes=1):
        key.last_used_at = now
    return key.client


def require_scope(client: ApiClient, scope: str) -> None:
    """Raise ScopeMissing unless ``client`` holds ``scope``."""
    if scope not in client.scopes:
        raise ScopeMissing(f"this API client lacks the {scope!r} scope", details={"scope": scope})


def return_url_allowed(client: ApiClient, url: str) -> bool:
    """True if ``url`` is https (or http on localhost) on one of the client's registered domains."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    local = host in ("localhost", "127.0.0.1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        return False
    return any(host == d or host.endswith("." + d) for d in client.return_url_domains)


def get_client(session: Session, client_id: int) -> ApiClient:
    """Return the client with this id."""
    client = session.get(ApiClient, client_id)
    if client is None:
        raise ApiClientNotFound(f"no API client {client_id}")
    return client


def list_clients(session: Session) -> list[ApiClient]:
    """Every client, by name."""
    return list(session.scalars(select(ApiClient).order_by(ApiClient.name, ApiClient.id)))


def find_by_key(session: Session, api_key: str, keyring: ClientKeyring) -> ApiClient | None:
    """Return the client owning ``api_key`` (whatever its state), for idempotent seeding."""
    key = session.scalars(select(ApiKey).where(ApiKey.key_hash == keyring.hash_key(api_key))).one_or_none()
    return key.client if key else None
