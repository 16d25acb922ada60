"""The VNPay provider against the simulator: the signed URL, querydr, cancel, refunds and untrusted answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from core.clock import FixedClock
from core.money import vnd
from payments import vnpay_protocol as protocol
from payments.errors import NotificationRejected, ProviderError, ProviderUnavailable
from payments.providers.base import ProviderStatus, RefundRequest, SessionRequest
from payments.providers.vnpay import VnpayConfig, VnpayProvider, failure_code, status_of
from payments.providers.vnpay_simulator import SimulatorTransport, VnpaySimulator
from payments.providers.vnpay_simulator_store import SimulatorStore

SECRET = "vnpay-test-secret-0123456789"
CLOCK = FixedClock(datetime(2026, 12, 7, 3, 0, tzinfo=UTC))
CONFIG = VnpayConfig("GWSIMVNP", SECRET, "https://sim.test/vpcpay.html", "https://sim.test/api")


@pytest.fixture()
def simulator(sandbox_store):
    return VnpaySimulator(tmn_code="GWSIMVNP", hash_secret=SECRET, store=SimulatorStore(sandbox_store.engine),
                          clock=CLOCK)


@pytest.fixture()
def provider(simulator):
    return VnpayProvider(CONFIG, clock=CLOCK, transport=SimulatorTransport(simulator))


_counter = iter(range(10**6))


def _request(amount: int = 200_000) -> SessionRequest:
    code = f"GW{next(_counter):010d}".replace("0", "A")  # unique per test run; the alphabet's A is fine
    return SessionRequest(payment_reference=code, amount=vnd(amount), description="Lệ phí cấp Phiếu lý lịch tư pháp",
                          return_url="https://pay.test/bills/b1/return", opened_at=CLOCK.now(),
                          expires_at=CLOCK.now() + timedelta(minutes=30), idempotency_key=f"payment:{code}:create")


def _paid(provider, simulator, scenario: str = "success", amount: int = 200_000):
    request = _request(amount)
    session = provider.create_session(request)
    simulator.open(dict(parse_qsl(urlsplit(session.next_url).query)))
    simulator.complete(request.payment_reference, scenario)
    return request, session


def test_the_same_request_gives_the_same_signed_url_and_session(provider):
    request = _request()
    first, again = provider.create_session(request), provider.create_session(request)
    assert first == again and first.session_id == f"{request.payment_reference}:20261207100000"
    params = dict(parse_qsl(urlsplit(first.next_url).query))
    assert protocol.verify(params, SECRET) and params["vnp_OrderInfo"].startswith("Le phi cap Phieu ly lich tu phap")
    assert params["vnp_Locale"] == "vn" and params["vnp_CurrCode"] == "VND" and params["vnp_OrderType"] == "other"


def test_querydr_reports_a_payment_vnpay_does_not_know_yet_as_pending(provider):
    session = provider.create_session(_request())
    assert provider.fetch_status(session.session_id).status is ProviderStatus.PENDING


def test_querydr_reports_the_paid_amount_and_vnpays_transaction_number(provider, simulator):
    request, session = _paid(provider, simulator, "timeout")
    report = provider.fetch_status(session.session_id)
    assert (report.status, report.amount, report.reference) == (ProviderStatus.SUCCEEDED, vnd(200_000),
                                                                request.payment_reference)
    assert report.payment_ref == simulator.transaction(request.payment_reference).transaction_no


@pytest.mark.parametrize(("scenario", "status", "code"), [
    ("decline", ProviderStatus.DECLINED, "vnpay_02"), ("reversed", ProviderStatus.ERROR, "vnpay_reversed")])
def test_querydr_reports_a_failed_and_a_reversed_payment(provider, simulator, scenario, status, code):
    _, session = _paid(provider, simulator, scenario)
    report = provider.fetch_status(session.session_id)
    assert (report.status, report.failure_code) == (status, code)


def test_cancelling_asks_querydr_and_a_payment_taken_meanwhile_wins(provider, simulator):
    _, paid = _paid(provider, simulator, "timeout")
    assert provider.cancel_session(paid.session_id).status is ProviderStatus.SUCCEEDED
    untouched = provider.create_session(_request())
    assert provider.cancel_session(untouched.session_id).status is ProviderStatus.CANCELLED


class Tampering:
    """A transport that changes VNPay's answer after it was signed (or answers with an error)."""

    def __init__(self, inner, *, change: dict | None = None, status: int = 200, body: bytes | None = None):
        self._inner, self._change, self._status, self._body = inner, change or {}, status, body

    def post_json(self, url: str, body: bytes) -> tuple[int, bytes]:
        status, answer = self._inner.post_json(url, body)
        if self._body is not None:
            return self._status, self._body
        return self._status, json.dumps({**json.loads(answer), **self._change}).encode()


