"""VNPay (payment gateway protocol 2.1.0) as a payment provider: signed payment URLs, IPN, querydr, refund.

Design overview
---------------
* ``create_session`` needs no call: the "session" is a signed URL of VNPay's payment page carrying our
  payment code as ``vnp_TxnRef`` (unique for ever, so unique per day as VNPay asks). Every field derives
  from the ``SessionRequest``, so a retry builds the same URL. The session id is ``<TxnRef>:<CreateDate>``:
  ``querydr`` and ``refund`` must name the payment's original ``vnp_CreateDate`` and this way the provider
  keeps no state.
* VNPay tells the outcome by a server-to-server IPN (``read_ipn``; the service ``payments.vnpay_ipn``
  applies it and answers VNPay's ``RspCode``) and answers ``querydr`` (``fetch_status``): those two are
  the only sources of a state. The browser's return only triggers a ``querydr``.
* VNPay has no "cancel": ``cancel_session`` asks ``querydr`` and, unless the money was taken or refused,
  answers CANCELLED, so the expiry job never expires a payment VNPay took without asking first.
* ``querydr`` and ``refund`` are signed JSON POSTs (``|``-joined hash strings); an answer whose hash does not
  verify is not believed (``ProviderUnavailable``: the question is asked again later).
* The transport is a small protocol: over the network (``RequestsJsonTransport``) for VNPay itself, in the
  process for the built-in simulator (``payments.providers.vnpay_simulator``), the same bytes either way.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import requests

from core.clock import Clock
from core.money import Money
from payments import vnpay_protocol as protocol
from payments.errors import NotificationRejected, ProviderError, ProviderUnavailable
from payments.providers.base import (
    Notification,
    PaymentProvider,
    ProviderSession,
    ProviderStatus,
    RefundRequest,
    RefundResult,
    SessionRequest,
    StatusReport,
)

log = logging.getLogger(__name__)

NAME = "vnpay"
#: ``vnp_TransactionStatus``: what VNPay says happened to the money.
PAID, NOT_COMPLETED, FAILED, REVERSED = "00", "01", "02", "04"
#: Refund in progress (05) or sent to the bank (06): the payment itself was paid.
REFUND_STATES = ("05", "06")
#: ``querydr`` answers: done, the transaction does not exist (the payer never reached VNPay), asked too often.
API_OK, API_NOT_FOUND, API_DUPLICATE = "00", "91", "94"
#: ``refund`` answers beyond ``API_OK``: already asked (94, VNPay is on it) and the payment was not paid (95).
REFUND_ALREADY_ASKED, REFUND_NOT_PAID = "94", "95"
REFUND_FULL, REFUND_PARTIAL = "02", "03"
QUERYDR_RESPONSE = protocol.QUERYDR_RESPONSE
REFUND_REQUEST = ("vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TransactionType", "vnp_TxnRef",
                  "vnp_Amount", "vnp_TransactionNo", "vnp_TransactionDate", "vnp_CreateBy", "vnp_CreateDate",
                  "vnp_IpAddr", "vnp_OrderInfo")
REFUND_RESPONSE = QUERYDR_RESPONSE[:-2]  # the same fields without the promotion ones
MAX_ANSWER_BYTES = 64 * 1024
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class VnpayConfig:
    """A merchant's VNPay terminal: its code, hash secret and the two VNPay addresses."""

    tmn_code: str
    hash_secret: str
    payment_url: str
    api_url: str
    #: ``vnp_IpAddr`` of the gateway's calls (VNPay asks for the caller's address).
    ip_address: str = "127.0.0.1"


class JsonTransport(Protocol):
    """POST a JSON body; return the status and the raw answer (``ProviderUnavailable`` when nothing came)."""

    def post_json(self, url: str, body: bytes) -> tuple[int, bytes]:
        """POST ``body`` to ``url``."""


class RequestsJsonTransport:
    """JSON over the network with bounded time and size."""

    def __init__(self, session: requests.Session | None = None):
        self._session = session or requests.Session()

    def post_json(self, url: str, body: bytes) -> tuple[int, bytes]:
        try:
            with self._session.post(url, data=body, headers={"Content-Type": "application/json"},
                                    timeout=TIMEOUT_SECONDS, allow_redirects=False, stream=True) as response:
                answer = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"VNPay API: {type(exc).__name__}") from None
        if len(answer) > MAX_ANSWER_BYTES:
            raise ProviderUnavailable("VNPay API: answer too large")
        return response.status_code, answer


@dataclass(frozen=True)
class Ipn:
    """A verified IPN: which payment, what VNPay says happened, for how much."""

    tmn_code: str
    txn_ref: str
    amount: Money
    status: ProviderStatus
    transaction_no: str | None
    failure_code: str | None

    def report(self, session_id: str) -> StatusReport:
        """The IPN as a report on ``session_id`` (an IPN does not carry the payment's create date)."""
        return StatusReport(session_id, self.status, self.txn_ref, self.amount, payment_ref=self.transaction_no,
                            failure_code=self.failure_code)


