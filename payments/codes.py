"""Payment codes: every payment attempt's public id, e.g. ``GW7K2M9Q4XAB``.

The code travels everywhere money does: the VietQR transfer purpose, Stripe metadata, a VNPay TxnRef, and
from there into bank statements and provider reports, where reconciliation finds it again. Banks keep a
transfer purpose as typed and often cut or re-space it (one VietQR callback keeps 19 characters), so the
code is short upper-case ASCII with a fixed prefix, found with a regular expression anywhere in the text,
in any case, and also when a separator was put between its characters (``GW 7K2M 9Q4X AB`` as printed on a
bill, ``GW-7K2M-…`` as some bank apps rewrite it).
"""

from __future__ import annotations

import re
import secrets

#: Crockford's base32 alphabet: no I, L, O or U, so nobody misreads a code aloud or on a receipt.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: ``GW`` followed by 10 characters of the alphabet (50 random bits): short enough for any bank's purpose field.
PAYMENT_CODE = re.compile(r"(?<![A-Z0-9])GW[0-9A-HJKMNP-TV-Z]{10}(?![A-Z0-9])")
#: The same code with at most one separator (space, dot, dash, underscore, slash) before any character.
SEPARATED_CODE = re.compile(r"(?<![A-Z0-9])G[\s./_-]?W(?:[\s./_-]?[0-9A-HJKMNP-TV-Z]){10}(?![A-Z0-9])")
_SEPARATOR = re.compile(r"[\s./_-]")


def new_payment_code() -> str:
    """Return a fresh random payment code (the caller makes sure it is not taken yet)."""
    return "GW" + "".join(secrets.choice(ALPHABET) for _ in range(10))


def extract_payment_code(*texts: str | None) -> str | None:
    """Return the first payment code found in ``texts`` (any case, separators allowed), or None."""
    for text in texts:
        if text:
            match = PAYMENT_CODE.search(text.upper()) or SEPARATED_CODE.search(text.upper())
            if match:
                return _SEPARATOR.sub("", match.group(0))
    return None
