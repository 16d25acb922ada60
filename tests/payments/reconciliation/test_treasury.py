"""Collected to remitted: obligations from the ledger, Treasury transfers matched and posted once, unremitted breaks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from core.clock import VIETNAM, FixedClock
from payments import accounts, ledger
from payments.models.ledger import LedgerTransaction
from payments.models.treasury import TreasuryRemittance
from payments.reconciliation.imports import import_report
from payments.reconciliation.models import ReportLine
from payments.reconciliation.runs import BreakEvent, ReconBreak
from payments.reconciliation.service import outcome_counts
from payments.reconciliation.treasury import budget_code_of, month_of, reconcile_treasury
from payments.remittance import obligations
from payments.remittance_rules import fold, load_rules
from tests.admin.finance.settled import paid_bill, register_sandbox

FIXTURES = Path(__file__).parent / "fixtures"
RULES = load_rules()
MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
HN_CA, LLTP_CODE = "HN-CA", "418-2557"


def _vn(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=VIETNAM).astimezone(UTC)


def collect(db, at: datetime, *, agency: str = HN_CA, base: int = 200_000, retained: int = 8000, **overrides):
    """A bill of ``base`` paid by card at ``at``, the agency keeping ``retained`` basis points."""
    clock = FixedClock(at)
    with register_sandbox(clock):
        return paid_bill(db, clock, due=base, base=base, agency_code=agency, retained_basis_points=retained,
                         **overrides)


def march_collections(db) -> None:
    """Two judicial-record fees in March (80 % retained: 40,000 đ each to remit), one on 1 April."""
    collect(db, _vn(2026, 3, 10, 9))
    collect(db, _vn(2026, 3, 31, 23, 30))      # still March in Hà Nội (16:30 UTC)
    collect(db, _vn(2026, 4, 1, 0, 30))        # April in Hà Nội, though still 31 March in UTC


def run(db, as_of: datetime, agency: str = HN_CA, first: date = MARCH, last: date = date(2026, 4, 30)):
    return reconcile_treasury(db, agency=agency, period_start=first, period_end=last, started_by="officer:1",
                              rules=RULES, as_of=as_of, clock=FixedClock(as_of))


def _import(db, name: str) -> None:
    import_report(db, (FIXTURES / name).read_bytes(), "camt053" if name.endswith(".xml") else "vn_bank",
                  filename=name, imported_by="test")


def _budget_payable(db, agency: str = HN_CA) -> int:
    return -ledger.balance(db, accounts.budget_payable(agency).code).amount


def test_obligations_split_what_was_collected_by_budget_code_and_vietnamese_month(db):
    march_collections(db)
    collect(db, _vn(2026, 3, 12, 9), base=8_000, retained=0, service_code="TLHT", fee_kind="le_phi")
    found = obligations(db, RULES, first=MARCH, last=APRIL, as_of=_vn(2026, 4, 2), agency=HN_CA)
    rows = {(o.budget_code, o.month): (o.collected, o.retained, o.to_remit, o.remitted) for o in found}
    assert rows == {(LLTP_CODE, MARCH): (400_000, 320_000, 80_000, 0),
                    ("418-2552", MARCH): (8_000, 0, 8_000, 0),
                    (LLTP_CODE, APRIL): (200_000, 160_000, 40_000, 0)}
    assert sum(o.to_remit for o in found) == _budget_payable(db)


def test_a_treasury_debit_is_matched_to_its_month_and_posted_once_however_often_it_is_imported(db):
    march_collections(db)
    _import(db, "treasury-april.camt053.xml")
    first = run(db, _vn(2026, 4, 10))
    assert outcome_counts(db, first.id) == {"matched": 1}
    _import(db, "treasury-april.vn-debit-credit.csv")          # the same movements, exported as a sao kê
    second = run(db, _vn(2026, 4, 11))
    assert outcome_counts(db, second.id) == {"matched": 1} and first.result_digest == second.result_digest
    remittance = db.scalars(select(TreasuryRemittance)).one()
    line = db.get(ReportLine, remittance.line_id)                # the first copy: camt.053, with its creditor
    assert line.counterparty == "Kho bạc Nhà nước Hà Nội 7111.0.1053412"
    assert (remittance.agency_code, remittance.budget_code, remittance.period_month, remittance.amount) == \
        (HN_CA, LLTP_CODE, MARCH, 80_000)
    posted = db.scalars(select(LedgerTransaction).where(LedgerTransaction.kind == "treasury_remittance")).all()
    assert len(posted) == 1 and posted[0].external_id == "remittance:0011004123456:FT26093000103|2026-04-03|-80000"
    assert ledger.balance(db, accounts.agency_bank(HN_CA).code).amount == -80_000
    assert _budget_payable(db) == 40_000                         # April's share is still to remit
    march = next(o for o in obligations(db, RULES, first=MARCH, last=MARCH, as_of=_vn(2026, 4, 11), agency=HN_CA))
    assert (march.remitted, march.outstanding, march.overdue) == (80_000, 0, 0)
    assert sum(ledger.trial_balance(db).values()) == 0


def test_unremitted_money_is_a_break_after_the_5th_not_before_and_closes_when_a_later_run_finds_it(db):
    march_collections(db)
    on_time = run(db, _vn(2026, 4, 5, 23, 59))
    assert on_time.break_count == 0
    late = run(db, _vn(2026, 4, 6, 0, 0))
    found = db.scalars(select(ReconBreak).where(ReconBreak.scope == f"treasury:{HN_CA}")).one()
    assert late.break_count == 1
    assert (found.kind, found.key, found.status, found.our_amount, found.priority) == \
        ("unremitted", f"{LLTP_CODE}|2026-03", "open", 80_000, 1)
    run(db, _vn(2026, 4, 7))                                      # seen again: still one break
    assert db.scalar(select(func.count()).select_from(ReconBreak)) == 1
    _import(db, "treasury-april.camt053.xml")
    run(db, _vn(2026, 4, 8))
    db.refresh(found)
    assert found.status == "auto_closed" and found.closed_at is not None
    events = db.scalars(select(BreakEvent.to_status).where(BreakEvent.break_id == found.id)
                        .order_by(BreakEvent.id)).all()
    assert events == ["open", "auto_closed"]


def test_money_on_another_organisations_account_is_overdue_24_hours_after_collection(db):
    collected = _vn(2026, 3, 31, 22, 0)
    collect(db, collected, agency="DEMO-STP", retained=0)
    assert run(db, collected + timedelta(hours=23, minutes=59), agency="DEMO-STP").break_count == 0
    assert run(db, collected + timedelta(hours=24), agency="DEMO-STP").break_count == 1
    found = db.scalars(select(ReconBreak).where(ReconBreak.scope == "treasury:DEMO-STP")).one()
    assert (found.key, found.our_amount, found.day) == ("414-2557|2026-03|31", 200_000, date(2026, 3, 31))


def test_under_the_24_hour_rule_money_overdue_after_a_remittance_opens_a_new_break(db):
    collect(db, _vn(2026, 3, 10, 9), agency="DEMO-STP", retained=0)
    first = db.scalars(select(ReconBreak)).all()
    assert first == [] and run(db, _vn(2026, 3, 11, 9), agency="DEMO-STP").break_count == 1
    statement = ("Số tài khoản:,1900555000111\nLoại tiền:,VND\nSố dư đầu kỳ:,1000000\n"
                 "Ngày GD,Số tham chiếu,Ghi nợ,Ghi có,Số dư,Diễn giải\n"
                 "11/03/2026,FT9,200000,,800000,CHUYEN TIEN NOP KBNN T03/2026 SO TU PHAP\n").encode()
    import_report(db, statement, "vn_bank", filename="demo-stp.csv", imported_by="test")
    collect(db, _vn(2026, 3, 20, 9), agency="DEMO-STP", retained=0)
    run(db, _vn(2026, 3, 21, 10), agency="DEMO-STP")
    breaks = {b.key: b.status for b in db.scalars(select(ReconBreak))}
    assert breaks == {"414-2557|2026-03|10": "auto_closed", "414-2557|2026-03|20": "open"}


def test_a_treasury_transfer_that_names_no_known_code_is_left_for_an_officer(db):
    march_collections(db)
    collect(db, _vn(2026, 3, 12, 9), base=8_000, retained=0, service_code="TLHT", fee_kind="le_phi")
    statement = ("Số tài khoản:,0011004123456\nLoại tiền:,VND\nSố dư đầu kỳ:,1000000\n"
                 "Ngày GD,Số tham chiếu,Ghi nợ,Ghi có,Số dư,Diễn giải\n"
                 "03/04/2026,FT1,88000,,912000,NOP TIEN VAO KBNN HA NOI THANG 03/2026\n").encode()
    import_report(db, statement, "vn_bank", filename="ambiguous.csv", imported_by="test")
    result = run(db, _vn(2026, 4, 4))
    assert outcome_counts(db, result.id) == {"not_ours": 1}
    assert db.scalar(select(func.count()).select_from(TreasuryRemittance)) == 0


def test_codes_and_months_are_read_from_bank_free_text():
    codes = {"418-2557", "418-2552"}
    assert budget_code_of(fold("Nộp NSNN chương 418 tiểu mục 2557"), codes) == "418-2557"
    assert budget_code_of(fold("NOP NSNN C418 TM.2552"), codes) == "418-2552"
    assert budget_code_of(fold("NOP NSNN"), codes) is None
    assert budget_code_of(fold("NOP NSNN"), {"418-2557"}) == "418-2557"
    assert budget_code_of(fold("NOP NSNN TM 9999"), codes) is None
    assert month_of(fold("kỳ T03/2026")) == MARCH
    assert month_of(fold("tháng 12 năm 2026")) == date(2026, 12, 1)
    assert month_of(fold("ngày 15/12/2025 nộp")) is None            # a date is not a month
    assert month_of(fold("T13/2026")) is None


def test_the_daily_check_covers_last_month_and_this_one_for_every_agency_and_raises_what_is_overdue(db):
    from payments.reconciliation.jobs import check_recent_remittances
    from payments.reconciliation.runs import ReconRun

    march_collections(db)
    done = check_recent_remittances(db, clock=FixedClock(_vn(2026, 4, 6, 7, 10)))
    assert HN_CA in done.checked and done.refused == () and set(done.checked) >= set(RULES.agencies)
    runs = db.scalars(select(ReconRun).where(ReconRun.scope == f"treasury:{HN_CA}")).all()
    assert [(r.period_start, r.period_end, r.started_by) for r in runs] == [(MARCH, date(2026, 4, 6), "scheduler")]
    overdue = db.scalars(select(ReconBreak).where(ReconBreak.scope == f"treasury:{HN_CA}")).one()
    assert (overdue.kind, overdue.key, overdue.our_amount) == ("unremitted", f"{LLTP_CODE}|2026-03", 80_000)


def _statement(account: str, *lines: str) -> bytes:
    return (f"Số tài khoản:,{account}\nLoại tiền:,VND\nSố dư đầu kỳ:,1000000\n"
            "Ngày GD,Số tham chiếu,Ghi nợ,Ghi có,Số dư,Diễn giải\n" + "\n".join(lines) + "\n").encode()


def test_money_moved_into_the_agencys_own_awaiting_account_is_not_a_remittance_until_it_leaves_it(db):
    march_collections(db)
    import_report(db, _statement("0011004123456", "03/04/2026,FT1,80000,,920000,"
                                 "NOP TIEN VAO TK TAM GIU 3591.0.1053412 TAI KBNN HA NOI TM 2557 T03/2026"),
                  "vn_bank", filename="bank.csv", imported_by="test")
    import_report(db, _statement("3591.0.1053412", "10/04/2026,KB1,80000,,920000,NOP NSNN TM 2557 T03/2026"),
                  "vn_bank", filename="awaiting.csv", imported_by="test")
    run(db, _vn(2026, 4, 11))
    assert sum(db.scalars(select(TreasuryRemittance.amount))) == 80_000
    assert _budget_payable(db) == 40_000  # April's share is still owed


def test_two_transfers_of_one_day_and_amount_without_a_bank_reference_are_two_remittances(db):
    march_collections(db)
    import_report(db, _statement("0011004123456", "03/04/2026,,40000,,960000,NOP NSNN KBNN TM 2557 T03/2026 LAN 1",
                                 "03/04/2026,,40000,,920000,NOP NSNN KBNN TM 2557 T03/2026 LAN 2"),
                  "vn_bank", filename="two.csv", imported_by="test")
    run(db, _vn(2026, 4, 4))
    run(db, _vn(2026, 4, 5))  # a second run counts nothing again
    assert sorted(db.scalars(select(TreasuryRemittance.amount))) == [40_000, 40_000]


def test_a_months_break_closes_when_a_run_that_starts_mid_month_finds_it_remitted(db):
    march_collections(db)
    run(db, _vn(2026, 4, 6), first=date(2026, 3, 15))
    found = db.scalars(select(ReconBreak).where(ReconBreak.scope == f"treasury:{HN_CA}")).one()
    assert (found.key, found.status) == (f"{LLTP_CODE}|2026-03", "open")
    _import(db, "treasury-april.camt053.xml")
    run(db, _vn(2026, 4, 8), first=date(2026, 3, 15))
    db.refresh(found)
    assert found.status == "auto_closed"


def test_after_a_sign_off_the_daily_check_goes_on_from_the_next_day(db):
    from payments.reconciliation.jobs import check_recent_remittances
    from payments.reconciliation.runs import ReconRun
    from payments.reconciliation.service import sign_off

    march_collections(db)
    check_recent_remittances(db, clock=FixedClock(_vn(2026, 4, 6, 7, 10)))
    first = db.scalars(select(ReconRun).where(ReconRun.scope == f"treasury:{HN_CA}")).one()
    sign_off(db, first.id, approver="approver:1", clock=FixedClock(_vn(2026, 4, 7, 9)))  # once the 6th is over
    collect(db, _vn(2026, 4, 20, 9))
    done = check_recent_remittances(db, clock=FixedClock(_vn(2026, 5, 6, 7, 10)))
    assert HN_CA in done.checked
    latest = db.scalars(select(ReconRun).where(ReconRun.scope == f"treasury:{HN_CA}", ReconRun.id != first.id)).one()
    assert (latest.period_start, latest.period_end) == (date(2026, 4, 7), date(2026, 5, 6))
    assert db.scalar(select(ReconBreak).where(ReconBreak.key == f"{LLTP_CODE}|2026-04")) is not None


def test_money_the_treasury_sends_back_undoes_its_remittance_once_and_the_month_is_overdue_again(db):
    march_collections(db)
    sent = "03/04/2026,FT1,80000,,920000,NOP NSNN KBNN HA NOI TM 2557 T03/2026"
    back = "04/04/2026,FT2,,80000,1000000,KBNN HA NOI TRA LAI FT1 SAI THONG TIN TM 2557 T03/2026"
    import_report(db, _statement("0011004123456", sent, back), "vn_bank", filename="returned.csv",
                  imported_by="test")
    first = run(db, _vn(2026, 4, 7))
    again = run(db, _vn(2026, 4, 8))
    assert first.break_count == again.break_count == 1
    returned = db.scalars(select(LedgerTransaction).where(LedgerTransaction.kind == "treasury_remittance_returned"))
    assert len(returned.all()) == 1
    assert _budget_payable(db) == 120_000  # March's 80,000 and April's 40,000 are owed again
    march = obligations(db, RULES, first=MARCH, last=MARCH, as_of=_vn(2026, 4, 8), agency=HN_CA)
    assert [(o.remitted, o.overdue) for o in march] == [(0, 80_000)]


def test_a_transfer_naming_no_month_pays_the_outstanding_months_oldest_first(db):
    march_collections(db)  # 80,000 to remit for March, 40,000 for April
    sent = "03/05/2026,FT9,120000,,880000,NOP NSNN KBNN HA NOI TM 2557"  # both months at once, no month named
    import_report(db, _statement("0011004123456", sent), "vn_bank", filename="may.csv", imported_by="test")
    done = run(db, _vn(2026, 5, 6), last=date(2026, 5, 31))  # April's deadline (the 5th) has passed
    assert done.break_count == 0
    paid = db.execute(select(TreasuryRemittance.period_month, TreasuryRemittance.amount)
                      .order_by(TreasuryRemittance.period_month)).all()
    assert [tuple(row) for row in paid] == [(MARCH, 80_000), (APRIL, 40_000)]
    run(db, _vn(2026, 5, 7), last=date(2026, 5, 31))  # a second run allocates nothing again
    assert db.scalar(select(func.count()).select_from(TreasuryRemittance)) == 2
    posted = db.scalars(select(LedgerTransaction).where(LedgerTransaction.kind == "treasury_remittance")).all()
    assert [t.external_id for t in posted] == ["remittance:0011004123456:FT9|2026-05-03|-120000"]
    assert _budget_payable(db) == 0


def test_a_surplus_beyond_what_is_outstanding_pays_the_month_the_transfer_was_booked_in(db):
    march_collections(db)
    sent = "10/04/2026,FT8,100000,,900000,NOP NSNN KBNN TM 2557"  # March's 80,000 and 20,000 ahead for April
    import_report(db, _statement("0011004123456", sent), "vn_bank", filename="april.csv", imported_by="test")
    run(db, _vn(2026, 4, 11))
    paid = db.execute(select(TreasuryRemittance.period_month, TreasuryRemittance.amount)
                      .order_by(TreasuryRemittance.period_month)).all()
    assert [tuple(row) for row in paid] == [(MARCH, 80_000), (APRIL, 20_000)]


def test_money_sent_back_for_a_transfer_that_paid_two_months_undoes_both(db):
    march_collections(db)
    sent = "03/05/2026,FT9,120000,,880000,NOP NSNN KBNN HA NOI TM 2557"
    back = "04/05/2026,FT10,,120000,1000000,KBNN HA NOI TRA LAI FT9 SAI THONG TIN TM 2557"
    import_report(db, _statement("0011004123456", sent, back), "vn_bank", filename="back.csv", imported_by="test")
    run(db, _vn(2026, 5, 6), last=date(2026, 5, 31))
    run(db, _vn(2026, 5, 7), last=date(2026, 5, 31))
    assert _budget_payable(db) == 120_000
    found = obligations(db, RULES, first=MARCH, last=APRIL, as_of=_vn(2026, 5, 7), agency=HN_CA)
    assert [(o.month, o.remitted, o.overdue) for o in found] == [(MARCH, 0, 80_000), (APRIL, 0, 40_000)]
