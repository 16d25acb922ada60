"""Identity tables: citizens, consent, login history, staff and roles, server-side sessions, login flows, audit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, BigId, UTCDateTime
from identity.roles import ROLES

#: 64-bit ids on PostgreSQL; SQLite only auto-increments a plain INTEGER primary key.
REALMS = ("citizen", "staff")


class Citizen(Base):
    """A person known from their e-ID: the claims we keep, the number encrypted, the level last proven."""

    __tablename__ = "citizens"
    __table_args__ = (
        UniqueConstraint("issuer", "subject"),
        CheckConstraint("eid_level IN (0, 1, 2)", name="eid_level_known"),
        CheckConstraint("length(personal_id_masked) = 12", name="masked_id_length"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The provider's ``iss``; with ``subject`` it is the account key (a number can move between providers).
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    #: AES-GCM ciphertext of the 12-digit personal identification number (identity.personal_data).
    personal_id_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    #: HMAC-SHA256 of the number under a key the database never holds; finds a citizen by number.
    personal_id_hash: Mapped[str] = mapped_column(String(64), index=True)
    #: ``0011******45``: what screens and logs show.
    personal_id_masked: Mapped[str] = mapped_column(String(12))
    full_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    #: Permanent-residence province code (QĐ 19/2025, two digits), as the provider asserted it.
    residence_province: Mapped[str | None] = mapped_column(String(2))
    residence_commune: Mapped[str | None] = mapped_column(String(5))
    #: e-ID level proven at the last login (0 unknown, 1, 2).
    eid_level: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    consents: Mapped[list[Consent]] = relationship(back_populates="citizen", order_by="Consent.id")


class Consent(Base):
    """A citizen's agreement to one version of the data-use notice (silence is never consent)."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("citizen_id", "notice_version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    #: Which wording of the notice was shown (identity.citizens.NOTICE_VERSION).
    notice_version: Mapped[str] = mapped_column(String(20))
    #: The claim names the notice listed, as shown.
    claims: Mapped[list[str]] = mapped_column(JSON)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    citizen: Mapped[Citizen] = relationship(back_populates="consents")


EMAIL_LANGUAGES = ("vi", "en")


