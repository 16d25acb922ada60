"""Demo staff for the stand-in: one account per role, so every back-office screen can be tried at once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from identity.devidp.accounts import STAFF
from identity.staff import find_staff, grant_role, provision_staff


def seed_demo_staff(session: Session, issuer: str, *, clock: Clock = SYSTEM_CLOCK) -> int:
    """Create the demo staff of ``issuer`` with their roles; return how many accounts were added."""
    added = 0
    for demo in STAFF:
        if find_staff(session, issuer, demo.subject) is not None:
            continue
        account = provision_staff(session, issuer=issuer, subject=demo.subject, display_name=demo.name,
                                  email=demo.email, clock=clock)
        grant_role(session, account, demo.role, granted_by=None, clock=clock)
        added += 1
    return added
