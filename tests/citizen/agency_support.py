"""Helpers for agency API tests: a registered client with its key, and calls signed with it."""

from __future__ import annotations

import itertools
from dataclasses import replace

from agencies.clients import ClientSpec, register_client
from core.clock import SYSTEM_CLOCK
from subsidies.seed import seed_catalogue, seed_rules

SPEC = ClientSpec(name="Sở Tư pháp Hà Nội", agency_code="HN-STP", service_codes=("LLTP", "TLHT"),
                  scopes=("read", "create", "refund"), return_url_domains=("stp.example.vn",))
_keys = itertools.count(1)


def seed_pricing(db) -> None:
    """The fee catalogue and rules the bills are priced with."""
    seed_catalogue(db)
    seed_rules(db)


def make_client(app, db, **changes):
    """Register an API client; returns (client, api key, signing secret)."""
    made = register_client(db, replace(SPEC, **changes), keyring=app.extensions["gateway.runtime"].keyring,
                           actor="test", clock=SYSTEM_CLOCK)
    db.flush()
    return made.client, made.api_key, made.signing_secret


def bill_body(**changes) -> dict:
    """A valid create-bill body with a fresh agency reference."""
    body = {"service_code": "LLTP", "quantity": 1, "channel": "PORTAL", "personal_id_number": "001094012345",
            "agency_reference": f"HS-{next(_keys)}", "description": "Phiếu lý lịch tư pháp số 1",
            "return_url": "https://stp.example.vn/ho-so/1"}
    body.update(changes)
    return body


def headers(key: str, idempotency_key: str | None = None) -> dict:
    """Authorization (and Idempotency-Key) headers."""
    found = {"Authorization": f"Bearer {key}"}
    if idempotency_key:
        found["Idempotency-Key"] = idempotency_key
    return found


def create(client, key: str, idem: str | None = None, **changes):
    """POST /api/v1/bills."""
    return client.post("/api/v1/bills", json=bill_body(**changes),
                       headers=headers(key, idem or f"k-{next(_keys)}"))

