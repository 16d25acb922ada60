"""Wiring identity from settings: the personal-data vault, the stand-in, and one relying party per realm.

Built once per app and kept in ``app.extensions["gateway.identity"]``; provider keys (discovery and
JWKS caches) live here so every request shares them. When no issuer is configured the bundled stand-in
is the provider, reached in-process for back-channel calls (``DevIdpTransport``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app

from core.settings import Settings, SettingsError
from identity.citizens import ClaimNames
from identity.devidp.clients import DevClient
from identity.devidp.keys import SigningKeys
from identity.devidp.server import DevIdp
from identity.devidp.transport import DevIdpTransport
from identity.errors import ProviderUnavailable
from identity.levels import AcrLevels
from identity.oidc.client_auth import ClientCredentials, ClientSecretBasic, PrivateKeyJwt
from identity.oidc.http import HttpClient, RequestsHttpClient
from identity.oidc.provider_keys import ProviderKeys
from identity.oidc.relying_party import ProviderConfig, RelyingParty
from identity.personal_data import PersonalIdVault
from web.database import db_session

log = logging.getLogger(__name__)
DEV_IDP_PATH = "/dev-idp"
REALM_CALLBACKS = {"citizen": "/auth/callback", "staff": "/auth/staff/callback"}


@dataclass
class Realm:
    """One realm's provider: its configuration, shared key cache and transport."""

    config: ProviderConfig
    keys: ProviderKeys
    http: HttpClient

    def relying_party(self) -> RelyingParty:
        """Return a relying party for this request."""
        return RelyingParty(self.config, self.keys, self.http)


@dataclass
class IdentityRuntime:
    """Everything identity needs at request time."""

    vault: PersonalIdVault
    claim_names: ClaimNames
    acr_levels: AcrLevels
    citizen: Realm | None
    staff: Realm | None
    dev_idp: DevIdp | None

    def realm(self, name: str) -> Realm:
        """Return the realm called ``name``; refuse if no provider is configured for it."""
        realm = self.citizen if name == "citizen" else self.staff
        if realm is None:
            raise ProviderUnavailable(f"no identity provider is configured for {name} logins")
        return realm


def get_identity(app: Flask | None = None) -> IdentityRuntime:
    """Return the app's identity runtime."""
    return (app or current_app).extensions["gateway.identity"]


def _derived(secret_key: str, label: str) -> str:
    return hmac.new(secret_key.encode(), label.encode(), hashlib.sha256).hexdigest()


def personal_id_vault(settings: Settings) -> PersonalIdVault:
    """The vault for personal ID numbers under this configuration's master key."""
    master = settings.personal_data_key or _derived(settings.secret_key, "personal-data-key")
    return PersonalIdVault(master.encode())


def _credentials(prefix: str, settings: Settings, *, bundled: bool, realm: str) -> ClientCredentials:
    """Our credentials at one provider; the derived development secret only ever goes to the stand-in."""
    client_id = getattr(settings, f"{prefix}_client_id")
    key_file, secret = getattr(settings, f"{prefix}_client_key_file"), getattr(settings, f"{prefix}_client_secret")
    variable = f"GATEWAY_{prefix.upper()}_CLIENT"
    if key_file:
        try:
            credentials = PrivateKeyJwt(client_id, json.loads(Path(key_file).read_text()))
            credentials.assertion("https://check.invalid")  # fails now, not at the first login
        except Exception:  # any unreadable key is one configuration error
            raise SettingsError(f"{variable}_KEY_FILE", "is not a private EC P-256 or RSA key in JWK JSON") from None
        return credentials
    if secret:
        return ClientSecretBasic(client_id, secret)
    if not bundled:
        raise SettingsError(f"{variable}_SECRET", f"set it (or {variable}_KEY_FILE) for the configured provider")
    return ClientSecretBasic(client_id, _derived(settings.secret_key, f"dev-idp-client/{realm}"))


def _public_jwks(credentials: ClientCredentials) -> dict | None:
    if not isinstance(credentials, PrivateKeyJwt):
        return None
    public = {k: v for k, v in credentials.private_jwk.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
    return {"keys": [public]}


def init_identity(app: Flask, settings: Settings) -> IdentityRuntime:
    """Build the identity runtime; a realm with no provider (stand-in off, no issuer) fails closed."""
    bundled_issuer = settings.base_url + DEV_IDP_PATH
    acr = AcrLevels(settings.oidc_acr_level1, settings.oidc_acr_level2)
    dev_idp = None
    if settings.dev_idp_enabled:
        keys = SigningKeys(settings.instance_path / "devidp_keys.json")
        dev_idp = DevIdp(issuer=bundled_issuer, keys=keys, acr_levels=acr, allow_faults=settings.env == "test")
    realms = {}
    for realm, prefix, scopes in (("citizen", "oidc", settings.oidc_scopes),
                                  ("staff", "staff_oidc", settings.staff_oidc_scopes)):
        issuer = getattr(settings, f"{prefix}_issuer") or bundled_issuer
        bundled = issuer == bundled_issuer
        if bundled and dev_idp is None:
            # Fail closed: logins answer "unavailable" until a real provider is configured.
            log.warning("no identity provider configured", extra={"variable": f"GATEWAY_{prefix.upper()}_ISSUER"})
            realms[realm] = None
            continue
        credentials = _credentials(prefix, settings, bundled=bundled, realm=realm)
        config = ProviderConfig(realm=realm, issuer=issuer, credentials=credentials,
                                redirect_uri=settings.base_url + REALM_CALLBACKS[realm],
                                post_logout_redirect_uri=settings.base_url + "/auth/logged-out",
                                scopes=tuple(scopes.split()), acr_levels=acr if realm == "citizen" else None)
        http = DevIdpTransport(dev_idp, db_session) if bundled else RequestsHttpClient()
        if bundled:
            dev_idp.register_client(DevClient(
                client_id=credentials.client_id, realm=realm, redirect_uris=(config.redirect_uri,),
                post_logout_redirect_uris=(config.post_logout_redirect_uri,),
                token_endpoint_auth_method=credentials.method,
                client_secret=getattr(credentials, "secret", None), jwks=_public_jwks(credentials)))
        realms[realm] = Realm(config, ProviderKeys(issuer, http), http)
    runtime = IdentityRuntime(vault=personal_id_vault(settings), acr_levels=acr, dev_idp=dev_idp,
                              claim_names=ClaimNames(personal_id=settings.oidc_claim_personal_id,
                                                     name=settings.oidc_claim_name,
                                                     birthdate=settings.oidc_claim_birthdate,
                                                     residence=settings.oidc_claim_residence),
                              citizen=realms["citizen"], staff=realms["staff"])
    app.extensions["gateway.identity"] = runtime
    return runtime

