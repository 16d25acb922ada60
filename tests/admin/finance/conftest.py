"""Logged-in finance clients (English pages, so assertions read like the msgids) over a rolled-back database."""

from __future__ import annotations

import pytest

from identity.devidp.seed import seed_demo_staff
from identity.roles import FINANCE_APPROVER, FINANCE_OFFICER
from tests.web.oidc_support import staff_login


@pytest.fixture()
def staff(db):
    """The demo staff accounts with their roles."""
    seed_demo_staff(db, "http://localhost/dev-idp")


def _client(app, role: str, lang: str = "en"):
    client = app.test_client()
    client.set_cookie("lang", lang)
    staff_login(client, role)
    return client


@pytest.fixture()
def officer(app, db, staff):
    """A test client logged in as the finance officer."""
    return _client(app, FINANCE_OFFICER)


@pytest.fixture()
def approver(app, db, staff):
    """A test client logged in as the finance approver."""
    return _client(app, FINANCE_APPROVER)


@pytest.fixture()
def login_as(app, db, staff):
    """Log a new client in as ``role`` (optionally with Vietnamese pages)."""
    return lambda role, lang="en": _client(app, role, lang)
