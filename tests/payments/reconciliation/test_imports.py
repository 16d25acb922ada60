"""Importing reports: stored byte for byte, every line normalised, idempotent, all-or-nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from payments.reconciliation.imports import import_report
from payments.reconciliation.models import ReportFile, ReportLine, ReportStatement
from payments.reconciliation.parsed import ImportRejected

OURS = Path(__file__).parent / "fixtures"


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_bank_statement_is_stored_unchanged_with_every_line(db):
    content = (OURS / "vcb-sao-ke-debit-credit.csv").read_bytes()
    result = import_report(db, content, "vn_bank", filename="sao-ke.csv", imported_by="officer:7")
    assert result.created
    stored = db.get(ReportFile, result.file.id)
    assert stored.content == content and stored.size == len(content) and stored.line_count == 5
    lines = db.scalars(select(ReportLine).where(ReportLine.file_id == stored.id).order_by(ReportLine.row)).all()
    assert [(line.row, line.amount, line.payment_code) for line in lines][:2] == [(8, 200_000, "GW7K2M9Q4XAB"),
                                                                     (9, 100_000, "GW3P8R2T6V9C")]
    assert all(line.currency == "VND" and line.kind == "bank" and line.net == line.amount for line in lines)
    statement = db.scalar(select(ReportStatement).where(ReportStatement.file_id == stored.id))
    assert (statement.opening, statement.closing, statement.reconciles) == (1_000_000, 1_502_500, True)


def test_importing_the_same_file_twice_adds_nothing(db):
    # The public multi-statement samples are in euro and refused (test_statement_currency): two days of
    # the city's account in one MT940 file instead.
    day = (OURS / "same-day.mt940.sta").read_bytes()
    next_day = day.replace(b":20:VCB20261202001", b":20:VCB20261203001").replace(b"FT2633", b"FT2634")
    content = day + next_day
    first = import_report(db, content, "mt940", filename="a.sta", imported_by="officer:7")
    lines = _count(db, ReportLine)
    again = import_report(db, content, "mt940", filename="renamed.sta", imported_by="officer:8")
    assert (first.created, again.created) == (True, False)
    assert again.file.id == first.file.id
    assert _count(db, ReportLine) == lines == 8 and _count(db, ReportStatement) == 2


def test_a_malformed_file_keeps_nothing(db):
    content = (OURS / "vcb-sao-ke-debit-credit.csv").read_bytes().replace(b'"1,294,500"', b'"1,249,500"')
    with pytest.raises(ImportRejected) as caught:
        import_report(db, content, "vn_bank", filename="bad.csv", imported_by="officer:7")
    assert caught.value.details == {"row": 10, "reason": caught.value.reason}
    assert _count(db, ReportFile) == _count(db, ReportLine) == 0


def test_provider_lines_keep_gross_fee_net_and_their_vietnamese_business_day(db):
    content = (OURS / "stripe-payout-reconciliation-itemized.csv").read_bytes()
    file = import_report(db, content, "stripe", filename="payout.csv", imported_by="job:stripe").file
    line = db.scalar(select(ReportLine).where(ReportLine.file_id == file.id, ReportLine.row == 2))
    assert (line.kind, line.amount, line.fee, line.net, line.payout_id) == ("provider", 200_000, 7_800, 192_200,
                                                                            "po_1QaC9zXyZ001")
    assert line.booked_on.isoformat() == "2026-12-01"  # 02:15 UTC is 09:15 in Hà Nội
    assert file.format == "stripe_payout_reconciliation"


def test_concurrent_imports_of_one_file_store_it_once(session_factory, fresh_engine, database_url):
    content = (OURS / "tcb-sao-ke-signed.csv").read_bytes()
    results, errors = [], []
    barrier = threading.Barrier(4)

    def run():
        try:
            with session_factory() as session:
                barrier.wait()
                results.append(import_report(session, content, "vn_bank", filename="x.csv", imported_by="t").created)
                session.commit()
        except Exception as exc:  # recorded, then asserted empty
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == [] and results.count(True) == 1
        with session_factory() as session:
            assert _count(session, ReportFile) == 1 and _count(session, ReportLine) == 3
    finally:
        with fresh_engine.begin() as connection:
            for table in ("report_lines", "report_statements", "report_files"):
                connection.exec_driver_sql(f"DELETE FROM {table}")


_ITEMIZED = (Path(__file__).parent / "fixtures" / "stripe-payout-reconciliation-itemized.csv").read_bytes()


@pytest.mark.parametrize(("old", "new"), [
    (b",vnd,200000,7800,192200,", b",vnd,--200000,7800,192200,"),  # a doubled sign
    (b",vnd,200000,7800,192200,", b",vnd,99999999999999999999,0,99999999999999999999,"),  # beyond BIGINT
    (b",charge,", b"," + b"c" * 41 + b","),  # a category longer than its column
])
def test_an_amount_or_category_no_column_can_hold_is_refused_whole_not_a_server_error(db, old, new):
    assert old in _ITEMIZED
    with pytest.raises(ImportRejected):
        import_report(db, _ITEMIZED.replace(old, new, 1), "stripe", filename="bad.csv", imported_by="test")
    assert _count(db, ReportFile) == 0 and _count(db, ReportLine) == 0


def test_a_stripe_timestamp_with_an_offset_is_converted_to_utc_not_relabelled(db):
    from datetime import UTC, datetime

    assert b"2026-12-01 08:02:33" in _ITEMIZED
    content = _ITEMIZED.replace(b"2026-12-01 08:02:33", b"2026-12-01 08:02:33+07:00", 1)
    result = import_report(db, content, "stripe", filename="tz.csv", imported_by="test")
    stored = set(db.scalars(select(ReportLine.occurred_at).where(ReportLine.file_id == result.file.id)))
    assert datetime(2026, 12, 1, 1, 2, 33, tzinfo=UTC) in stored
    assert datetime(2026, 12, 1, 8, 2, 33, tzinfo=UTC) not in stored
