"""Security headers, CSRF on forms, cookie policy and request ids."""

import pytest
from flask import Blueprint, render_template_string, session

from core.migrations import upgrade
from gateway import create_app
from tests.conftest import make_test_settings
from web.security import limiter


def test_every_response_carries_the_security_headers(client):
    headers = client.get("/").headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in headers  # plain http: HSTS would be ignored anyway


def test_hsts_is_sent_over_https(client):
    headers = client.get("/", base_url="https://localhost").headers
    assert headers["Strict-Transport-Security"].startswith("max-age=63072000")


def test_a_sane_request_id_is_kept_and_a_hostile_one_replaced(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123-def"}).headers["X-Request-ID"] == "abc-123-def"
    for hostile in ("<script>alert(1)</script>", "x" * 500, "short"):
        replaced = client.get("/healthz", headers={"X-Request-ID": hostile}).headers["X-Request-ID"]
        assert replaced != hostile and len(replaced) == 32


@pytest.fixture()
def form_client(make_app):
    """A client of an app with one form that sets the session."""
    app = make_app()
    bp = Blueprint("form", __name__)

    @bp.route("/_test/form", methods=["GET", "POST"])
    def form():
        session["seen"] = True
        return render_template_string("{{ csrf_token() }}")

    app.register_blueprint(bp)
    return app.test_client()


def test_forms_without_a_csrf_token_are_refused(form_client):
    response = form_client.post("/_test/form", data={"x": "1"})
    assert response.status_code == 400
    assert "csrf_failed" in response.get_data(as_text=True)


def test_forms_with_the_csrf_token_pass(form_client):
    token = form_client.get("/_test/form").get_data(as_text=True)
    assert form_client.post("/_test/form", data={"csrf_token": token}).status_code == 200


def test_api_paths_do_not_use_cookie_csrf(client):
    # An API route answers on its merits (here: no such route), not with a CSRF failure.
    assert client.post("/api/v1/nothing", json={}).json["code"] == "not_found"


def test_session_cookie_is_httponly_and_samesite(form_client):
    cookie = form_client.get("/_test/form").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the embedded default is served over plain http on loopback


def test_over_https_the_session_cookie_is_secure_and_host_locked(make_app):
    app = make_app(base_url="https://pay.example.gov.vn")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_pages_are_still_served_while_the_rate_limit_store_is_down(make_app, caplog):
    # Redis stopped (a fault of the deployed shape): limits fall back to each process's memory instead
    # of failing every request with a 500.
    app = make_app(env="development", ratelimit_storage_url="redis://127.0.0.1:1/0")
    answers = [app.test_client().get("/") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]


def test_a_database_that_cannot_be_reached_answers_503_to_retry_not_500(tmp_path):
    app = create_app(make_test_settings(tmp_path, "postgresql://postgres@127.0.0.1:1/nowhere"))
    answer = app.test_client().get("/api/v1/bills", headers={"Authorization": "Bearer gwk_" + "x" * 40})
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.get_json()["code"] == "database_unavailable"


def test_logins_have_their_own_tighter_limit_per_address(tmp_path):
    # Its own database: this app commits its login flows and audit rows for real, and SQLite keeps audit
    # rows (append-only), so on the shared database other tests would count its failed login.
    url = f"sqlite:///{tmp_path / 'logins.db'}"
    upgrade(url)
    app = create_app(make_test_settings(tmp_path, url, env="development", login_rate_limit="3 per minute"))
    limiter.reset()  # other development apps in this process share the in-memory counts
    browser = app.test_client()
    try:
        answers = [browser.get(path).status_code for path in ("/auth/login", "/auth/callback",
                                                              "/auth/staff/login", "/auth/login")]
        home = browser.get("/").status_code
    finally:
        app.extensions["gateway.runtime"].dispose()
    assert answers[:3] != [429] * 3 and answers[3] == 429
    assert home == 200  # the rest of the site is not held by the login budget
