"""Bank transfer notifications: what a bank, or an aggregator such as SePay, says arrived on an agency's account.

Confirmation of a VietQR payment comes from the bank side, never from the citizen's browser. A
*connection* is one account's feed, configured per agency; it authenticates with an API key
(``Authorization: Apikey <key>``) or an HMAC-SHA256 of the raw body in a header of its choosing. A
notification is SePay-shaped JSON (``id, gateway, transactionDate, accountNumber, content, transferType,
transferAmount, referenceCode``; see ``../shared/design/research/rails-parking.md``, C4). This module only
authenticates and reads it into a ``BankTransfer``; what the money then does (paid, or a break for a finance
officer) is decided by the services that take the transfer.

Two ids matter: the feed's ``id`` repeats when the feed retries a delivery, and the bank's own reference
(``referenceCode``, e.g. ``MBVCB.3278907687``) is the one its statement carries, so a transfer seen by
webhook and again in the statement import is one transfer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.money import Money, vnd
from payments.codes import extract_payment_code
from payments.errors import BankNotificationRejected

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
_TEXT_LIMITS = {"gateway": 64, "accountNumber": 32, "content": 1000, "referenceCode": 64, "code": 64}
_MAX_AMOUNT = 10**13  # đồng: far above any one transfer, below every integer column
#: What a bank transfer notification answers when it was taken (also for a repeat): what SePay expects.
ACCEPTED = {"success": True}


@dataclass(frozen=True)
class BankConnection:
    """One account's feed: its name in the URL, the account it reports on, and how it authenticates."""

    name: str
    account_number: str
    api_key: str | None = None
    hmac_secret: str | None = None
    signature_header: str = "X-Signature"

    def __post_init__(self) -> None:
        if bool(self.api_key) == bool(self.hmac_secret):
            raise ValueError(f"bank connection {self.name!r} needs exactly one of an API key or an HMAC secret")


@dataclass(frozen=True)
class BankTransfer:
    """One transfer as the feed reported it."""

    connection: str
    feed_id: str
    bank: str
    account_number: str
    credit: bool
    amount: Money
    booked_at: datetime
    memo: str
    bank_reference: str | None
    payment_code: str | None

    @property
    def delivery_key(self) -> str:
        """Equal for every retried delivery of this notification."""
        return f"bank:{self.connection}:{self.feed_id}"


_CONNECTIONS: dict[str, BankConnection] = {}


def register_connections(connections: list[BankConnection]) -> None:
    """Make the configured feeds the known ones (the runtime does, in the web app and the worker alike)."""
    _CONNECTIONS.clear()
    _CONNECTIONS.update({connection.name: connection for connection in connections})


def get_connection(name: str) -> BankConnection:
    """The feed named ``name``; refused (``bank_connection_unknown``) if none is configured."""
    try:
        return _CONNECTIONS[name]
    except KeyError:
        raise BankNotificationRejected(f"no bank connection {name[:64]!r}", code="bank_connection_unknown") from None


def authenticate(connection: BankConnection, headers: Mapping[str, str], raw_body: bytes) -> None:
    """Refuse (``bank_notification_unauthenticated``) a notification the connection's secret did not send."""
    if connection.api_key:
        given = _header(headers, "Authorization").removeprefix("Apikey ").strip()
        expected = connection.api_key
    else:
        given = _header(headers, connection.signature_header).strip().lower().removeprefix("sha256=")
        expected = hmac.new(connection.hmac_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise BankNotificationRejected(f"bank connection {connection.name}: not authenticated",
                                       code="bank_notification_unauthenticated")


def read(connection: BankConnection, raw_body: bytes) -> BankTransfer:
    """The transfer a notification reports; refused (``bank_notification_invalid``, naming the field) when a
    field is missing or out of shape, or (``bank_notification_wrong_account``) when it is another account's."""
    try:
        body = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _invalid("body", "is not JSON") from None
    if not isinstance(body, dict):
        raise _invalid("body", "is not a JSON object")
    texts = {name: _text(body, name, limit, required=name in ("gateway", "accountNumber"))
             for name, limit in _TEXT_LIMITS.items()}
    if texts["accountNumber"] != connection.account_number:
        raise BankNotificationRejected(f"bank connection {connection.name} reports on another account",
                                       code="bank_notification_wrong_account")
    memo = texts["content"] or ""
    return BankTransfer(connection=connection.name, feed_id=_feed_id(body.get("id")), bank=texts["gateway"],
                        account_number=texts["accountNumber"], credit=_direction(body.get("transferType")),
                        amount=_amount(body.get("transferAmount")), booked_at=_booked_at(body.get("transactionDate")),
                        memo=memo, bank_reference=texts["referenceCode"],
                        payment_code=extract_payment_code(texts["code"], memo))


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    return next((str(value) for key, value in headers.items() if key.lower() == wanted), "")


def _invalid(field: str, problem: str) -> BankNotificationRejected:
    return BankNotificationRejected(f"bank notification: {field} {problem}", code="bank_notification_invalid",
                                    details={"field": field})


def _text(body: dict, name: str, limit: int, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() and required:
        raise _invalid(name, "is missing or not text")
    if len(value) > limit or "\x00" in value:
        raise _invalid(name, f"is longer than {limit} characters or holds a NUL")
    return value


def _feed_id(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or not re.fullmatch(r"[\w.:-]{1,64}", str(value)):
        raise _invalid("id", "is missing or not an id")
    return str(value)


def _direction(value: object) -> bool:
    if value not in ("in", "out"):
        raise _invalid("transferType", "is neither in nor out")
    return value == "in"


def _amount(value: object) -> Money:
    # Đồng are whole: a float (even 200000.0) is refused rather than trusted, as everywhere money enters.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_AMOUNT:
        raise _invalid("transferAmount", "is not a positive whole number of đồng")
    return vnd(value)


def _booked_at(value: object) -> datetime:
    try:
        local = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _invalid("transactionDate", "is not YYYY-MM-DD HH:MM:SS") from None
    return local.replace(tzinfo=VIETNAM).astimezone(UTC)