class EmailConsent(Base):
    """A citizen's e-mail address, given with consent to receive receipts and payment reminders there.

    One row per consent: changing the address withdraws the old row and adds a new one, so when each
    address was agreed to and withdrawn stays on record. At most one row per citizen is in force.
    """

    __tablename__ = "email_consents"
    __table_args__ = (
        CheckConstraint(f"language IN {EMAIL_LANGUAGES}", name="language_known"),
        CheckConstraint("withdrawn_at IS NULL OR withdrawn_at >= granted_at", name="withdrawn_after_granted"),
        Index("uq_email_consents_one_in_force", "citizen_id", unique=True,
              postgresql_where=text("withdrawn_at IS NULL"), sqlite_where=text("withdrawn_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    #: Personal data: shown to its owner only, masked in logs (``core.mail.mask_email``).
    address: Mapped[str] = mapped_column(String(254))
    #: The language the citizen used when agreeing; their e-mails are written in it.
    language: Mapped[str] = mapped_column(String(2))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set when the citizen withdraws (or replaces the address): no e-mail goes out after it.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginRecord(Base):
    """One successful login, shown to its owner on the profile page."""

    __tablename__ = "login_records"
    __table_args__ = (CheckConstraint(f"realm IN {REALMS}", name="realm_known"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    realm: Mapped[str] = mapped_column(String(10))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"), index=True)
    staff_account_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    issuer: Mapped[str] = mapped_column(String(255))
    acr: Mapped[str | None] = mapped_column(String(100))
    eid_level: Mapped[int] = mapped_column(Integer)
    auth_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Browser family only (first 120 characters of the User-Agent), never the IP address.
    user_agent: Mapped[str | None] = mapped_column(String(120))


class StaffAccount(Base):
    """A member of staff, known by their workforce identity provider's ``(iss, sub)``."""

    __tablename__ = "staff_accounts"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    #: A disabled account cannot log in and loses its sessions.
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    roles: Mapped[list[StaffRole]] = relationship(back_populates="staff_account", cascade="all, delete-orphan",
                                                  order_by="StaffRole.role",
                                                  foreign_keys="StaffRole.staff_account_id")

    @property
    def role_names(self) -> set[str]:
        """The roles this account holds now."""
        return {grant.role for grant in self.roles}


class StaffRole(Base):
    """One role held by one staff account, and who granted it."""

    __tablename__ = "staff_roles"
    __table_args__ = (CheckConstraint(f"role IN {ROLES}", name="role_known"),)

    staff_account_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True)
    #: The admin who granted it; empty for the first admin made on the command line.
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)

    staff_account: Mapped[StaffAccount] = relationship(back_populates="roles", foreign_keys=[staff_account_id])


ROLE_REQUEST_STATUSES = ("pending", "approved", "rejected")


class RoleGrantRequest(Base):
    """A role proposed for a staff member by one admin; a second admin, neither of the two, decides.

    The database holds the four-eyes rule too: nobody proposes a role for himself, and the decider is
    neither the proposer nor the person who would get the role.
    """

    __tablename__ = "role_grant_requests"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES}", name="role_known"),
        CheckConstraint(f"status IN {ROLE_REQUEST_STATUSES}", name="status_known"),
        CheckConstraint("requested_by_id <> staff_account_id", name="not_for_oneself"),
        CheckConstraint("decided_by_id IS NULL OR (decided_by_id <> requested_by_id "
                        "AND decided_by_id <> staff_account_id)", name="second_person_decides"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    staff_account_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(10), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff_account: Mapped[StaffAccount] = relationship(foreign_keys=[staff_account_id])
    requested_by: Mapped[StaffAccount] = relationship(foreign_keys=[requested_by_id])


class WebSession(Base):
    """A server-side login session; the browser holds only a random token whose hash is the key."""

    __tablename__ = "web_sessions"
    __table_args__ = (
        CheckConstraint(f"realm IN {REALMS}", name="realm_known"),
        CheckConstraint("(citizen_id IS NULL) <> (staff_account_id IS NULL)", name="one_principal"),
    )

    #: SHA-256 of the cookie token: a database reader cannot replay a session.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    realm: Mapped[str] = mapped_column(String(10))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"), index=True)
    staff_account_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    #: The provider's session id (``sid`` claim), for back-channel logout.
    provider_sid: Mapped[str | None] = mapped_column(String(255), index=True)
    acr: Mapped[str | None] = mapped_column(String(100))
    amr: Mapped[list[str] | None] = mapped_column(JSON)
    eid_level: Mapped[int] = mapped_column(Integer)
    auth_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The raw ID token, kept for ``id_token_hint`` at logout and for audit.
    id_token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: logout, idle, absolute, revoked, replaced, disabled.
    end_reason: Mapped[str | None] = mapped_column(String(20))


class LoginFlow(Base):
    """One login in progress: the secrets a callback must match, kept server-side, used once."""

    __tablename__ = "login_flows"

    #: SHA-256 of ``state``; the state itself exists only in the browser's redirect.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    realm: Mapped[str] = mapped_column(String(10))
    issuer: Mapped[str] = mapped_column(String(255))
    #: SHA-256 of the random value in this browser's flow cookie: a callback from another browser fails.
    browser_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    #: Local path to return to after login (already checked to be on this site).
    next_path: Mapped[str] = mapped_column(String(500))
    #: e-ID level asked for (0: whatever the provider gives).
    requested_level: Mapped[int] = mapped_column(Integer)
    #: ``max_age`` sent to the provider, if any (seconds).
    max_age: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    """An append-only record of a security event; PostgreSQL refuses UPDATE and DELETE on it."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: login, login_failed, logout, session_ended, role_granted, role_revoked, consent_given, ...
    event: Mapped[str] = mapped_column(String(40), index=True)
    #: Who acted: ``citizen:12``, ``staff:3``, ``cli`` or ``anonymous``.
    actor: Mapped[str] = mapped_column(String(60))
    #: What it was done to, when not the actor: ``staff:7``.
    target: Mapped[str | None] = mapped_column(String(60))
    #: Stable machine word for failures (``id_token_aud_mismatch``), never personal data.
    reason: Mapped[str | None] = mapped_column(String(80))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))


class UsedLogoutToken(Base):
    """A back-channel logout token's ``jti`` already acted on: each is accepted once."""

    __tablename__ = "used_logout_tokens"

    #: SHA-256 of issuer and ``jti``.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: After this the token's ``iat`` is too old anyway, so the row may be purged.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
