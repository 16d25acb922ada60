"""Paying in headless Chromium: a 0 đ bill with its explanation and receipt; 200,000 đ by sandbox card, PDF, verify."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from citizen.demo_bills import seed_demo_bills
from core.geography import seed_provinces
from subsidies.seed import seed_catalogue, seed_rules
from tests.browser.conftest import served_gateway
from tests.browser_fixtures import ARTIFACTS, screenshot
from web.identity_runtime import personal_id_vault

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pay_server(tmp_path_factory):
    """The gateway with its stand-in and sandbox on the address it listens on, seeded with the demo bills."""
    def seed(session, settings):
        seed_provinces(session)
        seed_catalogue(session)
        seed_rules(session)
        seed_demo_bills(session, personal_id_vault(settings))

    with served_gateway(tmp_path_factory.mktemp("pay-live"), seed) as served:
        yield served


def _log_in_for_bills(page, base_url: str, name: str) -> None:
    """Open "My bills", log in at the stand-in as ``name`` and consent; end on "My bills"."""
    page.goto(base_url + "/bills/")
    page.get_by_role("button", name=name).click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Tôi đồng ý và tiếp tục").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Khoản phải nộp của tôi"


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.fixture()
def server(pay_server):
    """The deployed gateway's address."""
    return pay_server[0]


def test_hanoi_level_two_citizen_sees_the_free_judicial_record_bill_and_its_receipt(server, page):
    _log_in_for_bills(page, server, "Nguyễn Văn An")
    assert page.get_by_text("0 ₫").first.is_visible()
    _fits(page)
    screenshot(page, "payments-my-bills-hanoi-360px")
    page.get_by_role("link", name="Phiếu lý lịch tư pháp số 1").first.click()
    page.wait_for_load_state()
    assert page.get_by_text("Số tiền đã thay đổi từ 200.000 ₫ thành 0 ₫").is_visible()
    assert page.get_by_text("11/2024/NQ-HĐND").first.is_visible()
    _fits(page)
    screenshot(page, "payments-free-bill-explained-360px")
    page.get_by_role("button", name="Xác nhận và nhận biên lai").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Xem biên lai").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Biên lai BLTT")
    assert page.get_by_text("Được hỗ trợ toàn bộ, không phải nộp tiền").is_visible()
    _fits(page)
    screenshot(page, "payments-free-bill-receipt-360px")


def test_hcm_citizen_pays_by_sandbox_card_downloads_the_pdf_and_verifies_the_receipt(server, page):
    _log_in_for_bills(page, server, "Lê Minh Châu")
    page.get_by_role("link", name="Phiếu lý lịch tư pháp số 1").first.click()
    page.wait_for_load_state()
    assert page.locator(".amount").inner_text() == "200.000 ₫"
    screenshot(page, "payments-bill-to-pay-360px")
    page.get_by_role("button", name="Thanh toán 200.000 ₫").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Trang thanh toán thử nghiệm"
    page.get_by_role("button", name="Thanh toán 200.000 ₫").click()  # nothing typed: the form says what is missing
    expect(page.get_by_text("Vui lòng nhập số thẻ.").first).to_be_visible()
    page.get_by_label("Số thẻ").fill("4242 4242 4242 4242")
    page.get_by_label("Ngày hết hạn (MM/YY)").fill("12/39")
    page.get_by_label("Mã bảo mật (CVC)").fill("123")
    _fits(page)
    screenshot(page, "payments-sandbox-card-page-360px")
    page.get_by_role("button", name="Thanh toán 200.000 ₫").click()
    page.wait_for_load_state()
    page.get_by_text("Thanh toán thành công").wait_for()
    screenshot(page, "payments-return-succeeded-360px")
    page.get_by_role("link", name="Xem biên lai").click()
    page.wait_for_load_state()
    assert page.get_by_text("Lê Minh Châu (0790******78)").is_visible()
    _fits(page)
    screenshot(page, "payments-receipt-360px")
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải biên lai PDF").click()
    pdf = ARTIFACTS / "payments-receipt.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    page.get_by_role("link", name="Kiểm tra biên lai này").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Biên lai hợp lệ").is_visible()
    assert page.get_by_text("200.000 ₫").is_visible()
    _fits(page)
    screenshot(page, "payments-receipt-verified-360px")


def test_a_level_one_citizen_meets_step_up_at_a_level_two_service(pay_server, page):
    base_url, _, _ = pay_server
    _log_in_for_bills(page, base_url, "Trần Thị Bình")
    page.get_by_role("link", name="Phiếu lý lịch tư pháp số 1 (hồ sơ nộp qua VNeID ngày 15/12/2025)").click()
    page.wait_for_load_state()
    assert "/auth/step-up" in page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Dịch vụ này yêu cầu định danh điện tử mức 2"
    screenshot(page, "payments-step-up-for-level-two-service-360px")
