"""The policy workflow in headless Chromium: an editor drafts and simulates, an approver publishes, a citizen sees it.

Staff log in through the bundled VNeID stand-in's page. Screenshots (360 px and desktop) go to test-artifacts/.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.clock import SYSTEM_CLOCK
from core.geography import seed_provinces
from identity.devidp.seed import seed_demo_staff
from subsidies.seed import seed_catalogue, seed_rules
from tests.admin.policy_support import hanoi_quote
from tests.browser.conftest import served_gateway
from tests.browser_fixtures import screenshot

pytestmark = pytest.mark.browser
TITLE_VI = "Hà Nội hỗ trợ phí LLTP qua VNeID (gia hạn)"


@pytest.fixture(scope="module")
def policy_server(tmp_path_factory):
    """The gateway on a seeded SQLite database with demo staff and two quotes stored today to simulate on."""
    def seed(session, settings):
        seed_provinces(session)
        seed_catalogue(session)
        seed_rules(session)
        seed_demo_staff(session, settings.base_url + "/dev-idp")
        for citizen in ("citizen-1", "citizen-2"):
            hanoi_quote(session, SYSTEM_CLOCK.today_in_vietnam(), citizen)

    with served_gateway(tmp_path_factory.mktemp("policy-live"), seed) as (base_url, _app, _settings):
        yield base_url


def staff_logs_in(page, base_url: str, name: str) -> None:
    """Open the policy pages and choose the demo staff member ``name`` on the stand-in's page."""
    page.goto(base_url + "/admin/policy/")
    assert page.get_by_role("heading", level=1).inner_text() == "VNeID giả lập: chọn tài khoản mẫu"
    page.get_by_role("button", name=name).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Quy tắc phí và hỗ trợ"


def fits_the_phone(page) -> bool:
    """True when the page needs no sideways scrolling at 360 px."""
    return page.evaluate("document.documentElement.scrollWidth") <= 360


def desktop_screenshot(page, name: str) -> None:
    """Take the same page at desktop width, then go back to the phone."""
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, name)
    page.set_viewport_size({"width": 360, "height": 780})


def fill_draft(page, today) -> None:
    """Fill the editor: Hà Nội pays the LLTP fee for level-2 residents applying through VNeID, from today."""
    page.get_by_label("Mã quy tắc", exact=True).fill("HN-LLTP-VNEID-EXT")
    page.get_by_label("Dịch vụ").select_option("LLTP")
    page.get_by_label("Tên bằng tiếng Việt").fill(TITLE_VI)
    page.get_by_label("Tên bằng tiếng Anh").fill("Hà Nội pays the LLTP fee via VNeID (extended)")
    page.get_by_label("Có hiệu lực từ", exact=True).fill(today.isoformat())
    page.get_by_label("Có hiệu lực đến hết ngày").fill((today + timedelta(days=365)).isoformat())
    page.get_by_label("Tầng", exact=True).select_option("local")
    page.get_by_label("Bỏ qua khi tầng trước này đã áp dụng").select_option("national")
    for name, value in (("doc", "99/2026/NQ-HĐND (ví dụ)"), ("issuer", "HĐND thành phố Hà Nội"),
                        ("date", "2026-01-15"), ("article", "Điều 1")):
        page.locator(f"#legal_basis-0-{name}").fill(value)
    page.locator("#conditions-0-field").select_option("channel")
    page.locator("#conditions-0-op").select_option("eq")
    page.locator("#conditions-0-choices").select_option(["VNEID"])
    page.locator("#conditions-1-field").select_option("residence.province_code")
    page.locator("#conditions-1-op").select_option("eq")
    page.locator("#conditions-1-value").fill("01")
    page.locator("#conditions-1-code_list").select_option("QD19/2025")
    page.locator("#conditions-2-field").select_option("eid_level")
    page.locator("#conditions-2-op").select_option("ge")
    page.locator("#conditions-2-value").fill("2")
    page.locator("#effects-0-type").select_option("amount_off")
    page.locator("#effects-0-amount").fill("200000")
    page.locator("#tests-0-name").fill("Cư dân Hà Nội mức 2 qua VNeID không phải nộp")
    page.locator("#tests-0-decision_date").fill(today.isoformat())
    page.locator("#tests-0-channel").select_option("VNEID")
    page.locator("#tests-0-birthdate").fill("1990-01-01")
    page.locator("#tests-0-residence_province_code").fill("01")
    page.locator("#tests-0-eid_level").select_option("2")
    page.locator("#tests-0-amount_due").fill("0")


