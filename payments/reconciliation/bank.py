"""Bank-account reconciliation: what should have reached an account against its statement lines.

Design overview
---------------
What should arrive: VietQR transfers (our payment codes, pushed by citizens straight to the agency's
account) and provider payouts (a provider's transfer of many payments, whose amount is the sum of the
nets of its report lines: one payout to many payments must add up to the dong). The passes run in order;
each claims its lines and items, and later passes only see what is left:

0. pairs an officer confirmed earlier                        -> ``matched``
1. our payment code in the line's text                       -> ``matched`` / ``amount_mismatch`` /
                                                                 ``duplicate_at_provider`` /
                                                                 ``status_mismatch`` / ``date_out_of_window``
2. the payout id in the line's text                          -> ``matched`` / ``bank_mismatch``
3. equal amount within the date window, one candidate each   -> ``suggested`` (an officer confirms)
4. what is left: our items                                   -> ``pending`` / ``missing_at_provider`` /
                                                                 ``unpaid`` / ``bank_mismatch`` (payout)
                 credits nobody claims                       -> ``missing_internally`` (to suspense)
                 debits nobody claims (bank fees, transfers) -> ``not_ours``

Lines are identified as banks identify them, by reference, booking day, amount and text, so the same
movement in a re-exported statement counts once and an officer's confirmation survives re-imports. A line
a bank feed reported before (``bank_transfers``, found by the bank's reference and amount) keeps the key
the feed booked it under, whatever day the statement gives it, so it is booked once; and a line the feed
held (short, over, late, no or an unknown code, a bill paid already) is not paired by its code: it is
money no payment explains, ``missing_internally`` in pass 4, the break the feed opened at once. A line the
feed paid a payment with is never money nobody claims: when its payment is not an item of the run (the
feed was late, so the payment was confirmed on a later day), the run of that later day pairs them.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from core.errors import Conflict, NotFound
from payments.reconciliation.matching import PROVIDER_FORMATS, ExpectedItem, MatchingPolicy, day_diff
from payments.reconciliation.models import ReportFile, ReportLine
from payments.reconciliation.runs import ReconConfirmation, ReconResult, ReconRun

_LINES = """
WITH copies AS (
    SELECT l.id, l.payment_code, l.amount, l.booked_on, l.description,
           COALESCE(f.line_key, COALESCE(l.bank_reference, '') || '|' || CAST(l.booked_on AS VARCHAR(10)) || '|'
               || CAST(l.amount AS VARCHAR(20))) AS line_key,
           COALESCE(f.outcome, '') AS feed_outcome,
           ROW_NUMBER() OVER (PARTITION BY COALESCE(l.bank_reference, ''), l.booked_on, l.amount, l.description
                              ORDER BY l.id) AS copy_no
    FROM report_lines l JOIN report_statements s ON s.file_id = l.file_id AND s."index" = l.statement_index
    LEFT JOIN bank_transfers f ON f.account_number = s.account AND f.bank_reference = l.bank_reference
                              AND f.amount = l.amount AND f.outcome <> 'not_a_credit'
    WHERE l.kind = 'bank' AND s.account = :account AND l.booked_on >= :start
), lines AS (
    SELECT * FROM copies
    WHERE copy_no = 1
      AND NOT EXISTS (SELECT 1 FROM recon_results r WHERE r.run_id = :run_id AND r.line_id = copies.id)
), items AS (
    SELECT * FROM recon_items i
    WHERE i.run_id = :run_id
      AND NOT EXISTS (SELECT 1 FROM recon_results r WHERE r.run_id = :run_id AND r.item_id = i.id)
)
"""
_INSERT = ("INSERT INTO recon_results (run_id, item_id, line_id, outcome, reference, provider_reference, "
           "our_amount, their_amount, day)\n")

_CONFIRMED = _INSERT + _LINES + """
SELECT :run_id, i.id, l.id, 'matched', i.reference, l.line_key, i.amount, l.amount, i.occurred_on
FROM recon_confirmations c JOIN lines l ON l.line_key = c.line_key JOIN items i ON i.reference = c.reference
WHERE c.scope = :scope
"""
_BY_CODE = _INSERT + _LINES + """, coded AS (
    SELECT l.*, COUNT(*) OVER (PARTITION BY l.payment_code) AS per_code FROM lines l
    WHERE l.payment_code IS NOT NULL AND l.feed_outcome <> 'held'
)
SELECT :run_id, i.id, l.id,
       CASE WHEN i.status <> 'succeeded' THEN 'status_mismatch'
            WHEN l.per_code > 1 THEN 'duplicate_at_provider'
            WHEN l.amount <> i.amount THEN 'amount_mismatch'
            WHEN {day_diff} > :window THEN 'date_out_of_window'
            ELSE 'matched' END,
       i.reference, l.line_key, i.amount, l.amount, i.occurred_on
FROM items i JOIN coded l ON l.payment_code = i.reference
WHERE i.kind = 'payment'
"""
_BY_PAYOUT_ID = _INSERT + _LINES + """
SELECT :run_id, i.id, l.id, CASE WHEN l.amount = i.amount THEN 'matched' ELSE 'bank_mismatch' END,
       i.reference, l.line_key, i.amount, l.amount, i.occurred_on
