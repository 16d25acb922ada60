"""Starting a payment happens once per Idempotency-Key, even under concurrency and crashes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from core.db import make_engine, make_session_factory
from payments.checkout import start_payment
from payments.errors import (
    BillAlreadyPaid,
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    PaymentInProgress,
    ProviderError,
    ProviderUnavailable,
)
from payments.models.billing import Payment
from payments.models.idempotency import IdempotencyKey
from payments.settlement import settle_free_bill
from payments.starting import PayerSession
from tests.payments.factories import judicial_record_quote, make_bill
from tests.payments.helpers import count

PAYER = PayerSession(eid_level=2, iss="https://vneid.test", sub="citizen-1", acr="level2")


@pytest.fixture()
def bill_id(committing, clock):
    """A committed 200,000 đ bill's public id."""
    with committing() as session, session.begin():
        return make_bill(session, clock).public_id


def _start(factory, clock, bill_id, key="k-1", provider="sandbox", return_url="https://pay.test/r"):
    return start_payment(factory, scope="citizen:citizen-1", idempotency_key=key, bill_public_id=bill_id,
                         provider_name=provider, payer=PAYER, return_url=return_url, clock=clock)


def _payments(factory, bill_id):
    with factory() as session:
        query = select(Payment).join(Payment.bill).where(Payment.bill.has(public_id=bill_id))
        return list(session.scalars(query))


def test_a_payment_starts_and_the_response_is_replayed_for_the_same_key(committing, clock, sandbox, bill_id):
    first = _start(committing, clock, bill_id)
    again = _start(committing, clock, bill_id)
    assert first.status == 201 and again == first
    assert first.body["status"] == "submitted" and first.body["next_url"].startswith("https://pay.test/sandbox/pay/")
    assert len(_payments(committing, bill_id)) == 1 and sandbox.sessions_opened == 1
    payment = _payments(committing, bill_id)[0]
    assert (payment.iss, payment.sub, payment.acr, payment.amount) == (PAYER.iss, PAYER.sub, PAYER.acr, 200_000)


def test_the_same_key_with_a_different_body_is_a_conflict(committing, clock, sandbox, bill_id):
    _start(committing, clock, bill_id)
    with pytest.raises(IdempotencyKeyReused):
        _start(committing, clock, bill_id, return_url="https://elsewhere.test/")


def test_a_new_key_cannot_start_a_second_live_attempt(committing, clock, sandbox, bill_id):
    _start(committing, clock, bill_id)
    with pytest.raises(PaymentInProgress):
        _start(committing, clock, bill_id, key="k-2")
    with committing() as session:  # the failed request stored nothing: its key may be used again
        assert count(session, IdempotencyKey, IdempotencyKey.key == "k-2") == 0


def test_a_provider_outage_releases_the_key_and_a_retry_resumes_without_a_second_session(
        committing, clock, sandbox, bill_id, monkeypatch):
    real_create = sandbox.create_session

    def create_then_time_out(request):
        real_create(request)  # the provider opened the session, but its answer never arrived
        raise ProviderUnavailable("timed out")

    monkeypatch.setattr(sandbox, "create_session", create_then_time_out)
    with pytest.raises(ProviderUnavailable):
        _start(committing, clock, bill_id)
    monkeypatch.setattr(sandbox, "create_session", real_create)
    resumed = _start(committing, clock, bill_id)
    assert resumed.body["status"] == "submitted"
    assert len(_payments(committing, bill_id)) == 1 and sandbox.sessions_opened == 1


def test_a_worker_killed_after_the_provider_call_resumes_without_a_second_session(
        committing, clock, sandbox, bill_id, monkeypatch):
    # The process dies between the provider call and recording it: no release, the lock just ages.
    monkeypatch.setattr("payments.checkout._record", _die)
    with pytest.raises(SystemExit):
        _start(committing, clock, bill_id)
    monkeypatch.undo()
    with pytest.raises(IdempotencyKeyInProgress):
        _start(committing, clock, bill_id)
    clock.advance(seconds=91)
    resumed = _start(committing, clock, bill_id)
    assert resumed.body["status"] == "submitted"
    assert len(_payments(committing, bill_id)) == 1 and sandbox.sessions_opened == 1


def _die(*_args, **_kwargs):
    raise SystemExit("worker killed")


def test_a_paid_bill_cannot_be_started_again(committing, clock, sandbox):
    with committing() as session, session.begin():
        bill = make_bill(session, clock, quote=judicial_record_quote(due=0))
        settle_free_bill(session, bill.public_id, clock=clock)
    with pytest.raises(BillAlreadyPaid):
        _start(committing, clock, bill.public_id)


def test_a_hundred_concurrent_identical_requests_make_one_payment_and_one_session(
        postgres_only, committing, clock, sandbox, bill_id):
    def attempt(factory, _):
        try:
            return _start(factory, clock, bill_id).body["payment_id"]
        except IdempotencyKeyInProgress:
            return "in_progress"

    # 30 real connections for 100 threads: enough to race hard without starving other test runs.
    wide = make_session_factory(make_engine(committing.kw["bind"].url.render_as_string(False), pool_size=30))
    with ThreadPoolExecutor(100) as pool:
        results = list(pool.map(lambda n: attempt(wide, n), range(100)))
    wide.kw["bind"].dispose()
    payments = _payments(committing, bill_id)
    assert len(payments) == 1 and sandbox.sessions_opened == 1
    assert set(results) <= {payments[0].public_id, "in_progress"}
    assert _start(committing, clock, bill_id).body["payment_id"] == payments[0].public_id


def test_a_provider_refusal_ends_the_attempt_in_error_and_is_the_stored_response(committing, clock, sandbox,
                                                                                 bill_id, monkeypatch):
    def refuse(_request):
        raise ProviderError("amount above the provider's maximum")

    monkeypatch.setattr(sandbox, "create_session", refuse)
    refused = _start(committing, clock, bill_id)
    assert refused.body["status"] == "error" and _start(committing, clock, bill_id) == refused
    monkeypatch.undo()
    assert _start(committing, clock, bill_id, key="k-2").body["status"] == "submitted"
