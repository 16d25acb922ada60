"""Back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0, section 2.6), verified by us.

A logout token is signed like an ID token but is not one: it must carry the back-channel ``events``
member and must not carry a ``nonce`` (an ID token replayed as a logout token has one), names ``sub``
and/or ``sid``, and has a ``jti`` that may be used once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.clock import UTC
from identity.errors import TokenRejected
from identity.oidc.id_token import CLOCK_SKEW, MAX_IAT_AGE, check_issuer_and_audience
from identity.oidc.jose import verify_jws
from identity.oidc.provider_keys import ProviderKeys

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


@dataclass(frozen=True)
class LogoutRequest:
    """Whose sessions a verified logout token ends."""

    subject: str | None
    sid: str | None
    jti: str
    expires_at: datetime


def verify_logout_token(raw: object, keys: ProviderKeys, *, issuer: str, client_id: str, now: datetime,
                        first_use: Callable[[str, datetime], bool]) -> LogoutRequest:
    """Return what the token asks to end, or raise ``TokenRejected`` naming the failed check."""
    claims = verify_jws(raw, keys.key_for, keys.key_set, prefix="logout_token").payload  # type: ignore[arg-type]
    check_issuer_and_audience(claims, issuer, client_id, "logout_token")
    iat = claims.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise TokenRejected("logout_token_iat_missing")
    issued = datetime.fromtimestamp(iat, UTC)
    if issued > now + CLOCK_SKEW or issued < now - MAX_IAT_AGE:
        raise TokenRejected("logout_token_iat_out_of_range")
    exp = claims.get("exp")
    if isinstance(exp, int) and not isinstance(exp, bool) and datetime.fromtimestamp(exp, UTC) + CLOCK_SKEW <= now:
        raise TokenRejected("logout_token_expired")
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
        raise TokenRejected("logout_token_events_missing")
    if "nonce" in claims:
        raise TokenRejected("logout_token_has_nonce")
    subject, sid = claims.get("sub"), claims.get("sid")
    subject = subject if isinstance(subject, str) and subject else None
    sid = sid if isinstance(sid, str) and sid else None
    if subject is None and sid is None:
        raise TokenRejected("logout_token_sub_and_sid_missing")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 200:
        raise TokenRejected("logout_token_jti_missing")
    expires_at = issued + MAX_IAT_AGE + timedelta(minutes=5)
    if not first_use(jti, expires_at):
        raise TokenRejected("logout_token_replayed")
    return LogoutRequest(subject=subject, sid=sid, jti=jti, expires_at=expires_at)
