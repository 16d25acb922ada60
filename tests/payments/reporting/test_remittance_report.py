"""The remittance report: its totals are the ledger's, and CSV, XLSX and PDF carry the same ones."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from payments import ledger
from payments.reconciliation.imports import import_report
from payments.remittance import obligations
from payments.remittance_rules import load_rules
from payments.reporting.csv_export import to_csv
from payments.reporting.pdf_export import to_pdf
from payments.reporting.remittance import remittance_table, retained_share
from payments.reporting.xlsx_export import to_xlsx
from tests.payments.reconciliation.test_treasury import MARCH, _import, _vn, collect, march_collections, run

RULES = load_rules()
FIRST, LAST = MARCH, date(2026, 4, 30)
AS_OF = _vn(2026, 4, 20)


def _scenario(db):
    """March and April at two agencies, one phí split 80/20 and one lệ phí, March of HN-CA remitted."""
    march_collections(db)
    collect(db, _vn(2026, 3, 12, 9), base=8_000, retained=0, service_code="TLHT", fee_kind="le_phi")
    collect(db, _vn(2026, 3, 20, 15), agency="DEMO-STP", base=200_000, retained=0)
    _import(db, "treasury-april.camt053.xml")
    run(db, AS_OF)
    run(db, AS_OF, agency="DEMO-STP")
    return remittance_table(obligations(db, RULES, first=FIRST, last=LAST, as_of=AS_OF), first=FIRST, last=LAST,
                            generated_at=AS_OF)


def _ledger_sums(db) -> dict[str, int]:
    balances = ledger.trial_balance(db)
    return {"to_remit_less_remitted": -sum(v for k, v in balances.items() if k.startswith("budget_payable:")),
            "retained": -sum(v for k, v in balances.items() if k.startswith("fee_retained:"))}


def test_the_reports_totals_equal_the_ledger_balances(db):
    table = _scenario(db)
    sums = _ledger_sums(db)
    totals = table.totals
    assert totals["outstanding"] == totals["to_remit"] - totals["remitted"] == sums["to_remit_less_remitted"]
    assert totals["retained"] == sums["retained"]
    assert totals["collected"] == totals["retained"] + totals["to_remit"] == 808_000
    assert totals["remitted"] == 80_000
    rows = {(r["agency"], r["budget_code"], r["month"]): r for r in table.rows}
    march = rows[("HN-CA", "418-2557", "03/2026")]
    assert (march["retained_share"], march["deadline"], march["outstanding"], march["overdue"]) == \
        ("80,00 %", "05/04/2026", 0, 0)
    assert rows[("HN-CA", "418-2552", "03/2026")]["overdue"] == 8_000        # the lệ phí was never remitted
    assert rows[("DEMO-STP", "414-2557", "03/2026")]["deadline"] == "24 giờ sau khi thu"
    assert rows[("HN-CA", "418-2557", "04/2026")]["overdue"] == 0            # due by 5 May


def test_csv_xlsx_and_pdf_carry_the_same_totals(db):
    table = _scenario(db)
    csv_rows = list(csv.reader(io.StringIO(to_csv(table).decode("utf-8-sig"))))
    xlsx_rows = list(load_workbook(io.BytesIO(to_xlsx(table))).active.iter_rows(values_only=True))
    money = [i for i, c in enumerate(table.columns) if c.kind == "money"]
    expected = [table.totals[table.columns[i].key] for i in money]
    assert [int(csv_rows[-1][i]) for i in money] == [xlsx_rows[-1][i] for i in money] == expected
    assert csv_rows[0][1] == "Mã NSNN (chương-tiểu mục)" and csv_rows[-1][0] == "Tổng cộng"
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (apt-get install poppler-utils)")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=to_pdf(table), capture_output=True,
                          check=True).stdout.decode()
    for needle in ("Báo cáo tình hình nộp ngân sách nhà nước", "Tổng cộng", "808.000 ₫", "80.000 ₫",
                   "Kế toán trưởng", "Thủ trưởng đơn vị"):
        assert needle in text, needle


@pytest.mark.parametrize(("retained", "collected", "locale", "expected"), [
    (160_000, 200_000, "vi", "80,00 %"), (1, 3, "en", "33.33 %"), (2, 3, "vi", "66,67 %"), (0, 0, "vi", "—"),
    (0, 8_000, "vi", "0,00 %"),
])
def test_the_retained_share_is_exact_to_the_hundredth_of_a_percent(retained, collected, locale, expected):
    assert retained_share(retained, collected, locale) == expected


def _statement(account: str, amounts: list[int]) -> bytes:
    """Treasury transfers of ``amounts`` from ``account`` on 2 April, with running balances."""
    balance, lines = 10**9, [f"Số tài khoản:,{account}", "Loại tiền:,VND", f"Số dư đầu kỳ:,{10**9}",
                             "Ngày GD,Số tham chiếu,Ghi nợ,Ghi có,Số dư,Diễn giải"]
    for number, amount in enumerate(amounts, start=1):
        balance -= amount
        lines.append(f"02/04/2026,FT{number},{amount},,{balance},NOP NSNN KBNN TM2557 T03/2026")
    return ("\n".join(lines) + "\n").encode()


def test_for_any_collections_and_remittances_the_totals_equal_the_ledger(db):
    agencies = ("HN-CA", "DEMO-STP", "XX-NOT-CONFIGURED")

    @settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(st.sampled_from(agencies), st.integers(1, 500_000), st.sampled_from([0, 5_000, 8_000,
                                                                                                   10_000]),
                              st.integers(0, 45)), min_size=1, max_size=4),
           st.lists(st.integers(1, 300_000), max_size=3))
    def check(collections, remitted):
        savepoint = db.begin_nested()
        try:
            for agency, base, retained, day in collections:
                collect(db, _vn(2026, 3, 1, 9) + timedelta(days=day), agency=agency, base=base, retained=retained)
            if remitted:
                import_report(db, _statement("0011004123456", remitted), "vn_bank", filename="t.csv",
                              imported_by="test")
            for agency in agencies:
                run(db, AS_OF, agency=agency)
            table = remittance_table(obligations(db, RULES, first=FIRST, last=LAST, as_of=AS_OF), first=FIRST,
                                     last=LAST, generated_at=AS_OF)
            sums, totals = _ledger_sums(db), table.totals
            assert totals["outstanding"] == totals["to_remit"] - totals["remitted"] == sums["to_remit_less_remitted"]
            assert totals["retained"] == sums["retained"]
            assert totals["collected"] == sum(base for _, base, _, _ in collections)
            # Every transfer names the code, so each is matched and posted, owed or not (over-remitting shows as
            # a negative outstanding, never as lost money).
            assert totals["remitted"] == sum(remitted)
        finally:
            savepoint.rollback()

    check()


def test_a_negative_retained_share_reads_as_its_own_negative():
    from payments.reporting.remittance import retained_share

    assert retained_share(-1, 200) == "-0,50 %" and retained_share(1, 200) == "0,50 %"
    assert retained_share(-3, 200, "en") == "-1.50 %" and retained_share(0, 200) == "0,00 %"
