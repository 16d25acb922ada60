"""OpenID Connect relying party: our own verification of everything a provider sends back."""
