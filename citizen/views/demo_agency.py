"""The demo agency (embedded default only): create a bill for a demo citizen and watch its callbacks arrive.

It plays the agency's part in-process: it bills through the same service the API uses, as the demo API
client, and receives that client's callbacks at ``/api/v1/demo-agency/callbacks``, verifying them as the
reference receiver in docs/ does. Registered only when ``GATEWAY_DEMO_AGENCY_KEY`` is set (never in
production).
"""

from __future__ import annotations

import itertools
import time

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from agencies.clients import find_by_key, signing_secrets
from agencies.models import ApiClient
from citizen import TEMPLATES
from citizen.api.bills import PAY_LINK_PATH
from core.clock import SYSTEM_CLOCK
from identity.devidp.accounts import CITIZENS
from identity.personal_data import mask_personal_id
from payments import agency_bills
from payments.agency_bills import BillOrder
from payments.agency_callbacks import verify
from payments.agency_models import AgencyBill, CallbackAttempt, CallbackDelivery
from payments.models.billing import Bill
from web.agency_runtime import keyring
from web.auth import public
from web.database import db_session
from web.identity_runtime import get_identity
from web.security import limiter

bp = Blueprint("demo_agency", __name__, template_folder=TEMPLATES)
_serial = itertools.count(1)


def _demo_client() -> ApiClient:
    key = current_app.extensions["gateway.settings"].demo_agency_key
    client = find_by_key(db_session(), key, keyring()) if key else None
    if client is None:
        abort(404)  # not seeded yet: `python -m gateway seed`
    return client


@bp.get("/demo/agency")
@public
def page():
    """The demo agency's desk: a form to bill a demo citizen, its bills and their callbacks."""
    client = _demo_client()
    session = db_session()
    bills = list(session.scalars(select(Bill).join(AgencyBill, AgencyBill.bill_id == Bill.id)
                                 .where(AgencyBill.client_id == client.id).order_by(Bill.id.desc()).limit(10)))
    deliveries = {}
    for delivery in session.scalars(select(CallbackDelivery).where(
            CallbackDelivery.bill_id.in_([b.id for b in bills])).order_by(CallbackDelivery.sequence)):
        deliveries.setdefault(delivery.bill_id, []).append(delivery)
    attempts = {}
    for attempt in session.scalars(select(CallbackAttempt).where(CallbackAttempt.delivery_id.in_(
            [d.id for found in deliveries.values() for d in found])).order_by(CallbackAttempt.id)):
        attempts[attempt.delivery_id] = attempt
    return render_template("demo/agency.html", client=client, bills=bills, deliveries=deliveries,
                           attempts=attempts, citizens=[c for c in CITIZENS if not c.locked])


@bp.post("/demo/agency/bills")
@public
def create():
    """Bill the chosen demo citizen for the chosen service, as the demo agency's system would."""
    client = _demo_client()
    personal_id = request.form.get("personal_id", "")
    service_code = request.form.get("service_code", "")
    if personal_id not in {c.personal_id for c in CITIZENS} or service_code not in client.service_codes:
        abort(422)
    base_url = current_app.extensions["gateway.settings"].base_url
    reference = f"DEMO-{int(time.time())}-{next(_serial)}"
    order = BillOrder(service_code=service_code, quantity=1, channel="PORTAL", personal_id=personal_id,
                      payer_id_hash=get_identity().vault.lookup_hash(personal_id),
                      payer_masked_id=mask_personal_id(personal_id), agency_reference=reference,
                      description="Demo", return_url=f"{base_url}/demo/agency")
    agency_bills.create_agency_bill(db_session(), client, order, clock=SYSTEM_CLOCK)
    return redirect(url_for("demo_agency.page"))


@bp.post("/demo/agency/bills/<bill_id>/pay")
@public
def pay(bill_id: str):
    """Go to the gateway's pay page through a fresh one-time next_url, as the agency would send the citizen."""
    client = _demo_client()
    bill, _ = agency_bills.get_agency_bill(db_session(), client.id, bill_id)
    token = agency_bills.issue_link(db_session(), bill, clock=SYSTEM_CLOCK)
    if token is None:
        return redirect(url_for("demo_agency.page"))
    return redirect(f"{PAY_LINK_PATH}{token}")


@bp.post("/api/v1/demo-agency/callbacks")
@public
@limiter.exempt  # it stands in for the agency's own system: its one caller is our job worker (one address)
def receive():
    """The demo agency's callback receiver: 204 for a valid signature, 401 otherwise (as docs/ shows)."""
    secrets_ = signing_secrets(_demo_client(), keyring(), SYSTEM_CLOCK.now())
    valid = verify(request.get_data(), request.headers.get("Gateway-Signature", ""), secrets_,
                   now=SYSTEM_CLOCK.now().timestamp())
    return ("", 204) if valid else ("", 401)
