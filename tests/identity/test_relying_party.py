"""The relying party against the stand-in, in-process: the happy path, levels, and what it refuses."""

import pytest
from joserfc.jwk import ECKey, RSAKey

from identity.citizens import ClaimNames, facts_from_claims
from identity.devidp.accounts import CITIZENS
from identity.errors import LoginRejected
from identity.levels import LEVEL_1, LEVEL_2, UNKNOWN, AcrLevels
from identity.oidc.client_auth import PrivateKeyJwt
from tests.identity.support import BROWSER, authorize, login, make_idp, make_rp, start_clock

HN_L2, HN_L1 = CITIZENS[0], CITIZENS[1]


@pytest.fixture()
def clock():
    return start_clock()


def test_a_level_two_login_proves_level_two_and_carries_the_claims(db, tmp_path, clock):
    idp = make_idp(tmp_path, clock)
    verified = login(make_rp(idp, db, clock), idp, db, HN_L2.subject)
    assert verified.eid_level == LEVEL_2
    assert verified.claims["so_dinh_danh"] == HN_L2.personal_id and verified.claims["sub"] == HN_L2.subject
    assert verified.id_token.header["alg"] == "ES256" and verified.id_token.header["kid"].startswith("devidp-")


def test_step_up_sends_acr_values_and_prompt_login_but_the_provider_reports_the_real_level(db, tmp_path, clock):
    idp = make_idp(tmp_path, clock)
    rp = make_rp(idp, db, clock)
    url = rp.authorization_url(db, next_path="/", browser_key=BROWSER, level=LEVEL_2, force_login=True)
    assert "acr_values=urn%3Avn%3Avneid%3Aloa%3A2" in url and "prompt=login" in url
    verified = login(rp, idp, db, HN_L1.subject, level=LEVEL_2, force_login=True)
    assert verified.eid_level == LEVEL_1 and verified.flow.requested_level == LEVEL_2


@pytest.mark.parametrize("make_key", [
    lambda: ECKey.generate_key("P-256", parameters={"kid": "rp-ec"}, private=True),
    lambda: RSAKey.generate_key(2048, parameters={"kid": "rp-rsa"}, private=True),
])
def test_private_key_jwt_logs_in(db, tmp_path, clock, make_key):
    credentials = PrivateKeyJwt("rp-pkjwt", make_key().as_dict(private=True))
    idp = make_idp(tmp_path, clock, credentials=credentials)
    verified = login(make_rp(idp, db, clock, credentials=credentials), idp, db, HN_L2.subject)
    assert verified.claims["aud"] == "rp-pkjwt"


def test_a_wrong_client_secret_is_refused_at_the_token_endpoint(db, tmp_path, clock):
    from identity.oidc.client_auth import ClientSecretBasic

    idp = make_idp(tmp_path, clock)
    rp = make_rp(idp, db, clock, credentials=ClientSecretBasic("rp", "not-the-secret-at-all-000"))
    with pytest.raises(LoginRejected) as refused:
        login(rp, idp, db, HN_L2.subject)
    assert refused.value.reason == "token_request_invalid_client"


def test_a_second_redemption_of_the_same_callback_is_refused(db, tmp_path, clock):
    idp = make_idp(tmp_path, clock)
    rp = make_rp(idp, db, clock)
    params = authorize(rp, idp, db, HN_L2.subject)
    rp.complete(db, params, BROWSER)
    with pytest.raises(LoginRejected) as refused:
        rp.complete(db, params, BROWSER)
    assert refused.value.reason == "state_reused"


def test_logout_url_carries_the_hint_and_a_registered_return(db, tmp_path, clock):
    idp = make_idp(tmp_path, clock)
    rp = make_rp(idp, db, clock)
    url = rp.logout_url("header.payload.sig", "st")
    assert url.startswith("http://localhost/op/end-session?id_token_hint=header.payload.sig")
    assert "post_logout_redirect_uri=http%3A%2F%2Flocalhost%2Frp%2Flogged-out" in url and "state=st" in url


def test_an_acr_the_configuration_does_not_map_proves_nothing_and_warns_the_operator(db, tmp_path, clock, caplog):
    idp = make_idp(tmp_path, clock)
    rp = make_rp(idp, db, clock, acr_levels=AcrLevels("urn:other:loa:1", "urn:other:loa:2"))
    with caplog.at_level("WARNING", logger="identity.oidc.relying_party"):
        verified = login(rp, idp, db, HN_L2.subject)
    assert verified.eid_level == UNKNOWN
    [warning] = [r for r in caplog.records if r.getMessage() == "acr value not mapped to an e-ID level"]
    assert warning.acr == "urn:vn:vneid:loa:2" and warning.configured == ["urn:other:loa:1", "urn:other:loa:2"]


def test_a_missing_claim_is_logged_by_its_configured_name_never_by_value(caplog):
    names = ClaimNames(personal_id="cccd")
    claims = {"sub": "s1", "so_dinh_danh": HN_L2.personal_id, "name": "Nguyễn Văn A"}
    with caplog.at_level("WARNING", logger="identity.citizens"), pytest.raises(LoginRejected):
        facts_from_claims(claims, names, issuer="https://idp.test", eid_level=LEVEL_2)
    [warning] = [r for r in caplog.records if r.getMessage() == "login claim missing or invalid"]
    assert (warning.claim, warning.setting, warning.present) == ("cccd", "GATEWAY_OIDC_CLAIM_PERSONAL_ID", False)
    assert warning.claims_received == ["name", "so_dinh_danh", "sub"] and HN_L2.personal_id not in caplog.text
