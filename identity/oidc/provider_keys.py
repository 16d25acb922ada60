"""Discovery and JWKS, cached with a lifetime; an unknown ``kid`` refetches at most once per window.

* Discovery's ``issuer`` must equal the configured issuer exactly (a foreign discovery is a mix-up).
* JWKS honours ``Cache-Control: max-age`` (default 1 h, at most 24 h). When the provider is unreachable the
  last good set stays in use. Keys the provider removed stop verifying at the next refresh.
* A token naming a ``kid`` we do not have triggers one refetch, but only if the last fetch is older than
  ``REFETCH_WINDOW``: a flood of random ``kid`` values costs the provider at most one request per window.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from core.clock import SYSTEM_CLOCK, Clock
from identity.errors import ProviderUnavailable, TokenRejected
from identity.oidc.http import HttpClient, HttpResponse

DEFAULT_TTL = timedelta(hours=1)
MAX_TTL = timedelta(hours=24)
REFETCH_WINDOW = timedelta(seconds=30)
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)
REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


def cache_lifetime(response: HttpResponse) -> timedelta:
    """Return how long to keep a response: its ``max-age`` within (0, 24 h], else one hour."""
    match = _MAX_AGE.search(response.header("Cache-Control"))
    if not match:
        return DEFAULT_TTL
    return min(max(timedelta(seconds=int(match.group(1))), timedelta(seconds=1)), MAX_TTL)


class ProviderKeys:
    """One provider's discovery document and signing keys, shared by every request of a process."""

    def __init__(self, issuer: str, http: HttpClient, *, clock: Clock = SYSTEM_CLOCK,
                 discovery_url: str | None = None):
        self.issuer = issuer
        self._http = http
        self._clock = clock
        self._discovery_url = discovery_url or f"{issuer.rstrip('/')}/.well-known/openid-configuration"
        self._lock = threading.RLock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_expires: datetime | None = None
        self._keys: KeySet | None = None
        self._keys_expires: datetime | None = None
        self._keys_fetched_at: datetime | None = None
        #: How many times the JWKS was fetched: the benchmark and the kid-flood test read it.
        self.jwks_fetches = 0

    def metadata(self) -> dict[str, Any]:
        """Return the discovery document, fetching it when stale."""
        with self._lock:
            now = self._clock.now()
            if self._metadata is None or now >= self._metadata_expires:
                try:
                    self._metadata, lifetime = self._fetch_metadata()
                    self._metadata_expires = now + lifetime
                except ProviderUnavailable:
                    if self._metadata is None:
                        raise
            return self._metadata

    def _fetch_metadata(self) -> tuple[dict[str, Any], timedelta]:
        response = self._http.get(self._discovery_url)
        if response.status != 200:
            raise ProviderUnavailable(f"discovery answered {response.status}")
        document = response.json_object("discovery")
        missing = [name for name in REQUIRED_METADATA if not isinstance(document.get(name), str)]
        if missing:
            raise ProviderUnavailable(f"discovery lacks {', '.join(missing)}")
        if document["issuer"] != self.issuer:
            # Exact string match, trailing slash included (OIDC Discovery 4.3): a foreign issuer is a mix-up.
            raise TokenRejected("discovery_issuer_mismatch")
        return document, cache_lifetime(response)

    def key_set(self) -> KeySet:
        """Return the current signing keys, refreshing them when their lifetime ran out."""
        with self._lock:
            now = self._clock.now()
            if self._keys is None or now >= self._keys_expires:
                self._refresh(now)
            return self._keys

    def key_for(self, kid: str) -> Any:
        """Return the key named ``kid``, refetching once per window if it is unknown; else refuse."""
        keys = self.key_set()
        key = _find(keys, kid)
        if key is not None:
            return key
        with self._lock:
            now = self._clock.now()
            if self._keys_fetched_at is None or now - self._keys_fetched_at >= REFETCH_WINDOW:
                self._refresh(now)
            key = _find(self._keys, kid)
        if key is None:
            raise TokenRejected("id_token_kid_unknown")
        return key

    def _refresh(self, now: datetime) -> None:
        self._keys_fetched_at = now
        try:
            response = self._http.get(self.metadata()["jwks_uri"])
            self.jwks_fetches += 1
            if response.status != 200:
                raise ProviderUnavailable(f"JWKS answered {response.status}")
            keys = _import_key_set(response.json_object("JWKS"))
            self._keys, self._keys_expires = keys, now + cache_lifetime(response)
        except ProviderUnavailable:
            if self._keys is None:
                raise
            # Keep the last good keys through an outage, and ask again after one window.
            self._keys_expires = now + REFETCH_WINDOW


def _import_key_set(document: dict[str, Any]) -> KeySet:
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise ProviderUnavailable("JWKS has no key list")
    # Only public signing keys: a private or symmetric key in a JWKS is a provider bug we refuse to use.
    usable = [key for key in keys if isinstance(key, dict) and key.get("kty") in ("EC", "RSA")
              and key.get("use", "sig") == "sig" and "d" not in key]
    try:
        return KeySet.import_key_set({"keys": usable})
    except (JoseError, ValueError, TypeError):
        raise ProviderUnavailable("JWKS holds a key we cannot read") from None


def _find(keys: KeySet, kid: str) -> Any:
    return next((key for key in keys.keys if key.kid == kid), None)
