"""Server-side, revocable login sessions with idle and absolute timeouts per realm.

The browser holds a 256-bit random token; the table keys on its SHA-256, so a leaked database cannot be
replayed as cookies. Every login creates a new token (no fixation); logout, timeout and revocation end the
row, and an ended row never comes back.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from identity import audit
from identity.errors import SessionExpired
from identity.models import WebSession


@dataclass(frozen=True)
class Timeouts:
    """How long a session may sit unused, and how long it may live at all."""

    idle: timedelta
    absolute: timedelta


#: Citizens 30 min / 12 h; staff hold more power, so 15 min / 8 h (OWASP ASVS 7.3).
TIMEOUTS = {
    "citizen": Timeouts(idle=timedelta(minutes=30), absolute=timedelta(hours=12)),
    "staff": Timeouts(idle=timedelta(minutes=15), absolute=timedelta(hours=8)),
}
#: last_seen_at is written at most this often, so reading pages does not write a row each time.
TOUCH_EVERY = timedelta(seconds=60)


def token_hash(token: str) -> str:
    """Return the table key for a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoginFacts:
    """What a verified login proved, as stored on its session."""

    realm: str
    issuer: str
    subject: str
    id_token: str
    eid_level: int
    acr: str | None = None
    amr: list[str] | None = None
    auth_time: datetime | None = None
    provider_sid: str | None = None


def open_session(session: Session, facts: LoginFacts, *, citizen_id: int | None = None,
                 staff_account_id: int | None = None, clock: Clock = SYSTEM_CLOCK) -> tuple[str, WebSession]:
    """Create a session for a verified login; return the cookie token (shown once) and the row."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    row = WebSession(id=token_hash(token), realm=facts.realm, citizen_id=citizen_id,
                     staff_account_id=staff_account_id, issuer=facts.issuer, subject=facts.subject,
                     provider_sid=facts.provider_sid, acr=facts.acr, amr=facts.amr, eid_level=facts.eid_level,
                     auth_time=facts.auth_time, id_token=facts.id_token, created_at=now, last_seen_at=now)
    session.add(row)
    session.flush()
    return token, row


def load_session(session: Session, token: str | None, *, clock: Clock = SYSTEM_CLOCK) -> WebSession | None:
    """Return the live session for ``token``; end it and raise ``SessionExpired`` if it timed out."""
    if not token or len(token) > 100:
        return None
    row = session.get(WebSession, token_hash(token))
    if row is None or row.ended_at is not None:
        return None
    now = clock.now()
    limits = TIMEOUTS[row.realm]
    expired = ("absolute" if now >= row.created_at + limits.absolute
               else "idle" if now >= row.last_seen_at + limits.idle else None)
    if expired:
        end_session(session, row, expired, clock=clock)
        raise SessionExpired(f"session ended by {expired} timeout", details={"reason": expired})
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.flush()
    return row


def principal_label(row: WebSession) -> str:
    """Return ``citizen:12`` or ``staff:3`` for audit lines."""
    return f"citizen:{row.citizen_id}" if row.citizen_id is not None else f"staff:{row.staff_account_id}"


def end_session(session: Session, row: WebSession, reason: str, *, request_id: str | None = None,
                clock: Clock = SYSTEM_CLOCK) -> bool:
    """End one session (idempotent) and audit it; return False if it had already ended."""
    now = clock.now()
    # A guarded UPDATE: two concurrent logouts end the row once and audit it once.
    result = session.execute(update(WebSession).where(WebSession.id == row.id, WebSession.ended_at.is_(None))
                             .values(ended_at=now, end_reason=reason).execution_options(synchronize_session=False))
    session.refresh(row)
    if result.rowcount != 1:
        return False
    audit.record(session, "session_ended", actor=principal_label(row), reason=reason, request_id=request_id,
                 details={"realm": row.realm}, clock=clock)
    return True


def end_sessions_of(session: Session, *, citizen_id: int | None = None, staff_account_id: int | None = None,
                    reason: str = "revoked", request_id: str | None = None, clock: Clock = SYSTEM_CLOCK) -> int:
    """End every live session of one principal; return how many ended."""
    query = select(WebSession).where(WebSession.ended_at.is_(None))
    if citizen_id is not None:
        query = query.where(WebSession.citizen_id == citizen_id)
    elif staff_account_id is not None:
        query = query.where(WebSession.staff_account_id == staff_account_id)
    else:
        raise ValueError("name the principal whose sessions end")
    return sum(end_session(session, row, reason, request_id=request_id, clock=clock)
               for row in session.scalars(query).all())
