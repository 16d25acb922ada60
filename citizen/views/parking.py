"""The citizen's parking: linked vehicles, the sessions billed to them, and the ticket a gate hands out.

A ticket (``/parking/tickets/<session id>``) is what the exit gate prints or shows as a QR: the session's id
is unguessable, so holding it is the proof. Anyone holding it sees the stay and its price; a logged-in
citizen can take the charge as theirs (``parking.charges.claim_charge``) and pays it like any bill.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from citizen import TEMPLATES
from core.clock import SYSTEM_CLOCK
from parking import disputes, passes, vehicles
from parking.charges import claim_charge, session_by_ticket, stay_explanation
from parking.errors import DisputeInvalid, ParkingError, PassRefused, SessionNotFound
from parking.models import DISPUTE_REASONS, ParkingLot
from parking.pricing import DEFAULT_UNITS
from payments.models.billing import Bill
from payments.models.refunds import Refund
from web.auth import current_principal, public, require_citizen
from web.database import db_session
from web.identity_runtime import get_identity

bp = Blueprint("parking", __name__, url_prefix="/parking", template_folder=TEMPLATES)


@bp.app_template_global()
def vehicle_class_label(code: str) -> str:
    """A vehicle class in words."""
    return {"BICYCLE": _("Bicycle"), "MOTORBIKE": _("Motorbike"), "CAR": _("Car")}.get(code, code)


@bp.app_template_global()
def pass_status_label(status: str) -> str:
    """A pass's status in words."""
    return {"awaiting_payment": _("Awaiting payment"), "active": _("In force"), "upcoming": _("Starts next month"),
            "ended": _("Ended"), "cancelled": _("Cancelled")}.get(status, status)


def _lang() -> str:
    return "en" if str(get_locale()) == "en" else "vi"


@bp.get("/")
@require_citizen()
def index():
    """My vehicles and my parking charges."""
    return _index_page()


def _index_page(error: ParkingError | None = None, status: int = 200, pass_error: ParkingError | None = None):
    citizen, session = current_principal().citizen, db_session()
    linked = vehicles.vehicles_of(session, citizen)
    selling = {lot.code: lot for vehicle in linked for lot in passes.lots_selling(session, vehicle.vehicle_class)}
    return render_template("parking/index.html", vehicles=linked, charges=vehicles.charges_of(session, citizen),
                           classes=tuple(DEFAULT_UNITS), error=error, form=request.form, lang=_lang(),
                           passes=passes.passes_of(session, citizen, clock=SYSTEM_CLOCK),
                           pass_lots=sorted(selling.values(), key=lambda lot: lot.name),
                           months=passes.months_on_sale(SYSTEM_CLOCK), pass_error=pass_error), status


@bp.post("/vehicles")
@require_citizen()
def link():
    """Link a plate (and its RFID tag) to my e-ID profile."""
    try:
        vehicles.link_vehicle(db_session(), current_principal().citizen, request.form.get("plate", ""),
                              request.form.get("vehicle_class", ""), rfid_tag=request.form.get("rfid_tag"),
                              clock=SYSTEM_CLOCK)
    except ParkingError as error:  # shown on the form, the citizen stays on it (nothing was written)
        return _index_page(error, 409 if error.code == "plate_linked_elsewhere" else 422)
    return redirect(url_for("parking.index"), 303)


@bp.post("/vehicles/<int:vehicle_id>/unlink")
@require_citizen()
def unlink(vehicle_id: int):
    """Stop billing a vehicle's later sessions to me."""
    vehicles.unlink_vehicle(db_session(), current_principal().citizen, vehicle_id, clock=SYSTEM_CLOCK)
    return redirect(url_for("parking.index"), 303)


@bp.post("/passes")
@require_citizen()
def buy_pass():
    """Buy a monthly pass for one of my vehicles at a lot, and go to its bill to pay."""
    try:
        vehicle_id = int(request.form.get("vehicle", ""))
        month = date.fromisoformat(request.form.get("month", "") + "-01")
    except ValueError:
        return _index_page(pass_error=PassRefused("choose a vehicle and a month", details={"reason": "form"}),
                           status=422)
    try:
        bought = passes.buy_pass(db_session(), current_principal().citizen, vehicle_id, request.form.get("lot", ""),
                                 month, clock=SYSTEM_CLOCK)
    except PassRefused as error:  # shown on the form; a pass bought a moment ago elsewhere leaves a bill to undo
        db_session().rollback()
        return _index_page(pass_error=error, status=422)
    return redirect(url_for("bills.show", bill_id=db_session().get(Bill, bought.bill_id).public_id), 303)


@bp.post("/passes/<pass_id>/renew")
@require_citizen()
def renew_pass(pass_id: str):
    """Buy the next month of one of my passes, and go to its bill to pay."""
    renewed = passes.renew_pass(db_session(), current_principal().citizen, pass_id, clock=SYSTEM_CLOCK)
    return redirect(url_for("bills.show", bill_id=db_session().get(Bill, renewed.bill_id).public_id), 303)


@bp.get("/tickets/<session_id>")
@public
def ticket(session_id: str):
    """The stay and its charge, for whoever holds the ticket; its payer may dispute it."""
    return _ticket_page(session_id)


def _ticket_page(session_id: str, dispute_error: DisputeInvalid | None = None, status: int = 200):
    session = db_session()
    try:
        row = session_by_ticket(session, session_id)
    except SessionNotFound:
        abort(404)
    bill = session.get(Bill, row.bill_id) if row.bill_id is not None else None
    principal = current_principal()
    mine = bool(bill and principal and principal.citizen
                and bill.payer_id_hash == principal.citizen.personal_id_hash)
    lot = session.get(ParkingLot, row.lot_id)
    dispute = disputes.dispute_of(session, row.id) if mine else None
    refund = session.get(Refund, dispute.refund_id) if dispute and dispute.refund_id else None
    return render_template("parking/ticket.html", row=row, lot=lot, bill=bill, stay=stay_explanation(lot, row),
                           mine=mine, logged_in=bool(principal and principal.citizen), lang=_lang(),
                           dispute=dispute, refund=refund, reasons=DISPUTE_REASONS, dispute_error=dispute_error,
                           form=request.form), status


@bp.app_template_global()
def dispute_reason_label(code: str) -> str:
    """What a citizen says is wrong with a session, in words."""
    return {"not_my_vehicle": _("It was not my vehicle"), "wrong_times": _("The times are wrong"),
            "covered_by_pass": _("My monthly pass covers it"), "exempt": _("I am exempt from the charge"),
            "other": _("Something else")}.get(code, code)


@bp.post("/tickets/<session_id>/dispute")
@require_citizen()
def dispute(session_id: str):
    """Dispute the charge of a session I pay; a finance officer or the operator answers on this page."""
    try:
        disputes.open_dispute(db_session(), current_principal().citizen, session_id,
                              reason=request.form.get("reason", ""), statement=request.form.get("statement", ""),
                              clock=SYSTEM_CLOCK)
    except DisputeInvalid as error:  # shown on the form, nothing written
        db_session().rollback()
        return _ticket_page(session_id, error, 422)
    return redirect(url_for("parking.ticket", session_id=session_id), 303)


@bp.post("/tickets/<session_id>/claim")
@require_citizen()
def claim(session_id: str):
    """Take the ticket's charge as mine and go to its bill to pay."""
    bill = claim_charge(db_session(), current_principal().citizen, session_id, vault=get_identity().vault,
                        clock=SYSTEM_CLOCK)
    return redirect(url_for("bills.show", bill_id=bill.public_id), 303)
