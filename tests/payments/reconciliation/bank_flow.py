"""A bank run over real captured payments: a Stripe stand-in, its payout report, a bank statement."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from core.clock import FixedClock
from payments import accounts
from payments.providers import register_provider, registered_providers, unregister_provider
from payments.providers.sandbox import SandboxProvider
from payments.reconciliation.imports import import_report
from payments.reconciliation.service import reconcile_bank
from tests.payments.factories import judicial_record_quote, make_payment
from tests.payments.providers.sandbox_support import temporary_sandbox_store
from tests.payments.reconciliation.test_bank import ACCOUNT, statement
from tests.payments.test_settlement import _pay

CLOCK = FixedClock(datetime(2026, 12, 9, 3, 0, tzinfo=UTC))
#: The statement's account is Hà Nội police's collection account in the remittance rules.
BANK, CLEARING = accounts.agency_bank("HN-CA").code, accounts.provider_clearing("stripe").code
FEES, SUSPENSE = accounts.provider_fees("stripe").code, accounts.suspense().code
STRIPE_HEADER = ("balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,"
                 "source_id,description,automatic_payout_id,charge_id,payment_intent_id,payment_metadata[payment_code]")
_serial = itertools.count(1)


def stripe_stand_in():
    """Register a sandbox under the name ``stripe`` (payments then go to ``clearing:stripe``); undo on exit."""
    earlier = registered_providers().get("stripe")
    with temporary_sandbox_store() as store:
        provider = SandboxProvider(secret="s" * 32, base_url="https://pay.test", clock=CLOCK, store=store)
        provider.name = "stripe"
        register_provider(provider)
        yield provider
        unregister_provider("stripe")
    if earlier is not None:
        register_provider(earlier)


def captured(db, amount: int, provider: str = "stripe") -> str:
    """A captured payment of ``amount`` (through the Stripe stand-in by default); returns its payment code."""
    payment = make_payment(db, CLOCK, provider=provider, quote=judicial_record_quote(due=amount, base=amount))
    _pay(db, CLOCK, payment)
    return payment.public_id


def stripe_report(db, payout: str, lines: list[tuple[str, int, int]]) -> None:
    """Import a Stripe payout report of ``(payment code, gross, fee)`` lines paid out in ``payout``."""
    rows = [STRIPE_HEADER]
    for code, gross, fee in lines:
        n = next(_serial)
        rows.append(f"txn_{n:05d},2026-12-01 02:00:00,2026-12-03 00:00:00,vnd,{gross},{fee},{gross - fee},charge,"
                    f"ch_{n:05d},Phí,{payout},ch_{n:05d},pi_{n:05d},{code}")
    import_report(db, ("\n".join(rows) + "\n").encode(), "stripe", filename=f"{payout}.csv", imported_by="t",
                  clock=CLOCK)


def bank(db, *movements, name="bank.csv") -> None:
    """Import a statement of the collection account with ``(dd/mm/yyyy, amount, text)`` movements."""
    import_report(db, statement(*movements), "vn_bank", filename=name, imported_by="t", clock=CLOCK)


def run(db, start=date(2026, 12, 3), end=date(2026, 12, 4), items=()):
    """A bank run of the collection account, expecting Stripe payouts (and ``items``, our transfers)."""
    return reconcile_bank(db, account=ACCOUNT, period_start=start, period_end=end, items=list(items),
                          started_by="staff:1", payout_providers=("stripe",), clock=CLOCK)
