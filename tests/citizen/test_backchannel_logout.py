"""Back-channel logout: a valid logout token from the provider ends the person's sessions; abuse is refused
(research note section 9.15: an ID token replayed as a logout token, a replayed jti, a wrong audience,
missing events) with the session left alive and the reason audited."""

import secrets
import time

import pytest
from joserfc import jwt
from sqlalchemy import select

from identity.models import AuditEvent, WebSession
from identity.oidc.logout_token import BACKCHANNEL_EVENT
from tests.web.oidc_support import HN_LEVEL2, login
from web.identity_runtime import get_identity

ISSUER = "http://localhost/dev-idp"


def logout_token(app, row, **changes):
    key = get_identity(app).dev_idp.keys.signing_key()
    claims = {"iss": ISSUER, "aud": get_identity(app).citizen.config.client_id, "iat": int(time.time()),
              "jti": secrets.token_urlsafe(16), "sid": row.provider_sid, "events": {BACKCHANNEL_EVENT: {}}}
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": "ES256", "kid": key.kid, "typ": "logout+jwt"}, claims, key, algorithms=["ES256"])


@pytest.fixture()
def session_row(client, db):
    login(client, HN_LEVEL2)
    return db.scalars(select(WebSession)).one()


def test_a_valid_logout_token_ends_the_session(app, client, db, session_row):
    response = client.post("/auth/backchannel-logout", data={"logout_token": logout_token(app, session_row)})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    db.refresh(session_row)
    assert session_row.end_reason == "backchannel"
    assert client.get("/account/").status_code == 302


def test_a_logout_token_by_subject_ends_every_session_of_that_person(app, client, db, session_row):
    token = logout_token(app, session_row, sid=None, sub=HN_LEVEL2)
    assert client.post("/auth/backchannel-logout", data={"logout_token": token}).status_code == 200
    db.refresh(session_row)
    assert session_row.ended_at is not None


@pytest.mark.parametrize(("changes", "reason"), [
    ({"nonce": "n" * 43}, "logout_token_has_nonce"),
    ({"events": None}, "logout_token_events_missing"),
    ({"events": {"other": {}}}, "logout_token_events_missing"),
    ({"aud": "another-client"}, "logout_token_aud_mismatch"),
    ({"iss": ISSUER + "/"}, "logout_token_iss_mismatch"),
    ({"sid": None}, "logout_token_sub_and_sid_missing"),
    ({"jti": None}, "logout_token_jti_missing"),
    ({"iat": int(time.time()) - 3600}, "logout_token_iat_out_of_range"),
])
def test_abusive_logout_tokens_are_refused_and_the_session_lives(app, client, db, session_row, changes, reason):
    response = client.post("/auth/backchannel-logout", data={"logout_token": logout_token(app, session_row, **changes)})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"
    db.refresh(session_row)
    assert session_row.ended_at is None
    refused = db.scalars(select(AuditEvent).where(AuditEvent.event == "backchannel_logout_refused")).one()
    assert refused.reason == reason


def test_an_id_token_replayed_as_a_logout_token_is_refused(client, db, session_row):
    response = client.post("/auth/backchannel-logout", data={"logout_token": session_row.id_token})
    assert response.status_code == 400
    db.refresh(session_row)
    assert session_row.ended_at is None


def test_a_replayed_logout_token_is_refused(app, client, db, session_row):
    token = logout_token(app, session_row)
    assert client.post("/auth/backchannel-logout", data={"logout_token": token}).status_code == 200
    replay = client.post("/auth/backchannel-logout", data={"logout_token": token})
    assert replay.status_code == 400 and replay.get_json()["error_description"] == "logout_token_replayed"


def test_a_token_signed_by_someone_else_is_refused(client, db, session_row):
    from joserfc.jwk import ECKey

    rogue = ECKey.generate_key("P-256", parameters={"kid": "rogue"}, private=True)
    token = jwt.encode({"alg": "ES256", "kid": "rogue"}, {"iss": ISSUER, "sid": session_row.provider_sid},
                       rogue, algorithms=["ES256"])
    assert client.post("/auth/backchannel-logout", data={"logout_token": token}).status_code == 400
    assert client.post("/auth/backchannel-logout").status_code == 400  # no token at all
