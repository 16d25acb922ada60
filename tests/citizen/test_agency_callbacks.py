"""Callbacks: signed over the raw body, a sequence per bill, retried on schedule, delivered in order, logged."""

from __future__ import annotations

import importlib.util
import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from core.clock import SYSTEM_CLOCK, FixedClock
from core.settings import PROJECT_ROOT
from payments import agency_delivery
from payments.agency_callbacks import sign
from payments.agency_models import CallbackAttempt, CallbackDelivery
from payments.expiry import expire_payment
from payments.models.billing import Bill
from tests.citizen.agency_support import create, make_client, seed_pricing
from tests.payments.factories import make_bill, make_payment

_spec = importlib.util.spec_from_file_location("reference_receiver", PROJECT_ROOT / "docs/agency_callback_receiver.py")
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)


class Endpoint:
    """A local agency server: fails the first ``failures`` requests with 500, then asks the reference receiver."""

    def __init__(self):
        self.failures = 0
        self.receiver: reference.Receiver | None = None
        self.statuses: list[int] = []

    def answer(self, body: bytes, signature: str) -> int:
        if self.failures > 0:
            self.failures -= 1
            status = 500
        else:
            status = self.receiver.accept(body, signature)
        self.statuses.append(status)
        return status


@pytest.fixture()
def endpoint():
    state = Endpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = state.answer(body, self.headers.get("Gateway-Signature", ""))
            said = b"" if status < 300 else b"queue full,\n try later"
            self.send_response(status)
            self.send_header("Content-Length", str(len(said)))
            self.end_headers()
            self.wfile.write(said)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/callbacks"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture()
def clock():
    return FixedClock(SYSTEM_CLOCK.now() + timedelta(seconds=1))


@pytest.fixture()
def agency(app, db, endpoint, clock, registered_sandbox):
    seed_pricing(db)
    agency_delivery.configure(app.extensions["gateway.runtime"].keyring)
    api_client, key, secret = make_client(app, db, callback_url=endpoint.url)
    # The receiver's clock is the test's: signatures carry the (advanced) sending time.
    endpoint.receiver = reference.Receiver([secret], now=lambda: clock.now().timestamp())
    return api_client, key, secret


def run_due(db, clock) -> int:
    """Do what the worker would: attempt every pending delivery that is due, until none is."""
    count = 0
    while True:
        due = db.scalars(select(CallbackDelivery.id).where(CallbackDelivery.status == "pending",
                                                           CallbackDelivery.next_attempt_at <= clock.now())
                         .order_by(CallbackDelivery.id)).all()
        if not due:
            return count
        for delivery_id in due:
            agency_delivery.deliver(db, delivery_id, clock=clock)
            count += 1


def pay_events(db, clock, bill_id: str) -> None:
    """A payment attempt of the API-made bill that starts and then expires."""
    start_and_expire(db, clock, db.scalars(select(Bill).where(Bill.public_id == bill_id)).one())


def start_and_expire(db, clock, bill: Bill) -> None:
    """A payment attempt that starts and then expires through the expiry service, each step committed."""
    payment = make_payment(db, clock, bill)
    db.commit()
    clock.advance(seconds=(payment.expires_at - clock.now()).total_seconds())
    assert expire_payment(db, payment.public_id, clock=clock) == "expired"
    db.commit()


def test_events_arrive_once_each_in_sequence_order_after_two_failures(client, db, agency, endpoint, clock):
    _, key, _ = agency
    bill_id = create(client, key).get_json()["id"]
    pay_events(db, clock, bill_id)
    endpoint.failures = 2
    run_due(db, clock)
    assert endpoint.receiver.accepted == []
    clock.advance(minutes=1)
    run_due(db, clock)
    clock.advance(minutes=5)
    run_due(db, clock)
    accepted = endpoint.receiver.accepted
    assert [(e["event_type"], e["sequence"]) for e in accepted] == [
        ("bill.created", 1), ("payment.started", 2), ("payment.expired", 3)]
    assert accepted[-1]["payment"]["status"] == "expired" and accepted[-1]["bill"]["id"] == bill_id
    assert accepted[1]["bill"]["latest_payment"]["id"] == accepted[1]["payment"]["id"]
    first = db.scalars(select(CallbackDelivery).where(CallbackDelivery.sequence == 1)).one()
    attempts = db.scalars(select(CallbackAttempt.status_code).where(CallbackAttempt.delivery_id == first.id)
                          .order_by(CallbackAttempt.id)).all()
    assert attempts == [500, 500, 200] and first.status == "delivered"
    errors = db.scalars(select(CallbackAttempt.error).where(CallbackAttempt.delivery_id == first.id)
                        .order_by(CallbackAttempt.id)).all()
    assert errors == ["HTTP 500: queue full, try later"] * 2 + [None]


