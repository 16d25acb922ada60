"""Drive the real login flow through the test client: gateway -> stand-in -> gateway."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient

from identity.devidp.accounts import CITIZENS, STAFF

HN_LEVEL2 = CITIZENS[0].subject
HN_LEVEL1 = CITIZENS[1].subject
HCM = CITIZENS[2].subject
LOCKED = CITIZENS[6].subject
STAFF_BY_ROLE = {s.role: s.subject for s in STAFF}
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def local(url: str) -> str:
    """Return path and query of ``url`` for the test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def query(url: str) -> dict[str, str]:
    """Return the query parameters of ``url`` (first values)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@dataclass
class Callback:
    """The stand-in's redirect back to the gateway, before the gateway has seen it."""

    url: str

    @property
    def params(self) -> dict[str, str]:
        return query(self.url)


def authorize(client: FlaskClient, start_path: str, subject: str) -> Callback:
    """Start a login at ``start_path``, choose ``subject`` at the stand-in; return the callback URL."""
    started = client.get(start_path)
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    chooser = client.get(local(started.location))
    assert chooser.status_code == 200, chooser.get_data(as_text=True)[:2000]
    fields = {k: html.unescape(v) for k, v in _HIDDEN.findall(chooser.get_data(as_text=True))}
    fields["account"] = subject
    chosen = client.post("/dev-idp/authorize", data=fields)
    assert chosen.status_code == 302, chosen.get_data(as_text=True)[:2000]
    return Callback(chosen.location)


def login(client: FlaskClient, subject: str = HN_LEVEL2, *, start_path: str = "/auth/login", consent: bool = True):
    """Log in as ``subject`` through the whole flow; return the callback response."""
    callback = authorize(client, start_path, subject)
    response = client.get(local(callback.url))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    if consent and "/account/consent" in response.location:
        page = client.get(local(response.location))
        token = dict(_HIDDEN.findall(page.get_data(as_text=True)))["csrf_token"]
        agreed = client.post("/account/consent", data={"csrf_token": token, "next": "/account/"})
        assert agreed.status_code == 303
    return response


def staff_login(client: FlaskClient, role: str):
    """Log in as the demo staff member holding ``role``."""
    return login(client, STAFF_BY_ROLE[role], start_path="/auth/staff/login", consent=False)


def form_token(client: FlaskClient, path: str) -> str:
    """Return the CSRF token from the first form on ``path``."""
    page = client.get(path)
    return dict(_HIDDEN.findall(page.get_data(as_text=True)))["csrf_token"]
