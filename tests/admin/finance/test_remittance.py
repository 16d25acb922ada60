"""The remittance page: the report on screen equals its downloads, the Treasury check posts and raises breaks."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from payments.models.treasury import TreasuryRemittance
from payments.reconciliation.runs import ReconBreak, ReconRun
from tests.admin.finance.support import csrf
from tests.payments.reconciliation.test_treasury import _import, _vn, collect, march_collections

PERIOD = {"from": "01/03/2026", "to": "30/04/2026"}


def _collected(db) -> None:
    march_collections(db)
    collect(db, _vn(2026, 3, 12, 9), base=8_000, retained=0, service_code="TLHT", fee_kind="le_phi")
    _import(db, "treasury-april.camt053.xml")


def _page_total(html: str, key: str) -> int:
    return int(re.sub(r"\D", "", re.search(rf'data-total="{key}">([^<]+)<', html).group(1)))


def test_the_page_shows_each_agency_budget_code_and_month_and_the_downloads_carry_the_same_totals(officer, db):
    _collected(db)
    page = officer.get("/admin/finance/remittance", query_string=PERIOD)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "418-2557" in html and "418-2552" in html and "03/2026" in html and "05/04/2026" in html
    assert "Circular 74/2022/TT-BTC" in html and "To verify" in html
    assert _page_total(html, "collected") == 608_000 and _page_total(html, "to_remit") == 128_000
    rows = list(csv.reader(io.StringIO(officer.get("/admin/finance/remittance.csv", query_string=PERIOD)
                                       .data.decode("utf-8-sig"))))
    assert rows[-1][0] == "Total" and int(rows[-1][3]) == 608_000 and int(rows[-1][6]) == 128_000
    for fmt in ("xlsx", "pdf"):
        response = officer.get(f"/admin/finance/remittance.{fmt}", query_string=PERIOD)
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]


def test_the_treasury_check_posts_the_remittance_and_opens_breaks_for_what_is_overdue(approver, db):
    _collected(db)
    response = approver.post("/admin/finance/remittance/check",
                              data={"csrf_token": csrf(approver, "/admin/finance/remittance"), **PERIOD})
    assert response.status_code == 303 and "checked=" in response.location
    assert db.scalars(select(TreasuryRemittance.amount)).all() == [80_000]
    overdue = db.scalars(select(ReconBreak.key).where(ReconBreak.kind == "unremitted")).all()
    # March's judicial-record fees were remitted; the March lệ phí and April's fees are past their deadlines.
    assert sorted(overdue) == ["418-2552|2026-03", "418-2557|2026-04"]
    page = approver.get(response.location).get_data(as_text=True)
    assert "Treasury check run for" in page and _page_total(page, "remitted") == 80_000
    # The runs and breaks it made are worked on the usual pages.
    run_id = db.scalar(select(ReconRun.id).where(ReconRun.scope == "treasury:HN-CA"))
    assert "treasury:HN-CA" in approver.get(f"/admin/finance/runs/{run_id}").get_data(as_text=True)
    break_id = db.scalar(select(ReconBreak.id).where(ReconBreak.key == "418-2552|2026-03"))
    detail = approver.get(f"/admin/finance/breaks/{break_id}")
    assert detail.status_code == 200 and "not remitted in time" in detail.get_data(as_text=True)


def test_an_unreadable_period_is_explained(officer):
    page = officer.get("/admin/finance/remittance", query_string={"from": "31/02/2026"})
    assert page.status_code == 422 and "dd/mm/yyyy" in page.get_data(as_text=True)


def test_a_far_off_year_is_an_unreadable_date_not_a_server_error(officer):
    response = officer.get("/admin/finance/remittance", query_string={"from": "01/12/9999", "to": "31/12/9999"})
    assert response.status_code == 422 and "dd/mm/yyyy" in response.get_data(as_text=True)
