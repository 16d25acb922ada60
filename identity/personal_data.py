"""Personal ID numbers at rest: encrypted (AES-256-GCM), looked up by keyed hash, shown masked.

The 12-digit number is basic personal data (Decree 13/2023, Law 91/2025/QH15). A database dump alone must
reveal neither the numbers nor a way to test guesses: the lookup hash is an HMAC under a key the database
never holds, and the ciphertext needs the same master key. Both keys are derived from one master key with
HKDF under distinct labels, so one secret is configured and rotating it is one operation.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from identity.errors import InvalidPersonalId

_TWELVE_DIGITS = re.compile(r"[0-9]{12}")
#: Ciphertext layout version; bump with a new layout or key, keep decrypting the old ones.
_VERSION = b"\x01"
_NONCE_BYTES = 12
_AAD = b"personal_id"


def validate_personal_id(value: object) -> str:
    """Return ``value`` if it is exactly 12 ASCII digits, else raise ``InvalidPersonalId``."""
    if not isinstance(value, str) or not _TWELVE_DIGITS.fullmatch(value):
        raise InvalidPersonalId("a personal identification number has exactly 12 digits")
    return value


def mask_personal_id(value: str) -> str:
    """Show the first 4 and last 2 digits only: ``001123456745`` -> ``0011******45``."""
    return f"{value[:4]}******{value[-2:]}"


def _derive(master_key: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"gateway/" + label).derive(master_key)


#: How a placeholder payer (a vehicle nobody linked) starts: never the start of a citizen's lookup hash (hex).
VEHICLE_PAYER = "vehicle:"


class PersonalIdVault:
    """Encrypts, decrypts and hashes personal ID numbers under keys derived from one master key."""

    def __init__(self, master_key: bytes):
        if len(master_key) < 32:
            raise ValueError("the personal-data master key needs at least 32 bytes")
        self._aead = AESGCM(_derive(master_key, b"personal-id/encrypt"))
        self._hash_key = _derive(master_key, b"personal-id/lookup")
        self._vehicle_key = _derive(master_key, b"vehicle/payer")

    def encrypt(self, personal_id: str) -> bytes:
        """Return version byte + random nonce + AES-GCM ciphertext of a validated number."""
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, validate_personal_id(personal_id).encode(), _AAD)

    def decrypt(self, blob: bytes) -> str:
        """Return the number inside ``blob``; a tampered or foreign blob raises ``InvalidTag``."""
        if blob[:1] != _VERSION:
            raise ValueError("unknown personal-id ciphertext version")
        nonce, ciphertext = blob[1:1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES:]
        return self._aead.decrypt(nonce, ciphertext, _AAD).decode()

    def lookup_hash(self, personal_id: str) -> str:
        """Return the keyed hash used to find a citizen by number without decrypting every row."""
        digest = hmac.new(self._hash_key, validate_personal_id(personal_id).encode(), hashlib.sha256)
        return digest.hexdigest()

    def vehicle_payer_hash(self, plate: str) -> str:
        """The payer a bill names while its vehicle is linked to no one: a keyed hash of the plate.

        Its own key and a prefix, so it can never equal a citizen's ``lookup_hash``: such a bill is nobody's
        until someone claims it with its ticket (``parking.charges``)."""
        return VEHICLE_PAYER + hmac.new(self._vehicle_key, plate.encode(), hashlib.sha256).hexdigest()
