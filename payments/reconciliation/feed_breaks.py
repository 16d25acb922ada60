"""Breaks opened the moment a bank feed reports money nothing explains, before any statement arrives.

A held transfer (``payments.bank_intake``) is money on an agency's account that must go back or be
applied: the finance officer should see it at once, on the same workbench as the breaks statement runs
open. So it opens a break of the account's scope (``bank:<account>``) with the kind and the key a
statement run gives the same line: ``ref:<code>`` for a transfer naming our payment at the wrong amount,
too late or for a closed bill, ``line:<reference|day|amount>`` for one no payment claims or one that pays
a bill twice. When the statement is reconciled, the run finds the same difference and keeps the same
break instead of opening a second one.

Each held transfer's break hangs off a run of its own (rule version ``bank-feed``, the day it arrived),
which records which feed reported it; such a run has no results and is not one an officer signs off.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from core.clock import Clock
from payments.reconciliation.breaks import Difference, break_key, record_differences
from payments.reconciliation.runs import ReconRun

FEED_RULES = "bank-feed"
#: A held transfer's reason -> the break kind a statement run gives the same line.
KIND_OF_REASON = {"amount_short": "amount_mismatch", "amount_over": "amount_mismatch", "late": "date_out_of_window",
                  "already_paid": "duplicate_at_provider", "bill_cancelled": "status_mismatch",
                  "payment_closed": "status_mismatch", "not_a_transfer_payment": "status_mismatch",
                  "no_code": "missing_internally", "unknown_code": "missing_internally"}


def open_feed_break(session: Session, *, account: str, connection: str, reason: str, code: str | None,
                    line_key: str, day: date, ours: int | None, theirs: int, clock: Clock) -> None:
    """Open (or keep) the break of a transfer held for ``reason`` on ``account``'s scope."""
    kind = KIND_OF_REASON[reason]
    run = _feed_run(session, f"bank:{account}", connection, clock)
    difference = Difference(kind, break_key(kind, code, line_key), day, ours, theirs)
    record_differences(session, run, [difference], closes=(), window=(day, day), clock=clock)


def _feed_run(session: Session, scope: str, connection: str, clock: Clock) -> ReconRun:
    today, now = clock.today_in_vietnam(), clock.now()
    run = ReconRun(scope=scope, period_start=today, period_end=today, rule_version=FEED_RULES, status="completed",
                   progress=100, started_by=f"bank-feed:{connection}", started_at=now, finished_at=now)
    session.add(run)
    session.flush()
    return run
