"""A session's charge: the bill it is paid through, kept in step with the session's price.

Design overview
---------------
* A closed session with something to pay gets one bill (``parking_sessions.bill_id``), an ordinary bill of
  the lot's tariff service for the operator's agency: the same payment path, receipt, ledger and
  reconciliation as any fee. The operator's contract share is the bill's retained share.
* The payer is the citizen who linked the plate (``parking.vehicles``) when the session is billed; a vehicle
  nobody linked is billed to a placeholder (a keyed hash of the plate), and the driver claims the bill with
  the session's ticket (the pay link from the exit gate) after logging in.
* Sessions are rebuilt when late events arrive, so a charge can change: an open, idle bill is quoted
  again (or cancelled when nothing is due any more); a bill being paid or paid keeps its amount and the
  session is flagged ``charge_changed_after_payment`` for staff, whose way back is a refund.
* The bill's explanation is the session's pricing (segments, rules applied, legal basis): it names no
  subsidies request, so an e-ID login never requotes it.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.money import Money
from identity import audit
from identity.models import Citizen
from identity.personal_data import VEHICLE_PAYER, PersonalIdVault
from parking.errors import SessionNotClaimable, SessionNotFound
from parking.models import ParkingLot, ParkingOperator, ParkingSession
from parking.pairing import CLOSED
from parking.vehicles import live_link
from payments import bills as bill_service
from payments.bill_payers import Payer, assign_payer
from payments.bill_states import BillStatus
from payments.bills import NewBill, Quote
from payments.errors import BillNotFound
from payments.models.billing import Bill

log = logging.getLogger(__name__)

CHANGED_AFTER_PAYMENT = "charge_changed_after_payment"
__all__ = ["VEHICLE_PAYER", "claim_charge", "keep_charge_in_step", "payer_of", "session_by_ticket",
           "stay_explanation"]
#: Accounted like a phí: the operator keeps its contract share, the rest goes to the budget.
FEE_KIND = "phi"
ACTOR = "parking"


def keep_charge_in_step(session: Session, operator: ParkingOperator, lot: ParkingLot, row: ParkingSession, *,
                        vault: PersonalIdVault, clock: Clock) -> None:
    """Give ``row`` the bill its price calls for (see the module docstring)."""
    due = row.amount if row.status == CLOSED and row.amount else None
    bill = session.get(Bill, row.bill_id) if row.bill_id is not None else None
    if bill is None or bill.status == BillStatus.CANCELLED:
        if due is not None:
            bill = bill_service.create_bill(session, _new_bill(session, operator, lot, row, vault), clock=clock)
            row.bill_id = bill.id
        return
    if due == bill.amount_due:
        return
    if bill.status == BillStatus.OPEN and bill_service.live_payment(session, bill.id) is None:
        if due is None:
            bill_service.cancel_bill(session, bill.public_id, actor=ACTOR, clock=clock)
        else:
            bill_service.requote_bill(session, bill.public_id, _quote(lot, row), clock=clock)
        return
    row.flags = [*row.flags, CHANGED_AFTER_PAYMENT]
    log.warning("a parking session's charge changed after its payment began",
                extra={"session": row.public_id, "bill": bill.public_id})


def _new_bill(session: Session, operator: ParkingOperator, lot: ParkingLot, row: ParkingSession,
              vault: PersonalIdVault) -> NewBill:
    payer = payer_of(session, row.plate, vault)
    # One bill per closing of the session: a session closed again by other events is billed anew.
    return NewBill(payer_id_hash=payer.payer_id_hash, citizen_id=payer.citizen_id, payer_name=payer.name,
                   payer_masked_id=payer.masked_id, service_code=lot.tariff_service, quantity=1,
                   quote=_quote(lot, row), fee_kind=FEE_KIND, agency_code=operator.agency_code,
                   agency_reference=f"{row.public_id}-{row.exit_event_id}",
                   retained_basis_points=operator.revenue_share_bp,
                   description=f"{lot.name} · {row.plate}"[:300])


def _quote(lot: ParkingLot, row: ParkingSession) -> Quote:
    amount = Money(row.amount, row.currency)
    return Quote(amount_due=amount, base_amount=amount, explanation={"parking": stay_explanation(lot, row)},
                 rule_set_hash=(row.pricing or {}).get("rule_set_hash", ""))


def stay_explanation(lot: ParkingLot, row: ParkingSession) -> dict:
    """The stay and its price as the bill keeps and the pages show it (``bills/_macros.html``)."""
    return {"session": row.public_id, "lot": lot.code, "lot_name": lot.name, "plate": row.plate,
            "vehicle_class": row.vehicle_class, "flags": list(row.flags),
            "entered_at": row.entered_at and row.entered_at.isoformat(),
            "exited_at": row.exited_at and row.exited_at.isoformat(), **(row.pricing or {})}


def payer_of(session: Session, plate: str, vault: PersonalIdVault) -> Payer:
    """Who a session of ``plate`` is billed to now: its linked citizen, or the vehicle's placeholder."""
    link = live_link(session, plate)
    citizen = session.get(Citizen, link.citizen_id) if link is not None else None
    if citizen is None:
        return Payer(vault.vehicle_payer_hash(plate))
    return Payer(citizen.personal_id_hash, citizen.id, citizen.full_name, citizen.personal_id_masked)


def claim_charge(session: Session, citizen: Citizen, session_public_id: str, *, vault: PersonalIdVault,
                 clock: Clock) -> Bill:
    """Make the citizen holding a session's ticket the payer of its open bill; return the bill."""
    row = session_by_ticket(session, session_public_id)
    bill = session.get(Bill, row.bill_id) if row.bill_id is not None else None
    if bill is None or bill.status == BillStatus.CANCELLED:
        raise SessionNotClaimable(f"session {row.public_id} has nothing to pay", details={"reason": "nothing_due"})
    if bill.payer_id_hash == citizen.personal_id_hash:
        return bill
    payer = Payer(citizen.personal_id_hash, citizen.id, citizen.full_name, citizen.personal_id_masked)
    try:
        claimed = assign_payer(session, bill.public_id, payer, placeholder=vault.vehicle_payer_hash(row.plate),
                               clock=clock)
    except BillNotFound:
        raise SessionNotClaimable(f"session {row.public_id} is billed to someone else",
                                  details={"reason": "billed_to_someone_else"}) from None
    audit.record(session, "parking_charge_claimed", actor=f"citizen:{citizen.id}", target=f"bill:{bill.public_id}",
                 details={"session": row.public_id}, clock=clock)
    return claimed


def session_by_ticket(session: Session, session_public_id: str) -> ParkingSession:
    """The session a ticket names (its public id is the unguessable ticket)."""
    row = session.scalars(select(ParkingSession).where(ParkingSession.public_id == session_public_id)).one_or_none()
    if row is None:
        raise SessionNotFound(f"no parking session {session_public_id}")
    return row
