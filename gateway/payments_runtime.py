"""Payments wiring at start-up: the configured providers and the limits services are called with."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app

from core.clock import SYSTEM_CLOCK
from core.money import Money, vnd
from core.settings import Settings
from payments.providers.setup import configure_providers


@dataclass(frozen=True)
class PaymentLimits:
    """Values from settings that payment services take as arguments."""

    expiry_window: timedelta
    refund_approval_threshold: Money


def init_app(app: Flask, settings: Settings) -> None:
    """Register the sandbox and Stripe providers as configured, and keep the limits for the views."""
    configure_providers(
        base_url=settings.base_url, clock=SYSTEM_CLOCK,
        sandbox_secret=_sandbox_secret(settings.secret_key) if settings.sandbox_enabled else None,
        stripe_secret_key=settings.stripe_secret_key or None,
        stripe_webhook_secrets=settings.stripe_webhook_secrets,
        stripe_api_base=settings.stripe_api_base or None)
    app.extensions["gateway.payments"] = PaymentLimits(
        expiry_window=timedelta(minutes=settings.payment_expiry_minutes),
        refund_approval_threshold=vnd(settings.refund_approval_threshold))


def payment_limits() -> PaymentLimits:
    """Return the current app's payment limits."""
    return current_app.extensions["gateway.payments"]


def _sandbox_secret(secret_key: str) -> str:
    # A key of its own for signing sandbox notifications, derived so there is nothing more to configure.
    return hmac.new(secret_key.encode(), b"sandbox-notifications", hashlib.sha256).hexdigest()
