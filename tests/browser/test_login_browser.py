"""e-ID login in headless Chromium: level-2 citizen in and out; level-1 citizen sent through step-up."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import served_gateway
from tests.browser_fixtures import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def login_server(tmp_path_factory):
    """The gateway with its VNeID stand-in, whose base URL is the address it really listens on."""
    with served_gateway(tmp_path_factory.mktemp("login-live")) as (base_url, _app, _settings):
        yield base_url


def choose_account(page, name: str) -> None:
    """On the stand-in's page, pick the demo person by name."""
    assert page.get_by_role("heading", level=1).inner_text() == "VNeID giả lập: chọn tài khoản mẫu"
    page.get_by_role("button", name=name).click()
    page.wait_for_load_state()


def test_level_two_citizen_logs_in_sees_their_name_and_logs_out(login_server, page):
    page.goto(login_server + "/auth/login")
    choose_account(page, "Nguyễn Văn An")
    assert page.get_by_role("heading", level=1).inner_text() == "Dữ liệu của bạn và cổng thanh toán"
    assert page.get_by_text("0010******45").count() == 1
    screenshot(page, "identity-consent-360px")
    page.get_by_role("button", name="Tôi đồng ý và tiếp tục").click()
    page.wait_for_load_state()
    expect(page.get_by_text("Đang đăng nhập: Nguyễn Văn An")).to_be_visible()
    header = page.get_by_role("navigation", name="Tài khoản của bạn")
    assert header.get_by_role("link", name="Nguyễn Văn An").is_visible()  # the site header says who is in
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "identity-profile-360px")
    page.get_by_role("main").get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(login_server + "/auth/logged-out*")
    assert page.get_by_role("heading", level=1).inner_text() == "Bạn đã đăng xuất"
    page.goto(login_server + "/account/")
    assert "/dev-idp/authorize" in page.url  # the session is gone: back to login


def test_level_one_citizen_is_sent_through_step_up_and_told_about_level_two(login_server, page):
    page.goto(login_server + "/auth/login")
    choose_account(page, "Trần Thị Bình")
    page.get_by_role("button", name="Tôi đồng ý và tiếp tục").click()
    page.wait_for_load_state()
    page.goto(login_server + "/auth/step-up?next=/account/")
    assert page.get_by_role("heading", level=1).inner_text() == "Dịch vụ này yêu cầu định danh điện tử mức 2"
    screenshot(page, "identity-step-up-360px")
    page.get_by_role("link", name="Đăng nhập lại bằng định danh điện tử mức 2").click()
    page.wait_for_load_state()
    assert "acr_values=" in page.url and "prompt=login" in page.url
    choose_account(page, "Trần Thị Bình")
    assert page.get_by_role("heading", level=1).inner_text() == "Định danh điện tử của bạn đang ở mức 1"
    screenshot(page, "identity-level-two-explained-360px")
