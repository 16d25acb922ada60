"""Clients registered at the stand-in, and the plain request/response types the web layer translates."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749 import OAuth2Request as _OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload

SCOPES = ("openid", "profile", "email", "vneid")


@dataclass(frozen=True)
class DevClient(ClientMixin):
    """A relying party registered at the stand-in: exact redirect URIs and one token-endpoint auth method."""

    client_id: str
    realm: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()
    token_endpoint_auth_method: str = "client_secret_basic"
    client_secret: str | None = None
    jwks: Mapping[str, Any] | None = None

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {"post_logout_redirect_uris": list(self.post_logout_redirect_uris)}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact string comparison: no prefixes, no wildcards, no case folding, no normalisation.
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.client_secret) and hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class Headers(dict):
    """Request headers with case-insensitive lookup, as authlib expects."""

    def __init__(self, headers: Mapping[str, str]):
        super().__init__({key.lower(): value for key, value in headers.items()})

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)

    def __getitem__(self, key: str) -> Any:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


@dataclass(frozen=True)
class PlainRequest:
    """An HTTP request as the stand-in sees it: no framework objects."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)


@dataclass
class PlainResponse:
    """An HTTP response for the web layer to send as is."""

    status: int
    body: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def location(self) -> str | None:
        return next((value for key, value in self.headers if key.lower() == "location"), None)

    @location.setter
    def location(self, value: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != "location"] + [("Location", value)]


class OAuth2Request(_OAuth2Request):
    """authlib's request built from a ``PlainRequest``."""

    def __init__(self, plain: PlainRequest):
        super().__init__(plain.method, plain.url, headers=Headers(plain.headers))
        self._args = dict(plain.query)
        self._form = dict(plain.form)
        self.payload = BasicOAuth2Payload({**self._args, **self._form})

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form
