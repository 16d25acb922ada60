"""The VNPay payment gateway protocol, version 2.1.0: signed payment URLs, IPN and return checks, querydr.

Pure functions of the protocol, no HTTP and no state, for the VNPay provider to build on. The sources and
the test vectors are in
``../shared/design/research/rails-parking.md`` (C1, C2):

* A payment URL, a return and an IPN are signed the same way: every non-empty ``vnp_*`` parameter except
  the hash fields, sorted by key, form-encoded (``quote_plus``: a space is ``+``), then HMAC-SHA512 with the
  merchant's hash secret, in lower-case hex, as ``vnp_SecureHash``.
* ``querydr`` and ``refund`` (JSON API) sign their fields joined by ``|`` in a fixed order instead.
* Amounts are đồng × 100; times are ``yyyyMMddHHmmss`` in GMT+7; ``vnp_OrderInfo`` is ASCII.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlencode

from core.money import Money, vnd
from payments.errors import PaymentError

VERSION = "2.1.0"
HASH_FIELDS = ("vnp_SecureHash", "vnp_SecureHashType")
GMT7 = timezone(timedelta(hours=7))
TIME_FORMAT = "%Y%m%d%H%M%S"

#: What our IPN endpoint answers VNPay (``RspCode``): VNPay retries until it gets one of them.
IPN_CONFIRMED, IPN_ORDER_NOT_FOUND, IPN_ALREADY_CONFIRMED = "00", "01", "02"
IPN_WRONG_AMOUNT, IPN_BAD_CHECKSUM, IPN_OTHER = "04", "97", "99"
IPN_MESSAGES = {IPN_CONFIRMED: "Confirm Success", IPN_ORDER_NOT_FOUND: "Order not found",
                IPN_ALREADY_CONFIRMED: "Order already confirmed", IPN_WRONG_AMOUNT: "Invalid amount",
                IPN_BAD_CHECKSUM: "Invalid signature", IPN_OTHER: "Unknown error"}

#: ``querydr``'s request and response fields, in the order their ``|``-joined hash takes them.
QUERYDR_REQUEST = ("vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TxnRef",
                   "vnp_TransactionDate", "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo")
QUERYDR_RESPONSE = ("vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode",
                    "vnp_TxnRef", "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo",
                    "vnp_TransactionType", "vnp_TransactionStatus", "vnp_OrderInfo", "vnp_PromotionCode",
                    "vnp_PromotionAmount")


class VnpayProtocolError(PaymentError):
    """A value VNPay sent that the protocol does not allow (an amount not in hundredths, a bad time)."""

    code = "vnpay_protocol_error"


def hash_data(params: Mapping[str, str]) -> str:
    """The text a payment URL, return or IPN signs: its non-empty ``vnp_*`` fields, sorted, form-encoded."""
    signed = sorted((k, str(v)) for k, v in params.items()
                    if k.startswith("vnp_") and k not in HASH_FIELDS and str(v) != "")
    return urlencode(signed)


def sign(params: Mapping[str, str], secret: str) -> str:
    """``vnp_SecureHash`` for ``params``."""
    return _hmac(secret, hash_data(params))


def payment_url(endpoint: str, params: Mapping[str, str], secret: str) -> str:
    """The URL the citizen's browser is sent to: the signed fields and their hash, in the order signed."""
    return f"{endpoint}?{hash_data(params)}&vnp_SecureHash={sign(params, secret)}"


def verify(params: Mapping[str, str], secret: str) -> bool:
    """Whether a return or IPN's ``vnp_SecureHash`` signs its other fields (compared in constant time)."""
    given = str(params.get("vnp_SecureHash", "")).lower()
    return bool(given) and hmac.compare_digest(given, sign(params, secret))


def pipe_hash(values: Mapping[str, str], fields: tuple[str, ...], secret: str) -> str:
    """The hash of a ``querydr`` or ``refund`` message: ``fields`` in order joined by ``|`` (missing: empty)."""
    return _hmac(secret, "|".join(str(values.get(name) or "") for name in fields))


def verify_pipe(message: Mapping[str, str], fields: tuple[str, ...], secret: str) -> bool:
    """Whether a ``querydr`` or ``refund`` message's ``vnp_SecureHash`` signs its ``fields`` (constant time)."""
    given = str(message.get("vnp_SecureHash", "")).lower()
    return bool(given) and hmac.compare_digest(given, pipe_hash(message, fields, secret))


def vnp_amount(amount: Money) -> str:
    """``vnp_Amount`` for ``amount``: đồng × 100."""
    if amount.currency != "VND" or amount.amount <= 0:
        raise VnpayProtocolError(f"VNPay takes a positive amount of đồng, not {amount}")
    return str(amount.amount * 100)


def parse_amount(value: str) -> Money:
    """The đồng a ``vnp_Amount`` stands for; one that is not whole hundredths is a protocol error."""
    if not re.fullmatch(r"\d{1,15}", value or "") or int(value) % 100:
        raise VnpayProtocolError(f"vnp_Amount {value!r} is not a whole number of đồng × 100")
    return vnd(int(value) // 100)


def vnp_time(moment: datetime) -> str:
    """A ``vnp_*Date`` for an aware ``moment``: its Vietnam (GMT+7) wall time."""
    if moment.tzinfo is None:
        raise ValueError("a VNPay time is made from an aware datetime")
    return moment.astimezone(GMT7).strftime(TIME_FORMAT)


def parse_time(value: str) -> datetime:
    """The UTC moment of a ``vnp_*Date`` (GMT+7 wall time)."""
    try:
        return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=GMT7).astimezone(UTC)
    except (TypeError, ValueError):
        raise VnpayProtocolError(f"{value!r} is not a VNPay time (yyyyMMddHHmmss)") from None


def order_info(text: str, limit: int = 255) -> str:
    """``vnp_OrderInfo`` for ``text``: Vietnamese without its marks, letters, digits and spaces only."""
    plain = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_only = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", re.sub(r"[^A-Za-z0-9 ]", " ", ascii_only)).strip()[:limit]


def ipn_answer(code: str) -> dict[str, str]:
    """The JSON body our IPN endpoint answers."""
    return {"RspCode": code, "Message": IPN_MESSAGES[code]}


def _hmac(secret: str, data: str) -> str:
    return hmac.new(secret.encode(), data.encode(), hashlib.sha512).hexdigest()
