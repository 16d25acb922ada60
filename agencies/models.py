"""Agency tables: an agency system that calls the API, its hashed keys and callback signing secrets; the account
its citizens' bank transfers (VietQR) are paid into."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, BigId, UTCDateTime

#: What a client may do: read its bills, create and cancel bills, request refunds.
#: ``parking``: an operator's system sends gate events and reads its lots' sessions.
SCOPES = ("read", "create", "refund", "parking")


class ApiClient(Base):
    """An agency's system allowed to bill citizens through the API and to hear about payments."""

    __tablename__ = "api_clients"
    __table_args__ = (CheckConstraint("rate_limit_per_minute > 0", name="rate_limit_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The collecting agency its bills belong to (bills.agency_code).
    agency_code: Mapped[str] = mapped_column(String(50), index=True)
    #: Service codes of the fee catalogue this client may bill.
    service_codes: Mapped[list[str]] = mapped_column(JSON)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    #: Where signed event callbacks are POSTed; empty: no callbacks.
    callback_url: Mapped[str] = mapped_column(String(2000), default="")
    #: Host names a bill's return_url may point at (exact host or a subdomain of it).
    return_url_domains: Mapped[list[str]] = mapped_column(JSON)
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, default=600)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: AES-GCM sealed HMAC secret that signs callbacks (the gateway must read it back to sign).
    signing_secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: The previous secret during a rotation: callbacks carry a signature with each until it ends.
    previous_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    keys: Mapped[list[ApiKey]] = relationship(back_populates="client", order_by="ApiKey.id")


class ApiKey(Base):
    """One API key of a client, stored only as a keyed hash; shown once when made."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"), index=True)
    #: HMAC-SHA256 of the key under a key the database never holds; the lookup key.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the key, so people can tell keys apart (not enough to use it).
    prefix: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set on the old key when it is rotated: it keeps working until then (the overlap).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[ApiClient] = relationship(back_populates="keys")


class AgencyAccount(Base):
    """The bank account an agency receives citizens' transfers on (VietQR): one per agency, set by an admin."""

    __tablename__ = "agency_accounts"
    __table_args__ = (CheckConstraint("length(bank_bin) = 6", name="bank_bin_six_digits"),
                      CheckConstraint("length(account_number) BETWEEN 1 AND 19", name="account_number_length"),
                      CheckConstraint("length(holder_name) BETWEEN 1 AND 50", name="holder_name_length"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The collecting agency (bills.agency_code, api_clients.agency_code).
    agency_code: Mapped[str] = mapped_column(String(50), unique=True)
    #: The bank's NAPAS BIN (six digits, e.g. 970436 Vietcombank).
    bank_bin: Mapped[str] = mapped_column(String(6))
    #: Letters or digits only, as the bank app expects it.
    account_number: Mapped[str] = mapped_column(String(19))
    #: As the bank registers it: upper-case ASCII letters, digits and spaces.
    holder_name: Mapped[str] = mapped_column(String(50))
    updated_by: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
