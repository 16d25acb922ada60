"""Benchmark-only WSGI app (never part of the product): create and pay a bill through the payments services.

The gateway's HTTP API cannot pay a bill by itself (an agency creates bills; the citizen pays on the
provider's page after e-ID login), so this app runs the same service functions a paying citizen's requests
run, in one HTTP request: ``create_bill``, ``checkout.start_payment`` (Idempotency-Key, atomic phases,
sandbox session), the sandbox's success card, and ``check_on_return`` (status query, confirmation under
row locks, settlement, ledger posting, receipt). ``/bare``, ``/sql`` and ``/floor`` (the same path's own
statements through SQLAlchemy Core, ``bench.payments_floor``) are the baselines.
Configured by ``BENCH_PAYMENTS_DB`` (a PostgreSQL URL).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, jsonify, request
from sqlalchemy import text

from bench import payments_floor
from bench.payments_sql import STATEMENTS
from core.clock import SYSTEM_CLOCK
from core.db import make_engine, make_session_factory
from core.money import vnd
from payments.bills import NewBill, Quote, create_bill
from payments.checkout import start_payment
from payments.notifications import check_on_return
from payments.providers import register_provider
from payments.providers.sandbox import SandboxProvider
from payments.providers.sandbox_store import SandboxStore
from payments.starting import PayerSession

SUCCESS_CARD = "4242424242424242"
QUOTE = Quote(amount_due=vnd(200_000), base_amount=vnd(200_000), explanation={"fee": "LLTP"}, rule_set_hash="r" * 64)
PAYER = PayerSession(eid_level=2, iss="https://vneid.bench", sub="bench-citizen", acr="level2",
                     auth_time=datetime(2026, 11, 1, tzinfo=UTC))

COMPILED = tuple(text(statement) for statement in STATEMENTS)

app = Flask(__name__)
engine = make_engine(os.environ.get("BENCH_PAYMENTS_DB", "postgresql://postgres@127.0.0.1:5432/bench_payments"),
                     pool_size=4, max_overflow=0)
factory = make_session_factory(engine)
sandbox = register_provider(SandboxProvider(secret="b" * 32, base_url="http://127.0.0.1", clock=SYSTEM_CLOCK,
                                            store=SandboxStore.for_database(engine.url.render_as_string(False),
                                                                            engine)))


def create_and_pay(reference: str, key: str) -> dict[str, object]:
    """Create the bill (idempotent by reference), start paying it once per key, pay by card, confirm."""
    new = NewBill(payer_id_hash=f"payer-{reference}", service_code="LLTP", quantity=1, quote=QUOTE, fee_kind="phi",
                  agency_code="BENCH", agency_reference=reference, payer_masked_id="001******345")
    with factory() as session, session.begin():
        bill_id = create_bill(session, new, clock=SYSTEM_CLOCK).public_id
    started = start_payment(factory, scope="client:bench", idempotency_key=key, bill_public_id=bill_id,
                            provider_name="sandbox", payer=PAYER, return_url="https://bench.example.vn/done",
                            clock=SYSTEM_CLOCK)
    payment_id = started.body["payment_id"]
    status = _status(payment_id)
    if status == "submitted":  # a replayed key finds its payment already confirmed, and pays nothing
        sandbox.pay(started.body["next_url"].rsplit("/", 1)[1], SUCCESS_CARD)
        with factory() as session, session.begin():
            status = check_on_return(session, payment_id, clock=SYSTEM_CLOCK).status
    return {"bill_id": bill_id, "payment_id": payment_id, "status": status}


def _status(payment_id: str) -> str:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT status FROM payments WHERE public_id = :id"), {"id": payment_id})


@app.post("/pay")
def pay():
    """Create and pay the bill of ``{"reference"}`` with the request's Idempotency-Key."""
    body = create_and_pay(request.get_json()["reference"], request.headers["Idempotency-Key"])
    return jsonify(body), 201 if body["status"] == "succeeded" else 409


@app.post("/bare")
def bare():
    """Baseline: a bare Flask JSON endpoint (reads the body, answers JSON, no database)."""
    return jsonify({"reference": request.get_json()["reference"], "status": "ok"}), 201


@app.post("/sql")
def sql():
    """Baseline: the rows one paid bill writes, as plain INSERTs through SQLAlchemy Core, one transaction."""
    request.get_json()
    with engine.begin() as connection:
        for statement in COMPILED:
            connection.execute(statement)
    return jsonify({"status": "ok"}), 201


@app.post("/floor")
def floor():
    """Baseline: the create + pay path's own statements, in its transactions, through SQLAlchemy Core."""
    body = payments_floor.create_and_pay(engine, request.get_json()["reference"], request.headers["Idempotency-Key"])
    return jsonify(body), 201


@app.get("/healthz")
def healthz():
    """Readiness probe for the bench runner."""
    return jsonify({"status": "ok"})
