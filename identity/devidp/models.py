"""The stand-in's own tables: authorization codes, access tokens and used client-assertion ids.

In the database rather than in memory so that several gunicorn workers share them: a code issued by one
worker is redeemed in another.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class DevIdpCode(Base):
    """An authorization code: single use, 60 seconds, bound to client, redirect URI, PKCE and nonce."""

    __tablename__ = "devidp_codes"

    #: SHA-256 of the code.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(100))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(200))
    nonce: Mapped[str | None] = mapped_column(String(200), index=True)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    acr: Mapped[str] = mapped_column(String(100))
    #: The provider-side session id put in ``sid``.
    sid: Mapped[str] = mapped_column(String(64))
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DevIdpToken(Base):
    """An access token for userinfo; revoked when its code is replayed."""

    __tablename__ = "devidp_tokens"

    #: SHA-256 of the access token.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code_id: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DevIdpAssertionId(Base):
    """A client-assertion ``jti`` already seen: each may be used once."""

    __tablename__ = "devidp_assertion_ids"

    #: ``client_id`` + ``jti``, hashed.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
