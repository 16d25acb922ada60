"""The relying party refuses every attack of research note identity.md section 9: no session, a logged reason.

Test names follow the OpenID RP certification cases (``rp-id_token-aud`` ...) where one exists. The bundled
stand-in's test-only fault switches forge each bad response, so no outside service is needed.
"""

import logging

import pytest
from sqlalchemy import select, update

from identity.models import AuditEvent, LoginFlow, WebSession
from tests.web.oidc_support import HN_LEVEL2, STAFF_BY_ROLE, authorize, local, login, query
from web.identity_runtime import get_identity


@pytest.fixture()
def faults(app):
    """Switch stand-in faults on for one test; always switched off afterwards."""
    idp = get_identity(app).dev_idp
    yield idp.set_faults
    idp.set_faults()


def assert_refused(client, db, response, reason, caplog=None, status=400):
    """The callback was refused: an error page (``status``: 400 for what the provider or browser sent, 502 when
    the provider could not be used), no session row or cookie, and the reason audited and logged."""
    assert response.status_code == status, response.status_code
    assert "Set-Cookie" not in response.headers or "gw_sid" not in response.headers["Set-Cookie"]
    assert db.scalars(select(WebSession)).all() == []
    failures = db.scalars(select(AuditEvent).where(AuditEvent.event == "login_failed")).all()
    assert [f.reason for f in failures] == [reason]
    if caplog is not None:
        assert any(getattr(r, "reason", None) == reason for r in caplog.records)
    assert client.get("/account/").status_code == 302


def refused_login(client, faults_on, *names):
    faults_on(*names)
    callback = authorize(client, "/auth/login", HN_LEVEL2)
    return client.get(local(callback.url))


@pytest.mark.parametrize(("fault", "reason"), [
    ("wrong_issuer", "id_token_iss_mismatch"),                  # rp-id_token-issuer-mismatch
    ("wrong_audience", "id_token_aud_mismatch"),                # rp-id_token-aud
    ("aud_other_with_azp", "id_token_aud_mismatch"),            # aud without us, azp = us (authlib accepts)
    ("multi_aud_no_azp", "id_token_azp_mismatch"),              # several audiences and no azp
    ("alg_none", "id_token_alg_none"),                          # rp-id_token-sig-none
    ("alg_hs256_jwk", "id_token_alg_not_allowed"),              # rp-id_token-bad-sig-hs256 (key confusion)
    ("bad_signature", "id_token_signature_invalid"),            # rp-id_token-bad-sig-es256
    ("untrusted_key", "id_token_signature_invalid"),            # our kid, someone else's key
    ("unknown_kid", "id_token_kid_unknown"),                    # rp-id_token-kid-unknown
    ("embedded_jwk", "id_token_signature_invalid"),             # jwk/jku/x5u headers are ignored
    ("expired", "id_token_expired"),                            # rp-id_token-exp (expired)
    ("iat_future", "id_token_iat_in_future"),                   # rp-id_token-iat
    ("iat_old", "id_token_iat_too_old"),                        # replayed old token
    ("nbf_future", "id_token_not_yet_valid"),
    ("bad_nonce", "id_token_nonce_mismatch"),                   # rp-nonce-invalid
    ("no_nonce", "id_token_nonce_missing"),                     # rp-nonce-unless-code-flow (we always require)
    ("bad_at_hash", "id_token_at_hash_mismatch"),               # rp-id_token-bad-at_hash
    ("userinfo_other_sub", "userinfo_sub_mismatch"),            # rp-userinfo-bad-sub-claim
    ("no_iss_param", "iss_parameter_missing"),                  # RFC 9207, advertised but absent
    ("wrong_iss_param", "iss_parameter_mismatch"),              # mix-up: response from another provider
])
def test_rp_refuses_a_bad_provider_response(client, db, faults, caplog, fault, reason):
    caplog.set_level(logging.INFO)
    response = refused_login(client, faults, fault)
    assert_refused(client, db, response, reason, caplog)


def test_rp_id_token_kid_absent_single_jwks_is_accepted(client, db, faults):
    faults("no_kid")
    login(client, HN_LEVEL2)
    assert client.get("/account/").status_code == 200


def test_rp_acr_missing_gives_no_level_and_a_level_one_service_asks_to_step_up(client, db, faults):
    faults("acr_missing")
    login(client, HN_LEVEL2)
    assert db.scalars(select(WebSession)).one().eid_level == 0
    response = client.get("/account/")
    assert response.status_code == 302 and local(response.location).startswith("/auth/step-up")


# --- state / CSRF (section 9.7) ------------------------------------------------------------------------------

def test_rp_callback_without_state_is_refused(client, db):
    callback = authorize(client, "/auth/login", HN_LEVEL2)
    params = {k: v for k, v in callback.params.items() if k != "state"}
    response = client.get("/auth/callback", query_string=params)
    assert_refused(client, db, response, "state_missing")


