"""Login flows in progress: state, nonce and PKCE kept server-side, one row per flow, single use, expiring.

Several tabs may log in at once: each flow has its own row, keyed by the hash of its ``state``. A callback
must bring the same ``state`` and come from the same browser (a random value in a short-lived cookie,
stored hashed), within ``FLOW_LIFETIME``, and only once; anything else is refused with a stable reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from identity.errors import FlowRejected
from identity.models import LoginFlow

FLOW_LIFETIME = timedelta(minutes=10)
#: Anything longer than this in ``state`` is not ours; refuse before hashing or querying.
MAX_STATE_LENGTH = 128


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def random_secret() -> str:
    """Return 256 bits of randomness as 43 URL-safe characters (state, nonce, browser binding)."""
    return secrets.token_urlsafe(32)


def make_code_verifier() -> str:
    """Return a PKCE code verifier: 64 URL-safe characters (RFC 7636 allows 43 to 128)."""
    return secrets.token_urlsafe(48)


def s256_challenge(verifier: str) -> str:
    """Return the PKCE S256 challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class FlowRequest:
    """What a login asks of the provider, decided before the redirect."""

    realm: str
    issuer: str
    redirect_uri: str
    next_path: str
    requested_level: int = 0
    max_age: int | None = None


@dataclass(frozen=True)
class StartedFlow:
    """The secrets of a new flow: ``state`` and the challenge go out, the rest stays here."""

    state: str
    nonce: str
    code_verifier: str

    @property
    def code_challenge(self) -> str:
        """The S256 challenge sent with the authorization request."""
        return s256_challenge(self.code_verifier)


def start_flow(session: Session, request: FlowRequest, browser_key: str, *,
               clock: Clock = SYSTEM_CLOCK) -> StartedFlow:
    """Store a new flow bound to ``browser_key`` and return its secrets."""
    flow = StartedFlow(state=random_secret(), nonce=random_secret(), code_verifier=make_code_verifier())
    now = clock.now()
    session.add(LoginFlow(id=_sha256(flow.state), realm=request.realm, issuer=request.issuer,
                          browser_hash=_sha256(browser_key), nonce=flow.nonce, code_verifier=flow.code_verifier,
                          redirect_uri=request.redirect_uri, next_path=request.next_path,
                          requested_level=request.requested_level, max_age=request.max_age, created_at=now,
                          expires_at=now + FLOW_LIFETIME))
    session.flush()
    return flow


def consume_flow(session: Session, state: str | None, browser_key: str | None, *,
                 clock: Clock = SYSTEM_CLOCK) -> LoginFlow:
    """Return the flow for ``state`` and mark it used; refuse missing, unknown, foreign, expired or reused."""
    if not state:
        raise FlowRejected("state_missing")
    if len(state) > MAX_STATE_LENGTH:
        raise FlowRejected("state_oversized")
    flow = session.get(LoginFlow, _sha256(state))
    if flow is None:
        raise FlowRejected("state_unknown")
    if not browser_key or not hmac.compare_digest(flow.browser_hash, _sha256(browser_key)):
        raise FlowRejected("state_other_browser")
    now = clock.now()
    if flow.used_at is not None:
        raise FlowRejected("state_reused")
    if now >= flow.expires_at:
        raise FlowRejected("state_expired")
    # Guarded UPDATE: of two concurrent callbacks with the same state, exactly one wins.
    won = session.execute(update(LoginFlow).where(LoginFlow.id == flow.id, LoginFlow.used_at.is_(None))
                          .values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if won != 1:
        raise FlowRejected("state_reused")
    session.refresh(flow)
    return flow


def purge_flows(session: Session, *, clock: Clock = SYSTEM_CLOCK) -> int:
    """Delete flows that expired more than a day ago (kept that long to tell 'reused' from 'unknown')."""
    cutoff = clock.now() - timedelta(days=1)
    return session.execute(delete(LoginFlow).where(LoginFlow.expires_at < cutoff)).rowcount
