"""Stripe payouts fetched through the API (``StripeProvider.payouts_report``), read like a report file.

The document lists paid payouts with their balance transactions. Unlike the report CSVs, API amounts are
already in MINOR units (for VND, đồng), so they are taken as integers and never scaled; a float, a string
or a boolean where an amount belongs rejects the file. Rows are numbered in document order from 1, so a
rejection names the balance transaction's position. Our payment code travels in the charge's metadata
(``payment_id``, which ``StripeProvider`` sets on the PaymentIntent) or its description.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from payments.codes import extract_payment_code
from payments.reconciliation.parsed import ImportRejected, ParsedFile, ProviderLine, sha256_of

SOURCE = "Stripe API payouts"
FORMAT = "stripe_api_payouts"
#: 1 January 2100: a later timestamp is a corrupt one (and Python's dates end in year 9999).
LATEST_TIMESTAMP = 4_102_444_800
_ITEM_FIELDS = ("id", "reporting_category", "amount", "fee", "net", "currency", "created")


def parse(content: bytes) -> ParsedFile:
    """Read a payouts document; raise ``ImportRejected`` naming the row of the first malformed item."""
    try:
        document = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ImportRejected(f"not JSON: {error}", source=SOURCE) from None
    if not isinstance(document, dict) or document.get("source") != "stripe_api" \
            or not isinstance(document.get("payouts"), list):
        raise ImportRejected("not a Stripe payouts document (source stripe_api with a payouts list)", source=SOURCE)
    lines, row = [], 0
    for payout in document["payouts"]:
        payout_id = _payout_id(payout, row + 1)
        items = payout.get("balance_transactions") or []
        if not isinstance(items, list):
            raise ImportRejected(f"payout {payout_id}: balance_transactions is not a list", row=row + 1,
                                 source=SOURCE)
        for item in items:
            row += 1
            lines.append(_line(row, item, payout_id))
    return ParsedFile(FORMAT, sha256_of(content), provider_lines=tuple(lines))


def _payout_id(payout: Any, row: int) -> str:
    if not isinstance(payout, dict) or not isinstance(payout.get("id"), str) or not payout["id"]:
        raise ImportRejected("a payout without an id", row=row, source=SOURCE)
    return payout["id"]


def _line(row: int, item: Any, payout_id: str) -> ProviderLine:
    if not isinstance(item, dict):
        raise ImportRejected("a balance transaction that is not an object", row=row, source=SOURCE)
    missing = [name for name in _ITEM_FIELDS if item.get(name) in (None, "")]
    if missing:
        raise ImportRejected(f"missing {', '.join(missing)}", row=row, source=SOURCE)
    gross, fee, net = (_minor(item, name, row) for name in ("amount", "fee", "net"))
    if gross - fee != net:
        raise ImportRejected(f"amount {gross} - fee {fee} != net {net}", row=row, source=SOURCE)
    source = item.get("source") if isinstance(item.get("source"), dict) else {}
    metadata = source.get("metadata") or {}
    if not isinstance(metadata, dict) or not isinstance(source.get("description") or "", str):
        raise ImportRejected("the charge's metadata is not an object or its description not text", row=row,
                             source=SOURCE)
    metadata = {str(k): str(v) for k, v in metadata.items()}
    return ProviderLine(
        row=row, provider_reference=str(item["id"]), occurred_at=_utc(item, "created", row),
        currency=str(item["currency"]).upper(), gross=gross, fee=fee, net=net,
        category=str(item["reporting_category"]), payout_id=payout_id,
        available_on=_utc(item, "available_on", row).date() if item.get("available_on") is not None else None,
        payment_code=extract_payment_code(*metadata.values(), source.get("description")),
        metadata={**metadata, **_ids(source)})


def _minor(item: dict, name: str, row: int) -> int:
    value = item[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ImportRejected(f"{name} {value!r} is not an integer amount in minor units", row=row, source=SOURCE)
    return value


def _utc(item: dict, name: str, row: int) -> datetime:
    value = item[name]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < LATEST_TIMESTAMP:
        raise ImportRejected(f"{name} {value!r} is not a Unix timestamp", row=row, source=SOURCE)
    return datetime.fromtimestamp(value, UTC)


def _ids(source: dict) -> dict[str, str]:
    ids = {"source_id": source.get("id"), "payment_intent_id": source.get("payment_intent")}
    if source.get("object") == "charge":
        ids["charge_id"] = source.get("id")
    return {k: str(v) for k, v in ids.items() if v}

