"""A VNPay-protocol simulator embedded in the gateway: the target of the VNPay provider when none is configured.

It plays VNPay's side of protocol 2.1.0 with the same hashes, so the provider cannot tell it from VNPay:

* ``open`` checks a payment URL's parameters and hash as VNPay's page does and records the transaction
  (``vnp_TxnRef``); a reload of the page finds the same one.
* ``complete`` plays what the payer and the banks do, by scenario (``SCENARIOS``): it returns where to send
  the payer (the signed return URL) and the signed IPNs VNPay would send (none, one, or the same one three
  times), which the caller delivers to the gateway's IPN endpoint.
* ``api`` answers ``querydr`` and ``refund`` JSON messages as VNPay's merchant API does, checking their hash
  and signing its answers (codes 00, 02, 03, 91, 94, 95, 97).

Flask-free: the web layer serves it under ``/vnpay-sim`` and the provider reaches ``api`` in the process
(``SimulatorTransport``), the same bytes as over the network. State lives in ``SimulatorStore``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from core.clock import Clock
from core.money import vnd
from payments import vnpay_protocol as protocol
from payments.providers import vnpay
from payments.providers.vnpay_simulator_store import SimTransaction, SimulatorStore, TransactionMissing


@dataclass(frozen=True)
class Scenario:
    """What happens when the payer presses one of the simulator's buttons."""

    transaction_status: str
    response_code: str
    #: How many times VNPay sends the IPN (0: it never arrives, the gateway must ask ``querydr``).
    ipn_deliveries: int


SCENARIOS: dict[str, Scenario] = {
    "success": Scenario(vnpay.PAID, "00", 1),
    "decline": Scenario(vnpay.FAILED, "51", 1),  # insufficient funds
    "cancel": Scenario(vnpay.FAILED, "24", 1),  # the payer cancelled on VNPay's page
    "timeout": Scenario(vnpay.PAID, "00", 0),  # paid, but the IPN never gets through
    "duplicate": Scenario(vnpay.PAID, "00", 3),  # paid, and the IPN is delivered three times
    "reversed": Scenario(vnpay.REVERSED, "99", 1),  # debited at the bank, failed at VNPay (status 04)
}
#: ``vnp_ResponseCode`` of a payment page used after its ``vnp_ExpireDate``.
EXPIRED_RESPONSE = "11"
#: How long VNPay's page stays open when the URL names no ``vnp_ExpireDate``.
DEFAULT_PAGE_TIME = timedelta(minutes=15)
PAY_FIELDS = ("vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_Amount", "vnp_CurrCode", "vnp_TxnRef",
              "vnp_OrderInfo", "vnp_OrderType", "vnp_Locale", "vnp_ReturnUrl", "vnp_IpAddr", "vnp_CreateDate")


