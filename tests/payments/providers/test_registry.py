"""Providers are registered by name at start-up from plain configuration values."""

from __future__ import annotations

import pytest

from core.money import vnd
from payments.errors import UnknownProvider
from payments.providers import get_provider, registered_providers, unregister_provider
from payments.providers.base import SessionRequest
from payments.providers.setup import configure_providers


@pytest.fixture(autouse=True)
def _forget_providers():
    for name in list(registered_providers()):  # apps built by earlier tests registered theirs
        unregister_provider(name)
    yield
    for name in list(registered_providers()):
        unregister_provider(name)


def test_the_sandbox_alone_is_configured_by_default(clock, sandbox_store):
    configure_providers(base_url="https://pay.test", clock=clock, sandbox_secret="s" * 32, sandbox_store=sandbox_store)
    assert set(registered_providers()) == {"sandbox"}


def test_stripe_is_configured_when_it_has_a_key(clock):
    configure_providers(base_url="https://pay.test", clock=clock, sandbox_secret=None, stripe_secret_key="sk_test_x",
                        stripe_webhook_secrets=["whsec_a", "whsec_b"], stripe_api_base="http://127.0.0.1:9")
    assert get_provider("stripe").name == "stripe" and "sandbox" not in registered_providers()


def test_an_unknown_provider_is_refused():
    with pytest.raises(UnknownProvider) as error:
        get_provider("vnpay")
    assert error.value.details == {"provider": "vnpay"}


def test_vietqr_is_configured_when_asked(clock):
    configure_providers(base_url="https://pay.test", clock=clock, sandbox_secret=None, vietqr=True)
    assert set(registered_providers()) == {"vietqr"}
    opened = get_provider("vietqr").create_session(_request(clock))
    assert (opened.session_id, opened.next_url) == ("GW7K2M9Q4XAB", "https://pay.test/pay/vietqr/GW7K2M9Q4XAB")


def _request(clock):
    return SessionRequest(payment_reference="GW7K2M9Q4XAB", amount=vnd(200_000), description="LLTP",
                          return_url="", opened_at=clock.now(), expires_at=clock.now(),
                          idempotency_key="payment:GW7K2M9Q4XAB:create")
