"""Remittance rules as data: agencies' accounts, budget codes, deadlines, and how the Treasury is named.

Design overview
---------------
``remittance_rules.yaml`` (beside this file) says, per agency, who holds the collected money (its own
dedicated account, or another organisation's), which statement accounts are its own (and whether each is
its bank collection account or its awaiting-remittance account at the Treasury), and its chương (chapter)
in the State Budget Index; per service, the tiểu mục (sub-item). A budget code is ``chương-tiểu mục``.

Deadlines are rules with a legal basis; the first rule whose conditions hold applies:

* ``hours_after_collection``: due that many hours after the collection was posted (Circular 74/2022:
  money held on another organisation's account is forwarded within 24 hours);
* ``day_of_following_month``: the month's money (by its Vietnamese calendar date) is due by the end of
  that day of the next month, in Asia/Ho_Chi_Minh (the fee circulars' "by the 5th").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import yaml

from core.clock import VIETNAM, ensure_utc
from payments import accounts
from payments.accounts import Account

RULES_FILE = Path(__file__).with_name("remittance_rules.yaml")
HOLDERS = ("own_account", "other_organisation")
LEDGER_ROLES = ("bank", "treasury_awaiting")
#: The budget code of money whose service or agency has no code configured: shown, never hidden.
UNASSIGNED = "chưa gán mã"
_ACCOUNT_LIKE = re.compile(r"\d[\d.\-]*\d")


class RulesInvalid(ValueError):
    """The remittance rules file is malformed; the message names the entry."""


@dataclass(frozen=True)
class DeadlineRule:
    """When collected money must reach the Treasury, and why."""

    name: str
    legal_basis: str
    verify: bool
    holder: str | None = None
    fee_kinds: tuple[str, ...] = ()
    hours_after_collection: int | None = None
    day_of_following_month: int | None = None

    def applies(self, holder: str, fee_kind: str | None) -> bool:
        """Whether this rule covers money held by ``holder`` for a fee of ``fee_kind``."""
        return (self.holder in (None, holder)) and (not self.fee_kinds or fee_kind in self.fee_kinds)

    def month_deadline(self, month: date) -> datetime | None:
        """For a monthly rule: the first instant (UTC) at which money of ``month`` is overdue."""
        if self.day_of_following_month is None:
            return None
        following = _next_month(month)
        last_day = following.replace(day=self.day_of_following_month)
        return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=VIETNAM).astimezone(UTC)

    def collection_deadline(self, collected_at: datetime) -> datetime | None:
        """For an hourly rule: the instant (UTC) at which money collected at ``collected_at`` is overdue."""
        if self.hours_after_collection is None:
            return None
        return ensure_utc(collected_at) + timedelta(hours=self.hours_after_collection)


@dataclass(frozen=True)
class AgencyAccount:
    """A statement account of an agency and the ledger account it is."""

    number: str
    ledger: str


@dataclass(frozen=True)
class AgencyRules:
    """An agency's remittance set-up."""

    code: str
    name: str
    holder: str
    chapter: str | None
    accounts: tuple[AgencyAccount, ...]


@dataclass(frozen=True)
class RemittanceRules:
    """Everything the remittance checks need, read once from the rules file."""

    treasury_names: tuple[str, ...]
    treasury_accounts: tuple[str, ...]
    deadline_rules: tuple[DeadlineRule, ...]
    agencies: dict[str, AgencyRules]
    sub_items: dict[str, str]

    def agency(self, code: str) -> AgencyRules:
        """The agency's rules; an agency not in the file holds money on its own account, without codes."""
        return self.agencies.get(code) or AgencyRules(code, code, "own_account", None, ())

    def budget_code(self, agency: str, service: str | None) -> str:
        """``chương-tiểu mục`` of ``service`` collected by ``agency``, or ``UNASSIGNED``."""
        chapter, sub_item = self.agency(agency).chapter, self.sub_items.get(service or "")
        return f"{chapter}-{sub_item}" if chapter and sub_item else UNASSIGNED

    def deadline_rule(self, agency: str, fee_kind: str | None = None) -> DeadlineRule:
        """The first deadline rule covering ``agency``'s money (of ``fee_kind``)."""
        holder = self.agency(agency).holder
        for rule in self.deadline_rules:
            if rule.applies(holder, fee_kind):
                return rule
        raise RulesInvalid(f"no deadline rule covers {holder} money of {fee_kind}: add a rule without conditions")

    def statement_owner(self, statement_account: str) -> tuple[str, str] | None:
        """``(agency, ledger role)`` of a configured statement account (compared by its digits), else None."""
        digits = _digits(statement_account)
        for agency in self.agencies.values():
            for account in agency.accounts:
                if _digits(account.number) == digits:
                    return agency.code, account.ledger
        return None

    def names_own_awaiting_account(self, agency: str, *texts: str | None) -> bool:
        """Whether ``texts`` name one of ``agency``'s own awaiting-remittance accounts (a move, not a remittance)."""
        own = {_digits(a.number) for a in self.agency(agency).accounts if a.ledger == "treasury_awaiting"}
        numbers = {_digits(token) for token in _ACCOUNT_LIKE.findall(" ".join(fold(t) for t in texts if t))}
        return bool(own & numbers)

    def names_treasury(self, *texts: str | None) -> bool:
        """Whether any of ``texts`` names the Treasury or one of its configured accounts."""
        plain = " ".join(fold(t) for t in texts if t)
        # Account numbers are compared whole (as written, dots and dashes aside), never as substrings of amounts.
        numbers = {_digits(token) for token in _ACCOUNT_LIKE.findall(plain)}
        return any(name in plain for name in self.treasury_names) or any(
            account in numbers for account in self.treasury_accounts)


