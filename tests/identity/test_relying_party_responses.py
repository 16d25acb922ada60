"""How the relying party treats what a provider's back channel says: token errors, malformed answers,
signed (application/jwt) userinfo, and userinfo for someone else."""

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt

from core.clock import SYSTEM_CLOCK
from identity.errors import LoginRejected, TokenRejected
from identity.levels import AcrLevels
from identity.oidc.client_auth import ClientSecretBasic
from identity.oidc.http import HttpResponse
from identity.oidc.jose import half_hash
from identity.oidc.provider_keys import ProviderKeys
from identity.oidc.relying_party import ProviderConfig, RelyingParty
from tests.identity.oidc_fakes import CLIENT, ISSUER, FakeProvider, sign

BROWSER = "b" * 43


class ScriptedProvider(FakeProvider):
    """Discovery and JWKS from FakeProvider; token and userinfo answers chosen by each test."""

    def __init__(self):
        super().__init__()
        self.metadata.update(userinfo_endpoint=f"{ISSUER}/userinfo",
                             authorization_response_iss_parameter_supported=True)
        self.nonce = None
        self.token_answer = None
        self.userinfo_answer = None

    def post_form(self, url, data, headers=None):
        return self.token_answer(self) if callable(self.token_answer) else self.token_answer

    def get(self, url, headers=None):
        if url.endswith("/userinfo"):
            return self.userinfo_answer
        return super().get(url, headers)


def good_tokens(provider, **claims):
    now = int(time.time())
    body = {"iss": ISSUER, "sub": "c1", "aud": CLIENT, "iat": now, "exp": now + 300, "nonce": provider.nonce,
            "acr": "urn:vn:vneid:loa:2", "at_hash": half_hash("at-1"), **claims}
    tokens = {"access_token": "at-1", "token_type": "Bearer", "id_token": sign(provider.keys[0], body)}
    return HttpResponse(200, json.dumps(tokens).encode(), {"Content-Type": "application/json"})


def run(db, provider):
    config = ProviderConfig(realm="citizen", issuer=ISSUER, credentials=ClientSecretBasic(CLIENT, "s" * 20),
                            redirect_uri="https://rp/cb", post_logout_redirect_uri="https://rp/out",
                            acr_levels=AcrLevels("urn:vn:vneid:loa:1", "urn:vn:vneid:loa:2"))
    rp = RelyingParty(config, ProviderKeys(ISSUER, provider), provider, SYSTEM_CLOCK)
    query = {k: v[0] for k, v in parse_qs(urlsplit(rp.authorization_url(db, next_path="/",
                                                                         browser_key=BROWSER)).query).items()}
    provider.nonce = query["nonce"]
    return rp.complete(db, {"state": query["state"], "code": "c", "iss": ISSUER}, BROWSER)


@pytest.fixture()
def provider():
    provider = ScriptedProvider()
    provider.token_answer = good_tokens
    provider.userinfo_answer = HttpResponse(200, json.dumps({"sub": "c1", "name": "A"}).encode(),
                                            {"Content-Type": "application/json"})
    return provider


def test_json_userinfo_is_merged_under_the_id_token_claims(db, provider):
    verified = run(db, provider)
    assert verified.claims["name"] == "A" and verified.eid_level == 2


def test_signed_userinfo_is_verified(db, provider):
    body = jwt.encode({"alg": "ES256", "kid": "k1"}, {"sub": "c1", "iss": ISSUER, "aud": CLIENT, "name": "B"},
                      provider.keys[0], algorithms=["ES256"])
    provider.userinfo_answer = HttpResponse(200, body.encode(), {"Content-Type": "application/jwt"})
    assert run(db, provider).claims["name"] == "B"


def test_signed_userinfo_with_a_bad_signature_is_refused(db, provider):
    from joserfc.jwk import ECKey

    stranger = ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)
    body = jwt.encode({"alg": "ES256", "kid": "k1"}, {"sub": "c1"}, stranger, algorithms=["ES256"])
    provider.userinfo_answer = HttpResponse(200, body.encode(), {"Content-Type": "application/jwt"})
    with pytest.raises(TokenRejected) as refused:
        run(db, provider)
    assert refused.value.reason == "userinfo_signature_invalid"


def test_userinfo_about_someone_else_is_refused(db, provider):
    provider.userinfo_answer = HttpResponse(200, b'{"sub": "c2"}', {})
    with pytest.raises(TokenRejected) as refused:
        run(db, provider)
    assert refused.value.reason == "userinfo_sub_mismatch"


@pytest.mark.parametrize(("answer", "reason"), [
    (HttpResponse(400, b'{"error": "invalid_grant"}', {}), "token_request_invalid_grant"),
    (HttpResponse(500, b"<html>oops</html>", {}), "token_request_failed"),
    (HttpResponse(400, b'{"error": "<script>"}', {}), "token_request_failed"),
    (HttpResponse(200, b'{"token_type": "mac", "access_token": "x"}', {}), "token_response_malformed"),
    (HttpResponse(200, b'{"token_type": "Bearer", "access_token": "x"}', {}), "id_token_missing"),
])
def test_token_endpoint_failures_are_refused_with_a_reason(db, provider, answer, reason):
    provider.token_answer = answer
    with pytest.raises(LoginRejected) as refused:
        run(db, provider)
    assert refused.value.reason == reason


def test_an_iss_parameter_is_required_when_advertised(db, provider):
    provider.metadata["authorization_response_iss_parameter_supported"] = True
    with pytest.raises(LoginRejected) as refused:
        _run_without_iss(db, provider)
    assert refused.value.reason == "iss_parameter_missing"


def _run_without_iss(db, provider):
    config = ProviderConfig(realm="citizen", issuer=ISSUER, credentials=ClientSecretBasic(CLIENT, "s" * 20),
                            redirect_uri="https://rp/cb", post_logout_redirect_uri="https://rp/out")
    rp = RelyingParty(config, ProviderKeys(ISSUER, provider), provider, SYSTEM_CLOCK)
    query = {k: v[0] for k, v in parse_qs(urlsplit(rp.authorization_url(db, next_path="/",
                                                                         browser_key=BROWSER)).query).items()}
    return rp.complete(db, {"state": query["state"], "code": "c"}, BROWSER)


def test_oversized_provider_strings_are_dropped_not_stored(db, provider):
    from identity.citizens import ClaimNames
    from identity.login import finish_citizen_login
    from identity.personal_data import PersonalIdVault

    provider.token_answer = lambda p: good_tokens(p, acr="x" * 500, sid="s" * 300, amr=["pwd"] * 50)
    provider.userinfo_answer = HttpResponse(200, json.dumps({"sub": "c1", "name": "A", "so_dinh_danh": "001085012345"})
                                            .encode(), {})
    result = finish_citizen_login(db, run(db, provider), vault=PersonalIdVault(b"k" * 32), claim_names=ClaimNames())
    row = result.web_session
    assert row.acr is None and row.provider_sid is None and row.eid_level == 0 and len(row.amr) == 10
