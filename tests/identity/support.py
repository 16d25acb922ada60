"""A stand-in provider and a relying party wired together in-process, with no Flask and a fixed clock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from core.clock import Clock, FixedClock
from identity.devidp.clients import DevClient, PlainRequest
from identity.devidp.keys import SigningKeys
from identity.devidp.server import DevIdp
from identity.devidp.transport import DevIdpTransport
from identity.levels import AcrLevels
from identity.oidc.client_auth import ClientCredentials, ClientSecretBasic
from identity.oidc.provider_keys import ProviderKeys
from identity.oidc.relying_party import ProviderConfig, RelyingParty, VerifiedLogin

ISSUER = "http://localhost/op"
REDIRECT = "http://localhost/rp/callback"
LOGGED_OUT = "http://localhost/rp/logged-out"
ACR = AcrLevels("urn:vn:vneid:loa:1", "urn:vn:vneid:loa:2")
SECRET = "s3cret-for-tests-only-0123456789"
BROWSER = "b" * 43


def start_clock() -> FixedClock:
    """A clock at the system's now: tokens are signed with real time by joserfc where we do not control it."""
    return FixedClock(datetime.now().astimezone())


def make_idp(tmp_path: Path, clock: Clock, *, credentials: ClientCredentials | None = None,
             realm: str = "citizen") -> DevIdp:
    """A stand-in with one registered client."""
    idp = DevIdp(issuer=ISSUER, keys=SigningKeys(tmp_path / "keys.json"), acr_levels=ACR, clock=clock,
                 allow_faults=True)
    credentials = credentials or ClientSecretBasic("rp", SECRET)
    jwks = None
    if credentials.method == "private_key_jwt":
        private = dict(credentials.private_jwk)
        jwks = {"keys": [{k: v for k, v in private.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}]}
    idp.register_client(DevClient(credentials.client_id, realm, (REDIRECT,), (LOGGED_OUT,),
                                  credentials.method, getattr(credentials, "secret", None), jwks))
    return idp


def make_rp(idp: DevIdp, session: Session, clock: Clock, *, credentials: ClientCredentials | None = None,
            realm: str = "citizen", acr_levels: AcrLevels = ACR) -> RelyingParty:
    """A relying party talking to ``idp`` in-process."""
    http = DevIdpTransport(idp, lambda: session)
    config = ProviderConfig(realm=realm, issuer=ISSUER, credentials=credentials or ClientSecretBasic("rp", SECRET),
                            redirect_uri=REDIRECT, post_logout_redirect_uri=LOGGED_OUT,
                            scopes=("openid", "profile", "vneid"), acr_levels=acr_levels)
    return RelyingParty(config, ProviderKeys(ISSUER, http, clock=clock), http, clock)


def authorize(rp: RelyingParty, idp: DevIdp, session: Session, subject: str, **options) -> dict[str, str]:
    """Run the browser part of the flow: return the callback's query parameters."""
    from urllib.parse import parse_qs, urlsplit

    url = rp.authorization_url(session, next_path="/", browser_key=BROWSER, **options)
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    response = idp.finish_authorization(session, PlainRequest("POST", url.split("?")[0], {}, params, {}), subject)
    return {k: v[0] for k, v in parse_qs(urlsplit(response.location).query).items()}


def login(rp: RelyingParty, idp: DevIdp, session: Session, subject: str, **options) -> VerifiedLogin:
    """Run the whole flow and return the verified login."""
    return rp.complete(session, authorize(rp, idp, session, subject, **options), BROWSER)
