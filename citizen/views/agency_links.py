"""``/pay/<token>``: the one-time next_url an agency hands a citizen; it leads to the pay page after e-ID login."""

from __future__ import annotations

from flask import Blueprint, redirect

from core.clock import SYSTEM_CLOCK
from payments.agency_bills import use_link
from web.auth import login_url, public
from web.database import db_session

bp = Blueprint("agency_links", __name__)

#: The citizen's pay page of a bill (served by the citizen payment pages).
PAY_PAGE = "/bills/{bill_id}"


@bp.get("/pay/<token>")
@public
def follow(token: str):
    """Spend the link and send the citizen to log in with e-ID, then to the bill's pay page."""
    bill = use_link(db_session(), token, clock=SYSTEM_CLOCK)
    return redirect(login_url(bill.min_eid_level, PAY_PAGE.format(bill_id=bill.public_id)))
