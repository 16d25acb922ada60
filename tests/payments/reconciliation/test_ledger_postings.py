"""Bank runs book what they establish: payout fees and nets (tagged, adding up to 0), transfers, suspense."""

from __future__ import annotations

import itertools
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from payments import accounts, ledger, payout_tags
from payments.models.ledger import LedgerTransaction
from payments.reconciliation.bank import confirm_suggestion
from payments.reconciliation.matching import ExpectedItem
from payments.reconciliation.runs import ReconBreak, ReconResult
from payments.reconciliation.service import reconcile_provider, sign_off
from tests.payments.factories import judicial_record_quote, make_payment
from tests.payments.reconciliation.bank_flow import (
    ACCOUNT,
    BANK,
    CLEARING,
    CLOCK,
    FEES,
    SUSPENSE,
    bank,
    captured,
    run,
    stripe_report,
)
from tests.payments.test_settlement import _pay

_serial = itertools.count(1)


def _balances(db) -> dict[str, int]:
    return {code: ledger.balance(db, code).amount for code in (BANK, CLEARING, FEES, SUSPENSE)}


def _transactions(db) -> int:
    return db.scalar(select(func.count()).select_from(LedgerTransaction))


def test_a_matched_payout_books_its_fees_and_net_and_its_clearing_entries_add_up_to_zero(db, stripe):
    first, second = captured(db, 200_000), captured(db, 100_000)
    stripe_report(db, "po_1", [(first, 200_000, 7_800), (second, 100_000, 3_900)])
    bank(db, ("03/12/2026", 288_300, "STRIPE PAYOUT po_1"))
    run(db)
    assert _balances(db) == {BANK: 288_300, CLEARING: 0, FEES: 11_700, SUSPENSE: 0}
    assert payout_tags.clearing_balance(db, "stripe", "po_1") == 0
    kinds = sorted(t.kind for t in payout_tags.tagged(db, "stripe", "po_1"))
    assert kinds == ["payment_captured", "payment_captured", "payout", "provider_fees"]
    assert db.scalar(select(ReconBreak.id).where(ReconBreak.kind == "payout_mismatch")) is None
    assert sum(ledger.trial_balance(db).values()) == 0


def test_rerunning_a_bank_run_posts_nothing_new(db, stripe):
    code = captured(db, 200_000)
    stripe_report(db, "po_1", [(code, 200_000, 7_800)])
    bank(db, ("03/12/2026", 192_200, "STRIPE PAYOUT po_1"), ("03/12/2026", 50_000, "UNG HO"))
    run(db)
    before, balances = _transactions(db), _balances(db)
    run(db)
    run(db, start=date(2026, 12, 1), end=date(2026, 12, 5))  # an overlapping period finds the same lines
    assert _transactions(db) == before and _balances(db) == balances


def test_a_payout_whose_captures_differ_from_the_report_opens_a_payout_mismatch(db, stripe):
    code = captured(db, 150_000)  # the provider reports 200,000 for it
    stripe_report(db, "po_1", [(code, 200_000, 7_800)])
    bank(db, ("03/12/2026", 192_200, "STRIPE PAYOUT po_1"))
    run(db)
    assert payout_tags.clearing_balance(db, "stripe", "po_1") == -50_000
    (found,) = db.scalars(select(ReconBreak).where(ReconBreak.kind == "payout_mismatch")).all()
    assert (found.key, found.our_amount, found.their_amount, found.status) == ("payout:po_1", 150_000, 200_000, "open")


def test_a_payout_mismatch_closes_itself_when_a_late_capture_makes_the_entries_add_up(db, stripe):
    code = captured(db, 200_000)
    late = make_payment(db, CLOCK, provider="stripe", quote=judicial_record_quote(due=100_000, base=100_000))
    stripe_report(db, "po_1", [(code, 200_000, 7_800), (late.public_id, 100_000, 3_900)])
    bank(db, ("03/12/2026", 288_300, "STRIPE PAYOUT po_1"))
    run(db)
    found = db.scalar(select(ReconBreak).where(ReconBreak.kind == "payout_mismatch"))
    assert found.status == "open" and payout_tags.clearing_balance(db, "stripe", "po_1") == -100_000
    _pay(db, CLOCK, late)  # its notification arrives after the payout
    run(db)
    assert payout_tags.clearing_balance(db, "stripe", "po_1") == 0
    assert found.status == "auto_closed"


