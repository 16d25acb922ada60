"""VNPay payments in the gateway: IPNs under concurrency, the expiry job asking querydr, refunds, any order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import case, func, select

from core.money import vnd
from payments import accounts
from payments.expiry import expire_payment
from payments.ledger import balance
from payments.models.billing import Payment
from payments.models.ledger import LedgerPosting, LedgerTransaction
from payments.models.receipts import Receipt
from payments.notifications import check_on_return
from payments.providers import register_provider, unregister_provider
from payments.providers.vnpay import VnpayConfig, VnpayProvider
from payments.providers.vnpay_simulator import SimulatorTransport, VnpaySimulator
from payments.providers.vnpay_simulator_store import SimulatorStore
from payments.refunds import request_refund, send_refund
from payments.starting import record_provider_session, session_request
from payments.vnpay_ipn import receive_ipn
from tests.citizen.agency_support import seed_pricing
from tests.payments.factories import make_payment

SECRET = "vnpay-test-secret-0123456789"


@pytest.fixture()
def simulator(sandbox_store, clock):
    return VnpaySimulator(tmn_code="GWSIMVNP", hash_secret=SECRET, store=SimulatorStore(sandbox_store.engine),
                          clock=clock)


@pytest.fixture()
def vnpay(simulator, clock):
    provider = register_provider(VnpayProvider(
        VnpayConfig("GWSIMVNP", SECRET, "https://sim.test/vpcpay.html", "https://sim.test/api"), clock=clock,
        transport=SimulatorTransport(simulator)))
    yield provider
    unregister_provider("vnpay")


def _open(session, clock, vnpay, simulator) -> Payment:
    """A VNPay payment whose page the payer has opened, as ``payments.checkout`` and the browser do."""
    payment = make_payment(session, clock, provider="vnpay")
    opened = vnpay.create_session(session_request(payment))
    simulator.open(dict(parse_qsl(urlsplit(opened.next_url).query)))
    return record_provider_session(session, payment.public_id, opened, clock=clock)


def _captures(session, payment_id: int) -> int:
    return session.scalar(select(func.count()).select_from(LedgerTransaction).where(
        LedgerTransaction.payment_id == payment_id, LedgerTransaction.kind == "payment_captured"))


def test_ten_concurrent_copies_of_an_ipn_confirm_once_with_one_posting(postgres_only, committed_db, clock, vnpay,
                                                                       simulator):
    factory = committed_db
    with factory() as session, session.begin():
        seed_pricing(session)
        payment = _open(session, clock, vnpay, simulator)
        code, payment_id = payment.public_id, payment.id
    [ipn] = simulator.complete(code, "success").ipns

    def deliver(_) -> str:
        with factory() as session, session.begin():
            return receive_ipn(session, ipn, clock=clock)["RspCode"]

    with ThreadPoolExecutor(10) as pool:
        answers = sorted(pool.map(deliver, range(10)))
    assert answers == ["00"] + ["02"] * 9
    with factory() as session:
        assert session.scalar(select(Payment.status).where(Payment.public_id == code)) == "succeeded"
        assert _captures(session, payment_id) == 1
        assert session.scalar(select(func.count()).select_from(Receipt)) == 1


def test_the_expiry_job_asks_querydr_and_keeps_a_payment_vnpay_took(db, clock, vnpay, simulator):
    paid, abandoned = _open(db, clock, vnpay, simulator), _open(db, clock, vnpay, simulator)
    assert simulator.complete(paid.public_id, "timeout").ipns == ()  # the IPN never reaches us
    clock.advance(minutes=31)
    assert expire_payment(db, paid.public_id, clock=clock) == "succeeded"
    assert expire_payment(db, abandoned.public_id, clock=clock) == "expired"
    assert paid.bill.status == "paid" and abandoned.bill.status == "open"


def test_an_ipn_arriving_after_the_expiry_job_found_the_money_confirms_nothing_twice(db, clock, vnpay, simulator):
    payment = _open(db, clock, vnpay, simulator)
    [ipn] = simulator.complete(payment.public_id, "success").ipns
    clock.advance(minutes=31)
    assert expire_payment(db, payment.public_id, clock=clock) == "succeeded"  # querydr saw it first
    assert receive_ipn(db, ipn, clock=clock)["RspCode"] == "02"
    assert _captures(db, payment.id) == 1


def test_a_refund_goes_to_vnpay_and_is_booked_paid_out(db, clock, vnpay, simulator):
    payment = _open(db, clock, vnpay, simulator)
    [ipn] = simulator.complete(payment.public_id, "success").ipns
    assert receive_ipn(db, ipn, clock=clock)["RspCode"] == "00"
    refund = request_refund(db, payment.public_id, amount=vnd(50_000), expected_refundable=vnd(200_000),
                            reason="Nộp thừa", requested_by="staff:7", clock=clock)
    assert send_refund(db, refund.public_id, clock=clock).status == "succeeded"
    assert simulator.transaction(payment.public_id).refunded == 50_000
    assert balance(db, accounts.provider_clearing("vnpay").code) == vnd(150_000)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(["ipn", "ipn_again", "return", "expiry", "late_ipn"]))
def test_in_any_order_of_ipns_querydr_and_expiry_there_is_one_payment_one_receipt_and_a_balanced_ledger(
        db, clock, vnpay, simulator, order):
    savepoint = db.begin_nested()
    start = clock.now()
    try:
        payment = _open(db, clock, vnpay, simulator)
        [ipn] = simulator.complete(payment.public_id, "success").ipns
        steps = {"ipn": lambda: receive_ipn(db, ipn, clock=clock),
                 "ipn_again": lambda: receive_ipn(db, ipn, clock=clock),
                 "return": lambda: check_on_return(db, payment.public_id, clock=clock),
                 "expiry": lambda: (clock.advance(minutes=31), expire_payment(db, payment.public_id, clock=clock)),
                 "late_ipn": lambda: (clock.advance(hours=2), receive_ipn(db, ipn, clock=clock))}
        for name in order:
            steps[name]()
        db.expire_all()
        assert db.scalar(select(Payment.status).where(Payment.id == payment.id)) == "succeeded"
        assert db.scalar(select(func.count()).select_from(Receipt).where(Receipt.bill_id == payment.bill_id)) == 1
        assert _captures(db, payment.id) == 1
        signed = case((LedgerPosting.side == "debit", LedgerPosting.amount), else_=-LedgerPosting.amount)
        assert db.scalar(select(func.sum(signed))) == 0
        assert balance(db, accounts.provider_clearing("vnpay").code) == vnd(200_000)
    finally:
        savepoint.rollback()
        clock.set(start)
