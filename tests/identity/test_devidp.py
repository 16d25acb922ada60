"""The bundled VNeID stand-in holds the line a real provider must (research note section 8)."""

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from jose import jwt as jose_jwt
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from identity.devidp.accounts import CITIZENS
from identity.devidp.clients import PlainRequest
from identity.devidp.server import ErrorPage
from identity.errors import LoginRejected, TokenRejected
from identity.flows import make_code_verifier, random_secret, s256_challenge
from identity.oidc.client_auth import ASSERTION_TYPE, PrivateKeyJwt
from tests.identity.support import (
    BROWSER,
    ISSUER,
    LOGGED_OUT,
    REDIRECT,
    SECRET,
    authorize,
    login,
    make_idp,
    make_rp,
    start_clock,
)

HN_L2 = CITIZENS[0].subject


@pytest.fixture()
def clock():
    return start_clock()


@pytest.fixture()
def idp(tmp_path, clock):
    return make_idp(tmp_path, clock)


def auth_params(**changes):
    verifier = make_code_verifier()
    params = {"response_type": "code", "client_id": "rp", "redirect_uri": REDIRECT, "scope": "openid profile vneid",
              "state": random_secret(), "nonce": random_secret(), "code_challenge": s256_challenge(verifier),
              "code_challenge_method": "S256"}
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}, verifier


def choose(idp, db, params, subject=HN_L2):
    return idp.finish_authorization(db, PlainRequest("POST", f"{ISSUER}/authorize", {}, params, {}), subject)


def redirect_params(response):
    return {k: v[0] for k, v in parse_qs(urlsplit(response.location).query).items()}


def token_request(idp, db, form, headers=None):
    import base64

    basic = base64.b64encode(f"rp:{SECRET}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}"} if headers is None else headers
    response = idp.token(db, PlainRequest("POST", f"{ISSUER}/token", headers, {}, form))
    return response.status, json.loads(response.body)


def test_discovery_advertises_only_what_is_safe(idp):
    meta = idp.discovery()
    assert meta["response_types_supported"] == ["code"] and meta["code_challenge_methods_supported"] == ["S256"]
    assert "none" not in meta["id_token_signing_alg_values_supported"]
    assert "none" not in meta["token_endpoint_auth_methods_supported"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["acr_values_supported"] == ["urn:vn:vneid:loa:1", "urn:vn:vneid:loa:2"]


@pytest.mark.parametrize(("changes", "error"), [
    ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge_method": None}, "invalid_request"),
    ({"nonce": None}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"nonce": "n" * 201}, "invalid_request"),
])
def test_bad_authorization_requests_come_back_as_errors_with_iss(idp, db, changes, error):
    params, _ = auth_params(**changes)
    response = choose(idp, db, params)
    returned = redirect_params(response)
    assert returned["error"] == error and returned["state"] == params["state"] and returned["iss"] == ISSUER


@pytest.mark.parametrize("changes", [{"client_id": "nobody"}, {"redirect_uri": REDIRECT + "/"},
                                     {"redirect_uri": None}])
def test_unknown_client_or_redirect_is_explained_on_the_provider_never_redirected(idp, db, changes):
    params, _ = auth_params(**changes)
    assert isinstance(idp.begin_authorization(db, PlainRequest("GET", f"{ISSUER}/authorize", {}, params, {})),
                      ErrorPage)


def test_a_nonce_cannot_be_used_twice(idp, db):
    params, _ = auth_params()
    choose(idp, db, params)
    again, _ = auth_params(nonce=params["nonce"])
    assert redirect_params(choose(idp, db, again))["error"] == "invalid_request"


