"""A seeded generator of one day of payments and the provider's report, with known breaks of every kind.

Used by the tests (the engine must find exactly the planted breaks), by ``make bench`` (a million rows)
and by the demo seed. The same seed always gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from payments.codes import ALPHABET
from payments.reconciliation.matching import ExpectedItem

KINDS = ("missing_at_provider", "missing_internally", "amount_mismatch", "duplicate_at_provider",
         "date_out_of_window", "status_mismatch")
STRIPE_HEADER = ["balance_transaction_id", "created_utc", "available_on_utc", "currency", "gross", "fee", "net",
                 "reporting_category", "source_id", "description", "automatic_payout_id",
                 "payment_metadata[payment_code]"]
SERVICES = (("LLTP", 200_000), ("LLTP", 100_000), ("TLHT", 8_000), ("PARKING", 25_000))


@dataclass(frozen=True)
class SyntheticDay:
    """Our items, the provider's report as CSV bytes, and the outcome counts a correct engine must find."""

    items: list[ExpectedItem]
    report: bytes
    expected: dict[str, int]


def payment_code(rng: random.Random) -> str:
    """Return a random payment code in our format."""
    return "GW" + "".join(rng.choice(ALPHABET) for _ in range(10))


def generate_day(day: date, n: int, *, breaks_per_kind: int, seed: int = 20261201) -> SyntheticDay:
    """Plan ``n`` payments on ``day`` with ``breaks_per_kind`` planted breaks of each kind."""
    rng = random.Random(seed)
    codes = sorted({payment_code(rng) for _ in range(n * 2)})[:n]
    rng.shuffle(codes)
    k = breaks_per_kind
    planted = {kind: set(codes[i * k:(i + 1) * k]) for i, kind in enumerate(KINDS) if kind != "missing_internally"}
    items, rows = [], []
    for code in codes:
        service, amount = rng.choice(SERVICES)
        status = "failed" if code in planted["status_mismatch"] else "succeeded"
        items.append(ExpectedItem(code, amount, "VND", status, day, service_code=service))
        if code in planted["missing_at_provider"]:
            continue
        paid = amount + (1_000 if code in planted["amount_mismatch"] else 0)
        lateness = timedelta(days=3) if code in planted["date_out_of_window"] else timedelta(0)
        copies = 2 if code in planted["duplicate_at_provider"] else 1
        rows += [_stripe_row(rng, code, paid, day, lateness) for _ in range(copies)]
    rows += [_stripe_row(rng, payment_code(rng), 50_000, day, timedelta(0)) for _ in range(k)]
    rng.shuffle(rows)
    expected = {kind: k for kind in KINDS}
    expected["duplicate_at_provider"] = 2 * k  # both lines of a duplicated reference
    expected["matched"] = n - 5 * k
    return SyntheticDay(items, _csv(rows), expected)


def _stripe_row(rng: random.Random, code: str, amount: int, day: date, lateness: timedelta) -> list[str]:
    # Hà Nội business hours, written in UTC as Stripe reports do.
    local = datetime.combine(day, time(8)) + timedelta(seconds=rng.randrange(9 * 3600)) + lateness
    created = local - timedelta(hours=7)
    fee = amount * 39 // 1000
    txn = "txn_" + "".join(rng.choice(ALPHABET) for _ in range(14))
    return [txn, created.strftime("%Y-%m-%d %H:%M:%S"), (created + timedelta(days=2)).strftime("%Y-%m-%d 00:00:00"),
            "vnd", str(amount), str(fee), str(amount - fee), "charge", "ch_" + txn[4:], "Phí dịch vụ công",
            "po_" + day.strftime("%Y%m%d"), code]


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(STRIPE_HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode()


