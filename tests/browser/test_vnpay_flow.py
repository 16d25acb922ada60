"""Paying by VNPay in headless Chromium: the bill sends the citizen to the built-in VNPay simulator's page, a
scenario button plays what VNPay does, the job worker delivers its IPN, and the return page shows the outcome
(asked of VNPay by querydr): on to the receipt after a success, back to the bill to pay again after a decline."""

from __future__ import annotations

import re
from unittest.mock import patch

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from citizen import demo_bills
from citizen.demo_bills import DemoBill, seed_demo_bills
from core.geography import seed_provinces
from core.outbox import OutboxJob
from identity.devidp.accounts import CITIZENS
from payments.dev_vnpay import DELIVER_JOB
from payments.models.billing import Bill, Payment
from subsidies.seed import seed_catalogue, seed_rules
from tests.browser.conftest import served_gateway
from tests.browser_fixtures import screenshot
from tests.deployed.conftest import log_in_citizen
from web.identity_runtime import personal_id_vault

pytestmark = pytest.mark.browser
CHAU = next(c for c in CITIZENS if c.name == "Lê Minh Châu")
VNPAY = "VNPay: thẻ ATM nội địa, Internet Banking hoặc ứng dụng ngân hàng"  # the method's label on the bill
#: Lê Minh Châu's demo bill (paid in the success test) and a second one of hers (declined, then open again).
DEMO_BILL = "Phiếu lý lịch tư pháp số 1 (hồ sơ nộp qua VNeID ngày 15/12/2025)"
SECOND_BILL = "Phiếu lý lịch tư pháp số 1 (bản thứ hai)"
SECOND_REFERENCE = "LLTP-HCM-VNPAY-0002"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The deployed gateway (two web workers and the job worker) with the demo bills and a second bill of Châu's."""
    def seed(session, settings):
        seed_provinces(session)
        seed_catalogue(session)
        seed_rules(session)
        vault = personal_id_vault(settings)
        seed_demo_bills(session, vault)
        second = DemoBill(CHAU.subject, "HCM-CA", SECOND_REFERENCE, SECOND_BILL)
        with patch.object(demo_bills, "DEMO_BILLS", (second,)):  # priced as the demo bills are
            seed_demo_bills(session, vault)

    with served_gateway(tmp_path_factory.mktemp("vnpay-live"), seed) as (base_url, deployment, _settings):
        yield base_url, deployment


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def _to_the_simulator(page, base_url: str, bill: str) -> str:
    """Log Châu in, open ``bill``, choose VNPay and pay: end on the simulator's page; return the payment's code."""
    page.goto(base_url + "/bills/")
    log_in_citizen(page, CHAU.name)  # she consents on her first login only
    page.get_by_role("link", name=bill, exact=True).click()
    page.wait_for_load_state()
    assert page.locator(".amount").inner_text() == "200.000 ₫"
    page.get_by_label(VNPAY, exact=True).check()
    page.get_by_role("button", name="Thanh toán 200.000 ₫").click()
    page.wait_for_url(re.compile(r"/vnpay-sim/paymentv2/vpcpay\.html\?.*vnp_SecureHash="))
    assert page.get_by_role("heading", level=1).inner_text() == "Trang thanh toán VNPay (mô phỏng)"
    expect(page.get_by_text("200.000 ₫").first).to_be_visible()
    code = re.search(r"[?&]vnp_TxnRef=(GW[0-9A-Z]{10})(&|$)", page.url).group(1)
    expect(page.get_by_text(code, exact=True)).to_be_visible()  # the page names the payment it was sent
    return code


def _ipns_delivered(deployment, code: str) -> list[OutboxJob]:
    """Wait until the job worker has delivered every IPN the simulator staged for payment ``code``."""
    def delivered(session):
        jobs = [job for job in session.scalars(select(OutboxJob).where(OutboxJob.name == DELIVER_JOB))
                if job.payload["params"]["vnp_TxnRef"] == code]
        return jobs if jobs and all(job.status == "done" for job in jobs) else None

    return deployment.wait_for(f"the IPNs of {code} delivered by the job worker", delivered)


def _payment(deployment, code: str) -> Payment:
    with deployment.session_factory() as session:
        return session.scalars(select(Payment).where(Payment.public_id == code)).one()


def test_a_citizen_pays_by_vnpay_through_the_simulator_and_gets_the_receipt(served, page):
    base_url, deployment = served
    code = _to_the_simulator(page, base_url, DEMO_BILL)
    _fits(page)
    screenshot(page, "vnpay-simulator-page-360px")
    page.get_by_role("button", name="Thanh toán: thành công").click()
    page.wait_for_url(re.compile(r"/bills/[0-9a-f]{32}/return\?.*vnp_SecureHash="))
    assert page.get_by_role("heading", level=1).inner_text() == "Kết quả thanh toán"
    expect(page.get_by_role("status")).to_have_text("Thanh toán thành công", timeout=30_000)
    _fits(page)
    screenshot(page, "vnpay-return-succeeded-360px")
    assert len(_ipns_delivered(deployment, code)) == 1  # one IPN, delivered by the worker process
    payment = _payment(deployment, code)
    assert (payment.provider, payment.status) == ("vnpay", "succeeded") and payment.provider_payment_ref
    page.get_by_role("link", name="Xem biên lai").click()
    page.wait_for_load_state()
    heading = page.get_by_role("heading", level=1).inner_text()
    assert re.fullmatch(r"Biên lai BLTT\S+", heading), heading
    number = heading.removeprefix("Biên lai ")
    receipt = page.locator("dl.receipt")
    expect(receipt.locator("dt:has-text('Số biên lai') + dd")).to_have_text(number)
    expect(receipt.locator("dt:has-text('Số tiền đã nộp') + dd")).to_have_text("200.000 ₫")
    expect(receipt.get_by_text("Lê Minh Châu (0790******78)")).to_be_visible()
    _fits(page)
    screenshot(page, "vnpay-receipt-360px")


def test_a_declined_vnpay_payment_leaves_the_bill_open_to_pay_again(served, page):
    base_url, deployment = served
    code = _to_the_simulator(page, base_url, SECOND_BILL)
    page.get_by_role("button", name="Bị từ chối: tài khoản không đủ số dư").click()
    page.wait_for_url(re.compile(r"/bills/[0-9a-f]{32}/return\?.*vnp_SecureHash="))
    expect(page.get_by_role("status")).to_have_text("Thanh toán bị từ chối", timeout=30_000)
    expect(page.get_by_role("link", name="Xem biên lai")).to_have_count(0)
    _fits(page)
    screenshot(page, "vnpay-return-declined-360px")
    assert len(_ipns_delivered(deployment, code)) == 1
    # Declined whichever came first, the IPN or the return page's querydr. (The failure code differs by which:
    # vnpay_51 from the IPN, vnpay_02 from querydr, whose answer has no payer-bank response code.)
    assert _payment(deployment, code).status == "declined"
    page.get_by_role("link", name="Thử lại").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == SECOND_BILL
    # The bill is open again: the methods and the pay button, no attempt in progress, no receipt.
    expect(page.get_by_role("button", name="Thanh toán 200.000 ₫")).to_be_visible()
    expect(page.get_by_label(VNPAY, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Đang có một lần thanh toán")).to_have_count(0)
    with deployment.session_factory() as session:
        assert session.scalar(select(Bill.status).where(Bill.agency_reference == SECOND_REFERENCE)) == "open"
    _fits(page)
    screenshot(page, "vnpay-bill-open-again-360px")