def test_retries_follow_the_schedule_then_give_up_and_release_the_next_event(client, db, agency, endpoint, clock):
    _, key, _ = agency
    bill_id = create(client, key).get_json()["id"]
    pay_events(db, clock, bill_id)
    endpoint.failures = 10**6
    run_due(db, clock)
    waits = [timedelta(minutes=1), timedelta(minutes=5), timedelta(hours=1), timedelta(days=1), timedelta(days=2)]
    counts = []
    for wait in waits:
        clock.advance(seconds=wait.total_seconds() - 1)
        assert run_due(db, clock) == 0  # not before its time
        clock.advance(seconds=1)
        counts.append(run_due(db, clock))
    # The sixth attempt fails for good; the bill's next event is released and tried at once.
    assert counts == [1, 1, 1, 1, 2]
    first = db.scalars(select(CallbackDelivery).where(CallbackDelivery.sequence == 1)).one()
    second = db.scalars(select(CallbackDelivery).where(CallbackDelivery.sequence == 2)).one()
    assert (first.status, first.attempts, second.status, second.attempts) == ("failed", 6, "pending", 1)


def test_the_signature_covers_the_raw_body_and_the_reference_receiver_refuses_forgeries(client, db, agency, endpoint,
                                                                                      clock):
    _, key, secret = agency
    create(client, key)
    run_due(db, clock)
    body = db.scalars(select(CallbackDelivery.body)).first().encode()
    now = int(time.time())
    good = sign(body, [secret], now)
    assert reference.verify(body, good, [secret])
    assert not reference.verify(body + b" ", good, [secret])
    assert not reference.verify(body, sign(body, ["whsec_forged"], now), [secret])
    assert not reference.verify(body, sign(body, [secret], now - 301), [secret])
    assert not reference.verify(body, "v1=abc", [secret])
    assert reference.Receiver([secret]).accept(body, sign(body, ["whsec_forged"], now)) == 401
    assert json.loads(body)["sequence"] == 1 and endpoint.statuses == [200]


def test_bills_not_made_through_the_api_have_no_callbacks(db, agency, clock):
    bill = make_bill(db, clock)
    start_and_expire(db, clock, bill)
    assert db.scalars(select(CallbackDelivery).where(CallbackDelivery.bill_id == bill.id)).all() == []


def test_a_delivered_event_can_be_sent_again(client, db, agency, endpoint, clock):
    _, key, _ = agency
    create(client, key)
    run_due(db, clock)
    delivery = db.scalars(select(CallbackDelivery)).first()
    agency_delivery.resend(db, delivery.id, actor="staff:1", clock=clock)
    run_due(db, clock)
    assert endpoint.statuses == [200, 200] and len(endpoint.receiver.accepted) == 1  # deduped by event id


def test_the_outbox_job_delivers_through_the_queue_path(app, client, db, agency, endpoint):
    from core import outbox

    _, key, _ = agency
    create(client, key)
    job = db.scalars(select(outbox.OutboxJob).where(outbox.OutboxJob.name == "agency.deliver_callback")).one()
    factory = app.extensions["gateway.db"].session_factory
    endpoint.receiver.now = time.time
    assert outbox.run_job(factory, job.id, lease_seconds=60).status == "done"
    assert endpoint.statuses == [200] and endpoint.receiver.accepted[0]["event_type"] == "bill.created"


def test_an_unreachable_receivers_error_is_kept_without_the_urls_query():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    answer = agency_delivery.http_post(f"http://127.0.0.1:{port}/cb?token=s3cret", b"{}", {})
    assert answer.status_code is None and not answer.accepted
    assert answer.error.startswith("ConnectionError: ") and "s3cret" not in answer.error
