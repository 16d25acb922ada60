"""Monthly passes (vé tháng): bought by a citizen for a linked vehicle at a lot, paid like any bill.

Design overview
---------------
* A pass is one plate at one lot for one calendar month as Vietnam counts it (from midnight on the
  first, Vietnamese time). It is priced by the lot's pass service (``ParkingLot.pass_service``) through
  the same path as every fee (``payments.pricing.price``), so the city's rule, its legal basis and any
  exemption are on the bill, and the e-ID login requotes it like any bill.
* Buying is idempotent per lot, plate and month: buying again (a double click, a second tab) answers the
  pass already bought. A pass whose bill was cancelled unpaid is let go and a new one sold. Renewing is
  buying the month after the pass's month.
* A pass *covers* the plate's stays at the lot while its bill is paid and nothing of it is refunded
  (``right_for``): a stay entirely within paid passes (one month, or consecutive ones) is priced at 0 đ,
  explained as ``pass:<id>``. Coverage is decided when the stay is priced, at its exit: a pass paid after
  a stay was priced does not reprice it (the stay was billed under the terms of that moment).
* Only the current month and the next can be bought: a pass is a commitment to park, not a voucher.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import VIETNAM, Clock
from identity.models import Citizen
from parking.errors import PassNotFound, PassRefused
from parking.models import ParkingLot, ParkingOperator, ParkingPass, ParkingVehicle
from payments import bills as bill_service
from payments.bill_states import BillStatus
from payments.bills import NewBill
from payments.models.billing import Bill, Payment
from payments.pricing import price
from subsidies.errors import NoBaseFee, UnknownService
from subsidies.facts import QuoteRequest

#: Accounted like the stays it stands for: the operator keeps its contract share.
FEE_KIND = "phi"
CHANNEL = "PORTAL"
RIGHT_PREFIX = "pass:"


@dataclass(frozen=True)
class PassView:
    """A pass as the citizen's page lists it."""

    row: ParkingPass
    lot: ParkingLot
    bill: Bill
    status: str  # awaiting_payment | active | upcoming | ended | cancelled

    @property
    def month(self) -> date:
        """The month the pass is for (its first day)."""
        return self.row.valid_from.astimezone(VIETNAM).date()


def month_start(day: date) -> date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def next_month(month: date) -> date:
    """The first day of the month after ``month``."""
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=VIETNAM)


def months_on_sale(clock: Clock) -> tuple[date, date]:
    """This month and the next, as Vietnam's calendar has them now."""
    this = month_start(clock.today_in_vietnam())
    return this, next_month(this)


def lots_selling(session: Session, vehicle_class: str) -> list[ParkingLot]:
    """The lots that sell monthly passes for ``vehicle_class``."""
    lots = session.scalars(select(ParkingLot).where(ParkingLot.pass_service.is_not(None)).order_by(ParkingLot.name))
    return [lot for lot in lots if vehicle_class in lot.vehicle_classes]


def buy_pass(session: Session, citizen: Citizen, vehicle_id: int, lot_code: str, month: date, *,
             clock: Clock) -> ParkingPass:
    """Sell ``citizen`` a pass for their linked vehicle at ``lot_code`` for ``month`` (see the docstring)."""
    vehicle = session.get(ParkingVehicle, vehicle_id)
    if vehicle is None or vehicle.citizen_id != citizen.id:
        vehicle = None
    return _buy(session, citizen, vehicle, lot_code, month, clock)


def renew_pass(session: Session, citizen: Citizen, pass_public_id: str, *, clock: Clock) -> ParkingPass:
    """Buy the month after one of the citizen's passes, for the same vehicle and lot."""
    held = _own_pass(session, citizen, pass_public_id)
    vehicle = session.scalars(select(ParkingVehicle).where(
        ParkingVehicle.citizen_id == citizen.id, ParkingVehicle.plate == held.plate,
        ParkingVehicle.unlinked_at.is_(None))).first()
    lot = session.get(ParkingLot, held.lot_id)
    return _buy(session, citizen, vehicle, lot.code, next_month(held.valid_from.astimezone(VIETNAM).date()), clock)


def _buy(session: Session, citizen: Citizen, vehicle: ParkingVehicle | None, lot_code: str, month: date,
         clock: Clock) -> ParkingPass:
    if vehicle is None or vehicle.unlinked_at is not None:
        raise PassRefused("link the vehicle to your e-ID profile first", details={"reason": "vehicle_not_linked"})
    lot = session.scalars(select(ParkingLot).where(ParkingLot.code == lot_code)).one_or_none()
    if lot is None or lot.pass_service is None or vehicle.vehicle_class not in lot.vehicle_classes:
        raise PassRefused(f"lot {lot_code} sells no monthly pass for this vehicle",
                          details={"reason": "no_pass_for_vehicle", "lot": lot_code})
    month = month_start(month)
    if month not in months_on_sale(clock):
        raise PassRefused("a pass can be bought for this month or the next", details={"reason": "month_not_on_sale"})
    existing = _pass_for(session, lot.id, vehicle.plate, _midnight(month), clock)
    if existing is not None:
        if existing.citizen_id != citizen.id:
            raise PassRefused("another e-ID profile holds this vehicle's pass for that month",
                              details={"reason": "held_by_someone_else"})
        return existing
    return _sell(session, citizen, vehicle, lot, month, clock)


