"""A sandbox store of its own for helpers that run outside a test's fixtures."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from payments.providers.sandbox_store import SandboxStore


@contextmanager
def temporary_sandbox_store() -> Iterator[SandboxStore]:
    """A real sandbox store in a SQLite file that is deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="sandbox-") as folder:
        store = SandboxStore.for_database(f"sqlite:///{Path(folder) / 'gateway.db'}")
        try:
            yield store
        finally:
            store.dispose()
