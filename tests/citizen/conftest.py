"""Fixtures of the citizen app's tests that several modules share."""

from __future__ import annotations

import pytest

from core.clock import SYSTEM_CLOCK
from payments.providers import register_provider, registered_providers, unregister_provider
from payments.providers.sandbox import SandboxProvider


@pytest.fixture()
def agency_sandbox(sandbox_store):
    """A sandbox provider registered for this test (other tests may have unregistered the app's own)."""
    previous = registered_providers().get("sandbox")
    provider = register_provider(SandboxProvider(secret="s" * 32, base_url="https://pay.test", clock=SYSTEM_CLOCK,
                                                 store=sandbox_store))
    yield provider
    unregister_provider("sandbox")
    if previous is not None:
        register_provider(previous)
