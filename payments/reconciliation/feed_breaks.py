"""Breaks opened the moment a bank feed reports money nothing explains, before any statement arrives.

A held transfer (``payments.bank_intake``) is money on an agency's account that must go back or be
applied: the finance officer should see it at once, on the same workbench as the breaks statement runs
open. So it opens a break of the account's scope (``bank:<account>``) with the kind and the key a
statement run gives the same line: held money is money no payment explains, whatever the reason (short,
over, late, to a cancelled or an already paid bill, no or an unknown code), so it is ``missing_internally``
keyed by the bank line (``line:<reference|day|amount>``). A statement run finds the feed's transfer by the
bank's reference and does not pair a held line by its code (``reconciliation.bank``): it gives the line the
same kind and key, and keeps the break, even after the attempt it named has expired. The feed's reason
and the payment the transfer named are written on the break as its first note, for the officer.

Each held transfer's break hangs off a run of its own (rule version ``bank-feed``, the day it arrived),
which records which feed reported it; such a run has no results and is not one an officer signs off.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from payments.reconciliation.break_states import LIVE, annotate, close_matched
from payments.reconciliation.breaks import Difference, break_key, record_differences
from payments.reconciliation.runs import ReconBreak, ReconRun

FEED_RULES = "bank-feed"
#: The start of the note a feed break carries: why the transfer was held, and the payment code it named.
FEED_NOTE = "held_by_bank_feed"


def open_feed_break(session: Session, *, account: str, connection: str, reason: str, code: str | None,
                    line_key: str, day: date, ours: int | None, theirs: int, clock: Clock) -> None:
    """Open (or keep) the break of a transfer held for ``reason`` on ``account``'s scope, noting why."""
    kind = "missing_internally"
    run = _feed_run(session, f"bank:{account}", connection, clock)
    key = break_key(kind, None, line_key)
    record_differences(session, run, [Difference(kind, key, day, ours, theirs)], closes=(), window=(day, day),
                       clock=clock)
    found = session.scalars(select(ReconBreak).where(ReconBreak.scope == run.scope, ReconBreak.kind == kind,
                                                     ReconBreak.key == key)).one()
    annotate(session, found, f"{FEED_NOTE}: {reason}, {code or '-'}", actor=run.started_by, at=clock.now())


def close_identified(session: Session, *, account: str, connection: str, code: str, line_key: str,
                     clock: Clock) -> None:
    """A run that saw the line before the feed did (the feed was late) found money nobody claimed; the feed
    has now paid ``code`` with it, so that break is closed, naming the payment."""
    found = session.execute(select(ReconBreak.id, ReconBreak.status).where(
        ReconBreak.scope == f"bank:{account}", ReconBreak.kind == "missing_internally",
        ReconBreak.key == break_key("missing_internally", None, line_key), ReconBreak.status.in_(LIVE))).all()
    if found:
        run = _feed_run(session, f"bank:{account}", connection, clock)
        close_matched(session, [(row.id, row.status) for row in found], run_id=run.id, at=clock.now(),
                      note=f"identified by the bank feed: paid {code}")


def _feed_run(session: Session, scope: str, connection: str, clock: Clock) -> ReconRun:
    today, now = clock.today_in_vietnam(), clock.now()
    run = ReconRun(scope=scope, period_start=today, period_end=today, rule_version=FEED_RULES, status="completed",
                   progress=100, started_by=f"bank-feed:{connection}", started_at=now, finished_at=now)
    session.add(run)
    session.flush()
    return run
