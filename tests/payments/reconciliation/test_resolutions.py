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


def _parked_then_proposed(db, movement: Movement, *, day: str = "02/12/2026") -> ReconBreak:
    """A Stripe payout credited before its payout was expected: parked in suspense, a movement proposed."""
    from datetime import date

    from payments.reconciliation.service import reconcile_bank
    from tests.payments.reconciliation.bank_flow import ACCOUNT

    code = captured(db, 200_000)
    stripe_report(db, "po_1", [(code, 200_000, 7_800)])
    bank(db, (day, 192_200, "STRIPE PAYOUT po_1"))
    reconcile_bank(db, account=ACCOUNT, period_start=date(2026, 12, 2), period_end=date(2026, 12, 4), items=[],
                   started_by="staff:1", payout_providers=(), clock=CLOCK)
    found = db.scalar(select(ReconBreak).where(ReconBreak.kind == "missing_internally"))
    move_break(db, found.id, "resolution_proposed", actor="staff:1", note="Stripe po_1", movement=movement,
               clock=CLOCK)
    return found


def test_approving_a_move_out_of_suspense_that_a_run_already_made_is_refused_and_moves_nothing(db, stripe):
    from core.errors import Conflict

    found = _parked_then_proposed(db, Movement("reclassify_suspense", "clearing:stripe", 192_200))
    run(db)  # now expects Stripe payouts: identifies the parked credit
    assert ledger.balance(db, SUSPENSE).amount == 0
    with pytest.raises(Conflict) as refused:
        move_break(db, found.id, "approved", actor="staff:2", clock=CLOCK)
    assert refused.value.code == "suspense_already_moved" and ledger.balance(db, SUSPENSE).amount == 0


@pytest.mark.parametrize("movement", [Movement("write_off_fee", "clearing:stripe", 50),
                                      Movement("reclassify_suspense", "clearing:stripe", 100_000)])
def test_a_run_identifying_a_parked_credit_moves_whatever_an_approved_resolution_left_in_suspense(db, stripe,
                                                                                                  movement):
    found = _parked_then_proposed(db, movement)
    move_break(db, found.id, "approved", actor="staff:2", clock=CLOCK)
    run(db)
    assert ledger.balance(db, SUSPENSE).amount == 0
    assert sum(ledger.trial_balance(db).values()) == 0
