"""The append-only audit log of logins, failed logins, role changes and session ends.

Rows are only ever added: a ``before_flush`` guard refuses updates and deletes from Python, and triggers
(migration 0002) refuse them in PostgreSQL itself. Failures are also written to the application log with
their reason, so an operator sees an attack without querying the database.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from identity.models import AuditEvent

log = logging.getLogger("identity.audit")


class AuditLogImmutable(RuntimeError):
    """Code tried to change or delete an audit row: a programming error, never user input."""


def record(session: Session, event_name: str, *, actor: str, target: str | None = None, reason: str | None = None,
           details: dict[str, Any] | None = None, request_id: str | None = None,
           clock: Clock = SYSTEM_CLOCK) -> AuditEvent:
    """Append one audit event in the caller's transaction and echo it to the log."""
    row = AuditEvent(at=clock.now(), event=event_name, actor=actor, target=target, reason=reason,
                     details=details or {}, request_id=request_id)
    session.add(row)
    session.flush()
    level = logging.WARNING if event_name.endswith("_failed") or event_name.endswith("_refused") else logging.INFO
    log.log(level, "audit %s", event_name, extra={"audit_event": event_name, "actor": actor, "target": target,
                                                  "reason": reason})
    return row


def recent(session: Session, *, limit: int = 100, event_name: str | None = None) -> list[AuditEvent]:
    """Return the newest events first."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if event_name:
        query = query.where(AuditEvent.event == event_name)
    return list(session.scalars(query))


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _context, _instances) -> None:
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, AuditEvent) and (instance in session.deleted or session.is_modified(instance)):
            raise AuditLogImmutable("audit events are append-only")
