"""An in-process HTTP client that answers the relying party's back-channel calls from a ``DevIdp``.

In the embedded default the stand-in lives in the same app as the relying party; calling ourselves over
the network would tie up a worker waiting on itself. This transport routes discovery, JWKS, token and
userinfo straight to the stand-in, in the caller's database transaction. The browser-facing endpoints
(authorize, end-session) are real HTTP routes in ``citizen/views/devidp.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from sqlalchemy.orm import Session

from identity.devidp.clients import PlainRequest
from identity.devidp.server import DevIdp
from identity.oidc.http import HttpResponse


class DevIdpTransport:
    """``HttpClient`` for URLs under the stand-in's issuer."""

    def __init__(self, idp: DevIdp, session: Callable[[], Session]):
        self._idp = idp
        self._session = session

    def _path(self, url: str) -> str:
        if not url.startswith(self._idp.issuer + "/"):
            return ""
        return url[len(self._idp.issuer):].split("?", 1)[0]

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> HttpResponse:
        path, headers = self._path(url), dict(headers or {})
        if path == "/.well-known/openid-configuration":
            return _json(200, self._idp.discovery(), {"Cache-Control": "max-age=3600"})
        if path == "/jwks":
            keys, max_age = self._idp.jwks()
            return _json(200, keys, {"Cache-Control": f"max-age={max_age}"})
        if path == "/userinfo":
            authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
            response = self._idp.userinfo(self._session(), authorization)
            return HttpResponse(response.status, response.body.encode(), dict(response.headers))
        return HttpResponse(404, b"{}", {})

    def post_form(self, url: str, data: Mapping[str, str], headers: Mapping[str, str] | None = None) -> HttpResponse:
        if self._path(url) != "/token":
            return HttpResponse(404, b"{}", {})
        response = self._idp.token(self._session(), PlainRequest("POST", url, dict(headers or {}), {}, dict(data)))
        return HttpResponse(response.status, response.body.encode(), dict(response.headers))


def _json(status: int, body: object, headers: dict[str, str]) -> HttpResponse:
    return HttpResponse(status, json.dumps(body).encode(), {"Content-Type": "application/json", **headers})
