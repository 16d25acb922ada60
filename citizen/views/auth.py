"""Login and logout for citizens (VNeID) and staff (workforce provider), step-up and its explanations."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, redirect, render_template, request, session, url_for

from citizen import TEMPLATES
from identity import audit
from identity.backchannel import logout_from_provider
from identity.citizens import has_consented
from identity.errors import LoginRejected, ProviderUnavailable, SessionExpired, TokenRejected
from identity.flows import FLOW_LIFETIME, random_secret
from identity.levels import LEVEL_2
from identity.login import LoginResult, finish_citizen_login, finish_staff_login, record_failed_login
from identity.models import Citizen
from identity.sessions import end_session, load_session
from web.auth import (
    FLOW_COOKIE,
    SESSION_COOKIE,
    clear_session_cookie,
    cookie_name,
    current_principal,
    public,
    set_session_cookie,
)
from web.database import db_session
from web.identity_runtime import get_identity
from web.security import limiter, safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth", template_folder=TEMPLATES)
DEFAULT_NEXT = {"citizen": "/account/", "staff": "/admin/"}
#: Longer return paths are not ours to keep (the flow row stores at most 500 characters).
MAX_NEXT_LENGTH = 400


def _start(realm: str, level: int = 0) -> Response | tuple[str, int]:
    next_path = safe_next(request.args.get("next"), DEFAULT_NEXT[realm])
    if len(next_path) > MAX_NEXT_LENGTH:
        next_path = DEFAULT_NEXT[realm]
    browser_key = request.cookies.get(cookie_name(FLOW_COOKIE)) or random_secret()
    if len(browser_key) > 100:
        browser_key = random_secret()
    try:
        relying_party = get_identity().realm(realm).relying_party()
        # Step-up asks for level 2 and forbids reuse of the provider's existing (possibly lower) session.
        url = relying_party.authorization_url(db_session(), next_path=next_path, browser_key=browser_key,
                                              level=level, force_login=level >= LEVEL_2)
    except (ProviderUnavailable, LoginRejected):
        current_app.logger.warning("identity provider unavailable", extra={"realm": realm})
        return render_template("auth/login_failed.html", reason="provider_unavailable", realm=realm), 503
    response = redirect(url)
    response.set_cookie(cookie_name(FLOW_COOKIE), browser_key, max_age=int(FLOW_LIFETIME.total_seconds()),
                        httponly=True, secure=current_app.extensions["gateway.settings"].https, samesite="Lax",
                        path="/")
    return response


def _finish(realm: str) -> Response | tuple[str, int]:
    database, runtime = db_session(), get_identity()
    request_id = g.get("request_id")
    try:
        login = runtime.realm(realm).relying_party().complete(database, request.args.to_dict(flat=True),
                                                              request.cookies.get(cookie_name(FLOW_COOKIE)))
        if realm == "citizen":
            result = finish_citizen_login(database, login, vault=runtime.vault, claim_names=runtime.claim_names,
                                          user_agent=request.user_agent.string, request_id=request_id)
        else:
            result = finish_staff_login(database, login, user_agent=request.user_agent.string, request_id=request_id)
    except LoginRejected as error:
        record_failed_login(database, realm, error, request_id=request_id)
        return render_template("auth/login_failed.html", reason=error.reason, realm=realm), 400
    except ProviderUnavailable:
        record_failed_login(database, realm, LoginRejected("provider_unavailable"), request_id=request_id)
        return render_template("auth/login_failed.html", reason="provider_unavailable", realm=realm), 502
    _end_previous_session()
    # A fresh Flask session too, so CSRF tokens from before the login do not carry over.
    session.clear()
    response = redirect(_after_login(result))
    set_session_cookie(response, result.token)
    return response


def _end_previous_session() -> None:
    try:
        previous = load_session(db_session(), request.cookies.get(cookie_name(SESSION_COOKIE)))
    except SessionExpired:  # already ended by its timeout
        previous = None
    if previous is not None:
        end_session(db_session(), previous, "replaced", request_id=g.get("request_id"))


def _after_login(result: LoginResult) -> str:
    if result.web_session.realm != "citizen":
        return result.next_path
    if not has_consented(db_session().get(Citizen, result.web_session.citizen_id)):
        return url_for("account.consent", next=result.next_path)
    if result.requested_level >= LEVEL_2 and result.web_session.eid_level < LEVEL_2:
        return url_for("auth.level_two", next=result.next_path)
    return result.next_path


#: One budget per client address for starting and finishing logins, citizen and staff alike: each try
#: costs a provider round trip and a stored flow, and guessing at callbacks should be slow.
login_limit = limiter.shared_limit(lambda: current_app.extensions["gateway.settings"].login_rate_limit,
                                   scope="login")


@bp.get("/login")
@public
@login_limit
def login():
    """Start a citizen login at the e-ID provider (``level=2`` asks for level 2 and a fresh login)."""
    return _start("citizen", LEVEL_2 if request.args.get("level") == "2" else 0)


@bp.get("/callback")
@public
@login_limit
def callback():
    """Finish a citizen login: verify everything, then open a new session."""
    return _finish("citizen")


@bp.get("/staff/login")
@public
@login_limit
def staff_login():
    """Start a staff login at the workforce provider."""
    return _start("staff")


@bp.get("/staff/callback")
@public
@login_limit
def staff_callback():
    """Finish a staff login."""
    return _finish("staff")


@bp.post("/logout")
@public
def logout():
    """End our session first, then send the browser to the provider's logout with ``id_token_hint``."""
    principal = current_principal()
    provider_url = None
    if principal is not None:
        row = principal.web_session
        end_session(db_session(), row, "logout", request_id=g.get("request_id"))
        provider_url = _provider_logout(row)
    session.clear()
    # A redirect from a form post to another origin is blocked by our CSP (form-action 'self'), so the
    # browser leaves for the provider from a page of ours instead (Refresh header, with a link as fallback).
    if provider_url:
        response = Response(render_template("auth/leaving.html", provider_url=provider_url))
        response.headers["Refresh"] = f"0; url={provider_url}"
    else:
        response = redirect(url_for("auth.logged_out"))
    clear_session_cookie(response)
    return response


