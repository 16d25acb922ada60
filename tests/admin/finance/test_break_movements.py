"""Proposing a resolution that moves money from the break page; approving it posts it and the page shows it."""

from __future__ import annotations

from sqlalchemy import func, select

from payments import ledger
from payments.models.ledger import LedgerTransaction
from payments.reconciliation.runs import BreakEvent, ReconBreak
from tests.admin.finance.flows import completed_bank_run
from tests.admin.finance.support import csrf, text_of


def _unidentified(app, db, officer) -> ReconBreak:
    completed_bank_run(app, db, officer)
    return db.scalars(select(ReconBreak).where(ReconBreak.kind == "missing_internally")).one()


def _propose(client, break_id: int, **fields):
    data = {"csrf_token": csrf(client), "to": "resolution_proposed", "note": "Người nộp nhầm, hoàn trả", **fields}
    return client.post(f"/admin/finance/breaks/{break_id}/move", data=data)


def _transactions(db) -> int:
    return db.scalar(select(func.count()).select_from(LedgerTransaction))


def test_an_approved_movement_is_posted_once_and_shown_on_the_break(app, db, officer, approver):
    found = _unidentified(app, db, officer)
    form = text_of(officer.get(f"/admin/finance/breaks/{found.id}"))
    assert "Reclassify from suspense to the chosen account" in form and "refunds_payable" in form
    before = _transactions(db)
    proposed = _propose(officer, found.id, movement="reclassify_suspense", account="refunds_payable", amount="99.000")
    assert proposed.status_code == 303 and _transactions(db) == before
    waiting = text_of(approver.get(f"/admin/finance/breaks/{found.id}"))
    assert "Approving posts the money movement above to the ledger." in waiting
    assert approver.post(f"/admin/finance/breaks/{found.id}/approve",
                         data={"csrf_token": csrf(approver)}).status_code == 303
    db.refresh(found)
    assert _transactions(db) == before + 1 and found.ledger_transaction_id is not None
    event = db.scalar(select(BreakEvent).where(BreakEvent.break_id == found.id, BreakEvent.to_status == "approved"))
    assert event.ledger_transaction_id == found.ledger_transaction_id
    assert ledger.balance(db, "suspense:unidentified").amount == 0
    assert ledger.balance(db, "refunds_payable").amount == -99_000
    page = text_of(officer.get(f"/admin/finance/breaks/{found.id}"))
    assert "Posted to the ledger" in page and f"#{found.ledger_transaction_id}" in page


def test_a_movement_with_an_unreadable_amount_or_the_wrong_account_is_refused(app, db, officer):
    found = _unidentified(app, db, officer)
    bad_amount = _propose(officer, found.id, movement="write_off_fee", account="clearing:stripe", amount="nhiều")
    assert bad_amount.status_code == 422
    assert "Enter the amount to move in whole dong" in text_of(bad_amount) and "nhiều" in text_of(bad_amount)
    wrong = _propose(officer, found.id, movement="write_off_fee", account="refunds_payable", amount="1000")
    assert wrong.status_code == 422 and "does not fit the chosen movement" in text_of(wrong)
    db.refresh(found)
    assert found.status == "open" and found.movement is None


def test_the_proposer_of_a_movement_cannot_approve_it_and_nothing_is_posted(app, db, approver):
    found = _unidentified(app, db, approver)
    assert _propose(approver, found.id, movement="reclassify_suspense", account="clearing:stripe",
                    amount="99000").status_code == 303
    before = _transactions(db)
    refused = approver.post(f"/admin/finance/breaks/{found.id}/approve", data={"csrf_token": csrf(approver)})
    assert refused.status_code == 403 and _transactions(db) == before
