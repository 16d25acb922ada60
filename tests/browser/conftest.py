"""Browser tests: the real app served on loopback, driven by Debian's headless Chromium through Playwright.

No browser is downloaded: Playwright launches /usr/bin/chromium (package ``chromium``). Screenshots go to
``test-artifacts/`` so a person can look at what the tests saw.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from bench.http import free_port
from core.db import make_engine, make_session_factory
from core.migrations import upgrade
from core.settings import PROJECT_ROOT, Settings
from gateway import create_app
from gateway.seed import seed_all
from tests.conftest import make_test_settings

CHROMIUM = os.environ.get("GATEWAY_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
#: Flags that keep Chromium quiet on a machine with no outside network (see the env notes).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def served_gateway(folder: Path, seed: Callable[[Session, Settings], object] | None = None):
    """Serve the gateway on a fresh, migrated and seeded SQLite database at its own loopback address.

    The base URL is the address the server really listens on, so the stand-in's redirects and the sandbox's
    notifications come back to it. ``seed(session, settings)`` runs in one committed transaction first.
    Yields ``(base_url, app, settings)``.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = make_test_settings(folder, f"sqlite:///{folder / 'live.db'}", base_url=base_url)
    upgrade(settings.database_url)
    if seed is not None:
        engine = make_engine(settings.database_url)
        with make_session_factory(engine)() as session, session.begin():
            seed(session, settings)
        engine.dispose()
    app = create_app(settings)
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield base_url, app, settings
    finally:
        server.shutdown()
        app.extensions["gateway.db"].engine.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The gateway with all reference and demo data, served on a free loopback port."""
    with served_gateway(tmp_path_factory.mktemp("live"), lambda session, _: seed_all(session)) as (url, _, _s):
        yield url


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
