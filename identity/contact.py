"""A citizen's e-mail address for receipts and payment reminders: given with consent, withdrawn at any time.

Consent is explicit and separate from the data-use notice (Decree 13/2023 Art. 11: specific to one
purpose, and as easy to withdraw as to give). Each change is a row of its own (``EmailConsent``) and an
audit event; the address itself is never logged nor audited in clear, only masked.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from core.mail import mask_email, valid_mailbox
from identity import audit
from identity.errors import InvalidEmail
from identity.models import EMAIL_LANGUAGES, Citizen, EmailConsent


def normalise_email(address: str) -> str:
    """The address as we store it (trimmed, domain in lower case), or ``InvalidEmail``."""
    value = address.strip()
    if not valid_mailbox(value):
        raise InvalidEmail("enter an e-mail address such as ten@example.vn")
    mailbox, domain = value.rsplit("@", 1)
    return f"{mailbox}@{domain.lower()}"


def email_consent(session: Session, citizen_id: int) -> EmailConsent | None:
    """The citizen's e-mail consent in force, if any."""
    return session.scalars(select(EmailConsent).where(EmailConsent.citizen_id == citizen_id,
                                                      EmailConsent.withdrawn_at.is_(None))).one_or_none()


def give_email_consent(session: Session, citizen: Citizen, address: str, *, language: str = "vi",
                       request_id: str | None = None, clock: Clock = SYSTEM_CLOCK) -> EmailConsent:
    """Record the citizen's agreement to receive e-mail at ``address`` (replacing an earlier one)."""
    address = normalise_email(address)
    language = language if language in EMAIL_LANGUAGES else "vi"
    current = email_consent(session, citizen.id)
    if current is not None and current.address == address and current.language == language:
        return current  # the same form sent again
    now = clock.now()
    if current is not None:
        current.withdrawn_at = now
        session.flush()
    try:
        # Two tabs agreeing at once: the one-in-force index lets one row win; the other returns it.
        with session.begin_nested():
            consent = EmailConsent(citizen_id=citizen.id, address=address, language=language, granted_at=now)
            session.add(consent)
            session.flush()
    except IntegrityError:
        return email_consent(session, citizen.id)
    audit.record(session, "email_consent_given", actor=f"citizen:{citizen.id}",
                 details={"address": mask_email(address), "language": language}, request_id=request_id, clock=clock)
    return consent


def withdraw_email_consent(session: Session, citizen: Citizen, *, request_id: str | None = None,
                           clock: Clock = SYSTEM_CLOCK) -> bool:
    """Withdraw the citizen's e-mail consent; no e-mail is sent after this. False if none was in force."""
    result = session.execute(update(EmailConsent)
                             .where(EmailConsent.citizen_id == citizen.id, EmailConsent.withdrawn_at.is_(None))
                             .values(withdrawn_at=clock.now()).execution_options(synchronize_session="fetch"))
    if result.rowcount == 0:
        return False
    audit.record(session, "email_consent_withdrawn", actor=f"citizen:{citizen.id}", request_id=request_id,
                 clock=clock)
    return True


def email_history(session: Session, citizen_id: int) -> list[EmailConsent]:
    """Every e-mail consent the citizen gave, oldest first (for their data download)."""
    return list(session.scalars(select(EmailConsent).where(EmailConsent.citizen_id == citizen_id)
                                .order_by(EmailConsent.id)))
