"""``DevIdp``: the stand-in provider's endpoints, framework-free, on authlib's AuthorizationServer."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oidc.rpinitiated import EndSessionEndpoint
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from identity.devidp import faults as fault_switches
from identity.devidp.accounts import CITIZENS, STAFF, DemoAccount, DemoCitizen, find_account
from identity.devidp.clients import SCOPES, DevClient, OAuth2Request, PlainRequest, PlainResponse
from identity.devidp.grants import (
    CODE_LIFETIME_SECONDS,
    CodeGrant,
    PrivateKeyJwtAuth,
    StandInIssuerParameter,
    StandInOpenIDCode,
    StrictCodeChallenge,
    sha256,
)
from identity.devidp.keys import SigningKeys
from identity.devidp.models import DevIdpAssertionId, DevIdpCode, DevIdpToken
from identity.levels import AcrLevels
from identity.oidc.jose import half_hash

ID_TOKEN_LIFETIME = 300
ACCESS_TOKEN_LIFETIME = 300
JWKS_MAX_AGE = 300
_session: ContextVar[Session] = ContextVar("devidp_session")


@dataclass(frozen=True)
class LoginPage:
    """The authorization request is valid: show the account chooser, then post these fields back."""

    client: DevClient
    accounts: tuple[DemoAccount, ...]
    fields: dict[str, str]


@dataclass(frozen=True)
class ErrorPage:
    """A request the stand-in will not redirect back (unknown client or redirect URI): explain it here."""

    error: str
    description: str


@dataclass
class IssuedCode:
    """A redeemed code as authlib's grant and OpenIDCode read it."""

    row: DevIdpCode
    account: DemoAccount

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return int(self.row.auth_time.timestamp())

    def get_acr(self) -> str:
        return self.row.acr

    def get_amr(self) -> list[str]:
        return ["pwd", "otp"]

    @property
    def code_challenge(self) -> str:
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str:
        return self.row.code_challenge_method


