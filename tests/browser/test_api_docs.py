"""The API reference in a real browser: rendered from the local OpenAPI document, no outside request."""

import pytest

from tests.browser_fixtures import screenshot

pytestmark = pytest.mark.browser


def test_the_api_reference_renders_every_bill_operation_from_local_files(live_server, page):
    outside = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith(live_server) else None)
    page.goto(live_server + "/api/v1/docs")
    page.wait_for_selector("section.api-operation")
    headings = page.locator("section.api-operation h3").all_inner_texts()
    assert "POST /api/v1/bills" in headings and "GET /api/v1/bills/{bill_id}" in headings
    assert page.get_by_text("personal_id_number").count() >= 1
    assert outside == []
    screenshot(page, "api-docs")
