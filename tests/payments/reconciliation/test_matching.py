"""The provider reconciliation engine: planted breaks are found exactly, re-runs change nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from core.clock import FixedClock
from core.errors import Conflict, InvalidTransition, PermissionDenied
from payments.reconciliation.breaks import move_break
from payments.reconciliation.imports import import_report
from payments.reconciliation.matching import ExpectedItem, digest_row_by_row
from payments.reconciliation.runs import BreakEvent, ReconBreak, ReconRun
from payments.reconciliation.service import outcome_counts, reconcile_provider, sign_off
from payments.reconciliation.synthetic import generate_day

DAY = date(2026, 12, 1)
CLOCK = FixedClock(datetime(2026, 12, 6, 3, 0, tzinfo=UTC))


def _run(db, items, **kwargs):
    return reconcile_provider(db, provider="stripe", period_start=DAY, period_end=DAY, items=items,
                              started_by="officer:1", clock=CLOCK, **kwargs)


@pytest.fixture()
def planted(db):
    day = generate_day(DAY, 400, breaks_per_kind=4)
    import_report(db, day.report, "stripe", filename="stripe.csv", imported_by="test", clock=CLOCK)
    return day


def test_the_engine_finds_exactly_the_planted_breaks(db, planted):
    run = _run(db, planted.items)
    counts = outcome_counts(db, run.id)
    assert counts == planted.expected
    assert run.matched_count == planted.expected["matched"] and run.status == "completed"
    breaks = db.scalars(select(ReconBreak).where(ReconBreak.opened_run_id == run.id)).all()
    by_kind = {kind: sum(1 for b in breaks if b.kind == kind) for kind in {b.kind for b in breaks}}
    assert by_kind == {**{k: 4 for k in planted.expected if k != "matched"}, "duplicate_at_provider": 8}
    assert min(b.priority for b in breaks if b.kind == "status_mismatch") == 1


def test_rerunning_changes_nothing(db, planted):
    first = _run(db, planted.items)
    breaks_before = db.scalar(select(func.count()).select_from(ReconBreak))
    second = _run(db, planted.items)
    assert second.result_digest == first.result_digest
    assert db.scalar(select(func.count()).select_from(ReconBreak)) == breaks_before
    assert db.get(ReconRun, first.id).status == "superseded"
    live = db.scalars(select(ReconBreak.last_seen_run_id).where(ReconBreak.status == "open")).all()
    assert set(live) == {second.id}


def test_the_digest_is_the_hash_of_the_canonical_rows_on_either_backend(db, planted):
    run = _run(db, planted.items)
    # PostgreSQL hashes in SQL; it must give what the row-by-row reference (SQLite's way) gives.
    assert run.result_digest == digest_row_by_row(db, run.id)
    assert run.result_digest != digest_row_by_row(db, run.id + 1)


def test_a_late_provider_line_closes_the_missing_break_by_itself(db):
    item = ExpectedItem("GW0000DE1AY1", 200_000, "VND", "succeeded", DAY)
    _run(db, [item])
    (missing,) = db.scalars(select(ReconBreak)).all()
    assert (missing.kind, missing.status) == ("missing_at_provider", "open")
    late = ("balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,"
            "payment_metadata[payment_code]\ntxn_late,2026-12-02 01:00:00,,vnd,200000,0,200000,charge,GW0000DE1AY1\n")
    import_report(db, late.encode(), "stripe", filename="late.csv", imported_by="test", clock=CLOCK)
    run = _run(db, [item])
    assert outcome_counts(db, run.id) == {"matched": 1}
    assert db.get(ReconBreak, missing.id).status == "auto_closed"
    events = db.scalars(select(BreakEvent.to_status).where(BreakEvent.break_id == missing.id)).all()
    assert events == ["open", "auto_closed"]


def test_a_recent_payment_without_a_line_is_pending_not_a_break(db):
    run = _run(db, [ExpectedItem("GW0000YNG001", 8_000, "VND", "succeeded", DAY)], as_of=date(2026, 12, 2))
    assert outcome_counts(db, run.id) == {"pending": 1}
    assert db.scalar(select(func.count()).select_from(ReconBreak)) == 0


def test_lines_of_the_previous_days_payments_are_not_unknown(db):
    report = ("balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,"
              "payment_metadata[payment_code]\ntxn_prev,2026-12-01 01:00:00,vnd,5000,0,5000,charge,GW0000PREV01\n")
    import_report(db, report.encode(), "stripe", filename="p.csv", imported_by="test", clock=CLOCK)
    context = ExpectedItem("GW0000PREV01", 5_000, "VND", "succeeded", date(2026, 11, 30), in_period=False)
    run = _run(db, [context])
    assert outcome_counts(db, run.id) == {}


def test_one_line_delivered_in_two_reports_counts_once(db):
    header = ("balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,"
              "payment_metadata[payment_code]")
    row = "txn_both,2026-12-01 02:00:00,vnd,8000,0,8000,charge,GW00000B0TH1"
    import_report(db, f"{header}\n{row}\n".encode(), "stripe", filename="a.csv", imported_by="t", clock=CLOCK)
    import_report(db, f"{header},automatic_payout_id\n{row},po_1\n".encode(), "stripe", filename="b.csv",
                  imported_by="t", clock=CLOCK)
    run = _run(db, [ExpectedItem("GW00000B0TH1", 8_000, "VND", "succeeded", DAY)])
    assert outcome_counts(db, run.id) == {"matched": 1}


def _proposed_break(db, planted) -> ReconBreak:
    _run(db, planted.items)
    found = db.scalars(select(ReconBreak).where(ReconBreak.kind == "amount_mismatch")).first()
    move_break(db, found.id, "investigating", actor="officer:1", clock=CLOCK)
    return move_break(db, found.id, "resolution_proposed", actor="officer:1", note="Provider charged a fee twice",
                      clock=CLOCK)


def test_the_proposer_cannot_approve_their_own_resolution(db, planted):
    found = _proposed_break(db, planted)
    with pytest.raises(PermissionDenied):
        move_break(db, found.id, "approved", actor="officer:1", clock=CLOCK)
    approved = move_break(db, found.id, "approved", actor="approver:2", clock=CLOCK)
    resolved = move_break(db, approved.id, "resolved", actor="approver:2", clock=CLOCK)
    assert (resolved.status, resolved.proposed_by, resolved.approved_by) == ("resolved", "officer:1", "approver:2")
    assert db.scalar(select(func.count()).select_from(BreakEvent).where(BreakEvent.break_id == found.id)) == 5


def test_the_database_refuses_self_approval_by_direct_sql(db, planted):
    found = _proposed_break(db, planted)
    with pytest.raises(IntegrityError), db.begin_nested():
        db.execute(text("UPDATE recon_breaks SET status = 'approved', approved_by = proposed_by WHERE id = :id"),
                   {"id": found.id})


def test_breaks_move_only_along_their_lifecycle(db, planted):
    _run(db, planted.items)
    found = db.scalars(select(ReconBreak)).first()
    with pytest.raises(InvalidTransition):
        move_break(db, found.id, "resolved", actor="officer:1", clock=CLOCK)


def test_a_signed_off_period_is_frozen(db, planted):
    run = _run(db, planted.items)
    signed = sign_off(db, run.id, approver="approver:2", clock=CLOCK)
    assert (signed.status, signed.signed_off_by) == ("signed_off", "approver:2")
    with pytest.raises(Conflict) as caught:
        _run(db, planted.items)
    assert caught.value.code == "period_signed_off"
