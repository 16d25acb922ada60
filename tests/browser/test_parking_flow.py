"""Parking in headless Chromium, on the deployed shape: a citizen links a plate, the operator's gate sends the
exit, the citizen pays the charge by card and gets the receipt; a citizen buys a monthly pass, pays it, and the
lot's next exit costs nothing; a finance officer sees the operator's day settle, and a planted under-reported
day opens a break on the workbench."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from agencies.clients import ClientSpec, register_client
from core.clock import SYSTEM_CLOCK, VIETNAM
from core.geography import seed_provinces
from identity.devidp.accounts import CITIZENS
from identity.devidp.seed import seed_demo_staff
from parking.lots import seed_lots
from parking.models import ParkingPass
from payments.reconciliation.runs import ReconBreak
from subsidies.seed import seed_catalogue, seed_rules
from tests.browser.conftest import served_gateway
from tests.browser_fixtures import screenshot
from tests.deployed.conftest import log_in_citizen, staff_page
from web.agency_runtime import keyring_for

pytestmark = pytest.mark.browser
AN = CITIZENS[0]  # a Hà Nội citizen of the stand-in
OPERATOR_KEY = "gw_test_parking_operator_key_0123456789abcdef"
PLATE = "30K-246.80"
PASS_PLATE = "30K-135.79"  # another vehicle of An's, the one with the monthly pass


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The deployed gateway with the tariffs, the demo lots and the Hàng Khay operator's API client."""
    def seed(session, settings):
        seed_provinces(session)
        seed_catalogue(session)
        seed_rules(session)
        seed_lots(session, clock=SYSTEM_CLOCK)
        seed_demo_staff(session, settings.base_url + "/dev-idp")
        register_client(session, ClientSpec(name="Cổng bãi xe Hàng Khay", agency_code="HN-PARKING",
                                            service_codes=("PARKING_HN",), scopes=("parking", "read")),
                        keyring=keyring_for(settings), actor="test", clock=SYSTEM_CLOCK, api_key=OPERATOR_KEY)

    with served_gateway(tmp_path_factory.mktemp("parking-live"), seed) as (base_url, deployment, _settings):
        yield base_url, deployment


