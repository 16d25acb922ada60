"""The break register: open breaks from a run's results, close them when a later run matches, and work them.

A break moves open -> investigating -> resolution_proposed -> approved -> resolved, or to auto_closed when a
later run of its scope finds it matched; the moves and their one writer are in ``break_states``, which
appends a ``break_events`` row per change. The officer who proposes a resolution cannot approve it
(checked here and by a database constraint). A resolution that moves money (``resolutions``) is posted to
the ledger in the approval itself, and its event names the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from core.db import bulk_insert
from core.errors import NotFound, PermissionDenied, ValidationFailed
from payments.reconciliation import break_states, resolutions
from payments.reconciliation.break_states import LIVE
from payments.reconciliation.runs import PRIORITY, ReconBreak, ReconResult, ReconRun

RESULT_BREAKS = ("status_mismatch", "missing_at_provider", "missing_internally", "amount_mismatch",
                 "duplicate_at_provider", "date_out_of_window", "bank_mismatch")
#: Settlement dates a live break may outlast, after the one its money was due on, before it escalates.
ESCALATE_AFTER_SETTLEMENT_DATES = 2


def escalates_on(day: date, settlement_lag_days: int) -> date:
    """The first day a break of ``day`` counts as escalated if it is still live (the BC Gov rule).

    Money of ``day`` is due on the settlement date ``day + lag``; settlement dates follow daily, so a break
    still open after the second settlement date after that one escalates the next day.
    """
    return day + timedelta(days=settlement_lag_days + ESCALATE_AFTER_SETTLEMENT_DATES + 1)


def is_escalated(status: str, day: date, today: date, settlement_lag_days: int) -> bool:
    """Whether a break of ``day`` in ``status`` is escalated on ``today``."""
    return status in LIVE and today >= escalates_on(day, settlement_lag_days)


def break_key(kind: str, reference: str | None, provider_reference: str | None) -> str:
    """Identity of a break across runs: the provider's line for unknown or duplicated lines, else ours."""
    if kind in ("missing_internally", "duplicate_at_provider") or reference is None:
        return f"line:{provider_reference}"
    return f"ref:{reference}"


@dataclass(frozen=True)
class Difference:
    """One difference a run found: its kind, its identity across runs, its day and the amounts."""

    kind: str
    key: str
    day: date
    our_amount: int | None
    their_amount: int | None


def record_breaks(session: Session, run: ReconRun, clock: Clock = SYSTEM_CLOCK) -> int:
    """Open a break for each new difference in ``run``'s results, refresh known ones, close what now matches."""
    results = session.execute(
        select(ReconResult.outcome, ReconResult.reference, ReconResult.provider_reference,
               ReconResult.our_amount, ReconResult.their_amount, ReconResult.day)
        .where(ReconResult.run_id == run.id, ReconResult.outcome.in_(RESULT_BREAKS))).all()
    differences = [Difference(outcome, break_key(outcome, reference, provider_reference), day, ours, theirs)
                   for outcome, reference, provider_reference, ours, theirs, day in results]
    record_differences(session, run, differences, closes=RESULT_BREAKS, clock=clock)
    return len(results)


def record_differences(session: Session, run: ReconRun, differences: list[Difference], *,
                       closes: tuple[str, ...], window: tuple[date, date] | None = None,
                       clock: Clock = SYSTEM_CLOCK) -> int:
    """Register ``differences`` as breaks of ``run``'s scope; auto-close live ones of kinds ``closes`` it no
    longer finds in ``window`` (its period unless given: a run that looks at whole months closes the whole
    months). Set-based, so tens of thousands of differences stay a handful of statements."""
    known = dict(session.execute(select(ReconBreak.kind + "|" + ReconBreak.key, ReconBreak.status)
                                 .where(ReconBreak.scope == run.scope)).all())
    now, seen, fresh = clock.now(), set(), {}
    for difference in differences:
        identity = f"{difference.kind}|{difference.key}"
        seen.add(identity)
        if identity not in known:
            fresh[identity] = {"scope": run.scope, "kind": difference.kind, "key": difference.key,
                               "status": break_states.OPEN, "priority": PRIORITY[difference.kind],
                               "day": difference.day,
                               "our_amount": difference.our_amount, "their_amount": difference.their_amount,
                               "currency": "VND", "opened_run_id": run.id, "last_seen_run_id": run.id,
                               "opened_at": now}
    bulk_insert(session, ReconBreak, list(fresh.values()))
    opened = session.scalars(select(ReconBreak.id).where(ReconBreak.opened_run_id == run.id)).all()
    break_states.record_opened(session, list(opened), run_id=run.id, at=now)
    _refresh_and_close(session, run, seen, now, closes, window or (run.period_start, run.period_end))
    session.flush()
    return len(differences)


