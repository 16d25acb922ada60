"""Browser tests: the real app served as it is deployed, driven by headless Chromium (tests/browser_fixtures.py)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from core.settings import Settings
from tests.deployment import deployed


@contextmanager
def served_gateway(folder: Path, seed: str | Callable[[Session, Settings], object] | None = None):
    """Serve the gateway as it is deployed: `gateway serve` with two gunicorn workers and `gateway worker`.

    A fresh, migrated and seeded SQLite database (the embedded default); the base URL is the address the
    server really listens on, so the stand-in's redirects and the sandbox's notifications come back to it.
    ``seed(session, settings)`` runs in one committed transaction first. Yields ``(base_url, deployment,
    settings)``; at the end no request may have failed with a 500 and no job attempt may have failed.
    """
    with deployed(folder, seed=seed) as deployment:
        yield deployment.base_url, deployment, deployment.settings
        failures = deployment.failures()
    assert not failures, f"failed requests or jobs in the deployed shape: {failures}"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The gateway with all reference and demo data, served on a free loopback port."""
    with served_gateway(tmp_path_factory.mktemp("live"), "demo") as (url, _, _s):
        yield url
