"""Payment codes: every payment attempt's public id, e.g. ``GW7K2M9Q4XAB``.

The code travels everywhere money does: the VietQR transfer purpose, Stripe metadata, a VNPay TxnRef, and
from there into bank statements and provider reports, where reconciliation finds it again. Banks keep a
transfer purpose as typed and often cut or re-space it (one VietQR callback keeps 19 characters), so the
code is short upper-case ASCII with a fixed prefix, found with a regular expression anywhere in the text.
"""

from __future__ import annotations

import re
import secrets

#: Crockford's base32 alphabet: no I, L, O or U, so nobody misreads a code aloud or on a receipt.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: ``GW`` followed by 10 characters of the alphabet (50 random bits): short enough for any bank's purpose field.
PAYMENT_CODE = re.compile(r"(?<![A-Z0-9])GW[0-9A-HJKMNP-TV-Z]{10}(?![A-Z0-9])")


def new_payment_code() -> str:
    """Return a fresh random payment code (the caller makes sure it is not taken yet)."""
    return "GW" + "".join(secrets.choice(ALPHABET) for _ in range(10))


def extract_payment_code(*texts: str | None) -> str | None:
    """Return the first payment code found in ``texts`` (case-insensitive), or None."""
    for text in texts:
        if text:
            match = PAYMENT_CODE.search(text.upper())
            if match:
                return match.group(0)
    return None
