"""The app registers the providers its settings ask for, with the limits services are given."""

from datetime import timedelta

import pytest

from core.money import vnd
from payments.providers import get_provider


def test_the_embedded_default_offers_the_sandbox_with_default_limits(app):
    limits = app.extensions["gateway.runtime"].limits
    assert limits.expiry_window == timedelta(minutes=30)
    assert limits.refund_approval_threshold == vnd(1_000_000)
    assert get_provider("sandbox") is not None


def test_stripe_is_registered_when_it_has_a_key(make_app):
    make_app(stripe_secret_key="sk_test_123", stripe_webhook_secrets="whsec_abc")
    assert get_provider("stripe") is not None


def test_a_stripe_key_without_webhook_secrets_stops_the_app(make_app):
    from core.settings import SettingsError

    with pytest.raises(SettingsError):
        make_app(stripe_secret_key="sk_test_123")
