"""Citizens' vehicles: a plate linked to an e-ID profile is billed to that citizen while the link lasts.

One plate has at most one live link (a partial unique index): a second citizen linking it is refused with
``plate_linked_elsewhere`` rather than silently taking over someone's charges. Unlinking keeps the row (when
it ended), so who was billed for which session can always be explained.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import Clock
from identity.models import Citizen
from parking.errors import PlateLinkedElsewhere, VehicleInvalid
from parking.models import ParkingLot, ParkingSession, ParkingVehicle
from parking.plates import normalise_plate, plate_problem
from parking.pricing import DEFAULT_UNITS
from payments.models.billing import Bill


def link_vehicle(session: Session, citizen: Citizen, plate: str, vehicle_class: str, *, rfid_tag: str | None = None,
                 clock: Clock) -> ParkingVehicle:
    """Link ``plate`` to ``citizen`` (the same link again is returned as it is)."""
    plate = normalise_plate(plate)
    problem = plate_problem(plate) or (None if vehicle_class in DEFAULT_UNITS else
                                       f"vehicle class must be one of {', '.join(DEFAULT_UNITS)}")
    if problem:
        raise VehicleInvalid(problem, details={"field": "vehicle_class" if "class" in problem else "plate"})
    current = live_link(session, plate)
    if current is not None:
        if current.citizen_id != citizen.id:
            raise PlateLinkedElsewhere(f"plate {plate} is linked to another e-ID profile")
        return current
    vehicle = ParkingVehicle(citizen_id=citizen.id, plate=plate, vehicle_class=vehicle_class,
                             rfid_tag=(rfid_tag or "").strip() or None, linked_at=clock.now())
    try:
        with session.begin_nested():  # two links of one plate at once: the index lets one through
            session.add(vehicle)
    except IntegrityError:
        raise PlateLinkedElsewhere(f"plate {plate} was just linked to another e-ID profile") from None
    return vehicle


def unlink_vehicle(session: Session, citizen: Citizen, vehicle_id: int, *, clock: Clock) -> ParkingVehicle:
    """End the citizen's link of one of their vehicles; later sessions are no longer billed to them."""
    vehicle = session.get(ParkingVehicle, vehicle_id)
    if vehicle is None or vehicle.citizen_id != citizen.id:
        raise VehicleInvalid("no such vehicle of yours", details={"field": "vehicle"})
    if vehicle.unlinked_at is None:
        vehicle.unlinked_at = clock.now()
        session.flush()
    return vehicle


def live_link(session: Session, plate: str) -> ParkingVehicle | None:
    """The plate's current link, if anyone has one."""
    return session.scalars(select(ParkingVehicle).where(ParkingVehicle.plate == normalise_plate(plate),
                                                        ParkingVehicle.unlinked_at.is_(None))).one_or_none()


def vehicles_of(session: Session, citizen: Citizen) -> list[ParkingVehicle]:
    """The citizen's linked vehicles, oldest first."""
    return list(session.scalars(select(ParkingVehicle).where(ParkingVehicle.citizen_id == citizen.id,
                                                             ParkingVehicle.unlinked_at.is_(None))
                                .order_by(ParkingVehicle.id)))


@dataclass(frozen=True)
class Charge:
    """A session billed to a citizen, with its lot and bill."""

    session: ParkingSession
    lot: ParkingLot
    bill: Bill


def charges_of(session: Session, citizen: Citizen, *, limit: int = 50) -> list[Charge]:
    """The parking sessions billed to the citizen, newest exit first."""
    rows = session.execute(select(ParkingSession, ParkingLot, Bill)
                           .join(ParkingLot, ParkingLot.id == ParkingSession.lot_id)
                           .join(Bill, Bill.id == ParkingSession.bill_id)
                           .where(Bill.payer_id_hash == citizen.personal_id_hash)
                           .order_by(ParkingSession.exited_at.desc(), ParkingSession.id.desc()).limit(limit))
    return [Charge(*row) for row in rows]
