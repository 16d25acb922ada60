"""The Stripe provider against a local fake of Stripe's API, and webhooks signed by the stripe library."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import stripe

from core.clock import FixedClock
from core.money import vnd
from payments.errors import NotificationRejected, ProviderError, ProviderUnavailable
from payments.providers.base import ProviderStatus, RefundRequest, SessionRequest
from payments.providers.stripe import SIGNATURE_HEADER, StripeProvider

OLD_SECRET, NEW_SECRET = "whsec_old", "whsec_new"



@pytest.fixture()
def wall_clock():
    """Stripe checks webhook timestamps against the real time, so these tests run on it too."""
    return FixedClock(datetime.fromtimestamp(int(time.time()), UTC))


@pytest.fixture()
def provider(fake, wall_clock):
    return StripeProvider(secret_key="sk_test_fake", webhook_secrets=[OLD_SECRET, NEW_SECRET], clock=wall_clock,
                          api_base=fake.api_base, max_network_retries=0)


def _request(clock, key="payment:p1:create", minutes=30):
    return SessionRequest(payment_reference="p1", amount=vnd(200_000), description="Phí LLTP",
                          return_url="https://pay.test/return/p1", opened_at=clock.now(),
                          expires_at=clock.now() + timedelta(minutes=minutes),
                          idempotency_key=key, metadata={"bill_id": "b1"})


def test_a_checkout_session_is_created_in_zero_decimal_vnd_with_our_ids(provider, fake, wall_clock):
    opened = provider.create_session(_request(wall_clock, minutes=60))
    [(method, path, params)] = fake.requests
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert params["line_items[0][price_data][currency]"] == "vnd"
    assert params["line_items[0][price_data][unit_amount]"] == "200000"
    assert params["client_reference_id"] == "p1" and params["metadata[bill_id]"] == "b1"
    assert params["payment_intent_data[metadata][payment_id]"] == "p1"
    assert int(params["expires_at"]) == int((wall_clock.now() + timedelta(minutes=60)).timestamp())
    assert opened.next_url == f"https://checkout.stripe.test/{opened.session_id}"


def test_stripe_gets_its_thirty_minute_minimum_expiry_derived_from_the_request(provider, fake, wall_clock):
    opened = provider.create_session(_request(wall_clock, minutes=30))
    assert opened.expires_at == wall_clock.now() + timedelta(minutes=35)
    wall_clock.advance(seconds=120)  # a retry later sends identical parameters, so Stripe replays it
    first_clock = FixedClock(wall_clock.now() - timedelta(seconds=120))
    assert provider.create_session(_request(first_clock, minutes=30)).session_id == opened.session_id


def test_the_same_idempotency_key_returns_the_same_session(provider, fake, wall_clock):
    first = provider.create_session(_request(wall_clock))
    again = provider.create_session(_request(wall_clock))
    assert first.session_id == again.session_id and len(fake.sessions) == 1


def test_status_follows_the_session(provider, fake, wall_clock):
    opened = provider.create_session(_request(wall_clock))
    assert provider.fetch_status(opened.session_id).status is ProviderStatus.PENDING
    fake.complete(opened.session_id)
    report = provider.fetch_status(opened.session_id)
    assert (report.status, report.amount, report.reference) == (ProviderStatus.SUCCEEDED, vnd(200_000), "p1")
    assert report.payment_ref == f"pi_{opened.session_id[3:]}"


def test_cancelling_expires_an_open_session_and_keeps_a_completed_one(provider, fake, wall_clock):
    open_one = provider.create_session(_request(wall_clock))
    paid_one = provider.create_session(_request(wall_clock, key="payment:p2:create"))
    fake.complete(paid_one.session_id)
    assert provider.cancel_session(open_one.session_id).status is ProviderStatus.EXPIRED
    assert provider.cancel_session(paid_one.session_id).status is ProviderStatus.SUCCEEDED


@pytest.mark.parametrize("status, error", [(500, ProviderUnavailable), (503, ProviderUnavailable),
                                           (429, ProviderUnavailable), (400, ProviderError)])
def test_stripe_failures_are_typed(provider, fake, wall_clock, status, error):
    fake.fail_next.append(status)
    with pytest.raises(error):
        provider.create_session(_request(wall_clock))


def test_a_refusal_is_logged_with_stripes_own_words(provider, fake, wall_clock, caplog):
    fake.fail_next.append(400)
    with caplog.at_level("WARNING", logger="payments.providers.stripe"), pytest.raises(ProviderError):
        provider.create_session(_request(wall_clock))
    [record] = [r for r in caplog.records if r.getMessage() == "stripe refused the request"]
    assert record.http_status == 400 and "fake failure" in record.provider_message


def test_an_amount_above_stripes_maximum_is_refused_before_calling_it(provider, fake, wall_clock):
    with pytest.raises(ProviderError) as error:
        provider.create_session(replace(_request(wall_clock), amount=vnd(100_000_000)))
    assert error.value.code == "amount_above_provider_maximum" and fake.requests == []


def test_an_unreachable_stripe_is_unavailable(wall_clock):
    offline = StripeProvider(secret_key="sk_test_fake", webhook_secrets=[NEW_SECRET], clock=wall_clock,
                             api_base="http://127.0.0.1:9", max_network_retries=0)
    with pytest.raises(ProviderUnavailable):
        offline.fetch_status("cs_test_1")


def test_a_refund_uses_the_payment_intent_and_our_idempotency_key(provider, fake):
    result = provider.refund(RefundRequest("cs_test_1", "pi_1", vnd(50_000), idempotency_key="refund:r1"))
    again = provider.refund(RefundRequest("cs_test_1", "pi_1", vnd(50_000), idempotency_key="refund:r1"))
    assert result.succeeded and result.refund_ref == again.refund_ref
    assert fake.requests[0][2] == {"payment_intent": "pi_1", "amount": "50000"}


def _event(event_type="checkout.session.completed", session_id="cs_test_1", event_id="evt_1"):
    return json.dumps({"id": event_id, "object": "event", "type": event_type,
                       "data": {"object": {"id": session_id, "object": "checkout.session"}}}).encode()


def _signed(body, secret=NEW_SECRET, timestamp=None):
    return {SIGNATURE_HEADER: stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp)}


@pytest.mark.parametrize("secret", [OLD_SECRET, NEW_SECRET], ids=["old-secret", "new-secret"])
def test_a_webhook_signed_with_any_current_secret_verifies(provider, secret):
    body = _event()
    notification = provider.parse_notification(body, _signed(body, secret))
    assert (notification.event_id, notification.session_id) == ("evt_1", "cs_test_1")


def test_an_expired_session_event_claims_expired(provider):
    body = _event("checkout.session.expired")
    assert provider.parse_notification(body, _signed(body)).claimed_status is ProviderStatus.EXPIRED


@pytest.mark.parametrize("case", ["tampered", "unknown-secret", "too-old", "missing"])
def test_an_untrusted_webhook_is_rejected(provider, case):
    body = _event()
    headers = {"tampered": _signed(body), "unknown-secret": _signed(body, "whsec_other"),
               "too-old": _signed(body, timestamp=int(time.time()) - 301), "missing": {}}[case]
    if case == "tampered":
        body = body.replace(b"cs_test_1", b"cs_test_2")
    with pytest.raises(NotificationRejected):
        provider.parse_notification(body, headers)


def test_other_event_types_are_acknowledged_but_name_no_session(provider):
    body = _event("payment_intent.created")
    assert provider.parse_notification(body, _signed(body)).session_id == ""
