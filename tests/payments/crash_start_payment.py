"""A process that starts a payment through Stripe (faked) and dies right after the provider answered.

Run as ``python -m tests.payments.crash_start_payment DATABASE_URL API_BASE BILL_ID UNIX_TIME``. It
calls the real ``start_payment``; the phase that records the provider session is replaced by
``os._exit(1)``, so the process is gone with the session open at the provider and nothing recorded.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

from core.clock import FixedClock
from core.db import make_engine, make_session_factory
from payments import checkout
from payments.providers import register_provider
from payments.providers.stripe import StripeProvider
from payments.starting import PayerSession


def _die(*_args, **_kwargs):
    os._exit(1)  # no cleanup, no rollback handlers, no lock release: a killed worker


def main() -> None:
    database_url, api_base, bill_id, unix_time = sys.argv[1:5]
    clock = FixedClock(datetime.fromtimestamp(int(unix_time), UTC))
    register_provider(StripeProvider(secret_key="sk_test_fake", webhook_secrets=["whsec_1"], clock=clock,
                                     api_base=api_base, max_network_retries=0))
    checkout._record = _die
    factory = make_session_factory(make_engine(database_url))
    checkout.start_payment(factory, scope="citizen:1", idempotency_key="crash-1", bill_public_id=bill_id,
                           provider_name="stripe", payer=PayerSession(eid_level=2, sub="1"), return_url="https://pay.test/r",
                           clock=clock)
    sys.exit("the provider call returned but the process did not die")


if __name__ == "__main__":
    main()
