"""API clients: registration rules, keys shown once and stored hashed, rotation with overlap, revocation, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from agencies import clients
from agencies.clients import ClientKeyring, ClientSpec
from agencies.errors import ApiClientInvalid, ApiKeyRejected, ScopeMissing
from agencies.models import ApiKey
from core.clock import FixedClock
from identity.models import AuditEvent

KEYRING = ClientKeyring(b"k" * 32)
SPEC = ClientSpec(name="Sở Tư pháp Hà Nội", agency_code="HN-STP", service_codes=("LLTP",),
                  scopes=("read", "create"), callback_url="https://stp.example.vn/cb",
                  return_url_domains=("stp.example.vn",))


@pytest.fixture()
def clock():
    return FixedClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))


def register(db, clock, spec=SPEC):
    return clients.register_client(db, spec, keyring=KEYRING, actor="staff:admin", clock=clock)


def test_a_key_is_shown_once_and_stored_only_as_a_keyed_hash(db, clock):
    made = register(db, clock)
    stored = db.scalars(select(ApiKey).where(ApiKey.client_id == made.client.id)).one()
    assert made.api_key.startswith("gwk_") and made.api_key not in (stored.key_hash, stored.prefix)
    assert stored.key_hash == KEYRING.hash_key(made.api_key) != ClientKeyring(b"o" * 32).hash_key(made.api_key)
    assert clients.authenticate(db, made.api_key, keyring=KEYRING, clock=clock) is made.client


@pytest.mark.parametrize("key", [None, "", "gwk_unknown", "x" * 500])
def test_unknown_keys_are_refused(db, clock, key):
    register(db, clock)
    with pytest.raises(ApiKeyRejected):
        clients.authenticate(db, key, keyring=KEYRING, clock=clock)


def test_rotation_overlaps_then_the_old_key_stops(db, clock):
    made = register(db, clock)
    new_key = clients.rotate_key(db, made.client.id, keyring=KEYRING, actor="staff:admin", clock=clock,
                                 overlap=timedelta(hours=1))
    for key in (made.api_key, new_key):
        assert clients.authenticate(db, key, keyring=KEYRING, clock=clock) is made.client
    clock.advance(hours=1)
    with pytest.raises(ApiKeyRejected):
        clients.authenticate(db, made.api_key, keyring=KEYRING, clock=clock)
    assert clients.authenticate(db, new_key, keyring=KEYRING, clock=clock) is made.client


def test_a_revoked_key_is_refused_at_once(db, clock):
    made = register(db, clock)
    key_id = made.client.keys[0].id
    clients.revoke_key(db, key_id, actor="staff:admin", clock=clock)
    with pytest.raises(ApiKeyRejected):
        clients.authenticate(db, made.api_key, keyring=KEYRING, clock=clock)


def test_a_disabled_client_is_refused(db, clock):
    made = register(db, clock)
    clients.set_active(db, made.client.id, False, actor="staff:admin", clock=clock)
    with pytest.raises(ApiKeyRejected):
        clients.authenticate(db, made.api_key, keyring=KEYRING, clock=clock)


def test_signing_secret_rotation_keeps_the_previous_secret_for_the_overlap(db, clock):
    made = register(db, clock)
    new = clients.rotate_signing_secret(db, made.client.id, keyring=KEYRING, actor="staff:admin", clock=clock,
                                        overlap=timedelta(hours=2))
    assert clients.signing_secrets(made.client, KEYRING, clock.now()) == [new, made.signing_secret]
    clock.advance(hours=2)
    assert clients.signing_secrets(made.client, KEYRING, clock.now()) == [new]


@pytest.mark.parametrize("change", [
    {"service_codes": ()}, {"scopes": ("admin",)}, {"scopes": ()}, {"callback_url": "ftp://x"},
    {"return_url_domains": ("https://a.vn",)}, {"rate_limit_per_minute": 0}, {"agency_code": " "},
])
def test_registration_rules(db, clock, change):
    from dataclasses import replace

    with pytest.raises(ApiClientInvalid):
        register(db, clock, replace(SPEC, **change))


def test_scopes_and_return_urls(db, clock):
    client = register(db, clock).client
    clients.require_scope(client, "create")
    with pytest.raises(ScopeMissing):
        clients.require_scope(client, "refund")
    assert clients.return_url_allowed(client, "https://stp.example.vn/done")
    assert clients.return_url_allowed(client, "https://dich-vu.stp.example.vn/x")
    assert not clients.return_url_allowed(client, "http://stp.example.vn/done")
    assert not clients.return_url_allowed(client, "https://evilstp.example.vn/")
    assert not clients.return_url_allowed(client, "https://stp.example.vn.evil.com/")


def test_every_change_is_audited_with_its_actor(db, clock):
    made = register(db, clock)
    clients.rotate_key(db, made.client.id, keyring=KEYRING, actor="staff:admin", clock=clock)
    clients.revoke_key(db, made.client.keys[0].id, actor="staff:admin", clock=clock)
    events = db.scalars(select(AuditEvent.event).where(AuditEvent.target == f"client:{made.client.id}")).all()
    assert set(events) >= {"api_client_registered", "api_key_rotated", "api_key_revoked"}
