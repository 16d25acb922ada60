"""authlib server components, tightened for a government-grade stand-in (research note section 8).

* PKCE S256 is required from every client: ``plain``, a missing method and a verifier without a
  challenge are refused (authlib defaults to ``plain`` and checks only public clients).
* ``redirect_uri`` must be sent and match a registered one exactly.
* Codes are single use and live 60 seconds; a replayed code revokes the tokens issued from it.
* Client assertions: ``aud`` is the issuer as one string, at most 120 seconds of life, single-use ``jti``,
  keys only from the client's registered JWKS.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import InvalidClientError, InvalidGrantError, InvalidRequestError, grants
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import OpenIDCode
from joserfc import jwt
from joserfc.jwk import KeySet

if TYPE_CHECKING:
    from identity.devidp.server import DevIdp

CODE_LIFETIME_SECONDS = 60
MAX_ASSERTION_LIFETIME = 120
MAX_NONCE_LENGTH = 200


def sha256(value: str) -> str:
    """Return the hex SHA-256 of ``value`` (codes and tokens are stored hashed)."""
    return hashlib.sha256(value.encode()).hexdigest()


class StrictCodeChallenge(CodeChallenge):
    """PKCE with S256 only, required for confidential clients too."""

    DEFAULT_CODE_CHALLENGE_METHOD = None
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge", redirect_uri=redirect_uri)
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256", redirect_uri=redirect_uri)
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        super().validate_code_verifier(grant, result)


class CodeGrant(grants.AuthorizationCodeGrant):
    """The authorization code grant backed by the stand-in's tables."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "private_key_jwt"]

    @property
    def idp(self) -> DevIdp:
        return self.server.idp

    def validate_authorization_request(self):
        if not self.request.payload.redirect_uri:
            # Never fall back to a default redirect: the request must say where, and it must match exactly.
            raise InvalidRequestError("Missing 'redirect_uri'")
        redirect_uri = super().validate_authorization_request()
        if len(self.request.payload.data.get("nonce") or "") > MAX_NONCE_LENGTH:
            raise InvalidRequestError("'nonce' is too long", redirect_uri=redirect_uri)
        return redirect_uri

    def save_authorization_code(self, code: str, request) -> None:
        self.idp.store_code(code, request)

    def query_authorization_code(self, code: str, client) -> Any:
        return self.idp.redeem_code(code, client.get_client_id())

    def delete_authorization_code(self, authorization_code) -> None:
        """Nothing to do: ``redeem_code`` already marked the code used, atomically."""

    def authenticate_user(self, authorization_code) -> Any:
        return authorization_code.account


class StandInOpenIDCode(OpenIDCode):
    """ID tokens signed by the stand-in's rotating ES256 key, with real ``auth_time``, ``acr`` and ``sid``."""

    def __init__(self, idp: DevIdp):
        super().__init__(require_nonce=True)
        self.idp = idp

    def exists_nonce(self, nonce: str, request) -> bool:
        return self.idp.nonce_seen(request.payload.client_id, nonce)

    def generate_user_info(self, user, scope) -> dict[str, Any]:
        return {"sub": user.subject}

    def encode_id_token(self, token: dict[str, Any], request) -> str:
        return self.idp.issue_id_token(token, request)


class StandInIssuerParameter(IssuerParameter):
    """RFC 9207 ``iss`` in every authorization response (unless a test fault removes or changes it)."""

    def __init__(self, idp: DevIdp):
        self.idp = idp

    def get_issuer(self) -> str | None:
        return self.idp.response_issuer()


class PrivateKeyJwtAuth(JWTBearerClientAssertion):
    """``private_key_jwt`` with the issuer as the only audience, a short life and single-use ``jti``."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, idp: DevIdp):
        super().__init__(validate_jti=True, leeway=10)
        self.idp = idp

    def get_audiences(self) -> list[str]:
        return [self.idp.issuer]

    def verify_claims(self, claims: jwt.Claims) -> None:
        if not isinstance(claims.get("aud"), str):
            raise InvalidClientError(description="aud must be the issuer, as a single string")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int) or not isinstance(iat, int) or exp - iat > MAX_ASSERTION_LIFETIME:
            raise InvalidClientError(description=f"assertions live at most {MAX_ASSERTION_LIFETIME} seconds")
        super().verify_claims(claims)

    def validate_jti(self, claims, jti) -> bool:
        return self.idp.use_assertion_id(claims["sub"], str(jti), claims["exp"])

    def resolve_client_public_key(self, client) -> KeySet:
        if not client.jwks:
            raise InvalidClientError(description="the client has no registered keys")
        return KeySet.import_key_set(client.jwks)


def replayed_code_error() -> InvalidGrantError:
    """The error for a code presented twice."""
    return InvalidGrantError("Invalid 'code' in request.")
