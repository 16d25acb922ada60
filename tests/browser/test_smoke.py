"""The home page in a real browser: Vietnamese first, English on request, usable on a phone."""

import pytest

from tests.browser_fixtures import screenshot

pytestmark = pytest.mark.browser


def test_home_page_loads_in_vietnamese_and_switches_to_english(live_server, page):
    page.goto(live_server + "/")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.get_by_role("heading", level=1).inner_text() == "Nộp phí, lệ phí của thành phố không dùng tiền mặt"
    screenshot(page, "home-vi-360px")

    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Pay city fees without cash"
    screenshot(page, "home-en-360px")

    page.get_by_role("link", name="Tiếng Việt").click()
    assert page.locator("html").get_attribute("lang") == "vi"


def test_home_page_fits_a_360px_phone_without_sideways_scrolling(live_server, page):
    page.goto(live_server + "/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_keyboard_users_can_skip_to_the_content(live_server, page):
    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Chuyển đến nội dung chính"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"


def test_the_page_runs_no_script_and_breaks_no_content_security_rule(live_server, page):
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.goto(live_server + "/")
    assert problems == []
