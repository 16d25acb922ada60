"""The parking settlement page: an operator's day on screen and in its downloads; the under-reporting check."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from sqlalchemy import select

from core.clock import SYSTEM_CLOCK, VIETNAM
from parking.counts import CountIn, take_count
from parking.gate import take_event
from parking.lots import operator_by_code, seed_lots
from payments.reconciliation.runs import ReconBreak
from tests.admin.finance.support import csrf
from tests.parking.conftest import VAULT
from tests.parking.test_gate import RULES, event


def _day(db, vehicles: int, counted: int):
    seed_lots(db, clock=SYSTEM_CLOCK)
    operator = operator_by_code(db, "HN-PARKING")
    today = SYSTEM_CLOCK.today_in_vietnam() - timedelta(days=1)  # a whole day past, whenever the test runs
    start = datetime.combine(today, datetime.min.time(), tzinfo=VIETNAM) + timedelta(hours=8)
    for n in range(vehicles):
        for kind, minutes in (("entry", 1), ("exit", 3)):
            take_event(db, operator, event(kind, start + timedelta(minutes=minutes), plate=f"29A{n:05d}"),
                       rule_set=RULES, vault=VAULT, clock=SYSTEM_CLOCK)
    take_count(db, operator, CountIn("cam-1", "HK-HANG-KHAY", "gate_counter", start, start + timedelta(minutes=5),
                                     counted), clock=SYSTEM_CLOCK)
    return operator, today


def test_the_day_statement_shows_gates_counts_and_money_and_downloads_the_same(officer, db):
    operator, today = _day(db, vehicles=3, counted=3)
    day = today.strftime("%d/%m/%Y")
    html = officer.get("/admin/finance/parking", query_string={"operator": "HN-PARKING", "day": day}).get_data(
        as_text=True)
    assert "Điểm đỗ xe phố Hàng Khay" in html and "within tolerance" in html and "<svg" in html
    rows = list(csv.reader(io.StringIO(officer.get("/admin/finance/parking.csv", query_string={
        "operator": "HN-PARKING", "day": day}).data.decode("utf-8-sig"))))
    lot_row = next(row for row in rows if row and row[0].startswith("HK-HANG-KHAY"))
    assert lot_row[1:5] == ["3", "3", "3", "3"]
    for fmt in ("xlsx", "pdf"):
        assert officer.get(f"/admin/finance/parking.{fmt}", query_string={"operator": "HN-PARKING",
                                                                          "day": day}).status_code == 200


def test_a_planted_under_reported_day_opens_a_break_on_the_workbench(officer, db):
    _, today = _day(db, vehicles=2, counted=40)
    day = today.strftime("%d/%m/%Y")
    page = officer.get("/admin/finance/parking", query_string={"operator": "HN-PARKING", "day": day})
    assert "38 vehicles not reported" in page.get_data(as_text=True)
    checked = officer.post("/admin/finance/parking/check", data={"csrf_token": csrf(officer, "/admin/finance/parking"),
                                                                 "operator": "HN-PARKING", "day": day})
    assert checked.status_code == 303
    [found] = db.scalars(select(ReconBreak).where(ReconBreak.scope == "parking:HN-PARKING")).all()
    assert (found.kind, found.status) == ("missing_internally", "open")
    workbench = officer.get("/admin/finance/breaks", query_string={"scope": "parking:HN-PARKING"}).get_data(
        as_text=True)
    assert f'href="/admin/finance/breaks/{found.id}"' in workbench and today.strftime("%d/%m/%Y") in workbench
    detail = officer.get(f"/admin/finance/breaks/{found.id}").get_data(as_text=True)
    assert "counted 40 (gate_counter), entries reported 2" in detail
