"""Payment providers, one per file, behind ``base.PaymentProvider``; and the registry by name.

The app registers configured provider instances at start-up (``register_provider``); services and jobs
look them up by the name stored on each payment.
"""

from __future__ import annotations

from payments.errors import UnknownProvider
from payments.providers.base import PaymentProvider

_PROVIDERS: dict[str, PaymentProvider] = {}


def register_provider(provider: PaymentProvider) -> PaymentProvider:
    """Make ``provider`` available under ``provider.name`` (replacing an earlier one of that name)."""
    _PROVIDERS[provider.name] = provider
    return provider


def get_provider(name: str) -> PaymentProvider:
    """Return the provider registered as ``name``."""
    try:
        return _PROVIDERS[name]
    except KeyError:
        raise UnknownProvider(f"no payment provider named {name!r}", details={"provider": name}) from None


def registered_providers() -> dict[str, PaymentProvider]:
    """Return the registered providers by name."""
    return dict(_PROVIDERS)


def unregister_provider(name: str) -> None:
    """Forget provider ``name`` (for tests)."""
    _PROVIDERS.pop(name, None)