def test_a_bank_credit_nobody_claims_goes_to_suspense(db, stripe):
    bank(db, ("03/12/2026", 50_000, "UNG HO QUY"))
    bank_run = run(db)
    assert _balances(db) == {BANK: 50_000, CLEARING: 0, FEES: 0, SUSPENSE: -50_000}
    (posted,) = db.scalars(select(LedgerTransaction)).all()
    line_key = db.scalar(select(ReconResult.provider_reference).where(ReconResult.run_id == bank_run.id))
    assert (posted.kind, posted.external_id) == ("unidentified_credit", f"bank:{ACCOUNT}:{line_key}")


def test_a_credit_identified_later_leaves_suspense_by_a_new_transaction_naming_the_first(db, stripe):
    code = captured(db, 200_000)
    bank(db, ("03/12/2026", 192_200, "CHUYEN TIEN"))  # the payout id is missing from the bank's text
    run(db)
    assert ledger.balance(db, SUSPENSE).amount == -192_200
    stripe_report(db, "po_1", [(code, 200_000, 7_800)])
    suggested = run(db)
    result = db.scalar(select(ReconResult).where(ReconResult.run_id == suggested.id,
                                                 ReconResult.outcome == "suggested"))
    confirm_suggestion(db, result.id, officer="staff:1", clock=CLOCK)
    run(db)
    assert _balances(db) == {BANK: 192_200, CLEARING: 0, FEES: 7_800, SUSPENSE: 0}
    moved = db.scalar(select(LedgerTransaction).where(LedgerTransaction.kind == "payout"))
    parked = db.scalar(select(LedgerTransaction).where(LedgerTransaction.kind == "unidentified_credit"))
    assert moved.corrects_id == parked.id
    assert payout_tags.clearing_balance(db, "stripe", "po_1") == 0


def test_a_parked_transfer_that_a_later_run_matches_moves_to_its_providers_clearing(db, sandbox):
    code = captured(db, 150_000, provider="sandbox")
    bank(db, ("03/12/2026", 150_000, "NOP PHI LY LICH TU PHAP"))  # the citizen left our code out
    run(db)
    assert ledger.balance(db, SUSPENSE).amount == -150_000
    ours = [ExpectedItem(code, 150_000, "VND", "succeeded", date(2026, 12, 3))]
    suggested = run(db, items=ours)
    result = db.scalar(select(ReconResult).where(ReconResult.run_id == suggested.id,
                                                 ReconResult.outcome == "suggested"))
    confirm_suggestion(db, result.id, officer="staff:1", clock=CLOCK)
    run(db, items=ours)
    run(db, items=ours)
    assert ledger.balance(db, SUSPENSE).amount == 0 and ledger.balance(db, BANK).amount == 150_000
    assert ledger.balance(db, "clearing:sandbox").amount == 0  # captured, then settled by the bank credit
    moved = db.scalar(select(LedgerTransaction).where(LedgerTransaction.kind == "bank_transfer"))
    assert moved.corrects_id == db.scalar(select(LedgerTransaction.id).where(
        LedgerTransaction.kind == "unidentified_credit"))


def test_a_transfer_matched_at_once_is_booked_against_its_providers_clearing_once(db, sandbox):
    code = captured(db, 150_000, provider="sandbox")
    bank(db, ("03/12/2026", 150_000, f"NOP PHI LY LICH TU PHAP {code}"))
    ours = [ExpectedItem(code, 150_000, "VND", "succeeded", date(2026, 12, 3))]
    run(db, items=ours)
    booked = _transactions(db)
    run(db, items=ours)  # a re-run books nothing new
    assert _transactions(db) == booked
    assert ledger.balance(db, BANK).amount == 150_000
    assert ledger.balance(db, "clearing:sandbox").amount == 0  # captured, then settled by the bank credit
    (transfer,) = db.scalars(select(LedgerTransaction).where(LedgerTransaction.kind == "bank_transfer")).all()
    assert transfer.external_id.startswith(f"bank:{ACCOUNT}:") and transfer.corrects_id is None


