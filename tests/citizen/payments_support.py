"""Shared set-up of the citizen payment page tests: seeded rules and demo bills, providers, form fields."""

from __future__ import annotations

import html
import re

from citizen.demo_bills import DEMO_BILLS, seed_demo_bills
from core.geography import seed_provinces
from payments.models.billing import Bill
from subsidies.seed import seed_catalogue, seed_rules
from web.identity_runtime import get_identity

_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
_HREF = re.compile(r'href="(/receipts/[0-9a-f]{32})"')


def seed_bills(app, db) -> dict[str, Bill]:
    """Seed reference data and the demo bills; register the app's providers again (tests may replace them)."""
    app.extensions["gateway.runtime"].register_providers()
    seed_provinces(db)
    seed_catalogue(db)
    seed_rules(db)
    seed_demo_bills(db, get_identity(app).vault)
    db.flush()
    bills = {b.agency_reference: b for b in db.query(Bill)}
    return {"hn": bills[DEMO_BILLS[0].agency_reference], "hcm": bills[DEMO_BILLS[1].agency_reference],
            "hn_level1": bills[DEMO_BILLS[2].agency_reference]}


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of the first form(s) on ``page`` (later ones win)."""
    return {k: html.unescape(v) for k, v in _INPUT.findall(page)}


def receipt_link(page: str) -> str:
    """The first receipt link on ``page``."""
    return _HREF.search(page).group(1)
