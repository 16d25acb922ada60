"""The remittance page at 360 px in headless Chromium: the report, its rules, the Treasury check.

Screenshots go to test-artifacts/finance-remittance-*.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_finance_flow import finance_server, fits, log_in  # noqa: F401  (module fixture)
from tests.browser_fixtures import screenshot

pytestmark = pytest.mark.browser


def test_an_officer_reads_the_remittance_report_and_runs_the_treasury_check_at_360_px(page, finance_server):  # noqa: F811
    base_url, _app = finance_server
    log_in(page, base_url, "/admin/finance/reports", "Ngô Thị Thu")
    page.get_by_role("link", name=re.compile("^Nộp ngân sách nhà nước theo đơn vị")).click()
    expect(page.get_by_role("heading", name="Nộp ngân sách nhà nước qua Kho bạc", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Thời hạn nộp và căn cứ pháp lý")).to_be_visible()
    expect(page.get_by_text("Trong vòng 24 giờ kể từ khi thu")).to_be_visible()
    expect(page.get_by_role("link", name="Báo cáo nộp ngân sách (PDF)")).to_be_visible()
    fits(page)
    screenshot(page, "finance-remittance-360px")
    page.get_by_role("button", name="Đối chiếu nộp Kho bạc ngay").click()
    expect(page.get_by_role("status")).to_contain_text("Đã đối chiếu nộp Kho bạc cho")
    fits(page)
    screenshot(page, "finance-remittance-checked-360px")
