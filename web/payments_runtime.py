"""Payments at request time: the limits services are called with (built once by ``web.runtime``)."""

from __future__ import annotations

from flask import current_app

from web.runtime import PaymentLimits


def payment_limits() -> PaymentLimits:
    """Return the current app's payment limits."""
    return current_app.extensions["gateway.runtime"].limits
