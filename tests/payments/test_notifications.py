"""Notifications are verified, deduplicated and re-fetched; the return URL only triggers a query."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from core.money import vnd
from core.outbox import OutboxJob, run_job
from payments import accounts, ledger
from payments.confirmation import ReportOutcome
from payments.errors import NotificationRejected
from payments.models.billing import Payment, ProviderEvent
from payments.models.ledger import LedgerTransaction
from payments.notifications import REFRESH_JOB, check_on_return, receive_notification, refresh_payment
from payments.starting import session_request
from tests.payments.factories import make_payment, open_sandbox_payment
from tests.payments.helpers import count

CLEARING = accounts.provider_clearing("sandbox").code


def test_a_verified_notification_is_recorded_once_and_stages_one_refresh(db, clock, sandbox):
    payment = open_sandbox_payment(db, clock, sandbox)
    [delivery] = sandbox.pay(payment.provider_session_id, "4242424242424242")
    first = receive_notification(db, "sandbox", delivery.body, delivery.headers, clock=clock)
    again = receive_notification(db, "sandbox", delivery.body, delivery.headers, clock=clock)
    assert not first.duplicate and again.duplicate
    assert count(db, OutboxJob, OutboxJob.name == REFRESH_JOB) == 1
    assert payment.status == "submitted"  # nothing moves until the refresh job asks the provider


def test_a_forged_notification_changes_nothing(db, clock, sandbox):
    payment = open_sandbox_payment(db, clock, sandbox)
    [delivery] = sandbox.pay(payment.provider_session_id, "4000000000000002")
    with pytest.raises(NotificationRejected):
        receive_notification(db, "sandbox", delivery.body.replace(b"declined", b"succeeded"), delivery.headers,
                             clock=clock)
    assert count(db, ProviderEvent) == 0


def test_the_refresh_acts_on_the_providers_current_status_not_the_claim(db, clock, sandbox):
    # A stale "cancelled" notification arrives after the payer actually paid: the re-fetch says succeeded.
    payment = open_sandbox_payment(db, clock, sandbox)
    stale = sandbox.notification(payment.provider_session_id, "cancelled")
    sandbox.pay(payment.provider_session_id, "4242424242424242")
    receive_notification(db, "sandbox", stale.body, stale.headers, clock=clock)
    assert refresh_payment(db, "sandbox", payment.provider_session_id, cause="notification",
                           clock=clock) is ReportOutcome.APPLIED
    assert payment.status == "succeeded" and ledger.balance(db, CLEARING) == vnd(200_000)


def test_the_return_url_triggers_a_status_query(db, clock, sandbox):
    payment = open_sandbox_payment(db, clock, sandbox)
    assert check_on_return(db, payment.public_id, clock=clock).status == "submitted"
    sandbox.pay(payment.provider_session_id, "4000000000000259")  # paid; the notification is 10 min late
    assert check_on_return(db, payment.public_id, clock=clock).status == "succeeded"


def test_a_notification_that_overtakes_the_recording_of_its_session_still_finds_the_payment(db, clock, sandbox):


    payment = make_payment(db, clock)  # provider session opened, but not yet recorded here
    opened = sandbox.create_session(session_request(payment))
    sandbox.pay(opened.session_id, "4242424242424242")
    refresh_payment(db, "sandbox", opened.session_id, cause="notification", clock=clock)
    assert payment.status == "succeeded"


def test_ten_concurrent_copies_of_one_notification_post_once(postgres_only, committing, clock, sandbox):
    with committing() as session, session.begin():
        payment = open_sandbox_payment(session, clock, sandbox)
    [delivery] = sandbox.pay(payment.provider_session_id, "4242424242424242")

    def deliver(_):
        with committing() as session, session.begin():
            return receive_notification(session, "sandbox", delivery.body, delivery.headers, clock=clock).duplicate

    def refresh(_):  # even if the refresh ran ten times at once, the ledger posts once
        with committing() as session, session.begin():
            refresh_payment(session, "sandbox", payment.provider_session_id, cause="notification", clock=clock)

    with ThreadPoolExecutor(10) as pool:
        duplicates = list(pool.map(deliver, range(10)))
        list(pool.map(refresh, range(10)))
    assert duplicates.count(False) == 1
    with committing() as session:
        assert session.scalar(select(Payment.status).where(Payment.id == payment.id)) == "succeeded"
        assert count(session, LedgerTransaction) == 1 and count(session, OutboxJob) == 1
        assert ledger.balance(session, CLEARING) == vnd(200_000)


def test_the_staged_refresh_job_settles_the_payment(committing, clock, sandbox):
    with committing() as session, session.begin():
        payment = open_sandbox_payment(session, clock, sandbox)
    [delivery] = sandbox.pay(payment.provider_session_id, "4242424242424242")
    with committing() as session, session.begin():
        receive_notification(session, "sandbox", delivery.body, delivery.headers, clock=clock)
    with committing() as session:
        job_id = session.scalar(select(OutboxJob.id).where(OutboxJob.name == REFRESH_JOB))
    assert run_job(committing, job_id, lease_seconds=60, clock=clock).status == "done"
    with committing() as session:
        assert session.get(Payment, payment.id).status == "succeeded"
