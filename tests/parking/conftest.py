"""Fixtures of the parking tests."""

from __future__ import annotations

import pytest


@pytest.fixture()
def postgres_only(database_url):
    """Skip on SQLite: the test needs PostgreSQL's concurrent writers."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: concurrent writers (SQLite serialises whole transactions)")
