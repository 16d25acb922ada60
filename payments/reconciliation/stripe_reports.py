"""Stripe report CSVs: itemized payout reconciliation and itemized balance change from activity.

Report CSVs carry amounts in MAJOR units (the API uses minor units); VND is zero-decimal so both agree for
our charges, but the conversion still goes through the currency's exponent so a USD line is read right.
Timestamps are UTC (``created_utc``). Our payment code travels in ``payment_metadata[payment_code]``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from payments.codes import extract_payment_code
from payments.reconciliation.parsed import ImportRejected, ParsedFile, ProviderLine, minor, sha256_of
from payments.reconciliation.tabular import rows_of

SOURCE = "Stripe report"
#: Stripe's reporting categories are short words (``charge``, ``refund``…); the column holds 40 characters.
MAX_CATEGORY = 40
REQUIRED = ("balance_transaction_id", "created_utc", "currency", "gross", "fee", "net", "reporting_category")


def parse(content: bytes) -> ParsedFile:
    """Read a Stripe itemized report (payout reconciliation or balance change from activity)."""
    rows = [(number, cells) for number, cells in rows_of(content, source=SOURCE) if any(cells)]
    if not rows:
        raise ImportRejected("empty file", source=SOURCE)
    header = [cell.strip() for cell in rows[0][1]]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ImportRejected(f"not a Stripe itemized report: missing columns {', '.join(missing)}", row=rows[0][0],
                             source=SOURCE)
    metadata_keys = tuple((key, key[len("payment_metadata["):-1]) for key in header
                          if key.startswith("payment_metadata[") and key.endswith("]"))
    lines = tuple(_line(number, _record(header, cells, number), metadata_keys) for number, cells in rows[1:])
    kind = "stripe_payout_reconciliation" if "automatic_payout_id" in header else "stripe_balance_change"
    return ParsedFile(kind, sha256_of(content), provider_lines=lines)


def _record(header: list[str], cells: list[str], row: int) -> dict[str, str]:
    # A row with more or fewer cells than the header would shift every column after the gap.
    if len(cells) != len(header):
        raise ImportRejected(f"{len(cells)} cells where the header has {len(header)}", row=row, source=SOURCE)
    return dict(zip(header, cells, strict=True))


def _line(row: int, record: dict[str, str], metadata_keys: tuple[tuple[str, str], ...]) -> ProviderLine:
    currency = record["currency"].upper()
    metadata = {name: record[column] for column, name in metadata_keys if record.get(column)}

    def amount(name: str) -> int:
        return minor(record[name] or "0", currency, row=row, source=SOURCE)

    gross, fee, net = amount("gross"), amount("fee"), amount("net")
    if gross - fee != net:
        raise ImportRejected(f"gross {gross} - fee {fee} != net {net}", row=row, source=SOURCE)
    return ProviderLine(
        row=row, provider_reference=_required(record, "balance_transaction_id", row),
        occurred_at=_utc(record["created_utc"], row), currency=currency, gross=gross, fee=fee, net=net,
        category=_category(record["reporting_category"], row), payout_id=record.get("automatic_payout_id") or None,
        available_on=_utc(record["available_on_utc"], row).date() if record.get("available_on_utc") else None,
        payment_code=extract_payment_code(*metadata.values(), record.get("description")),
        metadata={**metadata, **{k: record[k] for k in ("source_id", "charge_id", "payment_intent_id")
                                 if record.get(k)}},
    )


def _category(text: str, row: int) -> str:
    category = text.strip()
    if len(category) > MAX_CATEGORY:
        raise ImportRejected(f"reporting_category is longer than {MAX_CATEGORY} characters", row=row, source=SOURCE)
    return category


def _required(record: dict[str, str], name: str, row: int) -> str:
    value = (record.get(name) or "").strip()
    if not value:
        raise ImportRejected(f"{name} is empty", row=row, source=SOURCE)
    return value


def _utc(text: str, row: int) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
        # Stripe writes UTC without an offset; a value that carries one is converted, never relabelled.
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except ValueError:
        raise ImportRejected(f"timestamp {text!r} is not YYYY-MM-DD HH:MM:SS", row=row, source=SOURCE) from None