def _own_pass(session: Session, citizen: Citizen, pass_public_id: str) -> ParkingPass:
    held = session.scalars(select(ParkingPass).where(ParkingPass.public_id == pass_public_id)).one_or_none()
    if held is None or held.citizen_id != citizen.id:
        raise PassNotFound(f"no pass {pass_public_id} of yours")
    return held


def _pass_for(session: Session, lot_id: int, plate: str, valid_from: datetime, clock: Clock) -> ParkingPass | None:
    """The live pass of that lot, plate and month; one whose bill was cancelled unpaid is let go here."""
    found = session.scalars(select(ParkingPass).where(
        ParkingPass.lot_id == lot_id, ParkingPass.plate == plate, ParkingPass.valid_from == valid_from,
        ParkingPass.cancelled_at.is_(None))).one_or_none()
    if found is not None and session.get(Bill, found.bill_id).status == BillStatus.CANCELLED:
        found.cancelled_at = clock.now()
        session.flush()
        return None
    return found


def _sell(session: Session, citizen: Citizen, vehicle: ParkingVehicle, lot: ParkingLot, month: date,
          clock: Clock) -> ParkingPass:
    operator = session.get(ParkingOperator, lot.operator_id)
    public_id = "PS" + secrets.token_hex(8).upper()
    starts, ends = _midnight(month), _midnight(next_month(month))
    request = QuoteRequest(service_code=lot.pass_service, decision_at=max(starts, clock.now()), channel=CHANNEL,
                           quantity=1, vehicle_class=vehicle.vehicle_class, zone=lot.zone)
    try:
        quote = price(session, request, clock=clock)
    except (NoBaseFee, UnknownService) as error:  # no rule prices this vehicle's pass at this lot
        raise PassRefused(f"lot {lot.code} has no pass price for this vehicle",
                          details={"reason": "no_pass_for_vehicle", "lot": lot.code}) from error
    bill = bill_service.create_bill(session, NewBill(
        payer_id_hash=citizen.personal_id_hash, citizen_id=citizen.id, payer_name=citizen.full_name,
        payer_masked_id=citizen.personal_id_masked, service_code=lot.pass_service, quantity=1, quote=quote,
        fee_kind=FEE_KIND, agency_code=operator.agency_code, agency_reference=public_id,
        retained_basis_points=operator.revenue_share_bp, due_date=month,
        description=f"{lot.name} · {vehicle.plate} · {month:%m/%Y}"[:300]), clock=clock)
    row = ParkingPass(public_id=public_id, lot_id=lot.id, citizen_id=citizen.id, plate=vehicle.plate,
                      vehicle_class=vehicle.vehicle_class, valid_from=starts, valid_until=ends, bill_id=bill.id,
                      created_at=clock.now())
    try:
        with session.begin_nested():  # two purchases at once: the index lets one through
            session.add(row)
    except IntegrityError:
        raise PassRefused("this vehicle's pass for that month was just bought", details={"reason": "just_bought"}) \
            from None
    return row


def _in_force():
    """Passes whose bill is paid with nothing refunded."""
    refunded = exists().where(Payment.bill_id == ParkingPass.bill_id, Payment.refunded_amount > 0)
    paid = exists().where(Bill.id == ParkingPass.bill_id, Bill.status == BillStatus.PAID)
    return paid & ~refunded & ParkingPass.cancelled_at.is_(None)


def right_for(session: Session, lot_id: int, plate: str, entered_at: datetime, exited_at: datetime) -> str | None:
    """``pass:<id>`` when passes in force cover the whole stay at the lot; None otherwise."""
    covering = session.scalars(select(ParkingPass).where(
        ParkingPass.lot_id == lot_id, ParkingPass.plate == plate, ParkingPass.valid_until > entered_at,
        ParkingPass.valid_from <= exited_at, _in_force()).order_by(ParkingPass.valid_from)).all()
    reached, first = entered_at, None
    for held in covering:
        if held.valid_from > reached:
            break  # a month without a pass inside the stay
        first = first or held
        reached = max(reached, held.valid_until)
        if reached >= exited_at:
            return RIGHT_PREFIX + first.public_id
    return None


def passes_of(session: Session, citizen: Citizen, *, clock: Clock) -> list[PassView]:
    """The citizen's passes, the latest month first, each with its lot, bill and status."""
    rows = session.execute(select(ParkingPass, ParkingLot, Bill).join(ParkingLot, ParkingLot.id == ParkingPass.lot_id)
                           .join(Bill, Bill.id == ParkingPass.bill_id).where(ParkingPass.citizen_id == citizen.id)
                           .order_by(ParkingPass.valid_from.desc(), ParkingPass.id.desc())).all()
    refunded = set(session.scalars(select(Payment.bill_id).where(
        Payment.bill_id.in_([bill.id for _, _, bill in rows]), Payment.refunded_amount > 0)))
    return [PassView(row, lot, bill, _status(row, bill, bill.id in refunded, clock.now())) for row, lot, bill in rows]


def _status(row: ParkingPass, bill: Bill, refunded: bool, now: datetime) -> str:
    if row.cancelled_at is not None or bill.status == BillStatus.CANCELLED or refunded:
        return "cancelled"
    if bill.status != BillStatus.PAID:
        return "awaiting_payment"
    if now >= row.valid_until:
        return "ended"
    return "active" if now >= row.valid_from else "upcoming"