def _provider_logout(row) -> str | None:
    try:
        realm = get_identity().realm(row.realm)
    except ProviderUnavailable:
        return None
    if row.issuer != realm.config.issuer:  # the provider changed since this login: nothing to end there
        return None
    return realm.relying_party().logout_url(row.id_token, random_secret())


def _backchannel(realm: str) -> Response:
    """Answer a provider's logout token: 200 when valid (even if no session matched), 400 otherwise."""
    try:
        relying_party = get_identity().realm(realm).relying_party()
    except ProviderUnavailable:
        return _no_store(jsonify(error="not_supported"), 501)
    try:
        logout_from_provider(db_session(), relying_party, request.form.get("logout_token"),
                             request_id=g.get("request_id"))
    except (TokenRejected, ProviderUnavailable) as error:
        reason = getattr(error, "reason", "provider_unavailable")
        audit.record(db_session(), "backchannel_logout_refused", actor="anonymous", reason=reason[:80],
                     details={"realm": realm}, request_id=g.get("request_id"))
        return _no_store(jsonify(error="invalid_request", error_description=reason), 400)
    return _no_store(Response(status=200))


def _no_store(response: Response, status: int | None = None) -> Response:
    if status is not None:
        response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/backchannel-logout")
@public
def backchannel_logout():
    """The citizen provider ends sessions server to server (CSRF-free by path: the token is the proof)."""
    return _backchannel("citizen")


@bp.post("/staff/backchannel-logout")
@public
def staff_backchannel_logout():
    """The workforce provider ends staff sessions server to server."""
    return _backchannel("staff")


@bp.get("/logged-out")
@public
def logged_out():
    """Confirm the logout."""
    return render_template("auth/logged_out.html")


@bp.get("/step-up")
@public
def step_up():
    """Explain that this service needs e-ID level 2 and offer to log in again at that level."""
    next_path = safe_next(request.args.get("next"), DEFAULT_NEXT["citizen"])
    return render_template("auth/step_up.html", next_path=next_path)


@bp.get("/level-2")
@public
def level_two():
    """The citizen logged in again and is still at level 1: say what level 2 is and how to get it."""
    return render_template("auth/level_two.html", next_path=safe_next(request.args.get("next"), "/"))