def test_codes_are_single_use_and_a_replay_revokes_the_tokens(idp, db):
    params, verifier = auth_params()
    code = redirect_params(choose(idp, db, params))["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    status, tokens = token_request(idp, db, form)
    assert status == 200 and idp.userinfo(db, f"Bearer {tokens['access_token']}").status == 200
    status, body = token_request(idp, db, form)
    assert status == 400 and body["error"] == "invalid_grant"
    assert idp.userinfo(db, f"Bearer {tokens['access_token']}").status == 401


def test_codes_expire_after_a_minute(idp, db, clock):
    params, verifier = auth_params()
    code = redirect_params(choose(idp, db, params))["code"]
    clock.advance(seconds=61)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    assert token_request(idp, db, form)[1]["error"] == "invalid_grant"


@pytest.mark.parametrize(("changes", "error"), [
    ({"code_verifier": None}, "invalid_request"),
    ({"code_verifier": make_code_verifier()}, "invalid_grant"),
    ({"redirect_uri": REDIRECT + "?x=1"}, "invalid_grant"),
])
def test_the_token_request_must_match_the_code(idp, db, changes, error):
    params, verifier = auth_params()
    code = redirect_params(choose(idp, db, params))["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    form.update(changes)
    assert token_request(idp, db, {k: v for k, v in form.items() if v is not None})[1]["error"] == error


def test_a_locked_account_is_denied(idp, db):
    params, _ = auth_params()
    assert redirect_params(choose(idp, db, params, CITIZENS[6].subject))["error"] == "access_denied"


def test_id_tokens_verify_the_same_under_python_jose(idp, db, clock):
    verified = login(make_rp(idp, db, clock), idp, db, HN_L2)
    public = idp.keys.public_jwks()["keys"][0]
    claims = jose_jwt.decode(verified.id_token.raw, public, algorithms=["ES256"], audience="rp", issuer=ISSUER,
                             options={"require_aud": True, "require_exp": True, "require_iat": True,
                                      "require_iss": True, "require_sub": True, "verify_at_hash": False})
    assert claims == verified.id_token.claims
    expected = {"iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "at_hash"}
    assert expected <= set(claims)
    assert claims["exp"] - claims["iat"] <= 300 and "so_dinh_danh" not in claims  # the number only via userinfo


def test_rotation_publishes_the_new_key_and_retiring_removes_the_old(idp, db, clock):
    old = idp.keys.signing_key().kid
    new = idp.keys.rotate()
    assert {k["kid"] for k in idp.keys.public_jwks()["keys"]} == {old, new}
    rp = make_rp(idp, db, clock)
    assert login(rp, idp, db, HN_L2).id_token.header["kid"] == new
    idp.keys.retire(old)
    assert [k["kid"] for k in idp.keys.public_jwks()["keys"]] == [new]
    with pytest.raises(ValueError):
        idp.keys.retire(new)


def test_rp_key_rotation_op_sign_key_is_followed_after_one_refetch(idp, db, clock):
    rp = make_rp(idp, db, clock)
    login(rp, idp, db, HN_L2)
    idp.keys.rotate()
    clock.advance(seconds=31)
    assert login(rp, idp, db, HN_L2).eid_level == 2
    assert rp.keys.jwks_fetches == 2


def test_rp_id_token_kid_absent_multiple_jwks_is_refused(idp, db, clock):
    idp.keys.rotate()
    idp.set_faults("no_kid")
    with pytest.raises(TokenRejected) as refused:
        login(make_rp(idp, db, clock), idp, db, HN_L2)
    assert refused.value.reason == "id_token_kid_absent_multiple_keys"


def test_faults_exist_only_in_test_mode(tmp_path, clock):
    idp = make_idp(tmp_path, clock)
    idp.allow_faults = False
    with pytest.raises(PermissionError):
        idp.set_faults("alg_none")


def test_end_session_redirects_only_with_a_valid_hint(idp, db, clock):
    verified = login(make_rp(idp, db, clock), idp, db, HN_L2)
    query = {"id_token_hint": verified.id_token.raw, "post_logout_redirect_uri": LOGGED_OUT, "state": "st"}
    response = idp.end_session(db, PlainRequest("GET", f"{ISSUER}/end-session", {}, query, {}))
    assert response.status == 302 and response.location == f"{LOGGED_OUT}?state=st"
    unregistered = idp.end_session(db, PlainRequest("GET", f"{ISSUER}/end-session", {}, {
        **query, "post_logout_redirect_uri": "https://evil.example/"}, {}))
    assert unregistered is None  # logged out, but no redirect to an unregistered address
    forged = idp.end_session(db, PlainRequest("GET", f"{ISSUER}/end-session", {}, {
        **query, "id_token_hint": verified.id_token.raw[:-4] + "AAAA"}, {}))
    assert isinstance(forged, ErrorPage)


# --- client assertions (section 9.16) -------------------------------------------------------------------------

@pytest.fixture()
def jwt_client(tmp_path, clock):
    key = ECKey.generate_key("P-256", parameters={"kid": "rp-key"}, private=True)
    credentials = PrivateKeyJwt("rp", key.as_dict(private=True))
    return make_idp(tmp_path, clock, credentials=credentials), key, credentials


def assertion_token_request(idp, db, key, claims, alg="ES256"):
    params, verifier = auth_params()
    code = redirect_params(choose(idp, db, params))["code"]
    assertion = jwt.encode({"alg": alg, "kid": "rp-key"}, claims, key, algorithms=[alg])
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier,
            "client_id": "rp", "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    return token_request(idp, db, form, headers={})


def good_claims(**changes):
    now = int(time.time())
    claims = {"iss": "rp", "sub": "rp", "aud": ISSUER, "jti": random_secret(), "iat": now, "exp": now + 60}
    claims.update(changes)
    return claims


def test_a_good_assertion_is_accepted_once(jwt_client, db):
    idp, key, _ = jwt_client
    claims = good_claims()
    assert assertion_token_request(idp, db, key, claims)[0] == 200
    assert assertion_token_request(idp, db, key, claims)[1]["error"] == "invalid_client"  # replayed jti


@pytest.mark.parametrize("changes", [
    {"aud": f"{ISSUER}/token"},                      # another endpoint's URL (audience injection)
    {"aud": [ISSUER, "https://other.example/token"]},  # an array
    {"aud": "https://other.example"},
    {"exp": int(time.time()) + 3600},                # an hour of life
    {"iss": "someone-else"},
])
def test_bad_assertions_are_refused(jwt_client, db, changes):
    idp, key, _ = jwt_client
    assert assertion_token_request(idp, db, key, good_claims(**changes))[1]["error"] == "invalid_client"


def test_an_assertion_signed_by_an_unregistered_key_or_hmac_is_refused(jwt_client, db):
    idp, _, _ = jwt_client
    stranger = ECKey.generate_key("P-256", parameters={"kid": "rp-key"}, private=True)
    assert assertion_token_request(idp, db, stranger, good_claims())[1]["error"] == "invalid_client"
    hmac_key = OctKey.import_key(b"k" * 32)
    assert assertion_token_request(idp, db, hmac_key, good_claims(), alg="HS256")[1]["error"] == "invalid_client"


def test_the_relying_partys_own_assertions_pass(jwt_client, db, clock):
    idp, _, credentials = jwt_client
    rp = make_rp(idp, db, clock, credentials=credentials)
    assert login(rp, idp, db, HN_L2).claims["sub"] == HN_L2


def test_a_secret_client_cannot_switch_to_another_method(idp, db):
    params, verifier = auth_params()
    code = redirect_params(choose(idp, db, params))["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier,
            "client_id": "rp", "client_secret": SECRET}
    assert token_request(idp, db, form, headers={})[1]["error"] == "invalid_client"  # client_secret_post


def test_relying_party_rejects_a_callback_without_code(idp, db, clock):
    rp = make_rp(idp, db, clock)
    params = authorize(rp, idp, db, HN_L2)
    with pytest.raises(LoginRejected) as refused:
        rp.complete(db, {k: v for k, v in params.items() if k != "code"}, BROWSER)
    assert refused.value.reason == "code_missing"