def _refresh_and_close(session: Session, run: ReconRun, seen: set[str], now, closes: tuple[str, ...],
                       window: tuple[date, date]) -> None:
    live = session.execute(select(ReconBreak.id, ReconBreak.kind + "|" + ReconBreak.key, ReconBreak.status,
                                  ReconBreak.day, ReconBreak.kind)
                           .where(ReconBreak.scope == run.scope, ReconBreak.status.in_(LIVE),
                                  ReconBreak.opened_run_id != run.id)).all()
    still = [row.id for row in live if row[1] in seen]
    for start in range(0, len(still), 5_000):
        session.execute(update(ReconBreak).where(ReconBreak.id.in_(still[start:start + 5_000]))
                        .values(last_seen_run_id=run.id))
    gone = [row for row in live if row[1] not in seen and row.kind in closes
            and window[0] <= row.day <= window[1]]
    break_states.close_matched(session, [(row.id, row.status) for row in gone], run_id=run.id, at=now,
                               note="matched by a later run")


def move_break(session: Session, break_id: int, to_status: str, *, actor: str, note: str = "",
               movement: resolutions.Movement | None = None, clock: Clock = SYSTEM_CLOCK) -> ReconBreak:
    """Move a break along its lifecycle as ``actor``; proposing needs a note, approving another person.

    A proposal may carry a ``movement`` of money; it is posted to the ledger when the proposal is approved.
    """
    found = session.get(ReconBreak, break_id, with_for_update=True)
    if found is None:
        raise NotFound(f"break {break_id} does not exist", code="break_not_found")
    break_states.check_officer_move(found, to_status)
    posted = None
    if to_status == break_states.PROPOSED:
        _propose(session, found, actor, note, movement)
    if to_status == break_states.APPROVED:
        posted = _approve(session, found, actor, clock)
    break_states.move(session, found, to_status, actor=actor, at=clock.now(), note=note, ledger_transaction_id=posted)
    session.flush()
    return found


def _propose(session: Session, found: ReconBreak, actor: str, note: str,
             movement: resolutions.Movement | None) -> None:
    if not note.strip():
        raise ValidationFailed("a proposed resolution needs an explanation", code="resolution_note_required")
    if movement is not None:
        resolutions.check(session, found, movement)
    found.proposed_by, found.resolution, found.approved_by = actor, note.strip(), None
    found.movement, found.movement_account, found.movement_amount = (
        (movement.kind, movement.account, movement.amount) if movement else (None, None, None))


def _approve(session: Session, found: ReconBreak, actor: str, clock: Clock) -> int | None:
    """Record the approver and post the proposal's movement, if any; return the ledger transaction's id."""
    if actor == found.proposed_by:
        raise PermissionDenied("the officer who proposed a resolution cannot approve it", code="approver_is_proposer")
    found.approved_by = actor
    if found.movement is None:
        return None
    found.ledger_transaction_id = resolutions.post_movement(session, found, approver=actor, clock=clock).id
    return found.ledger_transaction_id


def supersede_earlier_runs(session: Session, run: ReconRun) -> None:
    """Mark completed runs of the same scope and overlapping period as superseded by ``run``."""
    session.execute(update(ReconRun).where(
        ReconRun.scope == run.scope, ReconRun.id != run.id, ReconRun.status == "completed",
        ReconRun.period_start <= run.period_end, ReconRun.period_end >= run.period_start).values(status="superseded"))
