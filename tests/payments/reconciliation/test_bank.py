"""Bank-account runs: VietQR transfers by code, payouts by id, suggestions an officer confirms, leftovers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from core.errors import Conflict
from payments.reconciliation.bank import confirm_suggestion
from payments.reconciliation.imports import import_report
from payments.reconciliation.matching import ExpectedItem
from payments.reconciliation.runs import ReconBreak, ReconResult
from payments.reconciliation.service import outcome_counts, reconcile_bank

FIXTURES = Path(__file__).parent / "fixtures"
ACCOUNT = "0011004123456"
CLOCK = FixedClock(datetime(2026, 12, 9, 3, 0, tzinfo=UTC))


def statement(*movements: tuple[str | date, int, str], opening: int = 1_000_000) -> bytes:
    """A Vietnamese debit/credit statement of ``(day, signed amount, text)`` with running balances; a day is
    a date or already written ``dd/mm/yyyy``."""
    lines = [f"Số tài khoản:,{ACCOUNT}", "Loại tiền:,VND", f"Số dư đầu kỳ:,{opening}",
             "Ngày GD,Số tham chiếu,Ghi nợ,Ghi có,Số dư,Diễn giải"]
    balance = opening
    for number, (day, amount, text) in enumerate(movements, start=1):
        balance += amount
        debit, credit = (str(-amount), "") if amount < 0 else ("", str(amount))
        written = day if isinstance(day, str) else f"{day:%d/%m/%Y}"
        lines.append(f"{written},FT{number:05d},{debit},{credit},{balance},{text}")
    return ("\n".join(lines) + "\n").encode()


def _import(db, content: bytes, name: str = "bank.csv") -> None:
    import_report(db, content, "vn_bank", filename=name, imported_by="test", clock=CLOCK)


def _run(db, items, start=date(2026, 12, 1), end=date(2026, 12, 2), **kwargs):
    return reconcile_bank(db, account=ACCOUNT, period_start=start, period_end=end, items=items,
                          started_by="officer:1", clock=CLOCK, **kwargs)


def _paid(code: str, amount: int, day: date = date(2026, 12, 1)) -> ExpectedItem:
    return ExpectedItem(code, amount, "VND", "succeeded", day)


def test_vietqr_transfers_match_by_code_and_bank_fees_are_not_ours(db):
    _import(db, (FIXTURES / "same-day.vn-debit-credit.csv").read_bytes())
    run = _run(db, [_paid("GW7K2M9Q4XAB", 200_000), _paid("GW3P8R2T6V9C", 100_000),
                    _paid("GW0000ABCD12", 8_000, date(2026, 12, 2))])
    assert outcome_counts(db, run.id) == {"matched": 3, "not_ours": 1}


def test_a_transfer_of_the_wrong_amount_is_a_break(db):
    _import(db, (FIXTURES / "same-day.vn-debit-credit.csv").read_bytes())
    run = _run(db, [_paid("GW7K2M9Q4XAB", 200_000), _paid("GW3P8R2T6V9C", 120_000),
                    _paid("GW0000ABCD12", 8_000, date(2026, 12, 2))])
    assert outcome_counts(db, run.id)["amount_mismatch"] == 1
    (found,) = db.scalars(select(ReconBreak).where(ReconBreak.kind == "amount_mismatch")).all()
    assert (found.our_amount, found.their_amount, found.key) == (120_000, 100_000, "ref:GW3P8R2T6V9C")


def test_a_transfer_without_our_code_is_suggested_and_matched_once_confirmed(db):
    _import(db, statement(("01/12/2026", 150_000, "NOP PHI LY LICH TU PHAP CHO CON")))
    item = _paid("GW5R7T9V1X3Z", 150_000)
    first = _run(db, [item])
    assert outcome_counts(db, first.id) == {"suggested": 1}
    suggestion = db.scalar(select(ReconResult).where(ReconResult.run_id == first.id))
    confirm_suggestion(db, suggestion.id, officer="officer:1", clock=CLOCK)
    with pytest.raises(Conflict):
        confirm_suggestion(db, suggestion.id, officer="officer:2", clock=CLOCK)
    # A re-exported statement (new file, same movement) still carries the confirmation.
    _import(db, statement(("01/12/2026", 150_000, "NOP PHI LY LICH TU PHAP CHO CON")) + b"\n", name="again.csv")
    second = _run(db, [item])
    assert outcome_counts(db, second.id) == {"matched": 1}


def test_two_candidates_of_the_same_amount_are_never_guessed(db):
    _import(db, statement(("01/12/2026", 200_000, "CHUYEN TIEN"), ("01/12/2026", 200_000, "CHUYEN TIEN LAN 2")))
    run = _run(db, [_paid("GW5R7T9V1X3Z", 200_000)])
    assert outcome_counts(db, run.id) == {"missing_at_provider": 1, "missing_internally": 2}


def test_payouts_match_the_bank_credit_to_the_dong(db):
    import_report(db, (FIXTURES / "same-day.stripe.csv").read_bytes(), "stripe", filename="s.csv", imported_by="t",
                  clock=CLOCK)
    _import(db, statement(("03/12/2026", 288_300, "STRIPE PAYOUT po_same01"),
                          ("04/12/2026", 7_600, "STRIPE PAYOUT po_same02")))
    run = _run(db, [], start=date(2026, 12, 3), end=date(2026, 12, 4), payout_providers=("stripe",))
    results = {r.reference: r.outcome for r in db.scalars(select(ReconResult).where(ReconResult.run_id == run.id))}
    assert results == {"po_same01": "matched", "po_same02": "bank_mismatch"}
    (found,) = db.scalars(select(ReconBreak).where(ReconBreak.kind == "bank_mismatch")).all()
    assert (found.our_amount, found.their_amount) == (7_688, 7_600)
    # Both payouts reached the bank (po_same02 88 đ short, booked at what arrived), but none of their payments
    # is ours here: their clearing entries cannot add up (po_same02 is also 88 đ off).
    unexplained = db.scalars(select(ReconBreak).where(ReconBreak.kind == "payout_mismatch")
                             .order_by(ReconBreak.key)).all()
    assert [(b.key, b.our_amount, b.their_amount) for b in unexplained] == [
        ("payout:po_same01", 0, 300_000), ("payout:po_same02", 88, 8_000)]


def test_money_we_cannot_place_goes_to_suspense_and_missing_money_is_a_break(db):
    _import(db, statement(("02/12/2026", 50_000, "UNG HO QUY")))
    run = _run(db, [_paid("GW5R7T9V1X3Z", 8_000)])
    assert outcome_counts(db, run.id) == {"missing_internally": 1, "missing_at_provider": 1}


def test_rerunning_a_bank_run_gives_the_same_digest(db):
    _import(db, (FIXTURES / "same-day.vn-debit-credit.csv").read_bytes())
    items = [_paid("GW7K2M9Q4XAB", 200_000), _paid("GW3P8R2T6V9C", 120_000)]
    assert _run(db, items).result_digest == _run(db, items).result_digest
