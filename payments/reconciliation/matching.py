"""Provider reconciliation: our payments against a provider's reports, in ordered SQL passes.

Design overview
---------------
One ``INSERT … SELECT`` classifies every item of the run's snapshot and every provider line of the period,
so a million rows stay inside the database. The classification is an ordered list of rules (the first
that holds wins), read top to bottom:

1. a line nobody on our side knows                        -> ``missing_internally``
2. our success without a line, younger than the lag       -> ``pending`` (not a break yet)
3. our success without a line                             -> ``missing_at_provider``
4. our failure without a line                             -> ``unpaid`` (as it should be)
5. a line for something we recorded as not paid           -> ``status_mismatch`` (highest priority)
6. two or more provider lines for one of our references   -> ``duplicate_at_provider``
7. same reference, different amount                       -> ``amount_mismatch``
8. booked later than the window after our day             -> ``date_out_of_window``
9. otherwise                                              -> ``matched``

Copies of one provider line that arrive in several files (a balance report and a payout report) count
once (the first imported). Copies and codes are counted by hashing (GROUP BY), not by sorting a million
lines for window functions. Lines booked after the period still pair with the period's items (a late booking is
``date_out_of_window``, not lost), while unknown lines after the period wait for the next run. Lines that
pair with context items from just before the period belong to the previous run and are skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from operator import itemgetter

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.db import bulk_insert, postgres_settings
from payments.reconciliation.runs import ReconItem, ReconResult

RULE_VERSION = "2026.11.1"
#: Sort and hash memory for the classifying statement: a million lines sort in memory instead of on disk.
CLASSIFY_WORK_MEMORY = "192MB"
#: Which imported file formats carry each provider's lines.
PROVIDER_FORMATS: dict[str, tuple[str, ...]] = {
    "stripe": ("stripe_payout_reconciliation", "stripe_balance_change", "stripe_api_payouts"),
    "vnpay": ("vnpay",),
}


@dataclass(frozen=True)
class ExpectedItem:
    """One payment as our records say it happened (what the payments package hands to a run)."""

    reference: str
    amount: int
    currency: str
    status: str
    occurred_on: date
    in_period: bool = True
    service_code: str | None = None
    agency_code: str | None = None
    #: ``payment``, or ``payout`` for a provider's transfer that should reach a bank account.
    kind: str = "payment"


@dataclass(frozen=True)
class MatchingPolicy:
    """The tolerances of a run; part of what makes two runs comparable."""

    #: Days a provider may take to report a payment before its absence is a break (T+2).
    settlement_lag_days: int = 2
    #: Days after our day within which the provider's booking still counts as on time.
    window_days: int = 2
    #: Days before the period whose items are loaded as context, so their late lines are not unknown.
    context_days: int = 7


def snapshot_items(session: Session, run_id: int, items: Iterable[ExpectedItem]) -> int:
    """Freeze our side of the run; return how many items it holds."""
    rows = [(run_id, i.kind, i.reference, i.amount, i.currency, i.status, i.occurred_on, i.in_period,
             i.service_code, i.agency_code) for i in items]
    # In reference order, each insert into the unique (run_id, reference) index lands on its rightmost page:
    # a million random codes would take ten times longer. The same items always get the same ids.
    rows.sort(key=itemgetter(2))
    bulk_insert(session, ReconItem, rows, columns=_ITEM_COLUMNS)
    return len(rows)


_ITEM_COLUMNS = ("run_id", "kind", "reference", "amount", "currency", "status", "occurred_on", "in_period",
                 "service_code", "agency_code")


def classify_provider_lines(session: Session, *, run_id: int, provider: str, period_start: date, period_end: date,
                            as_of: date, policy: MatchingPolicy) -> None:
    """Write one ``recon_results`` row per item, line or pair of the run."""
    formats = PROVIDER_FORMATS[provider]
    placeholders = ", ".join(f":format_{i}" for i in range(len(formats)))
    sql = _CLASSIFY.format(formats=placeholders, day_diff=day_diff(session, "booked_on", "occurred_on"))
    params = {f"format_{i}": name for i, name in enumerate(formats)}
    params.update(run_id=run_id, start=period_start, end=period_end,
                  pending_after=as_of - timedelta(days=policy.settlement_lag_days), window=policy.window_days)
    # Freshly imported lines have no statistics yet; a nested loop planned on a guess of one row would
    # take hours over a million, so the statement is held to hash joins (its plan for any size).
    with postgres_settings(session, work_mem=CLASSIFY_WORK_MEMORY, enable_nestloop="off"):
        session.execute(text(sql), params)


def result_digest(session: Session, run_id: int) -> str:
    """SHA-256 of the run's results in canonical order: equal for byte-identical results.

    Each result is ``outcome|reference|provider reference|our amount|their amount|day`` and a newline
    (empty for NULL). PostgreSQL hashes a million rows itself instead of sending them here.
    """
    if session.get_bind().dialect.name == "postgresql":
        return session.scalar(text(_DIGEST_SQL), {"run_id": run_id})
    return digest_row_by_row(session, run_id)


def digest_row_by_row(session: Session, run_id: int) -> str:
    """``result_digest`` computed here from the rows (SQLite, and the reference for PostgreSQL's)."""
    digest = hashlib.sha256()
    for row in session.execute(_canonical_results(run_id, session.get_bind().dialect.name == "postgresql")):
        digest.update("|".join("" if v is None else str(v) for v in row).encode())
        digest.update(b"\n")
    return digest.hexdigest()


_DIGEST_SQL = """
SELECT encode(sha256(convert_to(coalesce(string_agg(
           concat_ws('|', outcome, coalesce(reference, ''), coalesce(provider_reference, ''),
                     coalesce(our_amount::text, ''), coalesce(their_amount::text, ''), to_char(day, 'YYYY-MM-DD')),
           E'\\n' ORDER BY day, reference COLLATE "C", provider_reference COLLATE "C", outcome COLLATE "C")
           || E'\\n', ''), 'UTF8')), 'hex')
FROM recon_results WHERE run_id = :run_id
"""


def _canonical_results(run_id: int, postgresql: bool):
    """Results in canonical order: by day, then references byte for byte (SQLite's order; "C" on PostgreSQL,
    where sorting a million references by bytes is several times faster than by the locale's rules)."""
    r = ReconResult

    def bytewise_order(column):
        return column.collate("C") if postgresql else column

    return (select(r.outcome, r.reference, r.provider_reference, r.our_amount, r.their_amount, r.day)
            .where(r.run_id == run_id)
            .order_by(r.day, bytewise_order(r.reference), bytewise_order(r.provider_reference),
                      bytewise_order(r.outcome)))


def day_diff(session: Session, later: str, earlier: str) -> str:
    if session.get_bind().dialect.name == "sqlite":
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
    return f"({later} - {earlier})"


_CLASSIFY = """
INSERT INTO recon_results (run_id, item_id, line_id, outcome, reference, provider_reference, our_amount,
                           their_amount, day)
WITH provider_lines AS (
    SELECT l.id, l.payment_code, l.provider_reference, l.amount, l.booked_on
    FROM report_lines l JOIN report_files f ON f.id = l.file_id
    WHERE l.kind = 'provider' AND l.category = 'charge' AND f.format IN ({formats})
      AND l.booked_on >= :start
), lines AS (
    SELECT * FROM provider_lines
    WHERE id IN (SELECT MIN(id) FROM provider_lines GROUP BY provider_reference)
), codes AS (
    SELECT payment_code, COUNT(*) AS per_code FROM lines WHERE payment_code IS NOT NULL
    GROUP BY payment_code
), items AS (
    SELECT id, reference, amount, status, occurred_on, in_period FROM recon_items
    WHERE run_id = :run_id AND kind = 'payment'
), pairs AS (
    SELECT i.id AS item_id, l.id AS line_id, i.reference, l.provider_reference, i.amount AS our_amount,
           l.amount AS their_amount, i.status, i.in_period, i.occurred_on, l.booked_on, c.per_code
    FROM items i FULL OUTER JOIN lines l ON l.payment_code = i.reference
    LEFT JOIN codes c ON c.payment_code = l.payment_code
)
SELECT :run_id, item_id, line_id,
       CASE
           WHEN item_id IS NULL THEN 'missing_internally'
           WHEN line_id IS NULL AND status = 'succeeded' AND occurred_on > :pending_after THEN 'pending'
           WHEN line_id IS NULL AND status = 'succeeded' THEN 'missing_at_provider'
           WHEN line_id IS NULL THEN 'unpaid'
           WHEN status <> 'succeeded' THEN 'status_mismatch'
           WHEN per_code > 1 THEN 'duplicate_at_provider'
           WHEN their_amount <> our_amount THEN 'amount_mismatch'
           WHEN {day_diff} > :window THEN 'date_out_of_window'
           ELSE 'matched'
       END,
       reference, provider_reference, our_amount, their_amount, COALESCE(occurred_on, booked_on)
FROM pairs
WHERE NOT (item_id IS NOT NULL AND in_period = FALSE)
  AND NOT (item_id IS NULL AND booked_on > :end)
"""
