"""Operators and their lots: registering them, and finding a lot for the operator that runs it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from parking.errors import LotNotFound, ParkingError
from parking.models import OPERATOR_KINDS, ParkingLot, ParkingOperator
from parking.pricing import DEFAULT_UNITS
from parking.stays import DEFAULT_GRACE


@dataclass(frozen=True)
class OperatorSpec:
    """An operator as the city registers it."""

    code: str
    name: str
    kind: str
    agency_code: str
    contract_reference: str
    revenue_share_bp: int


@dataclass(frozen=True)
class LotSpec:
    """A lot as the city registers it."""

    code: str
    name: str
    address: str
    commune_code: str
    tariff_service: str
    capacity: int
    zone: str | None = None
    site_group: str | None = None
    vehicle_classes: tuple[str, ...] = tuple(DEFAULT_UNITS)
    grace_minutes: int = int(DEFAULT_GRACE.total_seconds() // 60)
    unmatched_exit_hours: int = 24
    #: The service pricing the lot's monthly passes; None: the lot sells none.
    pass_service: str | None = None


def register_operator(session: Session, spec: OperatorSpec, *, clock: Clock) -> ParkingOperator:
    """Register an operator (or return the one with that code)."""
    if spec.kind not in OPERATOR_KINDS or not 0 <= spec.revenue_share_bp <= 10_000:
        raise ParkingError(f"operator kind must be one of {OPERATOR_KINDS} and its share 0-10000 basis points",
                           code="operator_invalid")
    found = session.scalars(select(ParkingOperator).where(ParkingOperator.code == spec.code)).one_or_none()
    if found is not None:
        return found
    operator = ParkingOperator(**vars(spec), created_at=clock.now())
    session.add(operator)
    session.flush()
    return operator


def register_lot(session: Session, operator: ParkingOperator, spec: LotSpec, *, clock: Clock) -> ParkingLot:
    """Register a lot of ``operator`` (or return the one with that code)."""
    unknown = set(spec.vehicle_classes) - set(DEFAULT_UNITS)
    if unknown or not spec.vehicle_classes or spec.capacity < 0 or not 0 <= spec.grace_minutes <= 60:
        raise ParkingError("a lot takes known vehicle classes, a capacity of 0 or more and a grace of 0-60 minutes",
                           code="lot_invalid", details={"unknown_classes": sorted(unknown)})
    found = session.scalars(select(ParkingLot).where(ParkingLot.code == spec.code)).one_or_none()
    if found is not None:
        return found
    values = {**vars(spec), "vehicle_classes": list(spec.vehicle_classes)}
    lot = ParkingLot(operator_id=operator.id, **values, created_at=clock.now())
    session.add(lot)
    session.flush()
    return lot


def operator_by_code(session: Session, code: str) -> ParkingOperator | None:
    """The operator with ``code``."""
    return session.scalars(select(ParkingOperator).where(ParkingOperator.code == code)).one_or_none()


def lot_of(session: Session, operator: ParkingOperator, code: str) -> ParkingLot:
    """The lot ``code`` if ``operator`` runs it; LotNotFound otherwise (never another operator's lot)."""
    lot = session.scalars(select(ParkingLot).where(ParkingLot.code == code,
                                                   ParkingLot.operator_id == operator.id)).one_or_none()
    if lot is None:
        raise LotNotFound(f"no lot {code!r} runs under operator {operator.code}", details={"lot": code})
    return lot


@dataclass(frozen=True)
class SeedLots:
    """The embedded default's operators and lots (Hà Nội and HCMC), from the seeded tariffs."""

    operators: tuple[OperatorSpec, ...] = field(default=(
        OperatorSpec("HN-PARKING", "Công ty TNHH MTV Khai thác điểm đỗ xe Hà Nội", "city_unit", "HN-PARKING",
                     "HĐ-2024/ĐĐX-01 (demo)", 3000),
        OperatorSpec("HCM-PARKING", "Trung tâm Quản lý hạ tầng giao thông đường bộ TP.HCM (demo)", "city_unit",
                     "HCM-PARKING", "HĐ-2024/HCM-01 (demo)", 2500)))
    lots: tuple[tuple[str, LotSpec], ...] = field(default=(
        ("HN-PARKING", LotSpec("HK-HANG-KHAY", "Điểm đỗ xe phố Hàng Khay", "Phố Hàng Khay, phường Hoàn Kiếm",
                               "00070", "PARKING_HN", 120, zone="HOAN_KIEM", site_group="1",
                               pass_service="PARKING_HN_MONTHLY")),
        ("HCM-PARKING", LotSpec("Q1-LE-LOI", "Điểm giữ xe đường Lê Lợi", "Đường Lê Lợi, phường Bến Thành",
                                "26743", "PARKING_HCM", 200, zone="D1_3_5", site_group="1",
                                vehicle_classes=("BICYCLE", "MOTORBIKE"), pass_service="PARKING_HCM_MONTHLY"))))


def seed_lots(session: Session, *, clock: Clock, seed: SeedLots = SeedLots()) -> list[ParkingLot]:
    """Register the demo operators and lots (idempotent)."""
    operators = {spec.code: register_operator(session, spec, clock=clock) for spec in seed.operators}
    return [register_lot(session, operators[code], spec, clock=clock) for code, spec in seed.lots]
