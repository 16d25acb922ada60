"""What was e-mailed: one row per message sent, so a retried or repeated job never sends it twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, UTCDateTime, one_of

MAIL_KINDS = ("receipt", "reminder")


class MailDelivery(Base):
    """One e-mail handed to the relay: which message (kind and reference), to whom (by id), when.

    The address is not kept here: it lives with the consent (``identity.models.EmailConsent``) alone.
    """

    __tablename__ = "mail_deliveries"
    __table_args__ = (
        UniqueConstraint("kind", "reference"),
        CheckConstraint(one_of("kind", MAIL_KINDS), name="kind_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    #: The receipt's public id, or ``<bill public id>:<lead days>`` for a reminder.
    reference: Mapped[str] = mapped_column(String(100))
    citizen_id: Mapped[int] = mapped_column(BigInteger, index=True)
    #: The e-mail consent the message was sent under (identity.models.EmailConsent).
    consent_id: Mapped[int] = mapped_column(BigInteger)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
