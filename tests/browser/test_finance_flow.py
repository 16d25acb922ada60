"""The finance back office in headless Chromium: import, run, confirm, propose; approve, sign off, report.

A finance officer (Ngô Thị Thu) and a finance approver (Đặng Văn Phúc) log in through the bundled
stand-in's page. Screenshots at 360 px and desktop width go to test-artifacts/finance-*.png.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from identity.devidp.seed import seed_demo_staff
from tests.admin.finance.support import at_vietnam, booked_refund, days_ago, payment
from tests.browser.conftest import served_gateway
from tests.browser_fixtures import screenshot
from tests.payments.reconciliation.test_bank import statement

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def finance_server(tmp_path_factory):
    """The gateway on its real address, with demo staff and a few days of payments; yields (url, app)."""
    def seed(session, settings):
        seed_demo_staff(session, settings.base_url + "/dev-idp")
        _payments(session)

    with served_gateway(tmp_path_factory.mktemp("finance-live"), seed) as (base_url, app, _settings):
        yield base_url, app


def _payments(session) -> None:
    """Six collections over two days (one subsidised) and a refund: 583,000 ₫ collected, 533,000 ₫ net."""
    day, before = days_ago(5), days_ago(6)
    payment(session, amount=150_000, finished_at=at_vietnam(day, 9), provider="vietqr")
    payment(session, amount=8_000, finished_at=at_vietnam(day, 10), provider="vietqr", service="TLHT")
    refunded = payment(session, amount=200_000, finished_at=at_vietnam(before, 11), provider="stripe")
    payment(session, amount=100_000, finished_at=at_vietnam(before, 23, 30), provider="vnpay", service="LLTP")
    payment(session, amount=25_000, finished_at=at_vietnam(day, 15), provider="stripe", service="PARKING")
    payment(session, amount=60_000, subsidy=40_000, finished_at=at_vietnam(day, 16), provider="stripe")
    booked_refund(session, refunded, 50_000, at_vietnam(day, 17))


def log_in(page, base_url: str, path: str, name: str) -> None:
    """Open ``path``; on the stand-in's page choose the staff member ``name``."""
    page.goto(base_url + path)
    page.get_by_role("button", name=name).click()
    page.wait_for_url(re.compile(re.escape(base_url + path)))


def fits(page) -> None:
    """Nothing scrolls sideways at the page's width."""
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def officer_steps(page, base_url: str, app) -> str:
    """Import the statement, run the day, confirm the suggestion, propose moving money; return the run URL."""
    day = days_ago(5)
    log_in(page, base_url, "/admin/finance/imports", "Ngô Thị Thu")
    content = statement((day, 150_000, "NOP PHI LY LICH TU PHAP"), (day, 99_000, "CHUYEN TIEN KHONG RO NOI DUNG"))
    page.get_by_label("Định dạng").select_option("vn_bank")
    page.get_by_label("Tệp", exact=True).set_input_files(
        {"name": "sao-ke.csv", "mimeType": "text/csv", "buffer": content})
    page.get_by_role("button", name="Nhập", exact=True).click()
    expect(page.get_by_role("heading", name="Đã nhập", exact=True)).to_be_visible()
    fits(page)
    screenshot(page, "finance-import-360px")
    page.get_by_role("link", name="Lần đối soát", exact=True).click()
    page.get_by_label("Từ ngày (dd/mm/yyyy)").fill(f"{day:%d/%m/%Y}")
    page.get_by_label("Đến ngày (dd/mm/yyyy)").fill(f"{day:%d/%m/%Y}")
    page.get_by_role("button", name="Bắt đầu đối soát").click()
    # A fast worker may finish before the progress page is painted, so either page is a correct next step.
    waiting = page.get_by_text("Đang chờ tiến trình nền bắt đầu đối soát…")
    expect(waiting.or_(page.get_by_role("heading", name=re.compile(r"^Lần đối soát #\d+$")))).to_be_visible()
    if waiting.is_visible():
        screenshot(page, "finance-run-waiting-360px")
    # The job worker (a process of its own) runs it; the page follows by its meta refresh.
    page.wait_for_url(re.compile(r"/admin/finance/runs/\d+$"), timeout=60_000)
    run_url = page.url
    page.get_by_role("button", name="Xác nhận khớp").click()
    expect(page.get_by_text("Đã xác nhận", exact=True)).to_be_visible()
    fits(page)
    screenshot(page, "finance-run-360px")
    page.get_by_role("link", name="Chênh lệch", exact=True).click()
    page.get_by_role("row", name=re.compile("hệ thống không có")).get_by_role("link").click()
    page.get_by_label("Ghi chú (bắt buộc khi đề xuất cách xử lý)").fill("Người nộp chuyển nhầm: hoàn trả")
    page.get_by_label("Bút toán").select_option("reclassify_suspense")
    page.locator("#account").select_option("refunds_payable")
    page.get_by_label("Số tiền (đồng, không lẻ)").fill("99.000")
    page.get_by_role("button", name="Đề xuất cách xử lý").click()
    expect(page.get_by_text("đã đề xuất xử lý", exact=True).first).to_be_visible()
    fits(page)
    screenshot(page, "finance-break-360px")
    return run_url


