"""Short names of common Vietnamese banks by their NAPAS BIN, to show next to a receiving account.

The BINs are the NAPAS bank identification numbers as published in VietQR's bank list
(https://api.vietqr.io/v2/banks). The list is only for display: any six-digit BIN is allowed, and one not
listed here is shown as the BIN itself.
"""

from __future__ import annotations

#: NAPAS BIN -> the short name people know the bank by.
BANKS: dict[str, str] = {
    "970436": "Vietcombank",
    "970415": "VietinBank",
    "970418": "BIDV",
    "970405": "Agribank",
    "970422": "MB",
    "970407": "Techcombank",
    "970416": "ACB",
    "970403": "Sacombank",
    "970432": "VPBank",
    "970423": "TPBank",
}


def bank_name(bank_bin: str) -> str:
    """The bank's short name, or the BIN itself when it is not in the list."""
    return BANKS.get(bank_bin, bank_bin)
