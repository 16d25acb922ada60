"""ID-token verification in our own code: every check named, every refusal with its own reason.

Checks (OpenID Connect Core 3.1.3.7, RFC 9700, research note identity.md section 7.3): pinned algorithm and
a key from the provider's JWKS; exact ``iss``; our client id in ``aud``, and ``azp`` equal to it when
present or when ``aud`` lists others; ``exp``, ``iat`` and ``nbf`` with a small skew and a bounded ``iat``
age; the ``nonce`` of this flow; ``at_hash`` when present; ``auth_time`` against ``max_age``.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.clock import UTC
from identity.errors import TokenRejected
from identity.oidc.jose import half_hash, verify_jws
from identity.oidc.provider_keys import ProviderKeys

CLOCK_SKEW = timedelta(seconds=60)
#: An ID token is used seconds after it is issued; an old one is a replay.
MAX_IAT_AGE = timedelta(minutes=10)


@dataclass(frozen=True)
class Expectations:
    """What this particular token must say."""

    issuer: str
    client_id: str
    nonce: str
    now: datetime
    access_token: str | None = None
    max_age: int | None = None


@dataclass(frozen=True)
class VerifiedIdToken:
    """A verified ID token: its raw form (for ``id_token_hint``), header and claims."""

    raw: str
    header: dict[str, Any]
    claims: dict[str, Any]

    @property
    def subject(self) -> str:
        """The ``sub`` claim."""
        return self.claims["sub"]

    @property
    def auth_time(self) -> datetime | None:
        """When the person authenticated at the provider, if it said."""
        value = self.claims.get("auth_time")
        return datetime.fromtimestamp(value, UTC) if _is_number(value) else None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _instant(claims: dict[str, Any], name: str) -> datetime | None:
    value = claims.get(name)
    if value is None:
        return None
    if not _is_number(value):
        raise TokenRejected(f"id_token_{name}_malformed")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise TokenRejected(f"id_token_{name}_malformed") from None


def verify_id_token(raw: object, keys: ProviderKeys, expect: Expectations) -> VerifiedIdToken:
    """Return the verified token or raise ``TokenRejected`` with the first failed check as reason."""
    signed = verify_jws(raw, keys.key_for, keys.key_set)  # type: ignore[arg-type]
    claims = signed.payload
    check_issuer_and_audience(claims, expect.issuer, expect.client_id, "id_token")
    _check_subject(claims)
    _check_times(claims, expect.now)
    _check_nonce(claims, expect.nonce)
    _check_at_hash(claims, expect.access_token)
    _check_auth_time(claims, expect.now, expect.max_age)
    return VerifiedIdToken(raw, signed.header, claims)  # type: ignore[arg-type]


def check_issuer_and_audience(claims: dict[str, Any], issuer: str, client_id: str, prefix: str) -> None:
    """Exact issuer; our client id in ``aud``; ``azp`` ours when given or when there are other audiences."""
    if "iss" not in claims:
        raise TokenRejected(f"{prefix}_iss_missing")
    if claims["iss"] != issuer:
        raise TokenRejected(f"{prefix}_iss_mismatch")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not audiences or not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise TokenRejected(f"{prefix}_aud_missing")
    if client_id not in audiences:
        # Even when azp names us: a token for another audience is not ours (authlib accepts it; we do not).
        raise TokenRejected(f"{prefix}_aud_mismatch")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise TokenRejected(f"{prefix}_azp_mismatch")


def _check_subject(claims: dict[str, Any]) -> None:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise TokenRejected("id_token_sub_invalid")


def _check_times(claims: dict[str, Any], now: datetime) -> None:
    exp, iat, nbf = _instant(claims, "exp"), _instant(claims, "iat"), _instant(claims, "nbf")
    if exp is None:
        raise TokenRejected("id_token_exp_missing")
    if now >= exp + CLOCK_SKEW:
        raise TokenRejected("id_token_expired")
    if iat is None:
        raise TokenRejected("id_token_iat_missing")
    if iat > now + CLOCK_SKEW:
        raise TokenRejected("id_token_iat_in_future")
    if iat < now - MAX_IAT_AGE:
        raise TokenRejected("id_token_iat_too_old")
    if nbf is not None and nbf > now + CLOCK_SKEW:
        raise TokenRejected("id_token_not_yet_valid")


def _check_nonce(claims: dict[str, Any], expected: str) -> None:
    nonce = claims.get("nonce")
    if nonce is None:
        raise TokenRejected("id_token_nonce_missing")
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), expected.encode()):
        raise TokenRejected("id_token_nonce_mismatch")


def _check_at_hash(claims: dict[str, Any], access_token: str | None) -> None:
    at_hash = claims.get("at_hash")
    if at_hash is None or access_token is None:
        return
    if not isinstance(at_hash, str) or not hmac.compare_digest(at_hash, half_hash(access_token)):
        raise TokenRejected("id_token_at_hash_mismatch")


def _check_auth_time(claims: dict[str, Any], now: datetime, max_age: int | None) -> None:
    auth_time = _instant(claims, "auth_time")
    if max_age is None:
        return
    if auth_time is None:
        raise TokenRejected("id_token_auth_time_missing")
    if auth_time + timedelta(seconds=max_age) + CLOCK_SKEW < now:
        raise TokenRejected("id_token_auth_time_too_old")
