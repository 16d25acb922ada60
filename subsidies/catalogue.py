"""The fee catalogue: services, their dated collecting agencies, fee kind and unit; the prices are rules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.clock import SYSTEM_CLOCK, Clock
from core.db import Base, BigId, UTCDateTime
from subsidies.errors import UnknownService
from subsidies.vocabulary import FEE_KINDS, UNITS


class Service(Base):
    """A public service (or a priced service such as parking) that the gateway collects money for."""

    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint(f"kind IN {FEE_KINDS}", name="kind_known"),
        CheckConstraint(f"unit IN {UNITS}", name="unit_known"),
        CheckConstraint("min_eid_level IN (1, 2)", name="min_eid_level_known"),
    )

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: The national public-service portal's procedure code (e.g. 3.000333); None for city-priced services.
    national_procedure_code: Mapped[str | None] = mapped_column(String(20))
    #: True while the procedure code comes from secondary sources only.
    procedure_code_verify: Mapped[bool] = mapped_column(Boolean, default=False)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    #: fee (phí: partly retained), charge (lệ phí: remitted in full) or price (giá dịch vụ set by the city).
    kind: Mapped[str] = mapped_column(String(10))
    #: What quantity counts: request, copy, turn, hour or month.
    unit: Mapped[str] = mapped_column(String(10))
    #: The e-ID level a citizen needs to request and pay for it online (2: issued in person, chip ID card).
    min_eid_level: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    agencies: Mapped[list[ServiceAgency]] = relationship(order_by="ServiceAgency.valid_from",
                                                         back_populates="service")

    def name(self, lang: str) -> str:
        """The service's name in ``lang`` (vi or en)."""
        return self.name_en if lang == "en" else self.name_vi

    def agency_on(self, day: date) -> ServiceAgency | None:
        """The agency collecting this service on ``day`` (agencies change: a dated attribute)."""
        return next((a for a in self.agencies if a.valid_from <= day and (a.valid_to is None or day <= a.valid_to)),
                    None)


class ServiceAgency(Base):
    """Who collects a service between two dates (inclusive, Asia/Ho_Chi_Minh)."""

    __tablename__ = "service_agencies"
    __table_args__ = (
        UniqueConstraint("service_code", "valid_from"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="window_ordered"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("services.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    #: True while the agency change comes from secondary sources only.
    verify: Mapped[bool] = mapped_column(Boolean, default=False)

    service: Mapped[Service] = relationship(back_populates="agencies")


def get_service(session: Session, code: str) -> Service:
    """Return the service with ``code`` or raise ``UnknownService``."""
    service = session.get(Service, code)
    if service is None:
        raise UnknownService(f"no service {code!r} in the fee catalogue", details={"service_code": code})
    return service


def list_services(session: Session) -> list[Service]:
    """Every service, by code."""
    return list(session.scalars(select(Service).order_by(Service.code)))


def seed_services(session: Session, services: list[dict[str, Any]], clock: Clock = SYSTEM_CLOCK) -> int:
    """Insert catalogue entries that are missing (by code); return how many rows were added."""
    existing = set(session.scalars(select(Service.code)))
    added = 0
    for entry in services:
        if entry["code"] in existing:
            continue
        service = Service(code=entry["code"], national_procedure_code=entry.get("national_procedure_code"),
                          procedure_code_verify=bool(entry.get("procedure_code_verify", False)),
                          name_vi=entry["name"]["vi"], name_en=entry["name"]["en"], kind=entry["kind"],
                          unit=entry["unit"], min_eid_level=int(entry.get("min_eid_level", 1)),
                          created_at=clock.now())
        service.agencies = [ServiceAgency(name=a["name"], valid_from=a["valid_from"], valid_to=a.get("valid_to"),
                                          verify=bool(a.get("verify", False))) for a in entry.get("agencies", [])]
        session.add(service)
        added += 1 + len(service.agencies)
    session.flush()
    return added
