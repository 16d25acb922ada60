"""The bundled VNeID stand-in's web endpoints under ``/dev-idp``: translation between Flask and ``DevIdp``.

Registered only when ``GATEWAY_DEV_IDP_ENABLED`` is on (the default outside production).
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, render_template, request

from citizen import TEMPLATES
from identity.devidp.clients import PlainRequest, PlainResponse
from identity.devidp.server import DevIdp, ErrorPage, LoginPage
from web.auth import public
from web.database import db_session
from web.identity_runtime import get_identity

bp = Blueprint("devidp", __name__, url_prefix="/dev-idp", template_folder=TEMPLATES)
#: Form fields of our own account chooser, not part of the OAuth request.
_CHOOSER_FIELDS = ("csrf_token", "account")


def _idp() -> DevIdp:
    idp = get_identity().dev_idp
    assert idp is not None, "the blueprint is registered only with the stand-in enabled"
    return idp


def _plain(query: dict[str, str] | None = None, form: dict[str, str] | None = None) -> PlainRequest:
    return PlainRequest(request.method, request.url, dict(request.headers),
                        request.args.to_dict(flat=True) if query is None else query,
                        request.form.to_dict(flat=True) if form is None else form)


def _response(result: PlainResponse | ErrorPage | None) -> Response | tuple[str, int]:
    if isinstance(result, ErrorPage):
        return render_template("devidp/error.html", error=result), 400
    if result is None:
        return render_template("devidp/logged_out.html")
    response = Response(result.body, status=result.status)
    for name, value in result.headers:
        response.headers[name] = value
    if result.body.startswith("{") and "Content-Type" not in dict(result.headers):
        response.mimetype = "application/json"
    return response


@bp.get("/.well-known/openid-configuration")
@public
def discovery():
    """Provider metadata."""
    response = jsonify(_idp().discovery())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/jwks")
@public
def jwks():
    """The published signing keys."""
    keys, max_age = _idp().jwks()
    response = Response(json.dumps(keys), mimetype="application/json")
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


@bp.get("/authorize")
@public
def authorize():
    """Validate the authorization request and show the demo accounts to choose from."""
    result = _idp().begin_authorization(db_session(), _plain())
    if isinstance(result, LoginPage):
        return render_template("devidp/login.html", page=result)
    return _response(result)


@bp.post("/authorize")
@public
def authorize_choose():
    """The person chose an account: redirect back with a code (the CSRF token guards this form)."""
    fields = {k: v for k, v in request.form.to_dict(flat=True).items() if k not in _CHOOSER_FIELDS}
    plain = _plain(query=fields, form={})
    return _response(_idp().finish_authorization(db_session(), plain, request.form.get("account", "")))


@bp.post("/token")
@public
def token():
    """Exchange a code for tokens (CSRF-free by path in web.security: client authentication instead)."""
    return _response(_idp().token(db_session(), _plain(query={})))


@bp.route("/userinfo", methods=["GET", "POST"])
@public
def userinfo():
    """Claims of the access token's account."""
    return _response(_idp().userinfo(db_session(), request.headers.get("Authorization")))


@bp.get("/end-session")
@public
def end_session():
    """RP-initiated logout."""
    return _response(_idp().end_session(db_session(), _plain()))