def test_a_transfer_of_another_amount_is_booked_at_what_arrived_and_leaves_the_difference_in_clearing(db, sandbox):
    code = captured(db, 150_000, provider="sandbox")
    bank(db, ("03/12/2026", 160_000, f"NOP PHI {code}"))  # the citizen sent 10,000 đ too much
    bank_run = run(db, items=[ExpectedItem(code, 150_000, "VND", "succeeded", date(2026, 12, 3))])
    assert ledger.balance(db, BANK).amount == 160_000
    assert ledger.balance(db, "clearing:sandbox").amount == -10_000  # owed back: a refund_payable resolution
    assert db.scalar(select(ReconBreak.kind).where(ReconBreak.opened_run_id == bank_run.id)) == "amount_mismatch"


def test_a_second_transfer_for_one_payment_is_booked_too_and_is_owed_back(db, sandbox):
    code = captured(db, 150_000, provider="sandbox")
    bank(db, ("03/12/2026", 150_000, f"NOP PHI {code}"), ("03/12/2026", 150_000, f"NOP LAI {code}"))
    run(db, items=[ExpectedItem(code, 150_000, "VND", "succeeded", date(2026, 12, 3))])
    assert ledger.balance(db, BANK).amount == 300_000  # the ledger holds what the statement holds
    assert ledger.balance(db, "clearing:sandbox").amount == -150_000


def test_a_payout_booked_on_a_signed_off_day_lands_in_the_next_open_day(db, stripe):
    code = captured(db, 200_000)
    stripe_report(db, "po_1", [(code, 200_000, 7_800)])
    provider_run = reconcile_provider(db, provider="stripe", period_start=date(2026, 12, 1),
                                      period_end=date(2026, 12, 3), items=[], started_by="staff:1", clock=CLOCK)
    sign_off(db, provider_run.id, approver="staff:2", clock=CLOCK)  # closes 1-3 December in the ledger
    bank(db, ("03/12/2026", 192_200, "STRIPE PAYOUT po_1"))
    run(db)
    posted = db.scalars(select(LedgerTransaction).where(LedgerTransaction.source == "reconciliation")).all()
    assert sorted(t.kind for t in posted) == ["payout", "provider_fees"]
    assert {t.effective_date for t in posted} == {date(2026, 12, 4)}
    assert payout_tags.clearing_balance(db, "stripe", "po_1") == 0


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(st.integers(1, 5_000_000), st.integers(0, 50_000)), min_size=1, max_size=5),
       short=st.integers(0, 1_000))
def test_tagged_clearing_entries_add_up_to_zero_exactly_when_every_capture_matches(db, stripe, lines, short):
    with db.begin_nested() as savepoint:
        payout = f"po_h{next(_serial)}"
        lines = [(gross, min(fee, gross - 1)) for gross, fee in lines]  # a payout of 0 never reaches a bank
        codes = [captured(db, gross - (short if n == 0 else 0)) if gross > short else captured(db, gross)
                 for n, (gross, _) in enumerate(lines)]
        captured_short = short if lines[0][0] > short else 0
        stripe_report(db, payout, [(code, gross, fee) for code, (gross, fee) in zip(codes, lines, strict=True)])
        net = sum(gross - fee for gross, fee in lines)
        bank(db, ("03/12/2026", net, f"STRIPE PAYOUT {payout}"), name=f"{payout}.csv")
        run(db)
        assert payout_tags.clearing_balance(db, "stripe", payout) == -captured_short
        mismatch = db.scalar(select(ReconBreak.id).where(ReconBreak.key == f"payout:{payout}"))
        assert (mismatch is not None) == (captured_short != 0)
        assert sum(ledger.trial_balance(db).values()) == 0
        savepoint.rollback()