def test_rp_callback_with_unknown_state_is_refused(client, db):
    callback = authorize(client, "/auth/login", HN_LEVEL2)
    response = client.get("/auth/callback", query_string={**callback.params, "state": "x" * 43})
    assert_refused(client, db, response, "state_unknown")


def test_rp_callback_replayed_is_refused(app, client, db):
    callback = authorize(client, "/auth/login", HN_LEVEL2)
    assert client.get(local(callback.url)).status_code == 302
    replay = app.test_client()
    replay.set_cookie("gw_flow", client.get_cookie("gw_flow").value, domain="localhost")
    response = replay.get(local(callback.url))
    assert response.status_code == 400 and "gw_sid" not in response.headers.get("Set-Cookie", "")
    assert len(db.scalars(select(WebSession)).all()) == 1
    reasons = [e.reason for e in db.scalars(select(AuditEvent).where(AuditEvent.event == "login_failed"))]
    assert reasons == ["state_reused"]


def test_rp_expired_flow_is_refused(client, db):
    callback = authorize(client, "/auth/login", HN_LEVEL2)
    db.execute(update(LoginFlow).values(expires_at=LoginFlow.created_at))
    response = client.get(local(callback.url))
    assert_refused(client, db, response, "state_expired")


def test_rp_login_csrf_attackers_callback_in_victims_browser_is_refused(app, client, db):
    attacker = app.test_client()
    callback = authorize(attacker, "/auth/login", HN_LEVEL2)
    response = client.get(local(callback.url))  # the victim's browser never started this flow
    assert_refused(client, db, response, "state_other_browser")


def test_rp_huge_state_is_refused_before_any_lookup(client, db):
    response = client.get("/auth/callback", query_string={"state": "s" * 5000, "code": "c"})
    assert_refused(client, db, response, "state_oversized")


# --- code injection (section 9.6) and mix-up (9.1) ------------------------------------------------------------

def test_rp_stolen_code_in_victims_session_fails_pkce(app, client, db):
    attacker = app.test_client()
    stolen = authorize(attacker, "/auth/login", HN_LEVEL2).params["code"]
    victim = authorize(client, "/auth/login", HN_LEVEL2).params
    response = client.get("/auth/callback", query_string={**victim, "code": stolen})
    assert_refused(client, db, response, "token_request_invalid_grant")


def test_rp_code_issued_to_another_client_is_refused(client, db):
    staff_code = authorize(client, "/auth/staff/login", STAFF_BY_ROLE["system_admin"]).params["code"]
    citizen = authorize(client, "/auth/login", HN_LEVEL2).params
    response = client.get("/auth/callback", query_string={**citizen, "code": staff_code})
    assert_refused(client, db, response, "token_request_invalid_grant")


def test_rp_staff_flow_finished_at_the_citizen_callback_is_refused(client, db):
    callback = authorize(client, "/auth/staff/login", STAFF_BY_ROLE["system_admin"])
    response = client.get("/auth/callback", query_string=callback.params)
    assert_refused(client, db, response, "flow_provider_mismatch")


def test_rp_provider_error_is_refused_without_session(client, db):
    from tests.web.oidc_support import LOCKED

    callback = authorize(client, "/auth/login", LOCKED)
    assert callback.params["error"] == "access_denied"
    assert_refused(client, db, client.get(local(callback.url)), "provider_error_access_denied")


# --- session fixation (section 9.9) ----------------------------------------------------------------------------

def test_rp_session_id_is_new_at_login_and_a_planted_one_is_ignored(client, db):
    client.set_cookie("gw_sid", "planted-by-attacker", domain="localhost")
    response = login(client, HN_LEVEL2, consent=False)
    new = response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert new != "planted-by-attacker" and len(new) >= 43


def test_rp_logging_in_again_ends_the_previous_session(client, db):
    login(client, HN_LEVEL2)
    first = db.scalars(select(WebSession)).one()
    login(client, HN_LEVEL2)
    db.refresh(first)
    assert first.end_reason == "replaced"
    assert len([s for s in db.scalars(select(WebSession)) if s.ended_at is None]) == 1


# --- open redirect at the provider (section 9.8) ----------------------------------------------------------------

@pytest.mark.parametrize("redirect_uri", [
    "http://localhost/auth/callback/extra",
    "http://localhost/auth/callbackx",
    "http://localhost@evil.example/auth/callback",
    "http://localhost:8080/auth/callback",
    "http://LOCALHOST/auth/callback",
    "http://localhost/auth/../auth/callback",
    "http://localhost/auth/callback#fragment",
    "https://evil.example/auth/callback",
])
def test_op_refuses_redirect_uri_variants_on_its_own_page(client, db, redirect_uri):
    start = query(client.get("/auth/login").location)
    response = client.get("/dev-idp/authorize", query_string={**start, "redirect_uri": redirect_uri})
    assert response.status_code == 400 and "Location" not in response.headers