@pytest.mark.parametrize("tampering", [
    {"change": {"vnp_TransactionStatus": "00", "vnp_Amount": "99900000"}}, {"status": 502, "body": b"Bad gateway"},
    {"body": b"<html>maintenance</html>"}, {"body": b"[]"}], ids=["forged", "5xx", "not-json", "not-object"])
def test_an_answer_that_does_not_verify_decides_nothing(simulator, tampering):
    provider = VnpayProvider(CONFIG, clock=CLOCK, transport=Tampering(SimulatorTransport(simulator), **tampering))
    session = provider.create_session(_request())
    with pytest.raises(ProviderUnavailable):
        provider.fetch_status(session.session_id)


def test_a_terminal_vnpay_does_not_know_is_refused_for_good(simulator):
    provider = VnpayProvider(VnpayConfig("OTHERTMN", SECRET, CONFIG.payment_url, CONFIG.api_url), clock=CLOCK,
                             transport=SimulatorTransport(simulator))
    with pytest.raises(ProviderError) as refused:
        provider.fetch_status(provider.create_session(_request()).session_id)
    assert refused.value.code == "vnpay_02"


def _refund(session, amount: int, key: str, captured: int = 200_000) -> RefundRequest:
    return RefundRequest(session.session_id, None, vnd(amount), idempotency_key=key, captured=vnd(captured),
                         requested_by="staff:7")


def test_a_full_and_a_partial_refund_are_types_02_and_03_and_a_retry_is_the_same_refund(provider, simulator):
    _, session = _paid(provider, simulator)
    partial = provider.refund(_refund(session, 50_000, "refund:R1"))
    assert partial.succeeded and partial.refund_ref
    assert provider.refund(_refund(session, 50_000, "refund:R1")).succeeded  # 94: asked before, VNPay is on it
    assert provider.refund(_refund(session, 150_000, "refund:R2")).succeeded
    assert simulator.transaction(session.session_id.split(":")[0]).refunded == 200_000
    with pytest.raises(ProviderError):
        provider.refund(_refund(session, 1_000, "refund:R3"))  # nothing left to refund: VNPay refuses (03)
    _, whole = _paid(provider, simulator)
    assert provider.refund(_refund(whole, 200_000, "refund:R4")).succeeded  # type 02
    assert simulator.transaction(whole.session_id.split(":")[0]).refunded == 200_000


def test_refunding_a_payment_vnpay_did_not_take_fails_with_code_95(provider, simulator):
    _, session = _paid(provider, simulator, "decline")
    result = provider.refund(_refund(session, 200_000, "refund:R5"))
    assert (result.succeeded, result.failure_code) == (False, "vnpay_original_not_paid")


def test_an_ipn_is_read_only_when_its_hash_verifies(provider, simulator):
    request = _request()
    simulator.open(dict(parse_qsl(urlsplit(provider.create_session(request).next_url).query)))
    ipn_params = None
    done = simulator.complete(request.payment_reference, "success")
    [ipn_params] = done.ipns
    ipn = provider.read_ipn(ipn_params)
    assert (ipn.txn_ref, ipn.amount, ipn.status) == (request.payment_reference, vnd(200_000), ProviderStatus.SUCCEEDED)
    with pytest.raises(NotificationRejected):
        provider.read_ipn({**ipn_params, "vnp_Amount": "100"})


def test_the_return_link_is_signed_like_the_ipn(provider, simulator):
    request = _request()
    simulator.open(dict(parse_qsl(urlsplit(provider.create_session(request).next_url).query)))
    done = simulator.complete(request.payment_reference, "success")
    returned = dict(parse_qsl(urlsplit(done.return_url).query))
    assert protocol.verify(returned, SECRET) and returned["vnp_ResponseCode"] == "00"
    assert simulator.complete(request.payment_reference, "decline").ipns == ()  # a second press changes nothing


def test_vnpays_status_codes_map_to_ours():
    assert status_of("00", "00") is ProviderStatus.SUCCEEDED and status_of("00") is ProviderStatus.SUCCEEDED
    assert status_of("06") is ProviderStatus.SUCCEEDED  # refunded since: it was paid
    assert status_of("02", "24") is ProviderStatus.DECLINED and failure_code("02", "24") == "vnpay_24"
    assert status_of("04") is ProviderStatus.ERROR and failure_code("04", None) == "vnpay_reversed"
    assert status_of("01") is status_of("07") is ProviderStatus.PENDING
    assert status_of("00", "07") is ProviderStatus.DECLINED


def test_a_page_used_after_its_expiry_fails_without_an_ipn(provider, simulator):
    request = _request()
    simulator.open(dict(parse_qsl(urlsplit(provider.create_session(request).next_url).query)))
    CLOCK.advance(minutes=31)
    try:
        done = simulator.complete(request.payment_reference, "success")
    finally:
        CLOCK.advance(minutes=-31)
    assert done.ipns == () and dict(parse_qsl(urlsplit(done.return_url).query))["vnp_ResponseCode"] == "11"
