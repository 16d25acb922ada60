"""Fixtures of the reconciliation tests."""

from __future__ import annotations

import pytest

from tests.payments.reconciliation.bank_flow import stripe_stand_in


@pytest.fixture()
def stripe(db):
    """A Stripe stand-in: captured payments go to ``clearing:stripe``."""
    yield from stripe_stand_in()
