"""Transaction search, its drill-down, the subsidy chart and the escalated breaks at 360 px in headless Chromium.

Screenshots go to test-artifacts/finance-search-*.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_finance_flow import finance_server, fits, log_in  # noqa: F401  (module fixture)
from tests.browser_fixtures import screenshot

pytestmark = pytest.mark.browser


def test_an_officer_finds_a_payment_and_traces_it_at_360_px(page, finance_server):  # noqa: F811
    base_url, _app = finance_server
    log_in(page, base_url, "/admin/finance/transactions", "Ngô Thị Thu")
    expect(page.get_by_role("heading", name="Giao dịch", exact=True)).to_be_visible()
    page.get_by_label("Dịch vụ").select_option("PARKING")
    page.get_by_role("button", name="Tìm kiếm").click()
    expect(page.get_by_text(re.compile(r"^1 giao dịch từ"))).to_be_visible()
    fits(page)
    screenshot(page, "finance-search-360px")
    page.locator("tbody a").first.click()
    expect(page.get_by_role("heading", name="Sổ cái")).to_be_visible()
    fits(page)
    screenshot(page, "finance-search-transaction-360px")
    page.goto(base_url + "/admin/finance/")
    expect(page.get_by_role("heading", name="Chi phí hỗ trợ theo chương trình").first).to_be_visible()
    fits(page)
    page.goto(base_url + "/admin/finance/breaks?escalated=1")
    expect(page.get_by_label("Chỉ các chênh lệch đã chuyển cấp trên")).to_be_checked()
    fits(page)
    screenshot(page, "finance-search-escalated-360px")
