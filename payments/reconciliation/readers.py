"""One entry point for every report format: ``read_report(content, format)``."""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.errors import ValidationFailed
from payments.reconciliation import camt053, stripe_api, stripe_reports, swift_mt940, vn_bank, vnpay_settlement
from payments.reconciliation.parsed import ImportRejected, ParsedFile
from payments.reconciliation.vnpay_settlement import VnpayMapping

log = logging.getLogger(__name__)

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
        return _guarded(format, lambda: vnpay_settlement.parse(content, vnpay_mapping))
    reader = READERS.get(format)
    if reader is None:
        raise ValidationFailed(f"unknown report format {format!r}; expected one of {', '.join(FORMATS)}",
                               code="unknown_report_format")
    return _guarded(format, lambda: reader(content))


#: What a damaged file makes the standard library raise (a date or number it cannot read, an encoding it
#: does not know, a field that is not there); the readers name the row where they can.
UNREADABLE = (ValueError, LookupError, ArithmeticError, SyntaxError)


def _guarded(format: str, read: Callable[[], ParsedFile]) -> ParsedFile:
    # Found by tests/payments/reconciliation/test_parser_fuzz.py: a camt.053 declaring an unknown encoding,
    # a date with a digit missing and a Stripe amount of 1e308 each escaped as a 500.
    try:
        return read()
    except ImportRejected:
        raise
    except UNREADABLE as error:
        log.info("report unreadable", extra={"format": format, "error_type": type(error).__name__})
        raise ImportRejected(f"the file is not a readable {format} report ({type(error).__name__})",
                             source=format) from None