def fold(text: str) -> str:
    """Upper-case ``text`` without diacritics (Đ becomes D), for matching bank free text."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").upper()


def first_of_month(day: date) -> date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    """First days of every month from ``first``'s to ``last``'s, inclusive."""
    months, month = [], first_of_month(first)
    while month <= last:
        months.append(month)
        month = _next_month(month)
    return months


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_FILE) -> RemittanceRules:
    """Read and check the rules file (cached: it changes with a deployment, not at run time)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    treasury = data.get("treasury", {})
    rules = tuple(_deadline_rule(entry) for entry in data.get("deadline_rules", []))
    if not rules:
        raise RulesInvalid(f"{path.name}: no deadline_rules")
    agencies = {str(code): _agency(str(code), entry) for code, entry in (data.get("agencies") or {}).items()}
    sub_items = {str(code): str(entry["sub_item"]) for code, entry in (data.get("services") or {}).items()}
    return RemittanceRules(treasury_names=tuple(fold(n) for n in treasury.get("names", [])),
                           treasury_accounts=tuple(_digits(a) for a in treasury.get("accounts", [])),
                           deadline_rules=rules, agencies=agencies, sub_items=sub_items)


def _deadline_rule(entry: dict) -> DeadlineRule:
    name = entry.get("name", "?")
    hours, day = entry.get("hours_after_collection"), entry.get("day_of_following_month")
    if (hours is None) == (day is None):
        raise RulesInvalid(f"deadline rule {name}: give exactly one of hours_after_collection, day_of_following_month")
    if day is not None and not 1 <= int(day) <= 28:
        raise RulesInvalid(f"deadline rule {name}: day_of_following_month must be 1-28 (every month has it)")
    if entry.get("holder") not in (None, *HOLDERS) or not entry.get("legal_basis"):
        raise RulesInvalid(f"deadline rule {name}: unknown holder or no legal_basis")
    return DeadlineRule(name=name, legal_basis=" ".join(str(entry["legal_basis"]).split()),
                        verify=bool(entry.get("verify", True)), holder=entry.get("holder"),
                        fee_kinds=tuple(entry.get("fee_kinds", ())),
                        hours_after_collection=int(hours) if hours is not None else None,
                        day_of_following_month=int(day) if day is not None else None)


def _agency(code: str, entry: dict) -> AgencyRules:
    holder = entry.get("holder", "own_account")
    accounts = tuple(AgencyAccount(str(a["number"]), a.get("ledger", "bank")) for a in entry.get("accounts", []))
    if holder not in HOLDERS or any(a.ledger not in LEDGER_ROLES for a in accounts):
        raise RulesInvalid(f"agency {code}: holder must be one of {HOLDERS}, ledger one of {LEDGER_ROLES}")
    chapter = (entry.get("chapter") or {}).get("code")
    return AgencyRules(code, str(entry.get("name", code)), holder, str(chapter) if chapter else None, accounts)


def agency_ledger_account(agency: str, role: str) -> Account:
    """The agency's ledger account for a statement account of ``role`` (``bank`` or ``treasury_awaiting``)."""
    return accounts.agency_bank(agency) if role == "bank" else accounts.treasury_awaiting(agency)


def statement_ledger_account(number: str, rules: RemittanceRules | None = None) -> Account:
    """The ledger account a bank statement's account is.

    An account the rules give to an agency is that agency's bank or awaiting-remittance account, so the
    payouts a bank run books in and the Treasury transfers booked out meet on one ledger account; any
    other account is booked by its number.
    """
    owner = (rules or load_rules()).statement_owner(number)
    return accounts.bank_account(number) if owner is None else agency_ledger_account(*owner)


def _digits(text: str) -> str:
    return "".join(c for c in str(text) if c.isdigit())
