"""Fixtures for the back-office tests: a seeded catalogue and rules, demo staff, and logged-in clients."""

from __future__ import annotations

import pytest

from core.clock import SYSTEM_CLOCK
from core.geography import seed_provinces
from identity.devidp.seed import seed_demo_staff
from subsidies.seed import seed_catalogue, seed_rules
from tests.web.oidc_support import form_token, staff_login


@pytest.fixture()
def seeded(db):
    """The test session with provinces, the catalogue, funds, published seed rules and demo staff."""
    seed_provinces(db)
    seed_catalogue(db)
    seed_rules(db)
    seed_demo_staff(db, "http://localhost/dev-idp")
    db.flush()
    return db


@pytest.fixture()
def as_role(app, seeded):
    """Return a factory of test clients logged in as the demo staff member holding a role."""

    def make(role: str):
        client = app.test_client()
        staff_login(client, role)
        client.token = form_token(client, "/admin/policy/")
        return client

    return make


@pytest.fixture()
def today():
    """Today in Vietnam: a rule starting today is not retroactive (one approver) and shows on the fee page."""
    return SYSTEM_CLOCK.today_in_vietnam()