class SimulatorRefused(Exception):
    """A payment URL VNPay would refuse; ``code`` names why (shown on the simulator's error page)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Completion:
    """Where the payer goes next and the IPNs VNPay sends (each a signed parameter set)."""

    return_url: str
    ipns: tuple[dict[str, str], ...]


class VnpaySimulator:
    """VNPay's side of the protocol for one merchant terminal; see the module docstring."""

    def __init__(self, *, tmn_code: str, hash_secret: str, store: SimulatorStore, clock: Clock):
        self.tmn_code = tmn_code
        self._secret = hash_secret
        self._store = store
        self._clock = clock

    def open(self, params: Mapping[str, str]) -> SimTransaction:
        """Check a payment URL as VNPay's page does and record its transaction (the same one on a reload)."""
        missing = [name for name in PAY_FIELDS if not params.get(name)]
        if missing:
            raise SimulatorRefused("03", f"missing parameters: {', '.join(missing)}")
        if not protocol.verify(params, self._secret):
            raise SimulatorRefused("97", "the payment URL's hash does not verify")
        if params["vnp_TmnCode"] != self.tmn_code:
            raise SimulatorRefused("02", "unknown merchant terminal")
        if (params["vnp_Version"], params["vnp_Command"], params["vnp_CurrCode"]) != (protocol.VERSION, "pay", "VND"):
            raise SimulatorRefused("03", "only version 2.1.0 payments in VND are accepted")
        try:
            amount = protocol.parse_amount(params["vnp_Amount"]).amount
            created = protocol.parse_time(params["vnp_CreateDate"])
            expires = (protocol.parse_time(params["vnp_ExpireDate"]) if params.get("vnp_ExpireDate")
                       else created + DEFAULT_PAGE_TIME)
        except protocol.VnpayProtocolError as exc:
            raise SimulatorRefused("03", exc.message) from None
        now = self._clock.now()
        row = SimTransaction(params["vnp_TxnRef"], self.tmn_code, amount, params["vnp_CreateDate"], expires,
                             params["vnp_OrderInfo"], params["vnp_ReturnUrl"], vnpay.NOT_COMPLETED, None,
                             _transaction_no(params["vnp_TxnRef"]), None, 0, now, now)
        stored = self._store.insert_or_get(row)
        if (stored.amount, stored.create_date) != (row.amount, row.create_date):
            raise SimulatorRefused("01", "this order reference was already used for another payment")
        return stored

    def complete(self, txn_ref: str, scenario: str) -> Completion:
        """The payer finishes on VNPay's page as ``scenario`` says; a second press changes nothing."""
        plan = SCENARIOS[scenario]
        now = self._clock.now()
        with self._store.changing(txn_ref, now) as row:
            first = row.status == vnpay.NOT_COMPLETED
            if first and now >= row.expires_at:
                row.status, row.response_code = vnpay.FAILED, EXPIRED_RESPONSE
                first = False
            elif first:
                row.status, row.response_code, row.pay_date = (plan.transaction_status, plan.response_code,
                                                               protocol.vnp_time(now))
        signed = self._signed_result(row)
        ipns = tuple(dict(signed) for _ in range(plan.ipn_deliveries)) if first else ()
        separator = "&" if "?" in row.return_url else "?"
        return Completion(f"{row.return_url}{separator}{protocol.hash_data(signed)}"
                          f"&vnp_SecureHash={signed['vnp_SecureHash']}", ipns)

    def transaction(self, txn_ref: str) -> SimTransaction | None:
        """The transaction, if the simulator has it."""
        try:
            return self._store.get(txn_ref)
        except TransactionMissing:
            return None

    def api(self, raw_body: bytes) -> tuple[int, bytes]:
        """Answer a ``querydr`` or ``refund`` message as VNPay's merchant API does."""
        try:
            message = json.loads(raw_body)
        except (ValueError, RecursionError):
            message = None
        if not isinstance(message, dict) or message.get("vnp_Command") not in ("querydr", "refund"):
            return 400, json.dumps({"vnp_ResponseCode": "03", "vnp_Message": "Invalid request"}).encode()
        message = {key: "" if value is None else str(value) for key, value in message.items()}
        if message["vnp_Command"] == "querydr":
            answer = self._querydr(message)
            fields = vnpay.QUERYDR_RESPONSE
        else:
            answer = self._refund(message)
            fields = vnpay.REFUND_RESPONSE
        answer = {"vnp_ResponseId": secrets.token_hex(16), "vnp_Command": message["vnp_Command"],
                  "vnp_TmnCode": self.tmn_code, **answer}
        answer["vnp_SecureHash"] = protocol.pipe_hash(answer, fields, self._secret)
        return 200, json.dumps(answer).encode()

    def _querydr(self, message: dict[str, str]) -> dict[str, str]:
        refused = self._check(message, protocol.QUERYDR_REQUEST)
        if refused:
            return refused
        row = self._found(message)
        if row is None:
            return _code(vnpay.API_NOT_FOUND, "Transaction not found")
        return {**_code(vnpay.API_OK, "QueryDR Success"), **self._fields(row), "vnp_TransactionType": "01",
                "vnp_PromotionCode": "", "vnp_PromotionAmount": ""}

    def _refund(self, message: dict[str, str]) -> dict[str, str]:
        refused = self._check(message, vnpay.REFUND_REQUEST)
        if refused:
            return refused
        row = self._found(message)
        if row is None:
            return _code(vnpay.API_NOT_FOUND, "Transaction not found")
        echo = {**self._fields(row), "vnp_TransactionType": message.get("vnp_TransactionType", "")}
        if row.status not in (vnpay.PAID, *vnpay.REFUND_STATES):
            return {**_code(vnpay.REFUND_NOT_PAID, "Original transaction was not successful"), **echo}
        try:
            amount = protocol.parse_amount(message.get("vnp_Amount", "")).amount
        except protocol.VnpayProtocolError:
            return _code("03", "Invalid amount")
        kind = message.get("vnp_TransactionType")
        if kind not in (vnpay.REFUND_FULL, vnpay.REFUND_PARTIAL) or (kind == vnpay.REFUND_FULL) != (
                amount == row.amount):
            return _code("03", "Refund type does not match the amount")
        outcome = self._store.record_refund(message["vnp_RequestId"], row.txn_ref, amount, self._clock.now())
        if outcome == "seen":
            return {**_code(vnpay.REFUND_ALREADY_ASKED, "Refund already requested"), **echo}
        if outcome == "exceeds":
            return _code("03", "The amount exceeds what is left to refund")
        refund_no = _transaction_no(f"{row.txn_ref}:{message['vnp_RequestId']}")
        return {**_code(vnpay.API_OK, "Refund success"), **echo, "vnp_Amount": message["vnp_Amount"],
                "vnp_TransactionNo": refund_no, "vnp_TransactionStatus": "05"}

    def _check(self, message: dict[str, str], fields: tuple[str, ...]) -> dict[str, str] | None:
        if not protocol.verify_pipe(message, fields, self._secret):
            return _code("97", "Invalid Checksum")
        if message.get("vnp_TmnCode") != self.tmn_code:
            return _code("02", "Invalid TmnCode")
        if message.get("vnp_Version") != protocol.VERSION or not message.get("vnp_TxnRef"):
            return _code("03", "Invalid request format")
        return None

    def _found(self, message: dict[str, str]) -> SimTransaction | None:
        row = self.transaction(message["vnp_TxnRef"])
        if row is None or row.create_date != message.get("vnp_TransactionDate"):
            return None
        return row

    def _fields(self, row: SimTransaction) -> dict[str, str]:
        return {"vnp_TxnRef": row.txn_ref, "vnp_Amount": protocol.vnp_amount(vnd(row.amount)),
                "vnp_BankCode": "NCB", "vnp_PayDate": row.pay_date or "", "vnp_TransactionNo": row.transaction_no,
                "vnp_TransactionStatus": row.status, "vnp_OrderInfo": row.order_info}

    def _signed_result(self, row: SimTransaction) -> dict[str, str]:
        params = {"vnp_Amount": protocol.vnp_amount(vnd(row.amount)), "vnp_BankCode": "NCB",
                  "vnp_BankTranNo": f"VNP{row.transaction_no}", "vnp_CardType": "ATM", "vnp_OrderInfo": row.order_info,
                  "vnp_PayDate": row.pay_date or protocol.vnp_time(self._clock.now()),
                  "vnp_ResponseCode": row.response_code or "99", "vnp_TmnCode": self.tmn_code,
                  "vnp_TransactionNo": row.transaction_no, "vnp_TransactionStatus": row.status,
                  "vnp_TxnRef": row.txn_ref}
        params["vnp_SecureHash"] = protocol.sign(params, self._secret)
        return params


class SimulatorTransport:
    """The VNPay provider's ``JsonTransport`` when its API is the simulator: the message goes in, the answer out."""

    def __init__(self, simulator: VnpaySimulator):
        self._simulator = simulator

    def post_json(self, url: str, body: bytes) -> tuple[int, bytes]:
        return self._simulator.api(body)


def _code(code: str, message: str) -> dict[str, str]:
    return {"vnp_ResponseCode": code, "vnp_Message": message}


def _transaction_no(seed: str) -> str:
    # VNPay's own transaction numbers are 8 digits or so; derived, so a reload shows the same one.
    return str(10_000_000 + int(hashlib.sha256(seed.encode()).hexdigest(), 16) % 90_000_000)
