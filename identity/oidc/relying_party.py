"""The relying party: build the authorization request, then turn a callback into a verified login.

Order matters in ``complete``: the flow is consumed first (so even a failed callback burns its state),
then the provider's error, the RFC 9207 ``iss`` parameter, the code exchange with the PKCE verifier, the ID
token, and userinfo whose ``sub`` must match. Every refusal raises ``LoginRejected`` with a stable reason.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from identity.errors import LoginRejected, ProviderUnavailable, TokenRejected
from identity.flows import FlowRequest, consume_flow, start_flow
from identity.levels import UNKNOWN, AcrLevels
from identity.models import LoginFlow
from identity.oidc.client_auth import ClientCredentials
from identity.oidc.http import HttpClient
from identity.oidc.id_token import Expectations, VerifiedIdToken, check_issuer_and_audience, verify_id_token
from identity.oidc.jose import verify_jws
from identity.oidc.provider_keys import ProviderKeys

_ERROR_CODE = re.compile(r"[a-z_]{1,40}")
MAX_CODE_LENGTH = 2048

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderConfig:
    """One provider as the gateway uses it (citizen e-ID or staff workforce)."""

    realm: str
    issuer: str
    credentials: ClientCredentials
    redirect_uri: str
    post_logout_redirect_uri: str
    scopes: tuple[str, ...] = ("openid",)
    acr_levels: AcrLevels | None = None
    #: ``aud`` of client assertions: the issuer (default) or, for providers that insist, the token URL.
    assertion_audience: str | None = None
    extra_params: Mapping[str, str] = field(default_factory=dict)

    @property
    def client_id(self) -> str:
        """Our client id at this provider."""
        return self.credentials.client_id


@dataclass(frozen=True)
class VerifiedLogin:
    """Everything a successful callback proved."""

    flow: LoginFlow
    id_token: VerifiedIdToken
    claims: dict[str, Any]
    eid_level: int


class RelyingParty:
    """Speaks OpenID Connect to one provider."""

    def __init__(self, config: ProviderConfig, keys: ProviderKeys, http: HttpClient, clock: Clock = SYSTEM_CLOCK):
        self.config = config
        self.keys = keys
        self._http = http
        self._clock = clock

    def authorization_url(self, session: Session, *, next_path: str, browser_key: str, level: int = 0,
                          force_login: bool = False, max_age: int | None = None) -> str:
        """Start a flow and return the provider URL to send the browser to."""
        metadata = self.keys.metadata()
        flow = start_flow(session, FlowRequest(realm=self.config.realm, issuer=self.config.issuer,
                                               redirect_uri=self.config.redirect_uri, next_path=next_path,
                                               requested_level=level, max_age=max_age), browser_key, clock=self._clock)
        params = {"response_type": "code", "client_id": self.config.client_id,
                  "redirect_uri": self.config.redirect_uri, "scope": " ".join(self.config.scopes),
                  "state": flow.state, "nonce": flow.nonce, "code_challenge": flow.code_challenge,
                  "code_challenge_method": "S256", **self.config.extra_params}
        if level and self.config.acr_levels:
            params["acr_values"] = self.config.acr_levels.acr_for(level)
        if force_login:
            # Step-up must never be satisfied by the provider's existing, lower session.
            params["prompt"] = "login"
        if max_age is not None:
            params["max_age"] = str(max_age)
        return f"{metadata['authorization_endpoint']}?{urlencode(params)}"

    def complete(self, session: Session, params: Mapping[str, str], browser_key: str | None) -> VerifiedLogin:
        """Verify a callback end to end and return what it proved."""
        flow = consume_flow(session, params.get("state"), browser_key, clock=self._clock)
        if flow.realm != self.config.realm or flow.issuer != self.config.issuer:
            raise LoginRejected("flow_provider_mismatch")
        self._check_response_issuer(params)
        if "error" in params:
            code = params["error"] if _ERROR_CODE.fullmatch(params["error"] or "") else "unreadable"
            raise LoginRejected(f"provider_error_{code}")
        code = params.get("code")
        if not code or len(code) > MAX_CODE_LENGTH:
            raise LoginRejected("code_missing")
        tokens = self._exchange(code, flow)
        id_token = verify_id_token(tokens.get("id_token"), self.keys, Expectations(
            issuer=self.config.issuer, client_id=self.config.client_id, nonce=flow.nonce, now=self._clock.now(),
            access_token=tokens.get("access_token"), max_age=flow.max_age))
        claims = dict(self._userinfo(tokens.get("access_token"), id_token))
        claims.update(id_token.claims)
        level = self._level(claims.get("acr"))
        return VerifiedLogin(flow=flow, id_token=id_token, claims=claims, eid_level=level)

    def _level(self, acr: object) -> int:
        levels = self.config.acr_levels
        level = levels.level_of(acr) if levels else UNKNOWN
        if level == UNKNOWN and levels is not None:
            # The citizen is treated as unverified (level 0): say so to the operator, who most likely
            # has to set GATEWAY_OIDC_ACR_LEVEL1/2 to the provider's values. acr values are not personal.
            log.warning("acr value not mapped to an e-ID level", extra={
                "acr": acr if isinstance(acr, str) else None, "configured": [levels.level1, levels.level2],
                "settings": "GATEWAY_OIDC_ACR_LEVEL1, GATEWAY_OIDC_ACR_LEVEL2"})
        return level

    def _check_response_issuer(self, params: Mapping[str, str]) -> None:
        # RFC 9207: a provider that promises ``iss`` must send it; any ``iss`` sent must be ours (mix-up).
        advertised = self.keys.metadata().get("authorization_response_iss_parameter_supported") is True
        received = params.get("iss")
        if received is None and advertised:
            raise LoginRejected("iss_parameter_missing")
        if received is not None and received != self.config.issuer:
            raise LoginRejected("iss_parameter_mismatch")

    def _exchange(self, code: str, flow: LoginFlow) -> dict[str, Any]:
        metadata = self.keys.metadata()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": flow.redirect_uri,
                "code_verifier": flow.code_verifier}
        headers = {"Accept": "application/json"}
        self.config.credentials.apply(form, headers, self.config.assertion_audience or self.config.issuer)
        response = self._http.post_form(metadata["token_endpoint"], form, headers)
        if response.status != 200:
            body = _safe_json(response.body)
            error = body.get("error") if isinstance(body.get("error"), str) else ""
            reason = error if _ERROR_CODE.fullmatch(error) else "failed"
            raise LoginRejected(f"token_request_{reason}")
        tokens = response.json_object("token response")
        if str(tokens.get("token_type", "")).lower() != "bearer" or not isinstance(tokens.get("access_token"), str):
            raise LoginRejected("token_response_malformed")
        return tokens

    def _userinfo(self, access_token: str, id_token: VerifiedIdToken) -> dict[str, Any]:
        endpoint = self.keys.metadata().get("userinfo_endpoint")
        if not endpoint:
            return {}
        response = self._http.get(endpoint, {"Authorization": f"Bearer {access_token}",
                                             "Accept": "application/json, application/jwt"})
        if response.status != 200:
            raise ProviderUnavailable(f"userinfo answered {response.status}")
        if response.header("Content-Type").startswith("application/jwt"):
            signed = verify_jws(response.body.decode("ascii", "replace"), self.keys.key_for, self.keys.key_set,
                                prefix="userinfo")
            claims = signed.payload
            if "iss" in claims or "aud" in claims:
                check_issuer_and_audience(claims, self.config.issuer, self.config.client_id, "userinfo")
        else:
            claims = response.json_object("userinfo")
        if claims.get("sub") != id_token.subject:
            # OpenID RP test rp-userinfo-bad-sub-claim: someone else's profile must not be attached.
            raise TokenRejected("userinfo_sub_mismatch")
        return claims

    def logout_url(self, id_token: str, state: str) -> str | None:
        """Return the provider's RP-initiated logout URL, or None if it has no end-session endpoint."""
        try:
            endpoint = self.keys.metadata().get("end_session_endpoint")
        except (ProviderUnavailable, TokenRejected):
            return None
        if not endpoint:
            return None
        params = {"id_token_hint": id_token, "post_logout_redirect_uri": self.config.post_logout_redirect_uri,
                  "client_id": self.config.client_id, "state": state}
        return f"{endpoint}?{urlencode(params)}"


def _safe_json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}
