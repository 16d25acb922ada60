"""Deleting what identity no longer needs: finished login flows, spent stand-in codes, old sessions.

Meant to run daily (``python -m gateway purge-identity``, or a periodic job). The audit log is never
purged here: its retention is a legal decision, taken elsewhere.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from identity.devidp.models import DevIdpAssertionId, DevIdpCode, DevIdpToken
from identity.flows import purge_flows
from identity.models import UsedLogoutToken, WebSession

#: Ended sessions stay this long: they are the evidence behind payments made in them.
KEEP_ENDED_SESSIONS = timedelta(days=400)


def purge_expired(session: Session, *, clock: Clock = SYSTEM_CLOCK) -> dict[str, int]:
    """Delete expired identity rows; return how many of each kind went."""
    now = clock.now()
    day_ago = now - timedelta(days=1)
    return {
        "login_flows": purge_flows(session, clock=clock),
        "devidp_codes": session.execute(delete(DevIdpCode).where(DevIdpCode.expires_at < day_ago)).rowcount,
        "devidp_tokens": session.execute(delete(DevIdpToken).where(DevIdpToken.expires_at < day_ago)).rowcount,
        "devidp_assertion_ids": session.execute(
            delete(DevIdpAssertionId).where(DevIdpAssertionId.expires_at < now)).rowcount,
        "used_logout_tokens": session.execute(
            delete(UsedLogoutToken).where(UsedLogoutToken.expires_at < now)).rowcount,
        "web_sessions": session.execute(
            delete(WebSession).where(WebSession.ended_at < now - KEEP_ENDED_SESSIONS)).rowcount,
    }