def _api(base_url: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(base_url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {OPERATOR_KEY}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as answer:
        assert answer.status == 201
        return json.loads(answer.read())


def _gate(base_url: str, event_id: str, kind: str, at, plate: str = PLATE) -> dict:
    return _api(base_url, "/api/v1/parking/events", {
        "event_id": event_id, "lot": "HK-HANG-KHAY", "type": kind, "at": at.isoformat(),
        "vehicle": {"plate": plate, "class": "MOTORBIKE"}, "credential": {"kind": "plate_read", "value": plate}})


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def _form_of(page, button: str):
    """The form whose submit button reads ``button`` (the link and pass forms both label a field "Loại xe")."""
    return page.locator("form").filter(has=page.get_by_role("button", name=button, exact=True))


def _link(page, plate: str) -> None:
    form = _form_of(page, "Liên kết xe này")
    form.get_by_label("Biển số xe").fill(plate)
    form.get_by_label("Loại xe", exact=True).select_option("MOTORBIKE")
    form.get_by_role("button", name="Liên kết xe này").click()
    page.wait_for_load_state()


def _pay_by_card_to_the_receipt(page, amount: str) -> None:
    """On an open bill's page: pay ``amount`` with the sandbox's test card and open the receipt."""
    page.get_by_label("Thẻ thử nghiệm (sandbox)").check()
    page.get_by_role("button", name=f"Thanh toán {amount}").click()
    page.wait_for_load_state()
    page.get_by_label("Số thẻ").fill("4242 4242 4242 4242")
    page.get_by_label("Ngày hết hạn (MM/YY)").fill("12/39")
    page.get_by_label("Mã bảo mật (CVC)").fill("123")
    page.get_by_role("button", name=f"Thanh toán {amount}").click()
    page.wait_for_load_state()
    page.get_by_text("Thanh toán thành công").wait_for(timeout=30_000)
    page.get_by_role("link", name="Xem biên lai").click()
    page.wait_for_load_state()
    assert re.fullmatch(r"Biên lai BLTT\S+", page.get_by_role("heading", level=1).inner_text())
    expect(page.locator("dl.receipt dt:has-text('Số tiền đã nộp') + dd")).to_have_text(amount)


def test_a_citizen_links_a_plate_and_pays_the_exit_charge_to_the_receipt(served, page):
    base_url, _deployment = served
    page.goto(base_url + "/parking/")
    log_in_citizen(page, AN.name)
    _link(page, PLATE)
    expect(page.get_by_text("30K24680", exact=True)).to_be_visible()
    _fits(page)
    screenshot(page, "parking-vehicles-360px")

    now = SYSTEM_CLOCK.now()
    _gate(base_url, "hk-lane1-0001", "entry", now - timedelta(hours=2))
    session = _gate(base_url, "hk-lane1-0002", "exit", now - timedelta(minutes=1))
    payment = session["payment"]
    assert payment["charged_to"] == "linked_citizen" and payment["amount_due"] > 0
    amount = f"{payment['amount_due']:,}".replace(",", ".") + " ₫"

    page.reload()
    page.get_by_role("link", name="Điểm đỗ xe phố Hàng Khay").click()
    page.wait_for_load_state()
    assert page.locator(".amount").inner_text() == amount
    expect(page.get_by_text("44/2017/QĐ-UBND").first).to_be_visible()  # the tariff's legal basis
    screenshot(page, "parking-charge-360px")
    _pay_by_card_to_the_receipt(page, amount)
    _fits(page)
    screenshot(page, "parking-receipt-360px")


def test_a_citizen_buys_a_monthly_pass_pays_it_and_the_lots_next_exit_costs_nothing(served, page):
    base_url, deployment = served
    page.goto(base_url + "/parking/")
    log_in_citizen(page, AN.name)
    _link(page, PASS_PLATE)
    month = SYSTEM_CLOCK.today_in_vietnam()
    bought = _form_of(page, "Mua vé tháng")
    bought.get_by_label("Loại xe", exact=True).select_option(label="30K13579 · Xe máy")
    bought.get_by_label("Điểm đỗ xe", exact=True).select_option("HK-HANG-KHAY")  # the option reads its name, address
    bought.get_by_label(f"{month:%m/%Y}", exact=True).check()  # this month (next month is offered too)
    _fits(page)
    screenshot(page, "parking-pass-form-360px")
    bought.get_by_role("button", name="Mua vé tháng").click()
    page.wait_for_load_state()
    expect(page.locator(".amount")).to_have_text("120.000 ₫")  # Hà Nội's motorbike month, Decision 44/2017
    _fits(page)
    screenshot(page, "parking-pass-bill-360px")
    _pay_by_card_to_the_receipt(page, "120.000 ₫")
    _fits(page)
    screenshot(page, "parking-pass-receipt-360px")

    page.goto(base_url + "/parking/")
    listed = page.get_by_role("table", name="Vé tháng của bạn, tháng gần nhất trước").get_by_role("row").filter(
        has=page.get_by_role("cell", name="30K13579", exact=True))
    expect(listed).to_have_count(1)
    for cell in (f"{month:%m/%Y}", "Điểm đỗ xe phố Hàng Khay", "120.000 ₫", "Hiệu lực"):
        expect(listed.get_by_role("cell", name=cell, exact=True)).to_be_visible()
    expect(listed.get_by_role("button", name="Gia hạn sang tháng sau")).to_be_visible()
    _fits(page)
    screenshot(page, "parking-pass-in-force-360px")

    now = SYSTEM_CLOCK.now()  # a stay inside the pass's month (it began at midnight on the first)
    entered = max(now - timedelta(hours=1), datetime.combine(month.replace(day=1), time(0), tzinfo=VIETNAM))
    _gate(base_url, "hk-pass-0001", "entry", entered, plate=PASS_PLATE)
    exited = _gate(base_url, "hk-pass-0002", "exit", now, plate=PASS_PLATE)
    with deployment.session_factory() as session:
        [held] = session.scalars(select(ParkingPass).where(ParkingPass.plate == "30K13579")).all()
    assert (exited["status"], exited["amount"], exited["payment"]) == ("closed", 0, None)
    assert exited["covered_by"] == f"pass:{held.public_id}"
    page.goto(base_url + f"/parking/tickets/{exited['id']}")  # the stay's ticket, as the gate hands it out
    expect(page.locator("strong.amount")).to_have_text("0 ₫")
    for role in ("button", "link"):  # nothing to pay: no bill to open
        expect(page.get_by_role(role, name=re.compile("^Thanh toán"))).to_have_count(0)
    _fits(page)
    screenshot(page, "parking-pass-covered-ticket-360px")


def test_a_finance_officer_sees_the_day_settle_and_a_planted_under_reported_day_opens_a_break(served, chromium):
    base_url, deployment = served
    planted = SYSTEM_CLOCK.today_in_vietnam() - timedelta(days=3)  # clear of the other test's stays
    morning = datetime.combine(planted, time(8), tzinfo=VIETNAM)
    for n in range(3):  # three vehicles reported by the gates; an inspector counted forty
        _gate(base_url, f"hk-y-{n}-in", "entry", morning + timedelta(minutes=n), plate=f"29H{n:05d}")
        _gate(base_url, f"hk-y-{n}-out", "exit", morning + timedelta(hours=1, minutes=n), plate=f"29H{n:05d}")
    _api(base_url, "/api/v1/parking/counts", {"count_id": "insp-y-1", "lot": "HK-HANG-KHAY", "source": "inspector",
                                              "period_start": morning.isoformat(),
                                              "period_end": (morning + timedelta(hours=8)).isoformat(),
                                              "vehicles": 40})
    day = planted.strftime("%d/%m/%Y")
    context, officer = staff_page(chromium, base_url, f"/admin/finance/parking?operator=HN-PARKING&day={day}",
                                  "Ngô Thị Thu")
    expect(officer.get_by_role("heading", level=1)).to_have_text("Quyết toán gửi xe")
    expect(officer.get_by_text("37 xe không được báo cáo")).to_be_visible()
    expect(officer.locator("figure.chart svg")).to_be_visible()
    screenshot(officer, "parking-settlement-1280px")
    officer.get_by_role("button", name="Kiểm tra báo cáo thiếu").click()
    officer.wait_for_load_state()
    expect(officer.get_by_role("status")).to_contain_text("Đã kiểm tra báo cáo thiếu")
    officer.get_by_role("link", name="Các chênh lệch của đơn vị này").click()
    officer.wait_for_load_state()
    expect(officer.get_by_text(day).first).to_be_visible()
    screenshot(officer, "parking-under-reported-break-1280px")
    context.close()
    with deployment.session_factory() as session:
        [found] = session.scalars(select(ReconBreak).where(ReconBreak.scope == "parking:HN-PARKING")).all()
        assert (found.kind, found.status, found.day) == ("missing_internally", "open", planted)
