"""Agency integration wiring: the API-client keyring from settings, the callback sender, the demo agency."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace

from flask import current_app
from sqlalchemy.orm import Session

from agencies.clients import ClientKeyring, ClientSpec, find_by_key, register_client
from core.clock import SYSTEM_CLOCK
from core.settings import Settings
from payments import agency_delivery

#: Where the demo agency's callbacks go: the demo page's own receiver (citizen/views/demo_agency.py).
DEMO_CALLBACK_PATH = "/api/v1/demo-agency/callbacks"
#: The demo agency of the embedded default: the judicial-record office billing criminal-record extracts.
DEMO_CLIENT = ClientSpec(name="Demo agency (Sở Tư pháp, demo)", agency_code="DEMO-STP",
                         service_codes=("LLTP", "TLHT"), scopes=("read", "create", "refund"),
                         callback_url="", return_url_domains=("localhost", "127.0.0.1"), rate_limit_per_minute=600)


def keyring_for(settings: Settings) -> ClientKeyring:
    """The keyring whose keys derive from the personal-data key (or, failing that, the secret key)."""
    master = settings.personal_data_key or settings.secret_key
    return ClientKeyring(hmac.new(master.encode(), b"api-clients", hashlib.sha256).digest())


def configure_callbacks(settings: Settings) -> ClientKeyring:
    """Give the callback sender its keyring (web process and worker alike)."""
    keyring = keyring_for(settings)
    agency_delivery.configure(keyring)
    return keyring


def keyring() -> ClientKeyring:
    """The current app's API-client keyring."""
    return current_app.extensions["gateway.runtime"].keyring


def seed_demo_agency(session: Session, settings: Settings | None = None) -> int:
    """Register the demo agency client with ``GATEWAY_DEMO_AGENCY_KEY`` unless it exists (or the key is unset)."""
    settings = settings or Settings.from_env()
    if not settings.demo_agency_key:
        return 0
    ring = keyring_for(settings)
    if find_by_key(session, settings.demo_agency_key, ring) is not None:
        return 0
    spec = replace(DEMO_CLIENT, callback_url=settings.base_url + DEMO_CALLBACK_PATH)
    register_client(session, spec, keyring=ring, actor="seed", clock=SYSTEM_CLOCK, api_key=settings.demo_agency_key)
    return 1
