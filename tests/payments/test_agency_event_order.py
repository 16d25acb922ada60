"""A bill's callback events leave in order, and an event staged while the one before it is being delivered is
released once that delivery is recorded, never left waiting.

Found by the crash matrix (tests/deployed/test_crash_matrix.py, two callbacks of 288 still ``waiting`` after
the batch settled): the web request staging the next event saw the earlier one still pending and staged
its own as waiting, while the worker recording the earlier delivery looked for a waiting successor before
that request had committed, found none, and released nothing.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, text

from core.clock import SYSTEM_CLOCK
from payments import agency_delivery
from payments.agency_callbacks import stage_event
from payments.agency_delivery import Answer
from payments.agency_models import AgencyBill, CallbackDelivery
from payments.models.billing import Bill
from tests.citizen.agency_support import make_client, seed_pricing
from tests.payments.factories import make_bill


@pytest.fixture()
def postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: two writers at once (SQLite serialises whole transactions)")


@pytest.fixture()
def accepting_receiver(app):
    agency_delivery.configure(app.extensions["gateway.runtime"].keyring, post=lambda url, body, headers: Answer(200))
    yield
    agency_delivery.configure(app.extensions["gateway.runtime"].keyring)


def test_an_event_staged_while_the_previous_one_is_delivered_is_released_not_left_waiting(
        postgres_only, app, committed_db, accepting_receiver):
    factory = committed_db
    with factory() as session, session.begin():
        seed_pricing(session)
        client, _, _ = make_client(app, session, callback_url="https://stp.example.vn/callbacks")
        bill = make_bill(session, SYSTEM_CLOCK)
        session.add(AgencyBill(bill_id=bill.id, client_id=client.id, return_url=None, last_sequence=0,
                               created_at=SYSTEM_CLOCK.now()))
        session.flush()
        first = stage_event(session, bill, "bill.created")
        bill_id, first_id = bill.id, first.id
    with factory() as web, ThreadPoolExecutor(1) as pool:
        web.begin()
        second = stage_event(web, web.get(Bill, bill_id), "payment.started")  # sees the first one pending
        assert second.status == "waiting"

        def worker_delivers_the_first() -> None:
            with factory() as worker, worker.begin():
                agency_delivery.deliver(worker, first_id)

        delivering = pool.submit(worker_delivers_the_first)
        _wait_for_a_lock_or_the_end(app, delivering)
        web.commit()
        delivering.result(timeout=30)
        second_id = second.id
    with factory() as session:
        statuses = dict(session.execute(select(CallbackDelivery.id, CallbackDelivery.status).where(
            CallbackDelivery.bill_id == bill_id)).all())
    assert statuses == {first_id: "delivered", second_id: "pending"}


def _wait_for_a_lock_or_the_end(app, future, timeout: float = 10) -> None:
    """Until the worker waits for a row lock (as it must) or has finished (as it did before the fix)."""
    engine = app.extensions["gateway.db"].engine
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while time.monotonic() < deadline and not future.done():
            waiting = connection.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                             "current_database() AND wait_event_type = 'Lock'"))
            connection.rollback()
            if waiting:
                return
            time.sleep(0.05)
