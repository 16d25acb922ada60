"""Back-channel logout: the provider tells us a person logged out there; we end their sessions here."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from identity.models import UsedLogoutToken, WebSession
from identity.oidc.logout_token import verify_logout_token
from identity.oidc.relying_party import RelyingParty
from identity.sessions import end_session


def _first_use(session: Session, issuer: str) -> Callable[[str, datetime], bool]:
    def first_use(jti: str, expires_at: datetime) -> bool:
        key = hashlib.sha256(f"{issuer}\n{jti}".encode()).hexdigest()
        if session.get(UsedLogoutToken, key) is not None:
            return False
        session.add(UsedLogoutToken(id=key, expires_at=expires_at))
        session.flush()
        return True

    return first_use


def logout_from_provider(session: Session, relying_party: RelyingParty, raw_token: object, *,
                         request_id: str | None = None, clock: Clock = SYSTEM_CLOCK) -> int:
    """Verify a logout token and end every matching live session; return how many ended."""
    config = relying_party.config
    request = verify_logout_token(raw_token, relying_party.keys, issuer=config.issuer, client_id=config.client_id,
                                  now=clock.now(), first_use=_first_use(session, config.issuer))
    query = select(WebSession).where(WebSession.issuer == config.issuer, WebSession.realm == config.realm,
                                     WebSession.ended_at.is_(None))
    if request.sid is not None:
        query = query.where(WebSession.provider_sid == request.sid)
    if request.subject is not None:
        query = query.where(WebSession.subject == request.subject)
    return sum(end_session(session, row, "backchannel", request_id=request_id, clock=clock)
               for row in session.scalars(query).all())
