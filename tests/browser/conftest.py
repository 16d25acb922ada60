"""Browser tests: the real app served on loopback, driven by Debian's headless Chromium through Playwright.

No browser is downloaded: Playwright launches /usr/bin/chromium (package ``chromium``). Screenshots go to
``test-artifacts/`` so a person can look at what the tests saw.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from core.db import make_engine, make_session_factory
from core.migrations import upgrade
from core.settings import PROJECT_ROOT
from gateway import create_app
from gateway.seed import seed_all
from tests.conftest import make_test_settings

CHROMIUM = os.environ.get("GATEWAY_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
#: Flags that keep Chromium quiet on a machine with no outside network (see the env notes).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The gateway on a fresh, migrated and seeded SQLite database, served on a free loopback port."""
    folder = tmp_path_factory.mktemp("live")
    settings = make_test_settings(folder, f"sqlite:///{folder / 'live.db'}")
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session, session.begin():
        seed_all(session)
    engine.dispose()
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["gateway.db"].engine.dispose()


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
