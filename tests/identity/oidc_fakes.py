"""A fake provider for unit tests: discovery and JWKS served from dicts, fetches counted, tokens minted."""

from __future__ import annotations

import json
import time
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

from identity.oidc.http import HttpResponse

ISSUER = "https://sso.example.gov.vn/realms/citizen"
CLIENT = "gateway"
NONCE = "n" * 43


class FakeProvider:
    """Serves discovery and a mutable JWKS; counts requests; can go down."""

    def __init__(self, *, issuer: str = ISSUER, keys: list[ECKey] | None = None, max_age: int = 3600):
        self.issuer = issuer
        self.keys = keys if keys is not None else [ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)]
        self.max_age = max_age
        self.metadata: dict[str, Any] = {"issuer": issuer, "authorization_endpoint": f"{issuer}/auth",
                                         "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/certs"}
        self.jwks_requests = 0
        self.down = False

    def get(self, url: str, headers=None) -> HttpResponse:
        if self.down:
            from identity.errors import ProviderUnavailable

            raise ProviderUnavailable("down")
        if url.endswith("/.well-known/openid-configuration"):
            return HttpResponse(200, json.dumps(self.metadata).encode(), {})
        self.jwks_requests += 1
        body = {"keys": [k.as_dict(private=False) for k in self.keys]}
        return HttpResponse(200, json.dumps(body).encode(), {"Cache-Control": f"public, max-age={self.max_age}"})

    def post_form(self, url, data, headers=None):  # pragma: no cover - unused here
        raise AssertionError("no token endpoint in unit tests")


def claims(**changes: Any) -> dict[str, Any]:
    """Good ID-token claims, with ``changes`` applied (a value of None removes the claim)."""
    now = int(time.time())
    base = {"iss": ISSUER, "sub": "citizen-1", "aud": CLIENT, "exp": now + 300, "iat": now, "nonce": NONCE,
            "auth_time": now, "acr": "urn:vn:vneid:loa:2"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: ECKey, body: dict[str, Any], **header: Any) -> str:
    """Sign ``body`` with ``key`` (ES256, its kid unless the header overrides)."""
    head = {"alg": "ES256", "kid": key.kid, **header}
    head = {k: v for k, v in head.items() if v is not None}
    return jwt.encode(head, body, key, algorithms=["ES256"])
