"""A bill paid end to end through Stripe Checkout (faked locally): start, webhook, re-fetch, ledger."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
import stripe

from core.clock import FixedClock
from core.money import vnd
from core.settings import PROJECT_ROOT
from payments import accounts, ledger
from payments.checkout import start_payment
from payments.confirmation import ReportOutcome
from payments.errors import IdempotencyKeyInProgress
from payments.notifications import receive_notification, refresh_payment
from payments.providers import register_provider, unregister_provider
from payments.providers.stripe import SIGNATURE_HEADER, StripeProvider
from payments.starting import PayerSession
from tests.payments.factories import make_bill
from tests.payments.providers.test_stripe import _event


@pytest.fixture()
def stripe_provider(wall_clock, fake):
    provider = register_provider(StripeProvider(secret_key="sk_test_fake", webhook_secrets=["whsec_1"],
                                                clock=wall_clock, api_base=fake.api_base, max_network_retries=0))
    yield provider, fake
    unregister_provider("stripe")


@pytest.fixture()
def wall_clock():
    """Stripe checks webhook timestamps against the real time."""
    return FixedClock(datetime.fromtimestamp(int(time.time()), UTC))


def test_a_bill_is_paid_through_stripe_checkout(committing, wall_clock, stripe_provider):
    provider, fake = stripe_provider
    with committing() as session, session.begin():
        bill = make_bill(session, wall_clock)
    started = start_payment(committing, scope="citizen:1", idempotency_key="k1", bill_public_id=bill.public_id,
                            provider_name="stripe", payer=PayerSession(eid_level=2, sub="1"), return_url="https://pay.test/r",
                            clock=wall_clock)
    [session_id] = fake.sessions
    fake.complete(session_id)
    body = _event(session_id=session_id, event_id="evt_paid")
    headers = {SIGNATURE_HEADER: stripe.WebhookSignature.generate_signature_header(body.decode(), "whsec_1")}
    with committing() as session, session.begin():
        assert not receive_notification(session, "stripe", body, headers, clock=wall_clock).duplicate
        assert receive_notification(session, "stripe", body, headers, clock=wall_clock).duplicate
    with committing() as session, session.begin():
        outcome = refresh_payment(session, "stripe", session_id, cause="notification", clock=wall_clock)
    assert outcome is ReportOutcome.APPLIED and started.body["next_url"].endswith(session_id)
    with committing() as session:
        assert ledger.balance(session, accounts.provider_clearing("stripe").code) == vnd(200_000)


def test_a_process_killed_after_the_provider_call_resumes_without_a_second_session(committing, wall_clock,
                                                                                   stripe_provider):
    _, fake = stripe_provider
    with committing() as session, session.begin():
        bill = make_bill(session, wall_clock)
    url = committing.kw["bind"].url.render_as_string(hide_password=False)
    crashed = subprocess.run([sys.executable, "-m", "tests.payments.crash_start_payment", url, fake.api_base,
                              bill.public_id, str(int(wall_clock.now().timestamp()))],
                             cwd=PROJECT_ROOT, capture_output=True, timeout=60)
    assert crashed.returncode == 1, crashed.stderr.decode()[-2000:]
    assert len(fake.sessions) == 1  # the provider opened a session; we never recorded it

    def retry():
        return start_payment(committing, scope="citizen:1", idempotency_key="crash-1", bill_public_id=bill.public_id,
                             provider_name="stripe", payer=PayerSession(eid_level=2, sub="1"), return_url="https://pay.test/r",
                             clock=wall_clock)

    with pytest.raises(IdempotencyKeyInProgress):  # the dead process's lock still looks alive
        retry()
    wall_clock.advance(seconds=91)
    resumed = retry()
    assert resumed.body["status"] == "submitted" and len(fake.sessions) == 1
    assert resumed.body["next_url"].endswith(next(iter(fake.sessions)))
