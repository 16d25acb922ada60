"""Idempotency keys of money-moving requests (Brandur's design; GOV.UK Pay's ``IdempotencyEntity``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from payments.models.columns import ID

RECOVERY_POINTS = ("started", "payment_created", "finished")


class IdempotencyKey(Base):
    """A claimed key: the request it was first used with, how far it got, and its stored response."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("scope", "key"),
        CheckConstraint(f"recovery_point IN {RECOVERY_POINTS}", name="recovery_point_known"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    #: Whose key it is (``citizen:<sub>``, ``client:<id>``): two callers may pick the same key.
    scope: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(255))
    #: The operation, e.g. ``start_payment``; a key is never valid across operations.
    operation: Mapped[str] = mapped_column(String(50))
    #: SHA-256 of the canonical JSON of the request; a different body with the same key is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    #: The last atomic phase that committed; a retry resumes after it.
    recovery_point: Mapped[str] = mapped_column(String(20))
    #: Set while a request owns the key; a lock older than the lease may be taken over.
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resource_id: Mapped[int | None] = mapped_column(ID)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
