"""A citizen logs in through VNeID (the bundled stand-in), consents once, sees their profile, logs out."""

import html
import json

from sqlalchemy import select

from identity.models import AuditEvent, Citizen, LoginFlow, WebSession
from tests.web.oidc_support import HN_LEVEL1, HN_LEVEL2, form_token, local, login, query


def _session_rows(db):
    return db.scalars(select(WebSession)).all()


def test_login_redirect_carries_state_nonce_and_pkce_s256(client, db):
    response = client.get("/auth/login?next=/account/")
    params = query(response.location)
    assert response.location.startswith("http://localhost/dev-idp/authorize?")
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["response_type"] == "code" and params["redirect_uri"] == "http://localhost/auth/callback"
    assert "acr_values" not in params and "prompt" not in params
    flow = db.scalars(select(LoginFlow)).one()
    assert flow.next_path == "/account/" and flow.used_at is None
    assert params["state"] not in flow.id  # only its hash is stored


def test_each_tab_gets_its_own_flow(client, db):
    first, second = client.get("/auth/login"), client.get("/auth/login")
    assert query(first.location)["state"] != query(second.location)["state"]
    assert len(db.scalars(select(LoginFlow)).all()) == 2


def test_first_login_asks_for_consent_then_shows_the_profile(client, db):
    response = login(client, HN_LEVEL2, consent=False)
    assert local(response.location).startswith("/account/consent")
    page = client.get(local(response.location)).get_data(as_text=True)
    assert "0010******45" in page and "001085012345" not in page
    token = form_token(client, local(response.location))
    client.post("/account/consent", data={"csrf_token": token, "next": "/account/"})
    profile = client.get("/account/").get_data(as_text=True)
    assert "Nguyễn Văn An" in profile and "0010******45" in profile and "001085012345" not in profile
    citizen = db.scalars(select(Citizen)).one()
    assert citizen.eid_level == 2 and citizen.residence_province == "01"
    assert citizen.personal_id_masked == "0010******45"
    assert b"001085012345" not in citizen.personal_id_encrypted


def test_second_login_skips_consent(client, db):
    login(client, HN_LEVEL2)
    client.post("/auth/logout", data={"csrf_token": form_token(client, "/account/")})
    again = login(client, HN_LEVEL2, consent=False)
    assert local(again.location) == "/account/"


def test_profile_lists_logins_and_offers_a_json_download(client, db):
    login(client, HN_LEVEL1)
    page = client.get("/account/").get_data(as_text=True)
    assert "Trần Thị Bình" in page
    download = client.get("/account/data.json")
    assert download.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(download.get_data(as_text=True))
    assert data["personal_id"] == "001192034567" and data["eid_level"] == 1
    assert len(data["logins"]) == 1 and data["consents"][0]["notice_version"]
    assert db.scalars(select(AuditEvent).where(AuditEvent.event == "data_exported")).one()


def test_login_is_audited_and_the_session_records_iss_sub_acr_and_auth_time(client, db):
    login(client, HN_LEVEL2)
    row = _session_rows(db)[0]
    assert row.issuer == "http://localhost/dev-idp" and row.subject == HN_LEVEL2
    assert row.acr == "urn:vn:vneid:loa:2" and row.eid_level == 2 and row.auth_time is not None
    assert row.id_token.count(".") == 2 and row.amr == ["pwd", "otp"] and row.provider_sid
    events = [e.event for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert "login" in events and "consent_given" in events


def test_logout_ends_the_session_then_sends_id_token_hint_to_the_provider(client, db):
    login(client, HN_LEVEL2)
    row = _session_rows(db)[0]
    response = client.post("/auth/logout", data={"csrf_token": form_token(client, "/account/")})
    # Not a redirect: CSP form-action would block a form post redirected to another origin.
    assert response.status_code == 200 and "gw_sid=;" in response.headers["Set-Cookie"]
    provider_url = response.headers["Refresh"].removeprefix("0; url=")
    assert f'href="{html.escape(provider_url)}"' in response.get_data(as_text=True)
    params = query(provider_url)
    assert provider_url.startswith("http://localhost/dev-idp/end-session?")
    assert params["id_token_hint"] == row.id_token
    assert params["post_logout_redirect_uri"] == "http://localhost/auth/logged-out"
    db.refresh(row)
    assert row.ended_at is not None and row.end_reason == "logout"
    # The provider accepts the hint and sends the browser back to our registered page.
    back = client.get(local(provider_url))
    assert back.status_code == 302 and back.location.startswith("http://localhost/auth/logged-out")
    assert client.get("/account/").status_code == 302  # the old cookie no longer works


def test_logout_needs_a_csrf_token(client, db):
    login(client, HN_LEVEL2)
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/account/").status_code == 200


def test_a_page_for_citizens_sends_anonymous_visitors_to_login(client, db):
    response = client.get("/account/")
    assert response.status_code == 302 and local(response.location) == "/auth/login?next=/account/"


def test_next_must_be_a_local_path(client, db):
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
                   "/" + "a" * 5000):
        client.get(f"/auth/login?next={target}")
    assert {flow.next_path for flow in db.scalars(select(LoginFlow))} == {"/account/"}


def test_the_stand_in_login_page_is_vietnamese_and_lists_every_demo_citizen(client, db):
    from identity.devidp.accounts import CITIZENS

    page = client.get(local(client.get("/auth/login").location)).get_data(as_text=True)
    assert "VNeID giả lập: chọn tài khoản mẫu" in page and "<legend>Công dân mẫu</legend>" in page
    assert all(citizen.name in page for citizen in CITIZENS)
    assert "Cư dân TP Hồ Chí Minh (mã 79)" in page and "mức 1" in page


def test_the_stand_in_lists_staff_accounts_for_the_staff_client(client, db):
    from identity.devidp.accounts import STAFF

    page = client.get(local(client.get("/auth/staff/login").location)).get_data(as_text=True)
    assert all(member.name in page for member in STAFF) and "Nguyễn Văn An" not in page


def test_login_evidence_gives_payments_iss_sub_acr_and_auth_time(app, client, db):
    from web.auth import login_evidence

    login(client, HN_LEVEL2)
    cookie = client.get_cookie("gw_sid").value
    with app.test_request_context("/", headers={"Cookie": f"gw_sid={cookie}"}):
        evidence = login_evidence()
    assert evidence["iss"] == "http://localhost/dev-idp" and evidence["sub"] == HN_LEVEL2
    assert evidence["acr"] == "urn:vn:vneid:loa:2" and evidence["eid_level"] == 2 and evidence["auth_time"]
    with app.test_request_context("/"):
        assert login_evidence() is None


def test_the_account_nav_shows_who_is_logged_in(app, client, db):
    from flask import render_template

    with app.test_request_context("/"):
        assert "/auth/login" in render_template("auth/_account_nav.html")
    login(client, HN_LEVEL2)
    cookie = client.get_cookie("gw_sid").value
    with app.test_request_context("/", headers={"Cookie": f"gw_sid={cookie}"}):
        nav = render_template("auth/_account_nav.html")
    assert "Nguyễn Văn An" in nav and "/auth/logout" in nav


def test_api_callers_without_a_session_get_401_json_not_a_redirect(client, db):
    response = client.get("/account/data.json", headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.get_json()["code"] == "unauthenticated"
