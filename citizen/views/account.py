"""The citizen's own account: consent at first login, profile with login history, and a data download."""

from __future__ import annotations

import json

from flask import Blueprint, Response, g, redirect, render_template, request

from citizen import TEMPLATES
from core.geography import province_name
from identity import audit
from identity.citizens import NOTICE_CLAIMS, export_data, give_consent, login_history
from web.auth import current_principal, require_citizen
from web.database import db_session
from web.identity_runtime import get_identity
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
    """Show the citizen's data as received from the e-ID, and their recent logins."""
    principal = current_principal()
    return render_template("account/profile.html", citizen=principal.citizen, web_session=principal.web_session,
                           logins=login_history(db_session(), principal.citizen),
                           residence=_residence(principal.citizen))


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
