"""Escalation: a live break still open two settlement dates after its money was due (the BC Gov rule)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from payments.reconciliation.breaks import LIVE, escalates_on, is_escalated
from payments.reconciliation.matching import MatchingPolicy
from payments.reconciliation.runs import BREAK_STATUSES, ReconBreak, ReconRun
from payments.reconciliation.workbench import escalated_count, latest_escalated_day, list_breaks

TODAY = date(2026, 11, 28)
AT = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def test_a_break_escalates_the_day_after_the_second_settlement_date_past_its_own():
    day = date(2026, 11, 20)
    # T+2: due on the 22nd; settlement dates the 23rd and 24th pass; escalated from the 25th.
    assert escalates_on(day, 2) == date(2026, 11, 25)
    assert escalates_on(day, 1) == date(2026, 11, 24)
    assert not is_escalated("open", day, date(2026, 11, 24), 2)
    assert is_escalated("open", day, date(2026, 11, 25), 2)
    assert all(is_escalated(status, day, TODAY, 2) == (status in LIVE) for status in BREAK_STATUSES)
    assert latest_escalated_day(TODAY, MatchingPolicy()) == date(2026, 11, 23)


def _breaks(db) -> dict[str, ReconBreak]:
    run = ReconRun(scope="provider:stripe", period_start=TODAY, period_end=TODAY, rule_version="t",
                   status="completed", started_by="test", started_at=AT)
    db.add(run)
    db.flush()
    specs = {"urgent_young": (1, 1, "open"), "old": (3, 9, "investigating"), "edge": (3, 5, "open"),
             "young": (3, 2, "open"), "closed_old": (3, 20, "resolved")}
    made = {}
    for key, (priority, age, status) in specs.items():
        made[key] = ReconBreak(scope=run.scope, kind="missing_at_provider", key=f"ref:{key}", status=status,
                               priority=priority, day=TODAY - timedelta(days=age), currency="VND",
                               opened_run_id=run.id, last_seen_run_id=run.id, opened_at=AT)
    db.add_all(made.values())
    db.flush()
    return made


def test_the_workbench_marks_filters_counts_and_orders_escalated_breaks(db):
    made = _breaks(db)
    rows = list_breaks(db, today=TODAY)
    assert [r.item.key for r in rows] == ["ref:urgent_young", "ref:old", "ref:edge", "ref:young"]
    assert [r.escalated for r in rows] == [False, True, True, False]
    only = list_breaks(db, today=TODAY, escalated_only=True)
    assert [r.item.id for r in only] == [made["old"].id, made["edge"].id]
    assert escalated_count(db, today=TODAY) == 2
    assert escalated_count(db, today=TODAY, policy=MatchingPolicy(settlement_lag_days=1)) == 2
    assert escalated_count(db, today=TODAY, policy=MatchingPolicy(settlement_lag_days=4)) == 1  # from 7 days
    resolved = list_breaks(db, today=TODAY, status="resolved")
    assert [r.escalated for r in resolved] == [False]
