"""Our side of a run read from the payments, and run requests performed by the job with their progress."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from core.clock import FixedClock
from payments.reconciliation.expected import expected_items
from payments.reconciliation.requests import ReconRunRequest, _publisher, make_scope, perform_request, request_run
from payments.reconciliation.service import sign_off
from tests.admin.finance.support import at_vietnam, payment

DAY = date(2026, 11, 20)
CLOCK = FixedClock(datetime(2026, 11, 28, 3, 0, tzinfo=UTC))


def test_expected_items_are_finished_payments_by_vietnamese_day(db):
    late = payment(db, amount=100_000, finished_at=at_vietnam(DAY, 23, 30))  # 16:30 UTC, still the 20th
    failed = payment(db, amount=8_000, finished_at=at_vietnam(DAY, 9), status="declined")
    payment(db, amount=5_000, finished_at=at_vietnam(DAY, 9), status="submitted")  # not finished: left out
    payment(db, amount=7_000, finished_at=at_vietnam(DAY, 9), provider="vnpay")
    context = payment(db, amount=9_000, finished_at=at_vietnam(date(2026, 11, 15), 12))
    payment(db, amount=1_000, finished_at=at_vietnam(date(2026, 11, 21), 0, 1))  # the next day
    items = {i.reference: i for i in expected_items(db, period_start=DAY, period_end=DAY, providers=("stripe",))}
    assert set(items) == {late.public_id, failed.public_id, context.public_id}
    assert (items[late.public_id].occurred_on, items[late.public_id].status) == (DAY, "succeeded")
    assert items[failed.public_id].status == "failed" and items[late.public_id].service_code == "LLTP"
    assert items[context.public_id].in_period is False


def test_scopes_are_known_providers_or_plain_account_numbers():
    assert make_scope("provider", "stripe") == "provider:stripe"
    assert make_scope("bank", " 0011004123456 ") == "bank:0011004123456"
    for kind, target in (("provider", "paypal"), ("bank", ""), ("bank", "12 34"), ("other", "x")):
        try:
            make_scope(kind, target)
        except Exception as error:
            assert error.code == "unknown_scope"
        else:
            raise AssertionError(f"{kind}:{target} accepted")


def test_a_request_is_performed_once_and_a_refused_run_fails_the_request(db):
    request = request_run(db, scope="bank:0011004123456", period_start=DAY, period_end=DAY, requested_by="staff:1",
                          clock=CLOCK)
    done = perform_request(db, request.id, clock=CLOCK)
    assert (done.status, done.progress) == ("completed", 100) and done.run_id is not None
    assert perform_request(db, request.id, clock=CLOCK).run_id == done.run_id  # a redelivered job does nothing
    sign_off(db, done.run_id, approver="staff:2", clock=CLOCK)
    again = request_run(db, scope="bank:0011004123456", period_start=DAY, period_end=DAY, requested_by="staff:1",
                        clock=CLOCK)
    refused = perform_request(db, again.id, clock=CLOCK)
    assert (refused.status, refused.error_code, refused.run_id) == ("failed", "period_signed_off", None)


def test_progress_is_visible_to_others_while_the_run_is_still_open_on_postgresql(committed_db):
    factory = committed_db
    with factory() as session, session.begin():
        request_id = request_run(session, scope="provider:stripe", period_start=DAY, period_end=DAY,
                                 requested_by="staff:1", clock=CLOCK).id
    with factory() as worker, worker.begin():
        publish = _publisher(worker, request_id)
        publish(60)
        # SQLite has one writer (and every transaction takes the write lock): there the progress shows when
        # the job commits, so only PostgreSQL can be watched mid-run.
        if worker.get_bind().dialect.name == "postgresql":
            with factory() as watcher:
                seen = watcher.scalar(select(ReconRunRequest.progress).where(ReconRunRequest.id == request_id))
            assert seen == 60  # published in its own transaction
    with factory() as session:
        assert session.get(ReconRunRequest, request_id).progress == 60
