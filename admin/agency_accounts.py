"""Back office for agencies' receiving accounts: where each agency's citizens transfer to by VietQR.

System admins (who register the agencies' API clients) enter what the agency gave the city: the bank's BIN,
the account number and the holder's name. Every agency the gateway knows of is listed, from its API
clients and its bills as well as from the accounts already set, so one without an account stands out.
"""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies import accounts
from agencies.banks import BANKS
from agencies.errors import AgencyAccountInvalid
from agencies.models import ApiClient
from core.clock import SYSTEM_CLOCK
from identity.roles import SYSTEM_ADMIN
from payments.models.billing import Bill
from web.auth import current_principal, require_role
from web.database import db_session

bp = Blueprint("agency_accounts", __name__, url_prefix="/admin/agencies/accounts", template_folder="templates")

#: What each field must be, shown next to it when it is refused (agencies.accounts decides, this explains).
FIELD_ERRORS = {
    "agency_code": _l("Enter the agency code as on its bills and API client: 1 to 50 characters."),
    "bank_bin": _l("Enter the bank's BIN: the 6 digits of its NAPAS number, e.g. 970436 for Vietcombank."),
    "account_number": _l("Enter the account number: 1 to 19 letters or digits, without dots or dashes."),
    "holder_name": _l("Enter the holder's name as the bank registers it: up to 50 letters, digits and spaces, "
                      "without punctuation."),
}


def _known_agency_codes(session: Session) -> list[str]:
    """Every agency code the gateway has met: its receiving accounts, API clients and bills."""
    codes = {account.agency_code for account in accounts.list_receiving_accounts(session)}
    codes.update(session.scalars(select(ApiClient.agency_code).distinct()))
    codes.update(session.scalars(select(Bill.agency_code).distinct()))
    return sorted(codes)


def _form() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in accounts.FIELDS}


def _save(agency_code: str, form: dict[str, str]) -> dict[str, str]:
    """Set the account; the refused fields with what each must be (empty when it was saved)."""
    try:
        accounts.set_receiving_account(db_session(), agency_code, bank_bin=form["bank_bin"],
                                       account_number=form["account_number"], holder_name=form["holder_name"],
                                       actor=f"staff:{current_principal().staff.id}", clock=SYSTEM_CLOCK,
                                       request_id=g.get("request_id"))
    except AgencyAccountInvalid as error:
        return {name: str(FIELD_ERRORS[name]) for name in error.details["fields"]}
    return {}


def _index(form: dict[str, str], errors: dict[str, str], status: int = 200):
    session = db_session()
    saved = accounts.receiving_account(session, request.args.get("saved", "")) if request.args.get("saved") else None
    by_code = {account.agency_code: account for account in accounts.list_receiving_accounts(session)}
    codes = _known_agency_codes(session)
    return render_template("admin/agency_accounts/index.html", codes=codes, by_code=by_code, banks=BANKS,
                           missing=[code for code in codes if code not in by_code], saved=saved, form=form,
                           errors=errors), status


@bp.get("/")
@require_role(SYSTEM_ADMIN)
def index():
    """Every known agency with its receiving account (or none yet), and the form to add one."""
    return _index({}, {})


@bp.post("/")
@require_role(SYSTEM_ADMIN)
def add():
    """Set the account of the agency code typed in the form (a new one, or one listed without an account)."""
    form = _form()
    errors = _save(form["agency_code"], form)
    if errors:
        return _index(form, errors, 422)
    return redirect(url_for("agency_accounts.index", saved=form["agency_code"].strip()))


@bp.get("/<agency_code>")
@require_role(SYSTEM_ADMIN)
def edit(agency_code: str):
    """One agency's form, filled with its current account."""
    current = accounts.receiving_account(db_session(), agency_code)
    form = {} if current is None else {"bank_bin": current.bank_bin, "account_number": current.account_number,
                                       "holder_name": current.holder_name}
    return render_template("admin/agency_accounts/edit.html", agency_code=agency_code, current=current,
                           banks=BANKS, form=form, errors={})


@bp.post("/<agency_code>")
@require_role(SYSTEM_ADMIN)
def update(agency_code: str):
    """Set or replace one agency's account."""
    form = _form()
    errors = _save(agency_code, form)
    if errors:
        current = accounts.receiving_account(db_session(), agency_code)
        return render_template("admin/agency_accounts/edit.html", agency_code=agency_code, current=current,
                               banks=BANKS, form=form, errors=errors), 422
    return redirect(url_for("agency_accounts.index", saved=agency_code))
