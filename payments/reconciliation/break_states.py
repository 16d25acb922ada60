"""The reconciliation break's transition table and its one writer, as payments and refunds have theirs.

A run opens a break; an officer works it (open -> investigating -> resolution_proposed -> approved ->
resolved, or back to investigating); a later run that finds it matched closes it (``auto_closed``) while
nobody has moved it past the step the run read. Every change appends a ``break_events`` row with who made
it; nothing else sets a break's status.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from core.db import bulk_insert
from core.errors import InvalidTransition
from payments.reconciliation.runs import BREAK_STATUSES, BreakEvent, ReconBreak

#: Every status a break can have, in lifecycle order: the table's own list (its CHECK constraint).
STATUSES = BREAK_STATUSES
OPEN, INVESTIGATING, PROPOSED, APPROVED, RESOLVED, AUTO_CLOSED = STATUSES
#: Statuses that still need someone (or a later run).
LIVE = (OPEN, INVESTIGATING, PROPOSED, APPROVED)
#: The moves of a person working a break.
OFFICER_TRANSITIONS = frozenset({
    (OPEN, INVESTIGATING), (INVESTIGATING, PROPOSED), (OPEN, PROPOSED),
    (PROPOSED, APPROVED), (PROPOSED, INVESTIGATING), (APPROVED, RESOLVED),
})
#: The moves of a reconciliation run: a matched break closes, from any live status it read.
RUN_TRANSITIONS = frozenset((status, AUTO_CLOSED) for status in LIVE)
#: Whoever makes it, a move ends the break when it lands here.
CLOSING = (RESOLVED, AUTO_CLOSED)


def check_officer_move(found: ReconBreak, to_status: str) -> None:
    """Refuse a person's move that the table does not allow."""
    _check(found, to_status, OFFICER_TRANSITIONS)


def check_run_close(from_status: str) -> None:
    """Refuse a run's close of a break in a status the table does not let a run close."""
    if (from_status, AUTO_CLOSED) not in RUN_TRANSITIONS:
        raise InvalidTransition(f"a run cannot close a break that is {from_status}",
                                details={"from": from_status, "to": AUTO_CLOSED})


def move(session: Session, found: ReconBreak, to_status: str, *, actor: str, at: datetime, note: str = "",
         run_id: int | None = None, ledger_transaction_id: int | None = None) -> ReconBreak:
    """Apply one checked move: its event row, then the status (and the closing time when it ends)."""
    table = RUN_TRANSITIONS if run_id is not None else OFFICER_TRANSITIONS
    _check(found, to_status, table)
    session.add(BreakEvent(break_id=found.id, from_status=found.status, to_status=to_status, actor=actor,
                           note=note.strip(), at=at, run_id=run_id, ledger_transaction_id=ledger_transaction_id))
    found.status = to_status
    if to_status in CLOSING:
        found.closed_at = at
    return found


def annotate(session: Session, found: ReconBreak, note: str, *, actor: str, at: datetime) -> None:
    """An event that records something about the break without moving it: from and to are its status."""
    session.add(BreakEvent(break_id=found.id, from_status=found.status, to_status=found.status, actor=actor,
                           note=note, at=at))


def record_opened(session: Session, break_ids: list[int], *, run_id: int, at: datetime) -> None:
    """The open events of the breaks a run inserted (in bulk, with ``status`` open)."""
    bulk_insert(session, BreakEvent, [{"break_id": i, "from_status": None, "to_status": OPEN,
                                       "actor": f"run:{run_id}", "note": "", "at": at, "run_id": run_id}
                                      for i in break_ids])


def close_matched(session: Session, gone: list[tuple[int, str]], *, run_id: int, at: datetime,
                  note: str) -> list[int]:
    """Close, as run ``run_id``, the breaks it found matched, each from the status the run read.

    A guarded UPDATE per status: a break an officer moved meanwhile (say, approved while the run was
    matching) keeps the officer's step and gets no event. Returns the ids closed.
    """
    closed: list[tuple[int, str]] = []
    for status in sorted({status for _, status in gone}):
        check_run_close(status)
        ids = [i for i, s in gone if s == status]
        for start in range(0, len(ids), 5_000):
            closed += [(i, status) for i in session.scalars(
                update(ReconBreak).where(ReconBreak.id.in_(ids[start:start + 5_000]), ReconBreak.status == status)
                .values(status=AUTO_CLOSED, closed_at=at).returning(ReconBreak.id))]
    bulk_insert(session, BreakEvent, [{"break_id": i, "from_status": status, "to_status": AUTO_CLOSED,
                                       "actor": f"run:{run_id}", "note": note, "at": at, "run_id": run_id}
                                      for i, status in closed])
    return [i for i, _ in closed]


def _check(found: ReconBreak, to_status: str, table: frozenset[tuple[str, str]]) -> None:
    if (found.status, to_status) not in table:
        raise InvalidTransition(f"break {found.id} cannot go from {found.status} to {to_status}",
                                details={"from": found.status, "to": to_status})
