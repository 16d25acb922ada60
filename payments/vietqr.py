"""VietQR payloads (NAPAS 247 on EMVCo's merchant-presented QR): built per payment attempt, and read back.

A payload is a string of fields, each a 2-digit id, a 2-digit length and the value; two values are such
strings themselves: 38, the beneficiary at NAPAS (GUID, then the bank's BIN and the account, then the
service), and 62, additional data (08: the purpose, which a bank app shows as the transfer's memo). The
last field, 63, is a CRC-16/CCITT-FALSE over everything before its value, ``6304`` included, in upper-case
hex. A dynamic payload (point of initiation 12) carries the exact amount and the payment's code, so the
transfer that pays it names the payment; see ``../shared/design/research/rails-parking.md`` (C3) for the
sources and the two published samples the tests check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.money import Money
from payments.errors import VietQrInvalid

NAPAS_GUID = "A000000727"
TO_ACCOUNT, TO_CARD = "QRIBFTTA", "QRIBFTTC"  # transfer 24/7 to an account number, or to a card number
STATIC, DYNAMIC = "11", "12"
VND = "704"  # ISO 4217 numeric
VIETNAM = "VN"
#: What a bank app accepts in the purpose: ASCII letters, digits and spaces, at most 19 characters kept.
PURPOSE = re.compile(r"[A-Za-z0-9 ]{1,19}")
_BIN = re.compile(r"\d{6}")
_ACCOUNT = re.compile(r"[0-9A-Za-z]{1,19}")


@dataclass(frozen=True)
class Beneficiary:
    """The account a citizen's transfer goes to: the bank's NAPAS BIN, the account (or card) number, its holder."""

    bank_bin: str
    account: str
    holder: str = ""

    def __post_init__(self) -> None:
        if not _BIN.fullmatch(self.bank_bin):
            raise VietQrInvalid(f"a bank BIN is 6 digits, not {self.bank_bin!r}")
        if not _ACCOUNT.fullmatch(self.account):
            raise VietQrInvalid("an account number is 1 to 19 letters or digits")

    @property
    def service(self) -> str:
        """Card numbers on NAPAS start with 9704 and are 16 or 19 digits; anything else is an account."""
        card = self.account.startswith("9704") and len(self.account) in (16, 19) and self.account.isdigit()
        return TO_CARD if card else TO_ACCOUNT


@dataclass(frozen=True)
class VietQr:
    """What a payload says (read back by ``read``)."""

    initiation: str
    beneficiary: Beneficiary
    amount: Money | None
    purpose: str | None


def payment_payload(beneficiary: Beneficiary, amount: Money, purpose: str) -> str:
    """The dynamic payload for transferring exactly ``amount`` (đồng) with ``purpose`` (the payment's code)."""
    if amount.currency != "VND" or amount.amount <= 0:
        raise VietQrInvalid(f"a VietQR transfer is a positive amount of đồng, not {amount}")
    if not PURPOSE.fullmatch(purpose):
        raise VietQrInvalid("the purpose is 1 to 19 ASCII letters, digits or spaces")
    account = _field("00", beneficiary.bank_bin) + _field("01", beneficiary.account)
    napas = _field("00", NAPAS_GUID) + _field("01", account) + _field("02", beneficiary.service)
    body = (_field("00", "01") + _field("01", DYNAMIC) + _field("38", napas) + _field("53", VND)
            + _field("54", str(amount.amount)) + _field("58", VIETNAM) + _field("62", _field("08", purpose)))
    return body + "6304" + crc16(body + "6304")


def read(payload: str) -> VietQr:
    """Read a VietQR payload back; a damaged one (bad field, wrong checksum, not NAPAS) is ``VietQrInvalid``."""
    if len(payload) < 8 or payload[-8:-4] != "6304" or crc16(payload[:-4]) != payload[-4:].upper():
        raise VietQrInvalid("the payload's checksum (field 63) does not match")
    fields = _fields(payload[:-8])
    napas = _fields(fields.get("38", ""))
    account = _fields(napas.get("01", ""))
    if napas.get("00") != NAPAS_GUID or "00" not in account or "01" not in account:
        raise VietQrInvalid("the payload names no NAPAS beneficiary (field 38)")
    if fields.get("53", VND) != VND:
        raise VietQrInvalid(f"the payload's currency is {fields['53']}, not đồng (704)")
    amount = fields.get("54")
    if amount is not None and not amount.isdigit():
        raise VietQrInvalid(f"a đồng amount is a whole number, not {amount!r}")
    return VietQr(initiation=fields.get("01", STATIC), beneficiary=Beneficiary(account["00"], account["01"]),
                  amount=Money(int(amount)) if amount is not None else None,
                  purpose=_fields(fields.get("62", "")).get("08"))


def crc16(data: str) -> str:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF, no reflection, no final xor) as 4 hex digits."""
    crc = 0xFFFF
    for byte in data.encode():
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        crc &= 0xFFFF
    return f"{crc:04X}"


def _field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise VietQrInvalid(f"field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def _fields(text: str) -> dict[str, str]:
    """The fields of a TLV string by id; one that runs past the end is ``VietQrInvalid``."""
    found, at = {}, 0
    while at < len(text):
        tag, size = text[at:at + 2], text[at + 2:at + 4]
        if not (tag.isdigit() and size.isdigit()) or at + 4 + int(size) > len(text):
            raise VietQrInvalid(f"the payload's field at position {at} is damaged")
        found[tag] = text[at + 4:at + 4 + int(size)]
        at += 4 + int(size)
    return found
