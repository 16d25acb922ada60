"""The headless browser every browser-driven test shares (registered for all tests in tests/conftest.py).

No browser is downloaded: Playwright launches Debian's /usr/bin/chromium (package ``chromium``). One
Playwright instance per run: its sync API refuses to start a second one while the first is alive, so the
fixtures live here once rather than in each test folder. Screenshots go to ``test-artifacts/`` so a person
can look at what the tests saw.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT

CHROMIUM = os.environ.get("GATEWAY_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
#: Flags that keep Chromium quiet on a machine with no outside network (see the env notes).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium; missing Chromium fails under CI and skips loudly elsewhere."""
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(chromium):
    """A new browser tab with a phone-sized viewport (360 px wide), closed after the test."""
    context = chromium.new_context(viewport={"width": 360, "height": 780}, locale="vi-VN")
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
