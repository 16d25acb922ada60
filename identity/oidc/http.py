"""The relying party's HTTP transport: a small protocol so tests and the bundled provider need no network.

``RequestsHttpClient`` is the real one: short timeouts, no redirects followed, bodies capped (a provider
that streams megabytes at us is refused, not buffered).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from identity.errors import ProviderUnavailable

#: Discovery, JWKS, token and userinfo answers are a few KiB; 256 KiB is generous and bounded.
MAX_BODY_BYTES = 256 * 1024
TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class HttpResponse:
    """A response reduced to what the relying party reads."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str:
        """Return a header case-insensitively, or ''."""
        lowered = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == lowered), "")

    def json_object(self, what: str) -> dict[str, Any]:
        """Return the body as a JSON object or raise ``ProviderUnavailable`` naming ``what``."""
        try:
            value = json.loads(self.body)
        except (ValueError, RecursionError):
            raise ProviderUnavailable(f"{what}: the provider's answer is not JSON") from None
        if not isinstance(value, dict):
            raise ProviderUnavailable(f"{what}: the provider's answer is not a JSON object")
        return value


class HttpClient(Protocol):
    """What the relying party needs from HTTP."""

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> HttpResponse:
        """GET ``url``."""

    def post_form(self, url: str, data: Mapping[str, str], headers: Mapping[str, str] | None = None) -> HttpResponse:
        """POST ``data`` form-encoded to ``url``."""


class RequestsHttpClient:
    """HTTP over the network with bounded time and size."""

    def __init__(self, session: requests.Session | None = None, user_agent: str = "city-payment-gateway"):
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = user_agent

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> HttpResponse:
        return self._send("GET", url, headers=dict(headers or {}))

    def post_form(self, url: str, data: Mapping[str, str], headers: Mapping[str, str] | None = None) -> HttpResponse:
        return self._send("POST", url, headers=dict(headers or {}), data=dict(data))

    def _send(self, method: str, url: str, **kwargs: Any) -> HttpResponse:
        try:
            with self._session.request(method, url, timeout=TIMEOUT_SECONDS, allow_redirects=False, stream=True,
                                       **kwargs) as response:
                body = response.raw.read(MAX_BODY_BYTES + 1, decode_content=True)
                if len(body) > MAX_BODY_BYTES:
                    raise ProviderUnavailable(f"{method} {url}: answer larger than {MAX_BODY_BYTES} bytes")
                return HttpResponse(response.status_code, body, dict(response.headers))
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"{method} {url}: {type(exc).__name__}") from None