FROM items i JOIN lines l ON l.description LIKE '%' || i.reference || '%'
WHERE i.kind = 'payout'
"""
_SUGGESTED = _INSERT + _LINES + """, candidates AS (
    SELECT i.id AS item_id, l.id AS line_id, i.reference, l.line_key, i.amount, l.amount AS their_amount,
           i.occurred_on,
           COUNT(*) OVER (PARTITION BY l.id) AS per_line, COUNT(*) OVER (PARTITION BY i.id) AS per_item
    FROM items i JOIN lines l ON l.amount = i.amount AND l.amount > 0
    WHERE (i.kind = 'payout' OR i.status = 'succeeded') AND {abs_diff} <= :window
)
SELECT :run_id, item_id, line_id, 'suggested', reference, line_key, amount, their_amount, occurred_on
FROM candidates WHERE per_line = 1 AND per_item = 1
"""
_LEFT_ITEMS = _INSERT + _LINES + """
SELECT :run_id, i.id, NULL,
       CASE WHEN i.kind = 'payout' AND i.occurred_on > :pending_after THEN 'pending'
            WHEN i.kind = 'payout' THEN 'bank_mismatch'
            WHEN i.status <> 'succeeded' THEN 'unpaid'
            WHEN i.occurred_on > :pending_after THEN 'pending'
            ELSE 'missing_at_provider' END,
       i.reference, NULL, i.amount, NULL, i.occurred_on
FROM items i
"""
_LEFT_LINES = _INSERT + _LINES + """
SELECT :run_id, NULL, l.id, CASE WHEN l.amount > 0 THEN 'missing_internally' ELSE 'not_ours' END,
       l.payment_code, l.line_key, NULL, l.amount, l.booked_on
FROM lines l WHERE l.booked_on <= :end AND l.feed_outcome <> 'paid'
"""


def classify_bank_lines(session: Session, *, run: ReconRun, account: str, as_of: date,
                        policy: MatchingPolicy) -> None:
    """Run passes 0-4 for ``account`` over the run's period, then drop what context items claimed."""
    params = {"run_id": run.id, "scope": run.scope, "account": account,
              "start": run.period_start - timedelta(days=policy.context_days), "end": run.period_end,
              "window": policy.window_days, "pending_after": as_of - timedelta(days=policy.settlement_lag_days)}
    diff = day_diff(session, "l.booked_on", "i.occurred_on")
    abs_diff = f"ABS({day_diff(session, 'l.booked_on', 'i.occurred_on')})"
    for sql in (_CONFIRMED, _BY_CODE.format(day_diff=diff), _BY_PAYOUT_ID, _SUGGESTED.format(abs_diff=abs_diff),
                _LEFT_ITEMS, _LEFT_LINES):
        session.execute(text(sql), params)
    # Context items (just before the period) only claimed their own lines; their results belong to earlier runs.
    session.execute(text("DELETE FROM recon_results WHERE run_id = :run_id AND item_id IN "
                         "(SELECT id FROM recon_items WHERE run_id = :run_id AND in_period = FALSE)"), params)
    session.execute(text("DELETE FROM recon_results WHERE run_id = :run_id AND item_id IS NULL AND day < :first"),
                    {"run_id": run.id, "first": run.period_start})


def expected_payouts(session: Session, *, providers: tuple[str, ...], period_start: date, period_end: date,
                     context_days: int = 7) -> list[ExpectedItem]:
    """Payouts the providers' reports announce for the period: id, sum of nets, day they are available."""
    formats = [f for provider in providers for f in PROVIDER_FORMATS[provider]]
    first = period_start - timedelta(days=context_days)
    # One row per provider line (a line delivered in two reports counts once), then one per payout.
    per_line = (select(ReportLine.payout_id, ReportLine.provider_reference, func.min(ReportLine.net).label("net"),
                       func.max(ReportLine.value_on).label("value_on"))
                .join(ReportFile, ReportFile.id == ReportLine.file_id)
                .where(ReportLine.kind == "provider", ReportFile.format.in_(formats), ReportLine.payout_id.is_not(None),
                       ReportLine.currency == "VND")  # a payout is expected in dong; other money is never converted
                .group_by(ReportLine.payout_id, ReportLine.provider_reference)).subquery()
    rows = session.execute(select(per_line.c.payout_id, func.sum(per_line.c.net), func.max(per_line.c.value_on))
                           .group_by(per_line.c.payout_id)).all()
    return [ExpectedItem(reference=payout_id, amount=int(total), currency="VND", status="succeeded",
                         occurred_on=arrives, in_period=arrives >= period_start, kind="payout")
            for payout_id, total, arrives in rows if arrives is not None and first <= arrives <= period_end]


def confirm_suggestion(session: Session, result_id: int, *, officer: str,
                       clock: Clock = SYSTEM_CLOCK) -> ReconConfirmation:
    """Accept a suggested pair; from the next run on it is matched, whatever the statement's export."""
    result = session.get(ReconResult, result_id)
    if result is None or result.outcome != "suggested":
        raise NotFound(f"no suggested match {result_id}", code="suggestion_not_found")
    run = session.get(ReconRun, result.run_id)
    exists = session.scalar(select(ReconConfirmation.id).where(ReconConfirmation.scope == run.scope,
                                                               ReconConfirmation.line_key == result.provider_reference))
    if exists is not None:
        raise Conflict("this bank line is already confirmed", code="already_confirmed")
    confirmation = ReconConfirmation(scope=run.scope, line_key=result.provider_reference, reference=result.reference,
                                     confirmed_by=officer, confirmed_at=clock.now())
    session.add(confirmation)
    session.flush()
    return confirmation
