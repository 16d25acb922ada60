"""Bills paid through the real flow (sandbox provider, confirmation, settlement), so the ledger and receipt exist."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest

from core.clock import SYSTEM_CLOCK, FixedClock, to_vietnam
from core.money import vnd
from payments.confirmation import apply_report
from payments.providers import register_provider, unregister_provider
from payments.providers.base import ProviderSession, ProviderStatus, StatusReport
from payments.providers.sandbox import SandboxProvider
from payments.settlement import settle_free_bill
from payments.starting import record_provider_session
from tests.payments.factories import judicial_record_quote, make_bill, make_payment
from tests.payments.providers.sandbox_support import temporary_sandbox_store


@contextmanager
def register_sandbox(clock):
    """The sandbox provider registered on ``clock`` while the block runs."""
    with temporary_sandbox_store() as store:
        register_provider(SandboxProvider(secret="s" * 32, base_url="https://pay.test", clock=clock, store=store))
        try:
            yield clock
        finally:
            unregister_provider("sandbox")


@pytest.fixture()
def paying():
    """A clock an hour ago (inside today's dashboard period) with the sandbox provider registered on it."""
    with register_sandbox(FixedClock(SYSTEM_CLOCK.now() - timedelta(hours=1))) as clock:
        yield clock


def report(db, clock, payment, status: ProviderStatus):
    """The provider reports ``status`` for ``payment`` (its session opened first)."""
    opened = ProviderSession(f"sbx_{payment.public_id}", "https://pay.test/x", clock.now())
    record_provider_session(db, payment.public_id, opened, clock=clock)
    return apply_report(db, payment.public_id, StatusReport(opened.session_id, status, payment.public_id,
                                                            vnd(payment.amount), payment_ref="pi_1"),
                        cause="test", clock=clock)


def paid_bill(db, clock, *, due: int = 150_000, base: int = 200_000, declined_first: bool = False, **overrides):
    """A bill of ``base`` with a Hà Nội subsidy of ``base - due``, paid by card; return the paying payment."""
    quote = overrides.pop("quote", None) or judicial_record_quote(due=due, base=base)
    bill = make_bill(db, clock, quote=quote, **overrides)
    if declined_first:
        report(db, clock, make_payment(db, clock, bill), ProviderStatus.DECLINED)
    payment = make_payment(db, clock, bill)
    report(db, clock, payment, ProviderStatus.SUCCEEDED)
    db.flush()
    return payment


def free_bill(db, clock, *, base: int = 200_000, **overrides):
    """A bill fully covered by the Hà Nội programme, settled without a provider."""
    bill = make_bill(db, clock, quote=judicial_record_quote(due=0, base=base), **overrides)
    return settle_free_bill(db, bill.public_id, clock=clock)


def vietnam_day(clock):
    """The Vietnamese calendar day ``clock`` stands on."""
    return to_vietnam(clock.now()).date()
