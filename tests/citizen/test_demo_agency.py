"""The demo agency page: bill a demo citizen, see the bill's callbacks, verify them at its own receiver."""

from __future__ import annotations

import time

from sqlalchemy import select

from agencies.clients import find_by_key, signing_secrets
from payments.agency_callbacks import sign
from payments.agency_models import CallbackDelivery
from payments.models.billing import Bill
from tests.citizen.agency_support import seed_pricing
from tests.web.oidc_support import form_token
from web.agency_runtime import keyring_for, seed_demo_agency
from web.security import limiter


def test_a_newcomer_bills_a_demo_citizen_and_sees_the_callback(app, client, db):
    settings = app.extensions["gateway.settings"]
    seed_pricing(db)
    seed_demo_agency(db, settings)
    db.flush()
    token = form_token(client, "/demo/agency")
    created = client.post("/demo/agency/bills", data={"csrf_token": token, "personal_id": "001085012345",
                                                      "service_code": "LLTP"})
    assert created.status_code == 302
    page = client.get("/demo/agency").get_data(as_text=True)
    assert "bill.created" in page and "DEMO-" in page
    delivery = db.scalars(select(CallbackDelivery)).one()
    demo = find_by_key(db, settings.demo_agency_key, keyring_for(settings))
    assert demo.callback_url.endswith("/api/v1/demo-agency/callbacks")
    secrets_ = signing_secrets(demo, keyring_for(settings), delivery.created_at)
    body = delivery.body.encode()
    good = client.post("/api/v1/demo-agency/callbacks", data=body,
                       headers={"Gateway-Signature": sign(body, secrets_, int(time.time()))})
    forged = client.post("/api/v1/demo-agency/callbacks", data=body,
                         headers={"Gateway-Signature": sign(body, ["whsec_forged"], int(time.time()))})
    assert (good.status_code, forged.status_code) == (204, 401)
    bill_id = db.scalars(select(CallbackDelivery.bill_id)).one()
    public_id = db.get(Bill, bill_id).public_id
    paying = client.post(f"/demo/agency/bills/{public_id}/pay", data={"csrf_token": token})
    assert paying.status_code == 302 and paying.location.startswith("/pay/")


def test_the_demo_receiver_takes_every_callback_the_job_worker_sends_however_many(make_app):
    # Every callback comes from the one address of the job worker: under the per-address limit (300 a
    # minute) a busy minute's callbacks were refused with 429 by the gateway's own demo receiver and waited
    # for their retry (found by bench/deployed_load.py). The receiver stands in for the agency's system,
    # which has its own limits; the signature, not the address, is what it checks.
    app = make_app(env="development")
    limiter.reset()  # other development apps in this process share the in-memory counts
    receiver = app.test_client()
    answers = {receiver.post("/api/v1/demo-agency/callbacks", data=b"{}",
                             headers={"Gateway-Signature": "t=1,v1=00"}).status_code for _ in range(305)}
    assert 429 not in answers and answers <= {401, 404}
    assert "X-RateLimit-Limit" in receiver.get("/").headers  # the rest of the site keeps its limit
