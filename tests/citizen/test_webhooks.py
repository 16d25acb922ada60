"""Provider webhooks: verified on the raw body, recorded once, 400 with a stable code when untrusted."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from core.outbox import OutboxJob
from payments.models.billing import ProviderEvent
from payments.providers import get_provider, unregister_provider
from tests.citizen.payments_support import seed_bills


@pytest.fixture()
def sandbox(app, db):
    seed_bills(app, db)  # registers the app's providers again
    return get_provider("sandbox")


def _events(db) -> int:
    return db.scalar(select(func.count()).select_from(ProviderEvent))


def _jobs(db) -> int:
    return db.scalar(select(func.count()).select_from(OutboxJob).where(OutboxJob.name == "payments.refresh_status"))


def _signed(sandbox, event_id="evt_demo_1", session_id="sbx_" + "0" * 24):
    body = json.dumps({"id": event_id, "type": "session.succeeded", "session_id": session_id,
                       "status": "succeeded"}).encode()
    return body, {"Sandbox-Signature": sandbox.sign(body)}


def test_a_signed_notification_is_recorded_and_a_refresh_staged(client, db, sandbox):
    body, headers = _signed(sandbox)
    response = client.post("/webhooks/sandbox", data=body, headers=headers, content_type="application/json")
    assert response.status_code == 200 and response.json == {"received": "evt_demo_1", "duplicate": False}
    assert (_events(db), _jobs(db)) == (1, 1)


def test_a_duplicate_notification_is_acknowledged_and_does_nothing_more(client, db, sandbox):
    body, headers = _signed(sandbox)
    client.post("/webhooks/sandbox", data=body, headers=headers, content_type="application/json")
    again = client.post("/webhooks/sandbox", data=body, headers=headers, content_type="application/json")
    assert again.status_code == 200 and again.json["duplicate"] is True
    assert (_events(db), _jobs(db)) == (1, 1)


@pytest.mark.parametrize("tamper", ["body", "signature", "missing"])
def test_an_untrusted_notification_is_400_with_a_stable_code_and_nothing_written(client, db, sandbox, tamper):
    body, headers = _signed(sandbox)
    if tamper == "body":
        body = body.replace(b"succeeded", b"declined")
    elif tamper == "signature":
        headers = {"Sandbox-Signature": headers["Sandbox-Signature"][:-4] + "0000"}
    else:
        headers = {}
    response = client.post("/webhooks/sandbox", data=body, headers=headers, content_type="application/json")
    assert response.status_code == 400 and response.json["code"] == "notification_rejected"
    assert (_events(db), _jobs(db)) == (0, 0)


@pytest.mark.parametrize("ids", [{"event_id": "evt_" + "x" * 197}, {"session_id": "sbx_" + "0" * 197},
                                 {"event_id": ""}], ids=["long-event-id", "long-session-id", "empty-event-id"])
def test_a_signed_notification_with_ids_no_provider_sends_is_400_and_nothing_written(client, db, sandbox, ids):
    body, headers = _signed(sandbox, **ids)
    response = client.post("/webhooks/sandbox", data=body, headers=headers, content_type="application/json")
    assert response.status_code == 400 and response.json["code"] == "notification_malformed"
    assert (_events(db), _jobs(db)) == (0, 0)


def test_an_old_notification_is_refused_as_a_replay(client, db, sandbox):
    body, _ = _signed(sandbox)
    headers = {"Sandbox-Signature": sandbox.sign(body, timestamp=1_000_000_000)}
    response = client.post("/webhooks/sandbox", data=body, headers=headers, content_type="application/json")
    assert response.status_code == 400 and response.json["code"] == "notification_rejected"


def test_webhooks_need_no_csrf_token_and_the_stripe_one_needs_stripe(client, db, sandbox):
    unregister_provider("stripe")  # as configured here; another test may have registered one
    response = client.post("/webhooks/stripe", data=b"{}", headers={"Stripe-Signature": "t=1,v1=x"},
                           content_type="application/json")
    assert response.status_code == 422 and response.json["code"] == "unknown_provider"  # not configured here


@pytest.fixture()
def stripe_client(make_app, db):
    """An app with Stripe configured (two signing secrets: rotation); the sandbox app is restored after."""
    app = make_app(stripe_secret_key="sk_test_fake", stripe_webhook_secrets="whsec_old,whsec_new",
                   stripe_api_base="http://127.0.0.1:9")
    database = app.extensions["gateway.db"]
    database.session_factory.configure(bind=db.get_bind(), join_transaction_mode="create_savepoint")
    yield app.test_client()
    unregister_provider("stripe")


def _stripe_event(event_id: str) -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": "checkout.session.completed",
                       "data": {"object": {"id": "cs_test_1", "object": "checkout.session"}}}).encode()


@pytest.mark.parametrize("secret", ["whsec_old", "whsec_new"])
def test_a_stripe_event_signed_with_any_current_secret_is_recorded_once(stripe_client, db, secret):
    import stripe

    body = _stripe_event(f"evt_{secret}")
    headers = {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(body.decode(), secret)}
    first = stripe_client.post("/webhooks/stripe", data=body, headers=headers, content_type="application/json")
    again = stripe_client.post("/webhooks/stripe", data=body, headers=headers, content_type="application/json")
    assert first.status_code == again.status_code == 200 and again.json["duplicate"] is True
    assert (_events(db), _jobs(db)) == (1, 1)


def test_a_stripe_event_with_a_bad_signature_is_refused(stripe_client, db):
    import stripe

    body = _stripe_event("evt_bad")
    headers = {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(body.decode(), "whsec_other")}
    response = stripe_client.post("/webhooks/stripe", data=body, headers=headers, content_type="application/json")
    assert response.status_code == 400 and response.json["code"] == "notification_rejected"
    assert (_events(db), _jobs(db)) == (0, 0)
