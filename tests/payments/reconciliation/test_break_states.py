"""A break's status changes only through its transition table, each change with its event row."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count, product

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from core.errors import InvalidTransition
from payments.reconciliation import break_states
from payments.reconciliation.runs import BreakEvent, ReconBreak, ReconRun

CLOCK = FixedClock(datetime(2026, 12, 6, 3, 0, tzinfo=UTC))
EVERY_PAIR = list(product(break_states.STATUSES, repeat=2))
_keys = count(1)


@pytest.fixture()
def run(db):
    found = ReconRun(scope="provider:stripe", period_start=date(2026, 12, 1), period_end=date(2026, 12, 1),
                     rule_version="v1", status="completed", started_by="test", started_at=CLOCK.now())
    db.add(found)
    db.flush()
    return found


def _break(db, run, status: str) -> ReconBreak:
    found = ReconBreak(scope=run.scope, kind="amount_mismatch", key=f"k-{status}-{next(_keys)}", status=status,
                       priority=1, day=date(2026, 12, 1), our_amount=1, their_amount=2, currency="VND",
                       opened_run_id=run.id, last_seen_run_id=run.id, opened_at=CLOCK.now())
    db.add(found)
    db.flush()
    return found


def _events(db, found) -> list[tuple]:
    return list(db.execute(select(BreakEvent.from_status, BreakEvent.to_status, BreakEvent.actor)
                           .where(BreakEvent.break_id == found.id).order_by(BreakEvent.id)))


@pytest.mark.parametrize(("start", "to"), EVERY_PAIR)
def test_an_officer_moves_a_break_only_along_the_table(db, run, start, to):
    found = _break(db, run, start)
    if (start, to) in break_states.OFFICER_TRANSITIONS:
        break_states.move(db, found, to, actor="officer:1", at=CLOCK.now())
        db.flush()
        assert found.status == to and _events(db, found) == [(start, to, "officer:1")]
        assert (found.closed_at is not None) == (to in break_states.CLOSING)
    else:
        with pytest.raises(InvalidTransition):
            break_states.move(db, found, to, actor="officer:1", at=CLOCK.now())
        assert found.status == start and _events(db, found) == []


@pytest.mark.parametrize("start", break_states.STATUSES)
def test_a_run_closes_only_a_live_break(db, run, start):
    found = _break(db, run, start)
    if start in break_states.LIVE:
        break_states.move(db, found, "auto_closed", actor=f"run:{run.id}", at=CLOCK.now(), run_id=run.id)
        assert found.status == "auto_closed" and _events(db, found) == [(start, "auto_closed", f"run:{run.id}")]
    else:
        with pytest.raises(InvalidTransition):
            break_states.move(db, found, "auto_closed", actor=f"run:{run.id}", at=CLOCK.now(), run_id=run.id)
        assert found.status == start


def test_no_officer_can_close_a_break_as_a_run_would(db, run):
    found = _break(db, run, "open")
    with pytest.raises(InvalidTransition):
        break_states.move(db, found, "auto_closed", actor="officer:1", at=CLOCK.now())


def test_a_bulk_close_skips_a_break_an_officer_moved_since_the_run_read_it(db, run):
    read_open, moved = _break(db, run, "open"), _break(db, run, "open")
    break_states.move(db, moved, "investigating", actor="officer:1", at=CLOCK.now())
    db.flush()
    later = CLOCK.now() + timedelta(minutes=5)
    closed = break_states.close_matched(db, [(read_open.id, "open"), (moved.id, "open")], run_id=run.id, at=later,
                                        note="matched by a later run")
    db.expire_all()
    assert closed == [read_open.id]
    assert db.get(ReconBreak, read_open.id).status == "auto_closed"
    assert db.get(ReconBreak, moved.id).status == "investigating"
    assert _events(db, db.get(ReconBreak, moved.id)) == [("open", "investigating", "officer:1")]


def test_a_bulk_close_refuses_a_status_a_run_may_not_close(db, run):
    done = _break(db, run, "resolved")
    with pytest.raises(InvalidTransition):
        break_states.close_matched(db, [(done.id, "resolved")], run_id=run.id, at=CLOCK.now(), note="")
    db.expire_all()
    assert db.get(ReconBreak, done.id).status == "resolved"
