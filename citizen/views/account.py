"""The citizen's own account: consent at first login, profile with login history, e-mail for receipts and
reminders (with its own consent), and a data download."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from citizen import TEMPLATES
from core.geography import province_name
from identity import audit
from identity.citizens import NOTICE_CLAIMS, export_data, give_consent, login_history
from identity.contact import email_consent, give_email_consent, withdraw_email_consent
from identity.errors import InvalidEmail
from web.auth import current_principal, require_citizen
from web.database import db_session
from web.identity_runtime import get_identity
from web.runtime import mail_enabled
from web.security import safe_next

bp = Blueprint("account", __name__, url_prefix="/account", template_folder=TEMPLATES)


def _residence(citizen) -> str | None:
    """``Hà Nội (01) / 00004``: the province by name when the reference list knows the code."""
    if not citizen.residence_province:
        return None
    name = province_name(db_session(), citizen.residence_province)
    text = f"{name} ({citizen.residence_province})" if name else citizen.residence_province
    return f"{text} / {citizen.residence_commune}" if citizen.residence_commune else text


@bp.route("/consent", methods=["GET", "POST"])
@require_citizen(level=0, consent=False)
def consent():
    """Show what data the gateway received and why; record agreement."""
    citizen = current_principal().citizen
    next_path = safe_next(request.values.get("next"), "/account/")
    if request.method == "POST":
        give_consent(db_session(), citizen, request_id=g.get("request_id"))
        return redirect(next_path, 303)  # after a POST: the browser GETs the next page
    return render_template("account/consent.html", citizen=citizen, claims=NOTICE_CLAIMS, next_path=next_path,
                           residence=_residence(citizen))


@bp.get("/")
@require_citizen()
def profile():
    """Show the citizen's data as received from the e-ID, their e-mail choice and their recent logins."""
    return _profile()


def _profile(errors: dict[str, str] | None = None, email: str = "", status: int = 200):
    principal = current_principal()
    citizen = principal.citizen
    return render_template("account/profile.html", citizen=citizen, web_session=principal.web_session,
                           logins=login_history(db_session(), citizen), residence=_residence(citizen),
                           email_offered=_mail_on(),
                           email_consent=email_consent(db_session(), citizen.id) if _mail_on() else None,
                           email_errors=errors or {}, email_value=email), status


@bp.post("/email")
@require_citizen()
def email():
    """Give (or change) the e-mail address for receipts and reminders with consent, or withdraw it."""
    if not _mail_on():
        abort(404)
    citizen = current_principal().citizen
    action = request.form.get("action")
    if action == "withdraw":
        withdraw_email_consent(db_session(), citizen, request_id=g.get("request_id"))
        return redirect(url_for("account.profile") + "#email", 303)
    address = request.form.get("email", "").strip()[:254]
    errors = {}
    if action != "save":
        errors["email"] = _l("Choose to save an address or to stop e-mails.")
    elif request.form.get("consent") != "yes":
        errors["consent"] = _l("Tick the box to agree to receive e-mails, or leave the form.")
    if not errors:
        try:
            give_email_consent(db_session(), citizen, address, language=_language(), request_id=g.get("request_id"))
        except InvalidEmail:
            errors["email"] = _l("Enter an e-mail address such as ten@example.vn.")
    if errors:
        return _profile(errors, address, 422)
    return redirect(url_for("account.profile") + "#email", 303)


def _mail_on() -> bool:
    # From this app's settings, not the mail jobs' process-wide sender: an app is asked about itself.
    return mail_enabled(current_app.extensions["gateway.settings"])


def _language() -> str:
    return "en" if str(get_locale()) == "en" else "vi"


@bp.get("/data.json")
@require_citizen()
def download():
    """Give the citizen everything identity holds about them, as a JSON file."""
    citizen = current_principal().citizen
    data = export_data(db_session(), citizen, get_identity().vault)
    audit.record(db_session(), "data_exported", actor=f"citizen:{citizen.id}", request_id=g.get("request_id"))
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="my-data.json"'})
