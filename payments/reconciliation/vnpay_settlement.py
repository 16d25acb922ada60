"""VNPay settlement files, read through a column mapping.

VNPay does not publish its settlement layout: each merchant contract describes one. So the mapping from
the file's column headers to our fields is configuration (``VnpayMapping``, loadable from a dict), not
code. Amounts in settlement files are whole dong; ``amount_divisor`` covers files that copy the API's
``vnp_Amount`` (dong x 100).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from core.clock import VIETNAM
from payments.codes import extract_payment_code
from payments.reconciliation.parsed import ImportRejected, ParsedFile, ProviderLine, sha256_of
from payments.reconciliation.tabular import normalise_header, rows_of

SOURCE = "VNPay settlement"


@dataclass(frozen=True)
class VnpayMapping:
    """Which column holds which field, and how to read dates and amounts."""

    transaction_no: str = "Mã GD VNPAY"
    txn_ref: str = "Mã tham chiếu"
    amount: str = "Số tiền"
    fee: str = "Phí"
    paid_at: str = "Thời gian thanh toán"
    status: str = "Trạng thái"
    success_values: tuple[str, ...] = ("Thành công", "00")
    datetime_format: str = "%d/%m/%Y %H:%M:%S"
    amount_divisor: int = 1

    @classmethod
    def from_dict(cls, values: dict) -> VnpayMapping:
        """Build a mapping from configuration; unknown keys are an error, not ignored."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ImportRejected(f"unknown mapping keys: {', '.join(sorted(unknown))}", source=SOURCE)
        if "success_values" in values:
            values = {**values, "success_values": tuple(values["success_values"])}
        return cls(**values)


def parse(content: bytes, mapping: VnpayMapping | None = None) -> ParsedFile:
    """Read a VNPay settlement file (CSV or XLSX) with ``mapping``; only successful rows are kept."""
    mapping = mapping or VnpayMapping()
    rows = [(number, cells) for number, cells in rows_of(content, source=SOURCE) if any(cells)]
    header_index, columns = _header(rows, mapping)
    lines = []
    for number, cells in rows[header_index + 1:]:
        record = {name: cells[i] if i < len(cells) else "" for name, i in columns.items()}
        if record["status"] and record["status"] not in mapping.success_values:
            continue
        lines.append(_line(number, record, mapping))
    return ParsedFile("vnpay", sha256_of(content), provider_lines=tuple(lines))


def _header(rows, mapping: VnpayMapping) -> tuple[int, dict[str, int]]:
    wanted = {"transaction_no": mapping.transaction_no, "txn_ref": mapping.txn_ref, "amount": mapping.amount,
              "fee": mapping.fee, "paid_at": mapping.paid_at, "status": mapping.status}
    for index, (_, cells) in enumerate(rows[:20]):
        names = [normalise_header(c) for c in cells]
        found = {key: names.index(normalise_header(title)) for key, title in wanted.items()
                 if normalise_header(title) in names}
        if {"transaction_no", "txn_ref", "amount", "paid_at"} <= set(found):
            found.setdefault("status", len(cells) + 1)
            found.setdefault("fee", len(cells) + 1)
            return index, found
    raise ImportRejected(f"no header with the mapped columns ({mapping.transaction_no}, {mapping.txn_ref}, "
                         f"{mapping.amount}, {mapping.paid_at})", source=SOURCE)


def _line(row: int, record: dict[str, str], mapping: VnpayMapping) -> ProviderLine:
    gross, fee = _dong(record["amount"], row, mapping), _dong(record["fee"] or "0", row, mapping)
    try:
        paid_at = datetime.strptime(record["paid_at"].strip(), mapping.datetime_format).replace(tzinfo=VIETNAM)
    except ValueError:
        raise ImportRejected(f"time {record['paid_at']!r} does not match {mapping.datetime_format}", row=row,
                             source=SOURCE) from None
    if not record["transaction_no"].strip():
        raise ImportRejected("empty VNPay transaction number", row=row, source=SOURCE)
    return ProviderLine(row=row, provider_reference=record["transaction_no"].strip(), occurred_at=paid_at,
                        currency="VND", gross=gross, fee=fee, net=gross - fee, category="charge",
                        payment_code=extract_payment_code(record["txn_ref"]),
                        metadata={"txn_ref": record["txn_ref"].strip()})


def _dong(text: str, row: int, mapping: VnpayMapping) -> int:
    digits = text.replace(",", "").replace(".", "").replace(" ", "").strip()
    if not digits.lstrip("-").isdigit():
        raise ImportRejected(f"amount {text!r} is not a whole number", row=row, source=SOURCE)
    value = int(digits)
    if value % mapping.amount_divisor:
        raise ImportRejected(f"amount {value} is not a multiple of {mapping.amount_divisor}", row=row, source=SOURCE)
    return value // mapping.amount_divisor