class _Server(AuthorizationServer):
    """authlib's server with plain requests and responses."""

    def __init__(self, idp: DevIdp):
        super().__init__(scopes_supported=list(SCOPES))
        self.idp = idp
        self.register_token_generator("default", BearerTokenGenerator(
            lambda **_: generate_token(43), expires_generator=lambda *_: ACCESS_TOKEN_LIFETIME))

    def query_client(self, client_id: str) -> DevClient | None:
        return self.idp.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request) -> None:
        self.idp.store_token(token, request)

    def create_oauth2_request(self, request):
        return request if isinstance(request, OAuth2Request) else OAuth2Request(request)

    def handle_response(self, status: int, body: Any, headers: Any) -> PlainResponse:
        text = json.dumps(body) if isinstance(body, dict) else (body or "")
        return PlainResponse(status, text, list(headers or []))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signals in the stand-in."""


class _EndSession(EndSessionEndpoint):
    def get_server_jwks(self):
        return self.server.idp.keys.public_jwks()

    def get_algorithms(self) -> list[str]:
        return ["ES256"]

    def end_session(self, end_session_request) -> None:
        """Every stand-in login is fresh, so there is no provider session to end."""


class DevIdp:
    """The stand-in provider for one issuer URL."""

    def __init__(self, *, issuer: str, keys: SigningKeys, acr_levels: AcrLevels, clock: Clock = SYSTEM_CLOCK,
                 allow_faults: bool = False):
        self.issuer = issuer
        self.keys = keys
        self.acr_levels = acr_levels
        self.clock = clock
        self.allow_faults = allow_faults
        self.clients: dict[str, DevClient] = {}
        self._faults: set[str] = set()
        self.server = _Server(self)
        self.server.register_grant(CodeGrant, [StrictCodeChallenge(required=True), StandInOpenIDCode(self)])
        self.server.register_client_auth_method(PrivateKeyJwtAuth.CLIENT_AUTH_METHOD, PrivateKeyJwtAuth(self))
        self.server.register_extension(StandInIssuerParameter(self))
        self.server.register_endpoint(_EndSession)

    # -- configuration -------------------------------------------------------------------------------------
    def register_client(self, client: DevClient) -> None:
        """Register (or replace) a relying party."""
        self.clients[client.client_id] = client

    def set_faults(self, *names: str) -> None:
        """Make the next responses misbehave (test mode only); no names clears them."""
        if names and not self.allow_faults:
            raise PermissionError("fault injection is available in test mode only")
        unknown = set(names) - set(fault_switches.FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}")
        self._faults = set(names)

    @property
    def faults(self) -> set[str]:
        return self._faults if self.allow_faults else set()

    @contextmanager
    def _bound(self, session: Session) -> Iterator[None]:
        token = _session.set(session)
        try:
            yield
        finally:
            _session.reset(token)

    # -- metadata ------------------------------------------------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        """Return the OpenID Provider metadata."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/end-session",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": list(SCOPES),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid",
                                 "name", "birthdate", "email", "so_dinh_danh", "ma_tinh_thuong_tru",
                                 "ma_xa_thuong_tru"],
            "acr_values_supported": [self.acr_levels.level1, self.acr_levels.level2],
            "authorization_response_iss_parameter_supported": True,
            "request_parameter_supported": False,
            "claims_parameter_supported": False,
            "ui_locales_supported": ["vi", "en"],
        }

    def jwks(self) -> tuple[dict[str, Any], int]:
        """Return the published keys and how long they may be cached (seconds)."""
        return self.keys.public_jwks(), JWKS_MAX_AGE

    # -- authorization endpoint ----------------------------------------------------------------------------
    def begin_authorization(self, session: Session, request: PlainRequest) -> LoginPage | ErrorPage | PlainResponse:
        """Validate an authorization request; show the chooser, redirect an error, or explain it here."""
        with self._bound(session):
            try:
                grant = self.server.get_consent_grant(request)
            except OAuth2Error as error:
                return self._authorization_error(error)
            client: DevClient = grant.client
            accounts = CITIZENS if client.realm == "citizen" else STAFF
            return LoginPage(client, accounts, {k: v for k, v in request.query.items() if isinstance(v, str)})

    def finish_authorization(self, session: Session, request: PlainRequest, subject: str) -> PlainResponse | ErrorPage:
        """The person chose ``subject``: issue a code (or ``access_denied`` for a locked account)."""
        with self._bound(session):
            try:
                grant = self.server.get_consent_grant(request)
            except OAuth2Error as error:
                return self._authorization_error(error)
            account = find_account(subject)
            allowed = CITIZENS if grant.client.realm == "citizen" else STAFF
            if account not in allowed:
                return ErrorPage("invalid_account", "That account cannot log in to this service.")
            user = None if isinstance(account, DemoCitizen) and account.locked else account
            return self.server.create_authorization_response(request, grant_user=user, grant=grant)

    def _authorization_error(self, error: OAuth2Error) -> ErrorPage | PlainResponse:
        if not error.redirect_uri:
            # Unknown client or redirect URI: never redirect (open redirector), explain on our own page.
            return ErrorPage(error.error, error.get_error_description() or error.error)
        response = self.server.handle_response(*error())
        issuer = self.response_issuer()
        if issuer and response.location:
            response.location = add_params_to_uri(response.location, {"iss": issuer})
        return response

    def response_issuer(self) -> str | None:
        """The ``iss`` put in authorization responses (RFC 9207)."""
        if "no_iss_param" in self.faults:
            return None
        return "https://other-idp.example" if "wrong_iss_param" in self.faults else self.issuer

    # -- codes, tokens, assertions (called by the authlib grant) -------------------------------------------
    def store_code(self, code: str, request) -> None:
        """Save a new code with everything it is bound to."""
        data = request.payload.data
        account: DemoAccount = request.user
        level = account.level if isinstance(account, DemoCitizen) else 2
        now = self.clock.now()
        _session.get().add(DevIdpCode(
            id=sha256(code), client_id=request.client.get_client_id(), subject=account.subject,
            redirect_uri=request.payload.redirect_uri, scope=request.scope or "", nonce=data.get("nonce"),
            code_challenge=data["code_challenge"], code_challenge_method=data["code_challenge_method"],
            acr=self.acr_levels.acr_for(level), sid=secrets.token_urlsafe(16), auth_time=now,
            expires_at=now + timedelta(seconds=CODE_LIFETIME_SECONDS)))
        _session.get().flush()

    def redeem_code(self, code: str, client_id: str) -> IssuedCode | None:
        """Mark ``code`` used and return it; a replay revokes the tokens it produced and returns None."""
        session, now = _session.get(), self.clock.now()
        row = session.get(DevIdpCode, sha256(code))
        if row is None or row.client_id != client_id:
            return None
        if row.used_at is not None:
            session.execute(update(DevIdpToken).where(DevIdpToken.code_id == row.id, DevIdpToken.revoked_at.is_(None))
                            .values(revoked_at=now))
            return None
        if now >= row.expires_at:
            return None
        won = session.execute(update(DevIdpCode).where(DevIdpCode.id == row.id, DevIdpCode.used_at.is_(None))
                              .values(used_at=now).execution_options(synchronize_session=False)).rowcount
        account = find_account(row.subject)
        return IssuedCode(row, account) if won == 1 and account is not None else None

    def store_token(self, token: dict[str, Any], request) -> None:
        """Keep the access token (hashed) for userinfo and for revocation on code replay."""
        code: IssuedCode = request.authorization_code
        _session.get().add(DevIdpToken(
            id=sha256(token["access_token"]), code_id=code.row.id, client_id=request.client.get_client_id(),
            subject=code.row.subject, scope=code.row.scope,
            expires_at=self.clock.now() + timedelta(seconds=ACCESS_TOKEN_LIFETIME)))
        _session.get().flush()

    def nonce_seen(self, client_id: str, nonce: str) -> bool:
        """True when this client already used ``nonce`` (a replayed authorization request)."""
        query = select(DevIdpCode.id).where(DevIdpCode.client_id == client_id, DevIdpCode.nonce == nonce).limit(1)
        return _session.get().scalar(query) is not None

    def use_assertion_id(self, client_id: str, jti: str, exp: int) -> bool:
        """Record a client-assertion ``jti``; False if it was used before."""
        session, key = _session.get(), sha256(f"{client_id}:{jti}")
        if session.get(DevIdpAssertionId, key) is not None:
            return False
        session.add(DevIdpAssertionId(id=key, expires_at=datetime.fromtimestamp(exp, self.clock.now().tzinfo)))
        session.flush()
        return True

    def issue_id_token(self, token: dict[str, Any], request) -> str:
        """Sign the ID token for a redeemed code (applying test faults, if any)."""
        code: IssuedCode = request.authorization_code
        client_id = request.client.get_client_id()
        now = int(self.clock.now().timestamp())
        claims = {"iss": self.issuer, "sub": code.account.subject, "aud": client_id, "azp": client_id, "iat": now,
                  "exp": now + ID_TOKEN_LIFETIME, "auth_time": code.get_auth_time(), "acr": code.get_acr(),
                  "amr": code.get_amr(), "sid": code.row.sid, "at_hash": half_hash(token["access_token"])}
        if code.get_nonce():
            claims["nonce"] = code.get_nonce()
        faults = self.faults
        return fault_switches.sign(self.keys, fault_switches.alter_claims(claims, faults, client_id), faults)

    # -- token, userinfo, end-session endpoints ------------------------------------------------------------
    def token(self, session: Session, request: PlainRequest) -> PlainResponse:
        """The token endpoint."""
        with self._bound(session):
            response = self.server.create_token_response(request)
        response.headers += [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
        return response

    def userinfo(self, session: Session, authorization: str | None) -> PlainResponse:
        """The userinfo endpoint: claims of the token's account, by the scopes it was granted."""
        scheme, _, value = (authorization or "").partition(" ")
        row = session.get(DevIdpToken, sha256(value)) if scheme.lower() == "bearer" and value else None
        if row is None or row.revoked_at is not None or self.clock.now() >= row.expires_at:
            return PlainResponse(401, json.dumps({"error": "invalid_token"}),
                                 [("WWW-Authenticate", 'Bearer error="invalid_token"'),
                                  ("Content-Type", "application/json")])
        claims = account_claims(find_account(row.subject), row.scope.split())
        if "userinfo_other_sub" in self.faults:
            claims["sub"] = "c0ffee00-someone-else"
        return PlainResponse(200, json.dumps(claims, ensure_ascii=False),
                             [("Content-Type", "application/json"), ("Cache-Control", "no-store")])

    def end_session(self, session: Session, request: PlainRequest) -> PlainResponse | ErrorPage | None:
        """RP-initiated logout: redirect to a registered URI when the hint checks out; None: show our page."""
        with self._bound(session):
            try:
                validated = self.server.validate_endpoint_request("end_session", request)
            except OAuth2Error as error:
                return ErrorPage(error.error, error.get_error_description() or error.error)
            return self.server.create_endpoint_response("end_session", validated)


def account_claims(account: DemoAccount | None, scopes: list[str]) -> dict[str, Any]:
    """Return the claims of ``account`` that ``scopes`` release."""
    if account is None:
        return {}
    claims: dict[str, Any] = {"sub": account.subject}
    if "profile" in scopes:
        claims["name"] = account.name
    if isinstance(account, DemoCitizen):
        if "profile" in scopes:
            claims["birthdate"] = account.birthdate
        if "vneid" in scopes:
            claims.update(so_dinh_danh=account.personal_id, ma_tinh_thuong_tru=account.province,
                          ma_xa_thuong_tru=account.commune)
    elif "email" in scopes:
        claims["email"] = account.email
    return claims
