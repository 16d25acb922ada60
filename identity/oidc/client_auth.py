"""How the gateway proves itself at the token endpoint: ``client_secret_basic`` or ``private_key_jwt``.

The assertion is built here rather than by authlib's ``PrivateKeyJWT``, whose defaults we cannot accept:
``aud`` is the issuer string (CVE-2025-27370/27371 audience injection), every assertion has a fresh ``jti``
(authlib reuses one when ``aud`` is overridden) and it lives 60 seconds, not an hour.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey, import_key

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_SECONDS = 60


@dataclass(frozen=True)
class ClientSecretBasic:
    """A shared secret sent in the ``Authorization`` header (RFC 6749 2.3.1)."""

    client_id: str
    secret: str
    method = "client_secret_basic"

    def apply(self, form: dict[str, str], headers: dict[str, str], audience: str) -> None:
        """Add the credentials to a token request."""
        # RFC 6749 2.3.1: both parts are form-urlencoded before base64.
        pair = f"{quote(self.client_id, safe='')}:{quote(self.secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()


@dataclass(frozen=True)
class PrivateKeyJwt:
    """A signed client assertion (RFC 7523) from a private JWK whose public half the provider holds."""

    client_id: str
    private_jwk: Mapping[str, Any]
    method = "private_key_jwt"

    def apply(self, form: dict[str, str], headers: dict[str, str], audience: str) -> None:
        """Add a fresh client assertion to a token request."""
        form["client_id"] = self.client_id
        form["client_assertion_type"] = ASSERTION_TYPE
        form["client_assertion"] = self.assertion(audience)

    def assertion(self, audience: str, *, now: float | None = None) -> str:
        """Return a new assertion: ``iss = sub = client_id``, single ``aud``, fresh ``jti``, 60 s life."""
        key = import_key(dict(self.private_jwk))
        alg = "ES256" if isinstance(key, ECKey) else "RS256" if isinstance(key, RSAKey) else None
        if alg is None:
            raise ValueError("the client key must be an EC P-256 or RSA private JWK")
        issued = int(now if now is not None else time.time())
        header = {"alg": alg, "typ": "JWT"}
        if key.kid:
            header["kid"] = key.kid
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": audience, "jti": secrets.token_urlsafe(24),
                  "iat": issued, "exp": issued + ASSERTION_LIFETIME_SECONDS}
        return jwt.encode(header, claims, key, algorithms=[alg])


ClientCredentials = ClientSecretBasic | PrivateKeyJwt
