"""Building and registering the configured providers at start-up, from plain values (never the environment)."""

from __future__ import annotations

from collections.abc import Sequence

from core.clock import Clock
from payments.providers import register_provider
from payments.providers.base import PaymentProvider
from payments.providers.sandbox import SandboxProvider
from payments.providers.sandbox_store import SandboxStore
from payments.providers.vietqr import VietQrProvider
from payments.providers.vnpay import JsonTransport, VnpayConfig, VnpayProvider


def configure_providers(*, base_url: str, clock: Clock, sandbox_secret: str | None,
                        sandbox_store: SandboxStore | None = None, stripe_secret_key: str | None = None,
                        stripe_webhook_secrets: Sequence[str] = (),
                        stripe_api_base: str | None = None, vietqr: bool = False,
                        vnpay: VnpayConfig | None = None, vnpay_transport: JsonTransport | None = None,
                        ) -> list[PaymentProvider]:
    """Register the sandbox (when it has a secret and a store), Stripe (when it has a key), VietQR (when
    asked) and VNPay (when it has a terminal and a transport); return them."""
    providers: list[PaymentProvider] = []
    if sandbox_secret and sandbox_store is not None:
        providers.append(SandboxProvider(secret=sandbox_secret, base_url=base_url, clock=clock, store=sandbox_store))
    if stripe_secret_key:
        from payments.providers.stripe import StripeProvider  # the SDK is loaded only when Stripe is used

        providers.append(StripeProvider(secret_key=stripe_secret_key, webhook_secrets=stripe_webhook_secrets,
                                        clock=clock, api_base=stripe_api_base))
    if vietqr:
        providers.append(VietQrProvider(base_url=base_url, clock=clock))
    if vnpay is not None and vnpay_transport is not None:
        providers.append(VnpayProvider(vnpay, clock=clock, transport=vnpay_transport))
    for provider in providers:
        register_provider(provider)
    return providers
