"""A resolution that moves money is one ledger transaction, posted exactly when a second officer approves it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from core.errors import PermissionDenied, ValidationFailed
from payments import ledger, payout_tags
from payments.models.ledger import LedgerTransaction
from payments.reconciliation import resolutions
from payments.reconciliation.breaks import move_break
from payments.reconciliation.resolutions import Movement
from payments.reconciliation.runs import BreakEvent, ReconBreak
from tests.payments.reconciliation.bank_flow import CLEARING, CLOCK, SUSPENSE, bank, captured, run, stripe_report

PROPOSER, APPROVER = "staff:1", "staff:2"


def _transactions(db) -> int:
    return db.scalar(select(func.count()).select_from(LedgerTransaction))


def _break(db, kind: str) -> ReconBreak:
    return db.scalar(select(ReconBreak).where(ReconBreak.kind == kind))


def _propose(db, found, movement=None, note="the credit is payout po_9 of Stripe"):
    return move_break(db, found.id, "resolution_proposed", actor=PROPOSER, note=note, movement=movement, clock=CLOCK)


def _unidentified_credit(db) -> ReconBreak:
    bank(db, ("03/12/2026", 50_000, "CHUYEN TIEN KHONG RO"))
    run(db)
    return _break(db, "missing_internally")


def test_a_movement_is_posted_on_approval_not_on_proposal_and_names_the_suspense_credit(db, stripe):
    found = _unidentified_credit(db)
    parked = db.scalar(select(LedgerTransaction).where(LedgerTransaction.kind == "unidentified_credit"))
    before = _transactions(db)
    _propose(db, found, Movement("reclassify_suspense", CLEARING, 50_000))
    assert _transactions(db) == before and found.ledger_transaction_id is None
    move_break(db, found.id, "approved", actor=APPROVER, clock=CLOCK)
    assert _transactions(db) == before + 1
    posted = db.get(LedgerTransaction, found.ledger_transaction_id)
    assert (posted.kind, posted.corrects_id, posted.external_id) == ("break_resolution", parked.id,
                                                                      f"break:{found.id}:resolution")
    approved = db.scalar(select(BreakEvent).where(BreakEvent.break_id == found.id, BreakEvent.to_status == "approved"))
    assert approved.ledger_transaction_id == posted.id
    assert ledger.balance(db, SUSPENSE).amount == 0 and ledger.balance(db, CLEARING).amount == -50_000
    move_break(db, found.id, "resolved", actor=PROPOSER, clock=CLOCK)
    assert resolutions.post_movement(db, found, approver=APPROVER, clock=CLOCK).id == posted.id  # a replay
    assert _transactions(db) == before + 1


def test_the_proposer_cannot_approve_and_nothing_is_posted(db, stripe):
    found = _unidentified_credit(db)
    _propose(db, found, Movement("reclassify_suspense", CLEARING, 50_000))
    before = _transactions(db)
    with pytest.raises(PermissionDenied) as refused:
        move_break(db, found.id, "approved", actor=PROPOSER, clock=CLOCK)
    assert refused.value.code == "approver_is_proposer"
    assert _transactions(db) == before and found.status == "resolution_proposed"
    with pytest.raises(Exception, match="approver_is_not_proposer"), db.begin_nested():
        db.execute(text("UPDATE recon_breaks SET approved_by = proposed_by WHERE id = :id"), {"id": found.id})


def test_a_resolution_without_a_movement_posts_nothing(db, stripe):
    found = _unidentified_credit(db)
    _propose(db, found, note="the bank will return it to the sender")
    before = _transactions(db)
    move_break(db, found.id, "approved", actor=APPROVER, clock=CLOCK)
    assert _transactions(db) == before and found.ledger_transaction_id is None


@pytest.mark.parametrize("movement, code", [
    (Movement("pay_the_officer", CLEARING, 1_000), "movement_unknown"),
    (Movement("write_off_fee", "budget_payable:HN-STP", 1_000), "movement_account_invalid"),
    (Movement("write_off_fee", "refunds_payable", 1_000), "movement_account_invalid"),
    (Movement("write_off_fee", CLEARING, 0), "movement_amount_invalid"),
    (Movement("write_off_fee", CLEARING, -5), "movement_amount_invalid"),
])
def test_a_movement_outside_the_closed_list_is_refused_and_nothing_changes(db, stripe, movement, code):
    found = _unidentified_credit(db)
    with pytest.raises(ValidationFailed) as refused:
        _propose(db, found, movement)
    assert refused.value.code == code
    assert found.status == "open" and found.movement is None


@pytest.mark.parametrize("ours, reported, movement", [
    (150_000, 200_000, "adjust_clearing"),  # the provider paid out money we never recorded: park it in suspense
    (200_000, 150_000, "write_off_loss"),   # we recorded more than the provider ever collected
])
def test_an_approved_movement_brings_a_payouts_clearing_entries_back_to_zero(db, stripe, ours, reported,
                                                                            movement):
    code = captured(db, ours)
    stripe_report(db, "po_1", [(code, reported, 7_800)])
    bank(db, ("03/12/2026", reported - 7_800, "STRIPE PAYOUT po_1"))
    run(db)
    found = _break(db, "payout_mismatch")
    assert payout_tags.clearing_balance(db, "stripe", "po_1") == ours - reported
    _propose(db, found, Movement(movement, CLEARING, abs(ours - reported)), note="explained by the provider")
    move_break(db, found.id, "approved", actor=APPROVER, clock=CLOCK)
    assert payout_tags.clearing_balance(db, "stripe", "po_1") == 0
    assert sum(ledger.trial_balance(db).values()) == 0


def test_every_movement_balances_and_offers_its_own_provider_first(db, stripe):
    found = _unidentified_credit(db)
    choices = resolutions.account_choices(db, found)
    assert set(choices) == set(resolutions.MOVEMENTS)
    assert "refunds_payable" in choices["reclassify_suspense"] and "refunds_payable" not in choices["write_off_fee"]
    for kind, allowed in choices.items():
        for account in allowed:
            legs = resolutions.legs(Movement(kind, account, 1_234))
            ledger.check_balanced(legs)
            assert account in {leg.account.code for leg in legs}