def _refund_paid_out(db, code: str, key: str, amount: int) -> None:
    """What refunds post when the provider pays a refund of ``amount`` out of clearing."""
    from core.money import Money
    from payments.ledger import credit, debit
    from payments.models.billing import Payment

    payment = db.scalar(select(Payment).where(Payment.public_id == code))
    ledger.post(db, source="refunds", external_id=f"refund:{key}:paid", kind="refund_paid", clock=CLOCK,
                legs=[debit(accounts.refunds_payable(), Money(amount, "VND")),
                      credit(accounts.provider_clearing("stripe"), Money(amount, "VND"))],
                bill_id=payment.bill_id, payment_id=payment.id)


def _report_lines(db, payout: str, *lines: tuple[str, int, int, str]) -> None:
    """A Stripe report of ``(payment code, gross, fee, category)`` lines, all in ``payout``."""
    from payments.reconciliation.imports import import_report
    from tests.payments.reconciliation.bank_flow import STRIPE_HEADER

    rows = [STRIPE_HEADER, *(f"txn_{payout}_{n},2026-12-01 0{n}:00:00,2026-12-03 00:00:00,vnd,{gross},{fee},"
                             f"{gross - fee},{category},src_{n},x,{payout},ch_{n},pi_{n},{code}"
                             for n, (code, gross, fee, category) in enumerate(lines, start=1))]
    import_report(db, ("\n".join(rows) + "\n").encode(), "stripe", filename=f"{payout}.csv", imported_by="t",
                  clock=CLOCK)


def test_a_capture_and_a_refund_of_one_payment_in_one_payout_are_both_tagged_and_add_up(db, stripe):
    code = captured(db, 200_000)
    _refund_paid_out(db, code, "x", 50_000)
    _report_lines(db, "po_9", (code, 200_000, 7_800, "charge"), (code, -50_000, 0, "refund"))
    bank(db, ("03/12/2026", 142_200, "STRIPE PAYOUT po_9"))
    run(db)
    assert payout_tags.clearing_balance(db, "stripe", "po_9") == 0
    assert db.scalar(select(ReconBreak).where(ReconBreak.kind == "payout_mismatch")) is None


def test_partial_refunds_paid_out_in_different_payouts_each_tag_their_own(db, stripe):
    first, other = captured(db, 200_000), captured(db, 100_000)
    _refund_paid_out(db, first, "A", 50_000)  # netted in po_1
    _refund_paid_out(db, first, "B", 30_000)  # netted later, in po_2
    _report_lines(db, "po_1", (other, 100_000, 3_900, "charge"), (first, -50_000, 0, "refund"))
    bank(db, ("03/12/2026", 46_100, "STRIPE PAYOUT po_1"))
    run(db)
    assert payout_tags.clearing_balance(db, "stripe", "po_1") == 0
    assert db.scalar(select(ReconBreak).where(ReconBreak.kind == "payout_mismatch")) is None


def test_a_payout_that_arrives_less_a_bank_charge_is_booked_at_what_arrived_and_the_charge_written_off(db, stripe):
    from payments.reconciliation.breaks import move_break
    from payments.reconciliation.resolutions import Movement

    code = captured(db, 200_000)
    stripe_report(db, "po_1", [(code, 200_000, 7_800)])
    bank(db, ("03/12/2026", 192_150, "STRIPE PAYOUT po_1"))  # 50 đ short: the bank took a charge
    run(db)
    assert ledger.balance(db, BANK).amount == 192_150 and ledger.balance(db, SUSPENSE).amount == 0
    assert payout_tags.clearing_balance(db, "stripe", "po_1") == 50
    short = db.scalar(select(ReconBreak).where(ReconBreak.kind == "payout_mismatch"))
    move_break(db, short.id, "resolution_proposed", actor="staff:1", note="bank charge",
               movement=Movement("write_off_fee", CLEARING, 50), clock=CLOCK)
    move_break(db, short.id, "approved", actor="staff:2", clock=CLOCK)
    assert payout_tags.clearing_balance(db, "stripe", "po_1") == 0
