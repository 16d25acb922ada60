"""One entry point for every report format: ``read_report(content, format)``."""

from __future__ import annotations

from collections.abc import Callable

from core.errors import ValidationFailed
from payments.reconciliation import camt053, stripe_api, stripe_reports, swift_mt940, vn_bank, vnpay_settlement
from payments.reconciliation.parsed import ParsedFile
from payments.reconciliation.vnpay_settlement import VnpayMapping

#: Format name -> reader. Names are stable: they are stored with every imported file.
READERS: dict[str, Callable[[bytes], ParsedFile]] = {
    "camt053": camt053.parse,
    "mt940": swift_mt940.parse,
    "vn_bank": vn_bank.parse,
    "stripe": stripe_reports.parse,
    "stripe_api": stripe_api.parse,
}
FORMATS = (*READERS, "vnpay")


def read_report(content: bytes, format: str, *, vnpay_mapping: VnpayMapping | None = None) -> ParsedFile:
    """Read ``content`` as ``format``; raise ``ImportRejected`` (row and reason) if any part is malformed."""
    if format == "vnpay":
        return vnpay_settlement.parse(content, vnpay_mapping)
    reader = READERS.get(format)
    if reader is None:
        raise ValidationFailed(f"unknown report format {format!r}; expected one of {', '.join(FORMATS)}",
                               code="unknown_report_format")
    return reader(content)