class VnpayProvider(PaymentProvider):
    """Payment through VNPay's hosted page; see the module docstring."""

    name = NAME

    def __init__(self, config: VnpayConfig, *, clock: Clock, transport: JsonTransport):
        self._config = config
        self._clock = clock
        self._transport = transport

    @property
    def tmn_code(self) -> str:
        """The merchant's terminal code."""
        return self._config.tmn_code

    def create_session(self, request: SessionRequest) -> ProviderSession:
        """The signed payment URL; the same request always gives the same URL."""
        create_date = protocol.vnp_time(request.opened_at)
        params = {
            "vnp_Version": protocol.VERSION, "vnp_Command": "pay", "vnp_TmnCode": self._config.tmn_code,
            "vnp_Amount": protocol.vnp_amount(request.amount), "vnp_CurrCode": "VND",
            "vnp_TxnRef": request.payment_reference, "vnp_OrderType": "other",
            "vnp_OrderInfo": protocol.order_info(f"{request.description} {request.payment_reference}"),
            "vnp_Locale": "en" if request.metadata.get("locale") == "en" else "vn",
            "vnp_ReturnUrl": request.return_url, "vnp_IpAddr": self._config.ip_address,
            "vnp_CreateDate": create_date, "vnp_ExpireDate": protocol.vnp_time(request.expires_at)}
        return ProviderSession(session_id=f"{request.payment_reference}:{create_date}",
                               next_url=protocol.payment_url(self._config.payment_url, params,
                                                             self._config.hash_secret),
                               expires_at=request.expires_at)

    def fetch_status(self, session_id: str) -> StatusReport:
        """Ask ``querydr``; a transaction VNPay does not know (the payer never got there) is still PENDING."""
        txn_ref, create_date = _split(session_id)
        answer = self._call(_request_id(f"querydr:{session_id}:{self._clock.now().isoformat()}"), "querydr", {
            "vnp_TxnRef": txn_ref, "vnp_TransactionDate": create_date,
            "vnp_OrderInfo": protocol.order_info(f"Truy van {txn_ref}")}, protocol.QUERYDR_REQUEST, QUERYDR_RESPONSE)
        code = answer.get("vnp_ResponseCode")
        if code == API_NOT_FOUND:
            return StatusReport(session_id, ProviderStatus.PENDING, txn_ref, Money(0, "VND"))
        if code != API_OK:
            raise _refused("querydr", answer)
        amount = answer.get("vnp_Amount", "")
        return StatusReport(session_id, status_of(answer.get("vnp_TransactionStatus", "")), txn_ref,
                            protocol.parse_amount(amount) if amount else Money(0, "VND"),
                            payment_ref=str(answer.get("vnp_TransactionNo") or "") or None,
                            failure_code=failure_code(answer.get("vnp_TransactionStatus", ""), None))

    def cancel_session(self, session_id: str) -> StatusReport:
        """VNPay cannot close a payment page: ask ``querydr`` and end here whatever has not happened there."""
        report = self.fetch_status(session_id)
        if report.status is not ProviderStatus.PENDING:
            return report
        return StatusReport(session_id, ProviderStatus.CANCELLED, report.reference, report.amount)

    def parse_notification(self, raw_body: bytes, headers: Mapping[str, str]) -> Notification:
        """VNPay notifies by its IPN (``GET /webhooks/vnpay/ipn``), read by ``read_ipn``."""
        raise NotificationRejected("VNPay reports by IPN, not by posted notifications",
                                   code="notification_not_supported")

    def read_ipn(self, params: Mapping[str, str]) -> Ipn:
        """Verify an IPN's hash in constant time and read it; raise NotificationRejected if it does not verify."""
        if not protocol.verify(params, self._config.hash_secret):
            raise NotificationRejected("VNPay IPN hash does not verify", code="vnpay_bad_checksum")
        txn_ref, transaction_status = params.get("vnp_TxnRef", ""), params.get("vnp_TransactionStatus", "")
        response_code = params.get("vnp_ResponseCode", "")
        return Ipn(params.get("vnp_TmnCode", ""), txn_ref, protocol.parse_amount(params.get("vnp_Amount", "")),
                   status_of(transaction_status, response_code), params.get("vnp_TransactionNo") or None,
                   failure_code(transaction_status, response_code))

    def refund(self, request: RefundRequest) -> RefundResult:
        """Ask VNPay to refund (02 in full, 03 in part); a repeated request (94) is the first one, in progress."""
        txn_ref, create_date = _split(request.session_id)
        full = request.captured is not None and request.amount == request.captured
        answer = self._call(_request_id(request.idempotency_key), "refund", {
            "vnp_TransactionType": REFUND_FULL if full else REFUND_PARTIAL, "vnp_TxnRef": txn_ref,
            "vnp_Amount": protocol.vnp_amount(request.amount), "vnp_TransactionNo": request.payment_ref or "0",
            "vnp_TransactionDate": create_date, "vnp_CreateBy": request.requested_by,
            "vnp_OrderInfo": protocol.order_info(f"Hoan tien {txn_ref}")}, REFUND_REQUEST, REFUND_RESPONSE)
        code = answer.get("vnp_ResponseCode")
        reference = str(answer.get("vnp_TransactionNo") or "") or f"vnpay-refund:{_request_id(request.idempotency_key)}"
        if code in (API_OK, REFUND_ALREADY_ASKED):
            return RefundResult(reference, True)
        if code == REFUND_NOT_PAID:
            return RefundResult(reference, False, failure_code="vnpay_original_not_paid")
        raise _refused("refund", answer)

    def _call(self, request_id: str, command: str, fields: dict[str, str], request_fields: tuple[str, ...],
              response_fields: tuple[str, ...]) -> dict[str, str]:
        message = {"vnp_RequestId": request_id, "vnp_Version": protocol.VERSION, "vnp_Command": command,
                   "vnp_TmnCode": self._config.tmn_code, **fields,
                   "vnp_CreateDate": protocol.vnp_time(self._clock.now()), "vnp_IpAddr": self._config.ip_address}
        message["vnp_SecureHash"] = protocol.pipe_hash(message, request_fields, self._config.hash_secret)
        status, raw = self._transport.post_json(self._config.api_url, json.dumps(message).encode())
        if status >= 500:
            raise ProviderUnavailable(f"VNPay {command}: HTTP {status}")
        answer = _json_object(raw, command)
        if not protocol.verify_pipe(answer, response_fields, self._config.hash_secret):
            # A forged or garbled answer decides nothing; asking again later is safe.
            raise ProviderUnavailable(f"VNPay {command}: the answer's hash does not verify")
        if answer.get("vnp_ResponseCode") == API_DUPLICATE and command == "querydr":
            raise ProviderUnavailable("VNPay querydr: asked again too soon")
        return answer


