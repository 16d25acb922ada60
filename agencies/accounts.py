"""Agencies' receiving accounts: the bank account a citizen's VietQR transfer pays into, one per agency.

A system admin enters it in the back office from what the agency gives the city: the bank's NAPAS BIN,
the account number and the holder's name as the bank registers it. Every change is audited with the
account it replaced, since whoever changes it decides where citizens' money goes.

The holder's name is stored as banks print it: upper-case ASCII letters, digits and single spaces.
Lower case and Vietnamese accents are converted (``Công an Thành phố Hà Nội`` -> ``CONG AN THANH PHO HA
NOI``, ``đ`` -> ``D``); anything else (punctuation, other scripts) is refused, never silently dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agencies.banks import bank_name
from agencies.errors import AgencyAccountInvalid
from agencies.models import AgencyAccount
from core.clock import Clock
from identity import audit

#: The fields of a receiving account, in the order they are checked and shown.
FIELDS = ("agency_code", "bank_bin", "account_number", "holder_name")

_BIN = re.compile(r"[0-9]{6}")
_ACCOUNT = re.compile(r"[0-9A-Za-z]{1,19}")
_HOLDER = re.compile(r"[A-Z0-9]+(?: [A-Z0-9]+)*")
HOLDER_MAX = 50
AGENCY_CODE_MAX = 50


@dataclass(frozen=True)
class ReceivingAccount:
    """Where an agency's citizens transfer to, with the bank's display name (the BIN when unknown)."""

    agency_code: str
    bank_bin: str
    account_number: str
    holder_name: str
    bank_name: str
    updated_by: str = ""
    updated_at: datetime | None = None


def normalise_holder_name(raw: str) -> str:
    """Upper-case ASCII as banks register names: accents dropped, ``đ`` as ``D``, spaces collapsed."""
    text = raw.replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return " ".join(text.split()).upper()


def _problems(agency_code: str, bank_bin: str, account_number: str, holder_name: str) -> dict[str, str]:
    """Each field that breaks its rule -> what the rule is (English, for logs and the API)."""
    problems = {}
    if not agency_code or len(agency_code) > AGENCY_CODE_MAX or not agency_code.isprintable():
        problems["agency_code"] = f"an agency code is 1 to {AGENCY_CODE_MAX} printable characters"
    if not _BIN.fullmatch(bank_bin):
        problems["bank_bin"] = "a bank BIN is the 6 digits of the bank's NAPAS number, e.g. 970436"
    if not _ACCOUNT.fullmatch(account_number):
        problems["account_number"] = "an account number is 1 to 19 letters (A-Z) or digits"
    if not holder_name or len(holder_name) > HOLDER_MAX or not _HOLDER.fullmatch(holder_name):
        problems["holder_name"] = (f"the holder's name is 1 to {HOLDER_MAX} letters, digits and spaces, "
                                   "as the bank registers it")
    return problems


def set_receiving_account(session: Session, agency_code: str, *, bank_bin: str, account_number: str,
                          holder_name: str, actor: str, clock: Clock,
                          request_id: str | None = None) -> ReceivingAccount:
    """Create or replace ``agency_code``'s receiving account; AgencyAccountInvalid names each bad field.

    Surrounding spaces are ignored everywhere, spaces inside an account number too (``0011 0012 34567``);
    the holder's name is normalised (see the module). Saving the same account again changes nothing.
    """
    agency_code, bank_bin = agency_code.strip(), bank_bin.strip()
    account_number = "".join(account_number.split())
    holder_name = normalise_holder_name(holder_name)
    problems = _problems(agency_code, bank_bin, account_number, holder_name)
    if problems:
        first = next(iter(problems))
        raise AgencyAccountInvalid(problems[first], details={"field": first, "fields": problems})
    row = session.scalars(select(AgencyAccount).where(AgencyAccount.agency_code == agency_code)
                          .with_for_update()).one_or_none()
    wanted = {"bank_bin": bank_bin, "account_number": account_number, "holder_name": holder_name}
    previous = None if row is None else {name: getattr(row, name) for name in wanted}
    if previous == wanted:
        return _view(row)
    now = clock.now()
    if row is None:
        row = AgencyAccount(agency_code=agency_code, **wanted, updated_by=actor, updated_at=now)
        session.add(row)
    else:
        row.bank_bin, row.account_number, row.holder_name = bank_bin, account_number, holder_name
        row.updated_by, row.updated_at = actor, now
    session.flush()
    audit.record(session, "agency_account_set", actor=actor, target=f"agency:{agency_code}",
                 details={**wanted, "previous": previous}, request_id=request_id, clock=clock)
    return _view(row)


def receiving_account(session: Session, agency_code: str) -> ReceivingAccount | None:
    """The account ``agency_code``'s citizens transfer to, or None when none is set."""
    row = session.scalars(select(AgencyAccount).where(AgencyAccount.agency_code == agency_code)).one_or_none()
    return None if row is None else _view(row)


def list_receiving_accounts(session: Session) -> list[ReceivingAccount]:
    """Every agency's receiving account, by agency code."""
    return [_view(row) for row in session.scalars(select(AgencyAccount).order_by(AgencyAccount.agency_code))]


def _view(row: AgencyAccount) -> ReceivingAccount:
    return ReceivingAccount(agency_code=row.agency_code, bank_bin=row.bank_bin, account_number=row.account_number,
                            holder_name=row.holder_name, bank_name=bank_name(row.bank_bin),
                            updated_by=row.updated_by, updated_at=row.updated_at)
