"""ID-token verification refuses each bad token with its own reason (research note section 7.3 and 9)."""

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc.jwk import ECKey

from core.clock import UTC
from identity.errors import TokenRejected
from identity.oidc.id_token import Expectations, verify_id_token
from identity.oidc.jose import MAX_TOKEN_BYTES, half_hash
from identity.oidc.provider_keys import ProviderKeys
from tests.identity.oidc_fakes import CLIENT, ISSUER, NONCE, FakeProvider, claims, sign


def verify(token, provider=None, **expect):
    provider = provider or FakeProvider()
    keys = ProviderKeys(ISSUER, provider)
    base = {"issuer": ISSUER, "client_id": CLIENT, "nonce": NONCE, "now": datetime.now(UTC)}
    base.update(expect)
    return verify_id_token(token, keys, Expectations(**base))


def refused(token, provider=None, **expect) -> str:
    with pytest.raises(TokenRejected) as caught:
        verify(token, provider, **expect)
    return caught.value.reason


@pytest.fixture()
def provider():
    return FakeProvider()


@pytest.fixture()
def key(provider):
    return provider.keys[0]


def test_a_good_token_verifies(provider, key):
    verified = verify(sign(key, claims()), provider)
    assert verified.subject == "citizen-1" and verified.auth_time is not None


@pytest.mark.parametrize(("changes", "reason"), [
    ({"iss": None}, "id_token_iss_missing"),
    ({"iss": ISSUER + "/"}, "id_token_iss_mismatch"),                       # trailing slash is another issuer
    ({"iss": "https://other.example"}, "id_token_iss_mismatch"),
    ({"aud": None}, "id_token_aud_missing"),
    ({"aud": "someone-else"}, "id_token_aud_mismatch"),
    ({"aud": ["someone-else"], "azp": CLIENT}, "id_token_aud_mismatch"),   # azp naming us does not help
    ({"aud": [CLIENT, "someone-else"]}, "id_token_azp_mismatch"),
    ({"aud": [CLIENT, "someone-else"], "azp": "someone-else"}, "id_token_azp_mismatch"),
    ({"aud": [1, 2]}, "id_token_aud_missing"),
    ({"sub": None}, "id_token_sub_invalid"),
    ({"sub": ""}, "id_token_sub_invalid"),
    ({"sub": 42}, "id_token_sub_invalid"),
    ({"exp": None}, "id_token_exp_missing"),
    ({"exp": -61}, "id_token_expired"),
    ({"exp": "tomorrow"}, "id_token_exp_malformed"),
    ({"exp": True}, "id_token_exp_malformed"),
    ({"iat": None}, "id_token_iat_missing"),
    ({"iat": 120}, "id_token_iat_in_future"),
    ({"iat": -3600}, "id_token_iat_too_old"),
    ({"nbf": 120}, "id_token_not_yet_valid"),
    ({"nonce": None}, "id_token_nonce_missing"),
    ({"nonce": "m" * 43}, "id_token_nonce_mismatch"),
    ({"nonce": 7}, "id_token_nonce_mismatch"),
])
def test_each_bad_claim_is_refused_with_its_reason(provider, key, changes, reason):
    # Whole-number times in the table are offsets from now, applied when the test runs (not when collected).
    now = int(time.time())
    changes = {name: now + value if name in ("exp", "iat", "nbf") and type(value) is int else value
               for name, value in changes.items()}
    assert refused(sign(key, claims(**changes)), provider) == reason


def test_small_clock_skew_is_tolerated(provider, key):
    now = int(time.time())
    verify(sign(key, claims(exp=now - 30, iat=now + 30, nbf=now + 30)), provider)


def test_at_hash_must_match_the_access_token(provider, key):
    token = sign(key, claims(at_hash=half_hash("the-access-token")))
    verify(token, provider, access_token="the-access-token")
    assert refused(token, provider, access_token="another-token") == "id_token_at_hash_mismatch"


def test_auth_time_must_be_within_max_age(provider, key):
    old = int(time.time()) - 400
    assert refused(sign(key, claims(auth_time=old)), provider, max_age=300) == "id_token_auth_time_too_old"
    assert refused(sign(key, claims(auth_time=None)), provider, max_age=300) == "id_token_auth_time_missing"
    verify(sign(key, claims(auth_time=old)), provider, max_age=600)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_alg_none_is_refused_even_when_discovery_lists_it(provider):
    provider.metadata["id_token_signing_alg_values_supported"] = ["none", "ES256"]
    header = _b64(json.dumps({"alg": "none"}).encode())
    token = f"{header}.{_b64(json.dumps(claims()).encode())}."
    assert refused(token, provider) == "id_token_alg_none"


def _public_secrets(key: ECKey) -> list[bytes]:
    public = key.as_dict(private=False)
    pem = key.raw_value.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    ssh = key.raw_value.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return [json.dumps(public).encode(), pem, ssh]


def test_hs256_keyed_with_the_providers_public_key_is_refused(provider, key):
    for secret in _public_secrets(key):  # JWK JSON, PEM and OpenSSH forms (CVE-2024-33663)
        header = _b64(json.dumps({"alg": "HS256", "kid": key.kid}).encode())
        signing_input = f"{header}.{_b64(json.dumps(claims()).encode())}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{_b64(mac)}"
        assert refused(token, provider) == "id_token_alg_not_allowed"


def test_a_key_of_the_wrong_type_for_the_alg_is_refused(provider, key):
    header = _b64(json.dumps({"alg": "RS256", "kid": key.kid}).encode())
    token = f"{header}.{_b64(json.dumps(claims()).encode())}.{_b64(b'x' * 256)}"
    assert refused(token, provider) == "id_token_key_type_mismatch"


def test_a_missing_kid_is_accepted_with_one_key_and_refused_with_several(provider, key):
    token = sign(key, claims(), kid=None)
    verify(token, provider)
    provider.keys.append(ECKey.generate_key("P-256", parameters={"kid": "k2"}, private=True))
    assert refused(token, provider) == "id_token_kid_absent_multiple_keys"


def test_a_kid_of_another_issuers_key_is_refused(provider):
    stranger = ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)  # same kid, other key
    assert refused(sign(stranger, claims()), provider) == "id_token_signature_invalid"


@pytest.mark.parametrize(("token", "reason"), [
    ("", "id_token_missing"),
    (None, "id_token_missing"),
    ("a.b", "id_token_malformed"),
    ("a.b.c.d.e", "id_token_encrypted_unsupported"),
    ("!!!.e30.sig", "id_token_malformed"),
    (_b64(b"[1,2]") + ".e30.sig", "id_token_malformed"),
    ("x" * (MAX_TOKEN_BYTES + 1), "id_token_oversized"),
    (_b64(b"[" * 5000 + b"]" * 5000) + ".e30.sig", "id_token_malformed"),
])
def test_malformed_and_oversized_tokens_are_refused(provider, token, reason):
    assert refused(token, provider) == reason


def test_crit_headers_are_refused(provider, key):
    _, body, signature = sign(key, claims()).split(".")
    header = _b64(json.dumps({"alg": "ES256", "kid": key.kid, "crit": ["exp"], "exp": 1}).encode())
    token = f"{header}.{body}.{signature}"  # refused before the signature is even looked at
    assert refused(token, provider) == "id_token_crit_unsupported"


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_never_verifies_and_never_crashes(garbage):
    provider = FakeProvider()
    token = garbage.decode("latin-1")
    with pytest.raises(TokenRejected):
        verify(token, provider, now=datetime.now(UTC) + timedelta(0))