def approver_steps(page, base_url: str, run_url: str) -> None:
    """Approve the proposed resolution and sign the run off."""
    log_in(page, base_url, "/admin/finance/breaks?status=resolution_proposed", "Đặng Văn Phúc")
    page.get_by_role("row", name=re.compile("hệ thống không có")).get_by_role("link").click()
    expect(page.get_by_text("Khi phê duyệt, bút toán chuyển tiền nêu trên sẽ được ghi vào sổ cái.")).to_be_visible()
    page.get_by_role("button", name="Phê duyệt cách xử lý").click()
    assert page.locator("[data-break-status]").inner_text() == "đã phê duyệt"
    expect(page.get_by_role("heading", name="Đã ghi sổ cái")).to_be_visible()  # the movement, posted on approval
    expect(page.get_by_role("rowheader", name="refunds_payable")).to_be_visible()
    fits(page)
    screenshot(page, "finance-break-posted-360px")
    page.goto(run_url)
    page.get_by_role("button", name="Ký duyệt lần đối soát này").click()
    assert page.locator("[data-run-status]").inner_text() == "đã ký duyệt"
    screenshot(page, "finance-signed-off-360px")


def dashboard_totals(page, base_url: str, period: str) -> dict[str, int]:
    """The totals the dashboard shows for ``period`` (a query string): collected, count, refunds, net, subsidy."""
    page.goto(f"{base_url}/admin/finance/?{period}")
    return {name: int(re.sub(r"\D", "", page.locator(f'[data-total="{name}"]').inner_text()))
            for name in ("amount", "count", "refunds", "net", "subsidy")}


def xlsx_totals(content: bytes) -> dict[str, int]:
    """The totals row of a downloaded collections workbook, by the dashboard's names."""
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    count, collected, subsidy, _paid, refunds, net, _duplicates = rows[-1][1:]
    return {"amount": collected, "count": count, "refunds": refunds, "net": net, "subsidy": subsidy}


def download(page, name: str) -> bytes:
    """Click the download link called ``name`` and return the file."""
    with page.expect_download() as info:
        page.get_by_role("link", name=name).click()
    return Path(info.value.path()).read_bytes()


def test_officer_and_approver_work_a_day_and_the_reports_match_the_dashboard(finance_server, chromium):
    base_url, app = finance_server
    officer = chromium.new_context(viewport={"width": 360, "height": 780}, locale="vi-VN").new_page()
    run_url = officer_steps(officer, base_url, app)
    approver_context = chromium.new_context(viewport={"width": 360, "height": 780}, locale="vi-VN",
                                            accept_downloads=True)
    approver = approver_context.new_page()
    approver_steps(approver, base_url, run_url)
    period = f"from={days_ago(6):%d/%m/%Y}&to={days_ago(5):%d/%m/%Y}"
    totals = dashboard_totals(approver, base_url, period)
    assert totals == {"amount": 583_000, "count": 6, "refunds": 50_000, "net": 533_000, "subsidy": 40_000}
    fits(approver)
    screenshot(approver, "finance-dashboard-360px")
    approver.goto(f"{base_url}/admin/finance/reports?{period}")
    assert xlsx_totals(download(approver, "Tổng hợp thu theo dịch vụ (XLSX)")) == totals
    assert xlsx_totals(download(approver, "Tổng hợp thu theo đợt chi trả (XLSX)")) == totals
    programmes = load_workbook(io.BytesIO(download(approver, "Chi phí hỗ trợ theo chương trình (XLSX)")))
    assert list(programmes.active.iter_rows(values_only=True))[-1][2] == totals["subsidy"]
    pdf = download(approver, "Tổng hợp thu theo ngày (PDF)")
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
        total_line = next(line for line in text.stdout.decode().splitlines() if "Tổng cộng" in line)
        assert re.findall(r"\d[\d.]*", total_line) == ["6", "583.000", "40.000", "543.000", "50.000", "533.000",
                                                       "0"]
    screenshot(approver, "finance-reports-360px")
    approver.set_viewport_size(DESKTOP)
    for path, name in ((f"/admin/finance/?{period}", "dashboard"), ("/admin/finance/breaks?status=", "breaks"),
                       (run_url.removeprefix(base_url), "run")):
        approver.goto(base_url + path)
        screenshot(approver, f"finance-{name}-desktop")
    approver_context.close()
    officer.context.close()