def test_a_rule_goes_from_draft_to_a_citizens_quote(policy_server, page):
    today = SYSTEM_CLOCK.today_in_vietnam()
    staff_logs_in(page, policy_server, "Bùi Thị Lan")
    assert fits_the_phone(page)
    screenshot(page, "policy-index-360px")
    page.get_by_role("link", name="Bản nháp mới").click()
    page.wait_for_load_state()
    fill_draft(page, today)
    assert fits_the_phone(page)
    screenshot(page, "policy-editor-360px")
    desktop_screenshot(page, "policy-editor-desktop")
    page.get_by_role("button", name="Lưu bản nháp").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith("HN-LLTP-VNEID-EXT@1")

    page.get_by_label("Từ ngày").fill(today.isoformat())
    page.get_by_label("Đến hết ngày").fill(today.isoformat())
    page.get_by_role("button", name="Chạy mô phỏng").click()
    page.wait_for_load_state()
    result = page.get_by_label("Kết quả mô phỏng")
    assert "Số báo giá thay đổi" in result.inner_text() and "-400.000 ₫" in result.inner_text()
    assert page.locator("figure.chart svg rect").count() == 1
    assert fits_the_phone(page)
    screenshot(page, "policy-simulation-360px")
    desktop_screenshot(page, "policy-simulation-desktop")
    page.get_by_role("button", name="Gửi xem xét").click()
    page.wait_for_load_state()
    assert "Đang xem xét" in page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(policy_server + "/auth/logged-out*")

    staff_logs_in(page, policy_server, "Trịnh Quốc Huy")
    page.get_by_role("link", name="HN-LLTP-VNEID-EXT@1").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Phê duyệt").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Công bố").click()
    page.wait_for_load_state()
    assert "Đã công bố" in page.get_by_role("heading", level=1).inner_text()
    screenshot(page, "policy-published-360px")
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(policy_server + "/auth/logged-out*")

    page.goto(policy_server + "/fees/calculator")
    page.get_by_label("Dịch vụ").select_option("LLTP")
    page.get_by_label("Hình thức nộp hồ sơ").select_option("VNEID")
    page.get_by_label("Ngày nộp hồ sơ").fill(today.isoformat())
    page.get_by_label("Ngày sinh của bạn").fill("1990-01-01")
    page.get_by_label("Tỉnh, thành phố nơi thường trú").select_option("01")
    page.get_by_label("Mức định danh điện tử VNeID").select_option("2")
    page.get_by_role("button", name="Tính phí").click()
    page.wait_for_load_state()
    result = page.locator("section.result")
    assert "0 ₫" in result.get_by_role("heading", level=2).inner_text()
    assert TITLE_VI in result.inner_text()
    screenshot(page, "policy-citizen-quote-360px")
    quote = page.request.post(policy_server + "/api/v1/quotes", data={
        "service_code": "LLTP", "channel": "VNEID", "decision_date": today.isoformat(), "birthdate": "1990-01-01",
        "residence_province_code": "01", "eid_level": 2}).json()
    applied = [e["rule_id"] for layer in quote["explanation"] for e in layer["entries"] if e["applied"]]
    assert quote["amount_due"] == 0 and "HN-LLTP-VNEID-EXT" in applied


def test_a_new_version_of_an_open_ended_rule_announces_and_makes_the_old_one_end(policy_server, page):
    today = SYSTEM_CLOCK.today_in_vietnam()
    start = today + timedelta(days=30)
    last_day = (start - timedelta(days=1)).isoformat()
    staff_logs_in(page, policy_server, "Bùi Thị Lan")
    page.get_by_role("link", name="LLTP-REDUCED@1").click()
    page.get_by_role("link", name="Phiên bản 1").click()
    page.get_by_role("link", name="Tạo phiên bản mới từ phiên bản này").click()
    page.wait_for_load_state()
    notice = page.locator("section.succession")
    assert "Phiên bản mới của LLTP-REDUCED@1" in notice.inner_text()
    assert "phải bắt đầu sau ngày 2017-01-01" in notice.inner_text(), "the copied start date is too early"
    page.get_by_label("Có hiệu lực từ", exact=True).fill(start.isoformat())
    page.locator("#effects-0-amount").fill("120000")
    page.get_by_role("button", name="Lưu bản nháp").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith("LLTP-REDUCED@2")
    announced = page.locator("section.succession").inner_text()
    assert f"LLTP-REDUCED@1 hết hiệu lực: ngày cuối cùng có hiệu lực là {last_day}" in announced
    page.get_by_label("Từ ngày").fill(today.isoformat())
    page.get_by_label("Đến hết ngày").fill(today.isoformat())
    page.get_by_role("button", name="Chạy mô phỏng").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Gửi xem xét").click()
    page.wait_for_load_state()
    assert fits_the_phone(page)
    screenshot(page, "policy-successor-360px")
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(policy_server + "/auth/logged-out*")

    staff_logs_in(page, policy_server, "Trịnh Quốc Huy")
    page.get_by_role("link", name="LLTP-REDUCED@2").click()
    page.wait_for_load_state()
    assert last_day in page.locator("section.succession").inner_text(), "the approver is told before approving"
    page.get_by_role("button", name="Phê duyệt").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Công bố").click()
    page.wait_for_load_state()
    assert "Đã công bố" in page.get_by_role("heading", level=1).inner_text()
    page.goto(f"{policy_server}/admin/policy/?day={start.isoformat()}")
    in_force = page.locator('section[aria-labelledby="svc-LLTP"]').inner_text()
    assert "LLTP-REDUCED@2" in in_force and "LLTP-REDUCED@1" not in in_force
    page.goto(f"{policy_server}/admin/policy/rules/LLTP-REDUCED")
    assert f"2017-01-01 – {last_day}" in page.locator("main").inner_text()
    desktop_screenshot(page, "policy-successor-history-desktop")
