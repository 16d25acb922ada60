"""The sandbox provider: test cards, idempotent sessions, signed notifications, expiry."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import event

from core.money import vnd
from payments.errors import NotificationRejected, ProviderError, ProviderUnavailable
from payments.providers.base import ProviderStatus, SessionRequest
from payments.providers.sandbox import LATE_NOTIFICATION_DELAY, SIGNATURE_HEADER, SandboxProvider


@pytest.fixture()
def provider(clock, sandbox_store):
    return SandboxProvider(secret="s" * 32, base_url="https://pay.test/", clock=clock, store=sandbox_store)


def _request(clock, key="payment:p1:create"):
    return SessionRequest(payment_reference="p1", amount=vnd(200_000), description="LLTP",
                          return_url="https://pay.test/r", opened_at=clock.now(),
                          expires_at=clock.now() + timedelta(minutes=30),
                          idempotency_key=key)


def test_the_same_idempotency_key_returns_the_same_session(provider, clock):
    first = provider.create_session(_request(clock))
    again = provider.create_session(_request(clock))
    other = provider.create_session(_request(clock, key="payment:p2:create"))
    assert first == again and other.session_id != first.session_id
    assert first.next_url == f"https://pay.test/sandbox/pay/{first.session_id}"
    assert provider.sessions_opened == 2


@pytest.mark.parametrize("card, status, failure, delay", [
    ("4242 4242 4242 4242", ProviderStatus.SUCCEEDED, None, timedelta(0)),
    ("4000000000000002", ProviderStatus.DECLINED, "card_declined", timedelta(0)),
    ("4000000000000119", ProviderStatus.ERROR, "processing_error", timedelta(0)),
    ("4000000000000259", ProviderStatus.SUCCEEDED, None, LATE_NOTIFICATION_DELAY),
    ("1234123412341234", ProviderStatus.DECLINED, "unknown_test_card", timedelta(0)),
], ids=["success", "decline", "error", "late", "unknown"])
def test_each_test_card_has_its_outcome_and_notification(provider, clock, card, status, failure, delay):
    session = provider.create_session(_request(clock))
    [delivery] = provider.pay(session.session_id, card)
    report = provider.fetch_status(session.session_id)
    assert (report.status, report.failure_code) == (status, failure)
    assert (report.amount, report.reference) == (vnd(200_000), "p1")
    assert delivery.delay == delay
    assert provider.parse_notification(delivery.body, delivery.headers).claimed_status is status


def test_a_card_and_its_notification_are_one_write_to_the_store(provider, clock, sandbox_store):
    # The card page's request is on the payer's path: the outcome and the notification's number are written
    # in one change (there were two, each with its locked read and its commit).
    session = provider.create_session(_request(clock))
    updates = []

    def listener(connection, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE"):
            updates.append(statement)

    event.listen(sandbox_store._engine, "before_cursor_execute", listener)
    try:
        [delivery] = provider.pay(session.session_id, "4242 4242 4242 4242")
    finally:
        event.remove(sandbox_store._engine, "before_cursor_execute", listener)
    assert len(updates) == 1
    assert provider.parse_notification(delivery.body, delivery.headers).event_id == f"evt_{session.session_id[4:]}_1"


def test_the_timeout_card_sends_nothing_and_times_out_once(provider, clock):
    session = provider.create_session(_request(clock))
    assert provider.pay(session.session_id, "4000000000000341") == []
    with pytest.raises(ProviderUnavailable):
        provider.fetch_status(session.session_id)
    assert provider.fetch_status(session.session_id).status is ProviderStatus.SUCCEEDED


def test_a_paid_session_cannot_be_paid_or_cancelled_again(provider, clock):
    session = provider.create_session(_request(clock))
    provider.pay(session.session_id, "4242424242424242")
    assert provider.pay(session.session_id, "4000000000000002") == []
    assert provider.cancel_session(session.session_id).status is ProviderStatus.SUCCEEDED


def test_an_abandoned_session_expires_at_its_deadline(provider, clock):
    session = provider.create_session(_request(clock))
    clock.advance(minutes=30)
    assert provider.fetch_status(session.session_id).status is ProviderStatus.EXPIRED


def test_the_same_key_with_different_parameters_is_refused(provider, clock):
    provider.create_session(_request(clock))
    with pytest.raises(ProviderError, match="different parameters"):
        provider.create_session(replace(_request(clock), description="other"))


def test_an_unknown_session_is_an_error(provider):
    with pytest.raises(ProviderError):
        provider.fetch_status("sbx_nope")


def _signed(provider, clock):
    session = provider.create_session(_request(clock))
    return provider.pay(session.session_id, "4242424242424242")[0]


def test_a_tampered_body_is_rejected(provider, clock):
    delivery = _signed(provider, clock)
    with pytest.raises(NotificationRejected, match="does not match"):
        provider.parse_notification(delivery.body.replace(b"succeeded", b"declined"), delivery.headers)


def test_a_notification_older_than_five_minutes_is_rejected(provider, clock):
    delivery = _signed(provider, clock)
    clock.advance(seconds=301)
    with pytest.raises(NotificationRejected, match="too old"):
        provider.parse_notification(delivery.body, delivery.headers)


@pytest.mark.parametrize("headers", [{}, {SIGNATURE_HEADER: "v1=abc"}, {SIGNATURE_HEADER: "t=1,v1=abc"}],
                         ids=["missing", "no-timestamp", "wrong"])
def test_a_missing_or_wrong_signature_is_rejected(provider, clock, headers):
    delivery = _signed(provider, clock)
    with pytest.raises(NotificationRejected):
        provider.parse_notification(delivery.body, headers)


def test_another_secret_does_not_verify(provider, clock, sandbox_store):
    delivery = _signed(provider, clock)
    stranger = SandboxProvider(secret="x" * 32, base_url="https://pay.test", clock=clock, store=sandbox_store)
    with pytest.raises(NotificationRejected):
        stranger.parse_notification(delivery.body, delivery.headers)


def test_a_session_opened_by_one_process_is_paid_by_another(provider, clock, sandbox_store):
    """Each gunicorn worker, job worker and node builds its own provider; they share the sandbox's table."""
    session = provider.create_session(_request(clock))
    other_worker = SandboxProvider(secret="s" * 32, base_url="https://pay.test/", clock=clock, store=sandbox_store)
    [delivery] = other_worker.pay(session.session_id, "4242 4242 4242 4242")
    assert provider.fetch_status(session.session_id).status is ProviderStatus.SUCCEEDED
    assert provider.parse_notification(delivery.body, delivery.headers).session_id == session.session_id
    assert other_worker.pay(session.session_id, "4242 4242 4242 4242") == []
