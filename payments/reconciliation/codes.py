"""Our payment codes inside bank free text: ``MBVCB.4525077405.GW7K2M9Q4X.CT tu ...``.

Banks keep the transfer purpose as typed and often cut or re-space it, so the code is short, upper-case
ASCII with a fixed prefix, and found with a regular expression anywhere in the text.
"""

from __future__ import annotations

import re

#: ``GW`` followed by 10 characters of Crockford base32 (no I, L, O, U): short enough for any bank's purpose field.
PAYMENT_CODE = re.compile(r"(?<![A-Z0-9])GW[0-9A-HJKMNP-TV-Z]{10}(?![A-Z0-9])")


def extract_payment_code(*texts: str | None) -> str | None:
    """Return the first payment code found in ``texts`` (case-insensitive), or None."""
    for text in texts:
        if text:
            match = PAYMENT_CODE.search(text.upper())
            if match:
                return match.group(0)
    return None
