"""Discovery and JWKS caching: lifetimes, one refetch per window for unknown kids, outages, removed keys."""

import secrets
from datetime import datetime

import pytest
from joserfc.jwk import ECKey

from core.clock import UTC, FixedClock
from identity.errors import ProviderUnavailable, TokenRejected
from identity.oidc.http import HttpResponse
from identity.oidc.provider_keys import DEFAULT_TTL, MAX_TTL, ProviderKeys, cache_lifetime
from tests.identity.oidc_fakes import ISSUER, FakeProvider


@pytest.fixture()
def clock():
    return FixedClock(datetime(2026, 11, 29, 8, 0, tzinfo=UTC))


def test_jwks_is_fetched_once_within_its_lifetime(clock):
    provider = FakeProvider(max_age=600)
    keys = ProviderKeys(ISSUER, provider, clock=clock)
    for _ in range(1000):
        keys.key_for("k1")
    assert provider.jwks_requests == 1 and keys.jwks_fetches == 1
    clock.advance(seconds=601)
    keys.key_for("k1")
    assert provider.jwks_requests == 2


def test_a_flood_of_unknown_kids_costs_at_most_one_fetch_per_window(clock):
    provider = FakeProvider()
    keys = ProviderKeys(ISSUER, provider, clock=clock)
    keys.key_set()
    clock.advance(seconds=31)
    for _ in range(100):
        with pytest.raises(TokenRejected) as refused:
            keys.key_for(secrets.token_hex(8))
        assert refused.value.reason == "id_token_kid_unknown"
    assert provider.jwks_requests == 2  # the first fetch plus one refetch for the whole flood


def test_a_rotated_in_key_is_found_by_one_refetch(clock):
    provider = FakeProvider()
    keys = ProviderKeys(ISSUER, provider, clock=clock)
    keys.key_set()
    provider.keys.append(ECKey.generate_key("P-256", parameters={"kid": "k2"}, private=True))
    clock.advance(seconds=31)
    assert keys.key_for("k2").kid == "k2"


def test_a_removed_key_stops_verifying_after_the_next_refresh(clock):
    provider = FakeProvider(max_age=60)
    keys = ProviderKeys(ISSUER, provider, clock=clock)
    keys.key_for("k1")
    provider.keys = [ECKey.generate_key("P-256", parameters={"kid": "k2"}, private=True)]
    clock.advance(seconds=61)
    with pytest.raises(TokenRejected):
        keys.key_for("k1")


def test_the_last_good_keys_survive_an_outage(clock):
    provider = FakeProvider(max_age=60)
    keys = ProviderKeys(ISSUER, provider, clock=clock)
    keys.key_for("k1")
    provider.down = True
    clock.advance(seconds=61)
    assert keys.key_for("k1").kid == "k1"


def test_no_keys_and_no_provider_is_an_outage(clock):
    provider = FakeProvider()
    provider.down = True
    with pytest.raises(ProviderUnavailable):
        ProviderKeys(ISSUER, provider, clock=clock).key_set()


@pytest.mark.parametrize("foreign", [ISSUER + "/", "https://attacker.example", ISSUER.upper()])
def test_discovery_naming_another_issuer_is_refused(clock, foreign):
    provider = FakeProvider()
    provider.metadata["issuer"] = foreign
    with pytest.raises(TokenRejected) as refused:
        ProviderKeys(ISSUER, provider, clock=clock).metadata()
    assert refused.value.reason == "discovery_issuer_mismatch"


def test_discovery_without_required_endpoints_is_unusable(clock):
    provider = FakeProvider()
    del provider.metadata["jwks_uri"]
    with pytest.raises(ProviderUnavailable):
        ProviderKeys(ISSUER, provider, clock=clock).metadata()


@pytest.mark.parametrize(("header", "seconds"), [
    ("", DEFAULT_TTL.total_seconds()),
    ("public, max-age=120", 120),
    ("max-age=999999999", MAX_TTL.total_seconds()),
    ("no-cache", DEFAULT_TTL.total_seconds()),
])
def test_cache_control_sets_the_lifetime(header, seconds):
    assert cache_lifetime(HttpResponse(200, b"{}", {"Cache-Control": header})).total_seconds() == seconds


def test_private_and_symmetric_keys_in_a_jwks_are_ignored(clock):
    provider = FakeProvider()
    private = ECKey.generate_key("P-256", parameters={"kid": "leaked"}, private=True)

    def get(url, headers=None):
        if url.endswith("openid-configuration"):
            return FakeProvider.get(provider, url)
        import json

        body = {"keys": [private.as_dict(private=True), {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
                         provider.keys[0].as_dict(private=False)]}
        return HttpResponse(200, json.dumps(body).encode(), {})

    provider.get = get
    keys = ProviderKeys(ISSUER, provider, clock=clock).key_set()
    assert [key.kid for key in keys.keys] == ["k1"]