def status_of(transaction_status: str, response_code: str | None = None) -> ProviderStatus:
    """Our status for VNPay's ``vnp_TransactionStatus`` (and an IPN's ``vnp_ResponseCode``)."""
    if transaction_status == PAID and response_code in (None, "00"):
        return ProviderStatus.SUCCEEDED
    if transaction_status in REFUND_STATES:
        return ProviderStatus.SUCCEEDED
    if transaction_status == FAILED or (transaction_status == PAID and response_code not in (None, "00")):
        return ProviderStatus.DECLINED
    if transaction_status == REVERSED:  # the bank debited the payer, VNPay did not complete: it gives it back
        return ProviderStatus.ERROR
    return ProviderStatus.PENDING  # 01 not completed, 07 held as suspected fraud: nothing final yet


def failure_code(transaction_status: str, response_code: str | None) -> str | None:
    """A failure's code as recorded on the payment, e.g. ``vnpay_24`` (the payer cancelled) or ``vnpay_reversed``."""
    status = status_of(transaction_status, response_code)
    if status is ProviderStatus.ERROR:
        return "vnpay_reversed"
    if status is ProviderStatus.DECLINED:
        return f"vnpay_{response_code or transaction_status}"
    return None


def _split(session_id: str) -> tuple[str, str]:
    txn_ref, _, create_date = session_id.partition(":")
    if not txn_ref or len(create_date) != 14 or not create_date.isdigit():
        raise ProviderError(f"{session_id!r} is not a VNPay session id", code="provider_session_not_found")
    return txn_ref, create_date


def _request_id(seed: str) -> str:
    # Alphanumeric, at most 32, unique per day: derived, so a retried refund is the same request (VNPay: 94).
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def _json_object(raw: bytes, command: str) -> dict[str, str]:
    try:
        answer = json.loads(raw)
    except (ValueError, RecursionError):
        raise ProviderUnavailable(f"VNPay {command}: the answer is not JSON") from None
    if not isinstance(answer, dict):
        raise ProviderUnavailable(f"VNPay {command}: the answer is not a JSON object")
    return {key: "" if value is None else str(value) for key, value in answer.items()}


def _refused(command: str, answer: Mapping[str, str]) -> ProviderError:
    code, message = answer.get("vnp_ResponseCode", ""), answer.get("vnp_Message", "")
    log.warning("VNPay refused a request", extra={"command": command, "response_code": code, "error": message})
    return ProviderError(f"VNPay {command} refused: {code} {message}".strip(), code=f"vnpay_{code or 'refused'}")
