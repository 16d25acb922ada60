"""Back office for API clients: register an agency's system, show a key once, rotate and revoke, re-send callbacks."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select

from agencies import clients
from agencies.clients import ClientSpec
from agencies.errors import ApiClientInvalid, ApiClientNotFound
from agencies.models import SCOPES
from core.clock import SYSTEM_CLOCK
from identity.roles import SYSTEM_ADMIN
from payments.agency_delivery import resend
from payments.agency_models import CallbackAttempt, CallbackDelivery
from web.agency_runtime import keyring
from web.auth import current_principal, require_role
from web.database import db_session

bp = Blueprint("api_clients", __name__, url_prefix="/admin/api-clients", template_folder="templates")


def _actor() -> str:
    return f"staff:{current_principal().staff.id}"


def _words(name: str) -> tuple[str, ...]:
    return tuple(w for w in request.form.get(name, "").replace(",", " ").split() if w)


def _spec_from_form() -> ClientSpec:
    try:
        limit = int(request.form.get("rate_limit_per_minute", "600") or 600)
    except ValueError:
        raise ApiClientInvalid("the rate limit must be a whole number") from None
    return ClientSpec(name=request.form.get("name", ""), agency_code=request.form.get("agency_code", ""),
                      service_codes=_words("service_codes"), scopes=tuple(request.form.getlist("scopes")),
                      callback_url=request.form.get("callback_url", "").strip(),
                      return_url_domains=_words("return_url_domains"), rate_limit_per_minute=limit)


@bp.get("/")
@require_role(SYSTEM_ADMIN)
def index():
    """Every client and the form to register one."""
    return render_template("admin/api_clients/index.html", clients=clients.list_clients(db_session()),
                           scopes=SCOPES, error=None, form={})


@bp.post("/")
@require_role(SYSTEM_ADMIN)
def register():
    """Register a client and show its key and signing secret once."""
    try:
        made = clients.register_client(db_session(), _spec_from_form(), keyring=keyring(), actor=_actor(),
                                       clock=SYSTEM_CLOCK)
    except ApiClientInvalid as error:
        return render_template("admin/api_clients/index.html", clients=clients.list_clients(db_session()),
                               scopes=SCOPES, error=error.message, form=request.form), 422
    return render_template("admin/api_clients/secret.html", client=made.client, api_key=made.api_key,
                           signing_secret=made.signing_secret)


@bp.get("/<int:client_id>")
@require_role(SYSTEM_ADMIN)
def detail(client_id: int):
    """One client: its keys, its signing secret's rotation and its recent callback deliveries."""
    session = db_session()
    client = clients.get_client(session, client_id)
    deliveries = list(session.scalars(select(CallbackDelivery).where(CallbackDelivery.client_id == client_id)
                                      .order_by(CallbackDelivery.id.desc()).limit(50)))
    attempts = {}
    for attempt in session.scalars(select(CallbackAttempt).where(
            CallbackAttempt.delivery_id.in_([d.id for d in deliveries])).order_by(CallbackAttempt.id)):
        attempts.setdefault(attempt.delivery_id, []).append(attempt)
    return render_template("admin/api_clients/detail.html", client=client, deliveries=deliveries,
                           attempts=attempts, now=SYSTEM_CLOCK.now())


@bp.post("/<int:client_id>/keys")
@require_role(SYSTEM_ADMIN)
def rotate_key(client_id: int):
    """Issue a new key (the old ones keep working for 24 hours) and show it once."""
    new_key = clients.rotate_key(db_session(), client_id, keyring=keyring(), actor=_actor(), clock=SYSTEM_CLOCK)
    return render_template("admin/api_clients/secret.html", client=clients.get_client(db_session(), client_id),
                           api_key=new_key, signing_secret=None)


@bp.post("/<int:client_id>/keys/<int:key_id>/revoke")
@require_role(SYSTEM_ADMIN)
def revoke_key(client_id: int, key_id: int):
    """Revoke one key at once."""
    client = clients.get_client(db_session(), client_id)
    if key_id not in {key.id for key in client.keys}:
        raise ApiClientNotFound(f"client {client_id} has no key {key_id}")
    clients.revoke_key(db_session(), key_id, actor=_actor(), clock=SYSTEM_CLOCK)
    return redirect(url_for("api_clients.detail", client_id=client_id))


@bp.post("/<int:client_id>/signing-secret")
@require_role(SYSTEM_ADMIN)
def rotate_secret(client_id: int):
    """Make a new callback signing secret (the old one also signs for 24 hours) and show it once."""
    secret = clients.rotate_signing_secret(db_session(), client_id, keyring=keyring(), actor=_actor(),
                                           clock=SYSTEM_CLOCK)
    return render_template("admin/api_clients/secret.html", client=clients.get_client(db_session(), client_id),
                           api_key=None, signing_secret=secret)


@bp.post("/<int:client_id>/active")
@require_role(SYSTEM_ADMIN)
def set_active(client_id: int):
    """Enable or disable the client."""
    clients.set_active(db_session(), client_id, request.form.get("active") == "1", actor=_actor(),
                       clock=SYSTEM_CLOCK)
    return redirect(url_for("api_clients.detail", client_id=client_id))


@bp.post("/<int:client_id>/deliveries/<int:delivery_id>/resend")
@require_role(SYSTEM_ADMIN)
def resend_delivery(client_id: int, delivery_id: int):
    """Send one callback again now."""
    delivery = db_session().get(CallbackDelivery, delivery_id)
    if delivery is None or delivery.client_id != client_id:
        raise ApiClientNotFound(f"client {client_id} has no delivery {delivery_id}")
    resend(db_session(), delivery_id, actor=_actor(), clock=SYSTEM_CLOCK)
    return redirect(url_for("api_clients.detail", client_id=client_id))
