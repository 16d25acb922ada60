"""Paying by VietQR in headless Chromium: the citizen scans (the test bank app), the bank feed reports through
the job worker, and the QR page turns to paid by itself, on to the receipt."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from agencies.accounts import set_receiving_account
from citizen.demo_bills import seed_demo_bills
from core.clock import SYSTEM_CLOCK
from core.geography import seed_provinces
from identity.devidp.seed import seed_demo_staff
from subsidies.seed import seed_catalogue, seed_rules
from tests.browser.conftest import served_gateway
from tests.browser_fixtures import screenshot
from tests.deployed.conftest import staff_page
from web.identity_runtime import personal_id_vault
from web.runtime import DEV_BANK_ACCOUNT

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The deployed gateway (two web workers and the job worker), demo bills, HCM-CA's receiving account."""
    def seed(session, settings):
        seed_provinces(session)
        seed_catalogue(session)
        seed_rules(session)
        seed_demo_bills(session, personal_id_vault(settings))
        seed_demo_staff(session, settings.base_url + "/dev-idp")
        set_receiving_account(session, "HCM-CA", bank_bin="970436", account_number=DEV_BANK_ACCOUNT,
                              holder_name="CONG AN THANH PHO HO CHI MINH", actor="seed", clock=SYSTEM_CLOCK)

    with served_gateway(tmp_path_factory.mktemp("vietqr-live"), seed) as (base_url, _, _settings):
        yield base_url


def test_a_citizen_pays_by_vietqr_through_the_test_bank_and_a_short_transfer_is_returned_by_finance(
        server, page, chromium):
    page.goto(server + "/bills/")
    page.get_by_role("button", name="Lê Minh Châu").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Tôi đồng ý và tiếp tục").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Phiếu lý lịch tư pháp số 1").first.click()
    page.wait_for_load_state()
    page.get_by_label("Chuyển khoản bằng mã QR (VietQR)").check()
    page.get_by_role("button", name="Thanh toán 200.000 ₫").click()
    page.wait_for_url(re.compile(r"/pay/vietqr/GW[0-9A-Z]{10}$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Thanh toán bằng chuyển khoản (VietQR)"
    expect(page.locator("svg").first).to_be_visible()
    expect(page.get_by_text(DEV_BANK_ACCOUNT).first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "vietqr-pay-page-360px")
    code = page.url.rsplit("/", 1)[1]
    page.get_by_role("link", name="Thanh toán bằng ứng dụng ngân hàng thử nghiệm").click()
    page.wait_for_load_state()
    expect(page.get_by_text(code).first).to_be_visible()  # the decoded QR names the payment
    screenshot(page, "vietqr-test-bank-360px")
    # First 10,000 ₫ short: the bill stays open and the money waits for the finance office.
    page.get_by_role("button", name="Chuyển thiếu 10.000 ₫").click()
    page.wait_for_url(re.compile(rf"/pay/vietqr/{code}$"))
    page.get_by_role("link", name="Thanh toán bằng ứng dụng ngân hàng thử nghiệm").click()
    page.get_by_role("button", name="Chuyển đúng số tiền").click()
    page.wait_for_url(re.compile(rf"/pay/vietqr/{code}$"))
    # The worker delivers the feed's notification; the page polls and turns to paid without a click.
    expect(page.get_by_text("Đã thanh toán. Biên lai có trong khoản phải nộp.")).to_be_visible(timeout=60_000)
    screenshot(page, "vietqr-paid-360px")
    page.get_by_role("link", name="Xem khoản phải nộp và biên lai").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Xem biên lai").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Biên lai BLTT")
    _finance_returns_the_short_transfer(server, chromium, code)


def _finance_returns_the_short_transfer(server: str, chromium, code: str) -> None:
    """The short transfer is a break on the workbench: an officer proposes returning it, an approver posts it."""
    officer_context, officer = staff_page(chromium, server, "/admin/finance/breaks", "Ngô Thị Thu")
    officer.get_by_role("row", name=re.compile("hệ thống không có")).get_by_role("link").first.click()
    # The feed's note: why the money was held, and the payment the transfer named.
    held = f"giữ lại khoản chuyển khoản: ít hơn số phải nộp · lượt thanh toán {code}"
    expect(officer.get_by_text(held)).to_be_visible()
    officer.get_by_label("Ghi chú (bắt buộc khi đề xuất cách xử lý)").fill("Người nộp chuyển thiếu: hoàn trả")
    officer.get_by_label("Bút toán").select_option("reclassify_suspense")
    officer.locator("#account").select_option("refunds_payable")
    officer.get_by_label("Số tiền (đồng, không lẻ)").fill("190.000")
    officer.get_by_role("button", name="Đề xuất cách xử lý").click()
    expect(officer.get_by_text("đã đề xuất xử lý", exact=True).first).to_be_visible()
    approver_context, approver = staff_page(chromium, server, officer.url.removeprefix(server), "Đặng Văn Phúc")
    approver.get_by_role("button", name="Phê duyệt cách xử lý").click()
    expect(approver.get_by_role("heading", name="Đã ghi sổ cái")).to_be_visible()
    screenshot(approver, "vietqr-short-transfer-break-posted")
    officer_context.close()
    approver_context.close()
