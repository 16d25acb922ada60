"""A process killed at a recovery point of bill creation, payment confirmation or a refund leaves either
nothing or work the gateway finishes by itself, exactly once (issue 12's crash matrix, per recovery point).

Each case runs the real code in a child process (``tests/recovery_points.py``) that dies with ``os._exit``
at the point; the parent then does what the system does next (the agency resends with the same
Idempotency-Key, or another worker takes the job over once its lease expired) and checks the invariants:
one bill, one capture, one refund paid out, a balanced ledger. Payment start has its own case, with the
provider's session open and nothing recorded (``test_stripe_flow.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.clock import SYSTEM_CLOCK, FixedClock
from core.money import vnd
from core.outbox import OutboxJob, run_job, stage_job
from core.settings import PROJECT_ROOT
from payments import ledger
from payments.models.billing import Bill, Payment
from payments.models.ledger import LedgerTransaction
from payments.models.refunds import Refund
from payments.notifications import REFRESH_JOB
from payments.providers import get_provider
from payments.refunds import SEND_JOB, request_refund
from tests.citizen.agency_support import bill_body, headers, make_client, seed_pricing
from tests.payments.factories import open_sandbox_payment
from tests.recovery_points import KILLED

pytestmark = pytest.mark.slow


@pytest.fixture()
def postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the child process and this one share the database: PostgreSQL (SQLite's is a test copy)")


@pytest.fixture()
def committed(postgres_only, app, committed_db):
    app.extensions["gateway.runtime"].register_providers()
    return committed_db


def _die_at(point: str, app, tmp_path, argument: str) -> None:
    url = app.extensions["gateway.db"].engine.url.render_as_string(hide_password=False)
    child = subprocess.run([sys.executable, "-m", "tests.recovery_points", point, url, str(tmp_path), argument],
                           cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert child.returncode == KILLED, child.stderr[-3000:]  # died at the point, not of an error


def _count(factory, model, *where) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _balanced(factory) -> bool:
    with factory() as session:
        return sum(ledger.trial_balance(session, "VND").values()) == 0


def _agency(app, committed):
    with committed() as session, session.begin():
        seed_pricing(session)
        _, key, _ = make_client(app, session)
    return key


@pytest.mark.parametrize("point", ["bill_before_commit", "bill_after_commit"])
def test_an_agency_resending_after_a_crash_in_bill_creation_gets_one_bill(app, committed, tmp_path, point):
    key = _agency(app, committed)
    body, sent = bill_body(), headers(key, "crash-bill-1")
    _die_at(point, app, tmp_path, json.dumps({"body": body, "headers": sent}))
    assert _count(committed, Bill) == (0 if point == "bill_before_commit" else 1)  # nothing half-written
    client = app.test_client()
    first, again = (client.post("/api/v1/bills", json=body, headers=sent) for _ in range(2))
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.get_json()["id"] == again.get_json()["id"] and _count(committed, Bill) == 1


def _paid_at_the_provider(committed):
    """A submitted sandbox payment the citizen paid at the provider; our side not yet told."""
    sandbox = get_provider("sandbox")
    with committed() as session, session.begin():
        seed_pricing(session)
        payment = open_sandbox_payment(session, SYSTEM_CLOCK, sandbox)
        public_id, session_id = payment.public_id, payment.provider_session_id
    sandbox.pay(session_id, "4242424242424242")
    return public_id, session_id


def _staged(committed, name: str, payload: dict) -> int:
    with committed() as session, session.begin():
        return stage_job(session, name, payload, clock=SYSTEM_CLOCK).id


def _taken_over(app, job_id: int) -> str:
    """Another worker runs the job once the dead one's lease (60 s) has expired."""
    later = FixedClock(SYSTEM_CLOCK.now() + timedelta(seconds=61))
    factory = app.extensions["gateway.db"].session_factory
    assert run_job(factory, job_id, lease_seconds=60).status == "skipped"  # still leased by the dead worker
    return run_job(factory, job_id, lease_seconds=60, clock=later).status


def test_a_worker_killed_while_applying_a_paid_notification_leaves_it_to_the_next_worker_once(app, committed,
                                                                                              tmp_path):
    payment_id, session_id = _paid_at_the_provider(committed)
    job_id = _staged(committed, REFRESH_JOB, {"provider": "sandbox", "session_id": session_id, "event_id": "evt_1"})
    _die_at("notification_applied", app, tmp_path, str(job_id))
    with committed() as session:
        assert session.scalars(select(Payment.status).where(Payment.public_id == payment_id)).one() == "submitted"
    assert _taken_over(app, job_id) == "done"
    with committed() as session:
        assert session.scalars(select(Payment.status).where(Payment.public_id == payment_id)).one() == "succeeded"
        assert session.scalar(select(OutboxJob.attempts).where(OutboxJob.id == job_id)) == 2
    assert _count(committed, LedgerTransaction, LedgerTransaction.kind == "payment_captured") == 1
    assert _balanced(committed)


def test_a_worker_killed_after_the_provider_paid_a_refund_out_books_it_once_on_the_next_run(app, committed,
                                                                                           tmp_path):
    payment_id, session_id = _paid_at_the_provider(committed)
    refresh = _staged(committed, REFRESH_JOB, {"provider": "sandbox", "session_id": session_id, "event_id": "e"})
    assert run_job(app.extensions["gateway.db"].session_factory, refresh, lease_seconds=60).status == "done"
    with committed() as session, session.begin():
        refund = request_refund(session, payment_id, amount=vnd(50_000), expected_refundable=vnd(200_000),
                                reason="service not delivered", requested_by="finance-1", clock=SYSTEM_CLOCK)
        refund_id = refund.public_id
        job_id = session.scalar(select(OutboxJob.id).where(OutboxJob.name == SEND_JOB))
    _die_at("refund_paid_out", app, tmp_path, str(job_id))
    with committed() as session:
        assert session.scalars(select(Refund.status).where(Refund.public_id == refund_id)).one() == "submitted"
    assert _taken_over(app, job_id) == "done"
    with committed() as session:
        refund = session.scalars(select(Refund).where(Refund.public_id == refund_id)).one()
        assert refund.status == "succeeded" and refund.provider_refund_ref.startswith("sbxre_")
    assert _count(committed, LedgerTransaction, LedgerTransaction.kind == "refund_paid") == 1
    assert _balanced(committed)
