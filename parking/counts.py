"""Vehicle counts from someone other than the operator's session system: gate counters, sensors, inspectors.

They are what under-reporting is measured against (``parking.settlement``): Hà Nội's first parking app lost
money where attendants logged fewer vehicles than parked. A count is taken once per sender's ``count_id``;
the same id with other figures is refused, like a gate event's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock, ensure_utc
from parking.errors import EventIdReused, EventInvalid
from parking.lots import lot_of
from parking.models import COUNT_SOURCES, ParkingOperator, VehicleCount
from payments.sql import insert_entity_if_absent

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class CountIn:
    """Vehicles that entered a lot over a period, as counted."""

    count_id: str
    lot: str
    source: str
    period_start: datetime
    period_end: datetime
    vehicles: int


def take_count(session: Session, operator: ParkingOperator, sent: CountIn, *,
               clock: Clock) -> tuple[VehicleCount, bool]:
    """Record ``sent`` once; return the count and whether it had been sent before."""
    lot = lot_of(session, operator, sent.lot)
    start, end = ensure_utc(sent.period_start), ensure_utc(sent.period_end)
    problems = [text for failed, text in (
        (sent.source not in COUNT_SOURCES, f"source must be one of {', '.join(COUNT_SOURCES)}"),
        (end <= start, "the period must end after it starts"),
        (end - start > _ONE_DAY, "a count covers one day at most"),
        (sent.vehicles < 0, "vehicles must not be negative"),
        (end > clock.now(), "a count cannot cover the future")) if failed]
    if problems:
        raise EventInvalid("; ".join(problems), details={"count_id": sent.count_id, "problems": problems})
    values = {"operator_id": operator.id, "count_id": sent.count_id, "lot_id": lot.id, "source": sent.source,
              "period_start": start, "period_end": end, "vehicles": sent.vehicles, "received_at": clock.now()}
    made = insert_entity_if_absent(session, VehicleCount, values, ["operator_id", "count_id"])
    if made is not None:
        return made, False
    first = session.scalars(select(VehicleCount).where(VehicleCount.operator_id == operator.id,
                                                       VehicleCount.count_id == sent.count_id)).one()
    if (first.lot_id, first.source, first.period_start, first.period_end, first.vehicles) != (
            lot.id, sent.source, start, end, sent.vehicles):
        raise EventIdReused(f"count id {sent.count_id!r} was used for another count",
                            details={"count_id": sent.count_id})
    return first, True
