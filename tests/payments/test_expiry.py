"""Abandoned payments expire after asking the provider; unknown outcomes are resolved by a query."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from core.money import vnd
from core.outbox import OutboxJob
from payments import accounts, jobs, ledger
from payments.bills import cancel_bill
from payments.confirmation import apply_report
from payments.errors import ProviderUnavailable
from payments.expiry import cancel_payment, expire_payment, mark_unknown, resolve_unknown, stale_payment_ids
from payments.notifications import check_on_return
from payments.providers.base import ProviderStatus
from payments.starting import PayerSession, create_payment, session_request
from tests.payments.factories import make_payment, open_sandbox_payment
from tests.payments.helpers import count


def test_an_abandoned_payment_expires_after_thirty_minutes_and_is_cancelled_at_the_provider(db, clock, sandbox):
    payment = open_sandbox_payment(db, clock, sandbox)
    clock.advance(minutes=29)
    assert stale_payment_ids(db, clock=clock) == []
    assert expire_payment(db, payment.public_id, clock=clock) == "submitted"
    clock.advance(minutes=2)
    assert stale_payment_ids(db, clock=clock) == [payment.public_id]
    assert expire_payment(db, payment.public_id, clock=clock) == "expired"
    assert payment.failure_code == "expired"
    assert sandbox.fetch_status(payment.provider_session_id).status is ProviderStatus.CANCELLED


def test_a_success_found_at_expiry_wins(db, clock, sandbox):
    payment = open_sandbox_payment(db, clock, sandbox)
    sandbox.pay(payment.provider_session_id, "4000000000000341")  # paid, but we were never told
    clock.advance(minutes=31)
    assert expire_payment(db, payment.public_id, clock=clock) == "succeeded"
    assert payment.bill.status == "paid"
    assert ledger.balance(db, accounts.provider_clearing("sandbox").code) == vnd(200_000)


def test_a_decline_found_at_expiry_is_recorded_as_a_decline(db, clock, sandbox):
    payment = open_sandbox_payment(db, clock, sandbox)
    sandbox.pay(payment.provider_session_id, "4000000000000002")
    clock.advance(minutes=31)
    assert expire_payment(db, payment.public_id, clock=clock) == "declined"


def test_a_payment_that_crashed_before_recording_its_session_finds_it_again(db, clock, sandbox):
    payment = make_payment(db, clock)
    opened = sandbox.create_session(session_request(payment))
    sandbox.pay(opened.session_id, "4242424242424242")
    clock.advance(minutes=31)
    assert expire_payment(db, payment.public_id, clock=clock) == "succeeded"
    assert sandbox.sessions_opened == 1


def test_a_provider_outage_at_expiry_leaves_the_payment_for_the_next_run(db, clock, sandbox, monkeypatch):
    payment = open_sandbox_payment(db, clock, sandbox)
    clock.advance(minutes=31)

    def unavailable(_session_id):
        raise ProviderUnavailable("down")

    monkeypatch.setattr(sandbox, "cancel_session", unavailable)
    with pytest.raises(ProviderUnavailable):
        expire_payment(db, payment.public_id, clock=clock)
    assert payment.status == "submitted"


def test_an_unknown_outcome_is_resolved_by_a_status_query(db, clock, sandbox):
    payment = open_sandbox_payment(db, clock, sandbox)
    sandbox.pay(payment.provider_session_id, "4000000000000341")
    with pytest.raises(ProviderUnavailable):
        check_on_return(db, payment.public_id, clock=clock)
    mark_unknown(db, payment.public_id, clock=clock)
    assert payment.status == "unknown"
    assert resolve_unknown(db, payment.public_id, clock=clock) == "succeeded"


def test_finished_payments_are_not_stale(db, clock, sandbox):
    payment = open_sandbox_payment(db, clock, sandbox)
    sandbox.pay(payment.provider_session_id, "4242424242424242")
    check_on_return(db, payment.public_id, clock=clock)
    clock.advance(hours=1)
    assert stale_payment_ids(db, clock=clock) == []
    assert expire_payment(db, payment.public_id, clock=clock) == "succeeded"


def test_a_payer_who_gives_up_cancels_the_payment_at_the_provider_too(db, clock, sandbox):
    payment = open_sandbox_payment(db, clock, sandbox)
    assert cancel_payment(db, payment.public_id, cause="payer", clock=clock) == "cancelled"
    assert sandbox.fetch_status(payment.provider_session_id).status is ProviderStatus.CANCELLED
    assert make_payment(db, clock, payment.bill).status == "created"  # another attempt may start


def test_cancelling_a_payment_the_payer_just_paid_settles_it(db, clock, sandbox):
    payment = open_sandbox_payment(db, clock, sandbox)
    sandbox.pay(payment.provider_session_id, "4000000000000341")
    assert cancel_payment(db, payment.public_id, cause="payer", clock=clock) == "succeeded"


def test_the_sweep_stages_one_job_per_stale_or_unknown_payment_once(db, clock, sandbox, monkeypatch):
    monkeypatch.setattr(jobs, "SYSTEM_CLOCK", clock)
    stale = open_sandbox_payment(db, clock, sandbox)
    unknown = open_sandbox_payment(db, clock, sandbox)
    mark_unknown(db, unknown.public_id, clock=clock)
    clock.advance(minutes=31)
    jobs.sweep_stale(db, {})
    jobs.sweep_stale(db, {})
    assert count(db, OutboxJob, OutboxJob.dedupe_key == f"expire:{stale.public_id}") == 1
    assert count(db, OutboxJob, OutboxJob.dedupe_key == f"resolve:{unknown.public_id}") == 1
    assert count(db, OutboxJob, OutboxJob.dedupe_key == f"expire:{unknown.public_id}") == 1


def test_money_captured_for_a_cancelled_bill_is_owed_back(db, clock, sandbox):
    payment = open_sandbox_payment(db, clock, sandbox)
    cancel_payment(db, payment.public_id, cause="payer", clock=clock)
    cancel_bill(db, payment.bill.public_id, actor="agency", clock=clock)
    report = sandbox.fetch_status(payment.provider_session_id)
    apply_report(db, payment.public_id, replace(report, status=ProviderStatus.SUCCEEDED), cause="test", clock=clock)
    assert payment.status == "duplicate" and payment.bill.status == "cancelled"
    assert ledger.balance(db, accounts.refunds_payable().code) == vnd(-200_000)


def test_the_expiry_window_is_configurable_per_payment(db, clock, sandbox):
    bill = open_sandbox_payment(db, clock, sandbox).bill
    cancel_payment(db, bill.payments[0].public_id, cause="payer", clock=clock)
    quick = create_payment(db, bill.public_id, provider_name="sandbox", payer=PayerSession(eid_level=2),
                           return_url=None, clock=clock, expiry_window=timedelta(minutes=10))
    assert quick.expires_at == clock.now() + timedelta(minutes=10)
    clock.advance(minutes=10)
    assert stale_payment_ids(db, clock=clock) == [quick.public_id]
    assert expire_payment(db, quick.public_id, clock=clock) == "expired"
