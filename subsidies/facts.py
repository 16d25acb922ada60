"""What is being priced and for whom: a quote request and the facts rules may test."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Any

from core.clock import VIETNAM, ensure_utc
from core.geography import CURRENT_CODE_LIST
from subsidies.errors import RequestInvalid
from subsidies.vocabulary import CATEGORIES, CHANNELS, EID_LEVELS, TIME_BANDS, VEHICLE_CLASSES


@dataclass(frozen=True)
class QuoteRequest:
    """A service, a quantity, a channel, the moment of decision and the citizen's facts."""

    service_code: str
    decision_at: datetime
    channel: str
    quantity: int = 1
    birthdate: date | None = None
    residence_province_code: str | None = None
    residence_commune_code: str | None = None
    #: The administrative code list the residence codes come from (QĐ 19/2025 since 1 July 2025).
    code_list: str = CURRENT_CODE_LIST
    eid_level: int | None = None
    categories: frozenset[str] = field(default_factory=frozenset)
    vehicle_class: str | None = None
    time_band: str | None = None
    zone: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "decision_at", ensure_utc(self.decision_at))
        object.__setattr__(self, "categories", frozenset(self.categories))
        # Derived once here, so evaluating the same request under many rule sets (simulation) stays cheap.
        day = self.decision_at.astimezone(VIETNAM).date()
        object.__setattr__(self, "decision_day", day)
        object.__setattr__(self, "facts", self.facts_on(day))

    #: The calendar day of the decision in Asia/Ho_Chi_Minh: effective dates are judged on it.
    decision_day: date = field(init=False, compare=False, repr=False)
    #: The declared fields' values on the decision day.
    facts: dict[str, Any] = field(init=False, compare=False, repr=False)

    def facts_on(self, on: date) -> dict[str, Any]:
        """Return the declared fields' values on ``on``; unknown facts are None."""
        return {
            "channel": self.channel,
            "age": age_on(self.birthdate, on) if self.birthdate else None,
            "residence.province_code": self.residence_province_code,
            "residence.commune_code": self.residence_commune_code,
            "code_list": self.code_list,
            "eid_level": self.eid_level,
            "categories": self.categories,
            "quantity": self.quantity,
            "vehicle_class": self.vehicle_class,
            "time_band": self.time_band,
            "zone": self.zone,
        }

    def with_categories(self, extra: frozenset[str]) -> QuoteRequest:
        """Return a copy with ``extra`` categories added (e.g. from the beneficiary registry)."""
        return replace(self, categories=self.categories | extra)

    def to_dict(self) -> dict[str, Any]:
        """Return the request as JSON-ready data (stored with a quote so it can be replayed)."""
        return {
            "service_code": self.service_code, "decision_at": self.decision_at.isoformat(),
            "channel": self.channel, "quantity": self.quantity,
            "birthdate": self.birthdate.isoformat() if self.birthdate else None,
            "residence_province_code": self.residence_province_code,
            "residence_commune_code": self.residence_commune_code, "code_list": self.code_list,
            "eid_level": self.eid_level, "categories": sorted(self.categories),
            "vehicle_class": self.vehicle_class, "time_band": self.time_band, "zone": self.zone,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuoteRequest:
        """Rebuild a request from ``to_dict`` output (a quote's or a bill's stored request)."""
        return cls(
            service_code=data["service_code"],
            decision_at=decision_instant(datetime.fromisoformat(data["decision_at"])),
            channel=data["channel"], quantity=data["quantity"],
            birthdate=date.fromisoformat(data["birthdate"]) if data.get("birthdate") else None,
            residence_province_code=data.get("residence_province_code"),
            residence_commune_code=data.get("residence_commune_code"), code_list=data["code_list"],
            eid_level=data.get("eid_level"), categories=frozenset(data.get("categories") or ()),
            vehicle_class=data.get("vehicle_class"), time_band=data.get("time_band"), zone=data.get("zone"))


@dataclass(frozen=True)
class EidFacts:
    """What a citizen's e-ID login asserts that rules may test: its level, the residence and birth date it
    carries, and that the request came through VNeID. Applied to a request as typed fields, never merged
    into its stored form."""

    eid_level: int
    residence_province_code: str | None
    residence_commune_code: str | None
    birthdate: date | None
    channel: str = "VNEID"

    def apply_to(self, request: QuoteRequest) -> QuoteRequest:
        """The same request (service, quantity, decision moment) with this login's facts."""
        return replace(request, channel=self.channel, eid_level=self.eid_level, birthdate=self.birthdate,
                       residence_province_code=self.residence_province_code,
                       residence_commune_code=self.residence_commune_code)

    def differ_from(self, request: QuoteRequest) -> bool:
        """True when ``request`` was priced with other facts than these."""
        return self.apply_to(request) != request


def age_on(birthdate: date, on: date) -> int:
    """Whole years of age on ``on`` (a birthday counts on its day; 29 Feb counts on 1 Mar)."""
    before_birthday = (on.month, on.day) < (birthdate.month, birthdate.day)
    return on.year - birthdate.year - before_birthday


def decision_instant(value: date | datetime) -> datetime:
    """Return an aware instant: a bare date means the start of that day in Vietnam."""
    if isinstance(value, datetime):
        return ensure_utc(value)
    return datetime.combine(value, time(0, 0), tzinfo=VIETNAM)


_REQUEST_KEYS = {"service", "service_code", "decision_date", "decision_at", "channel", "quantity", "birthdate",
                 "residence_province_code", "residence_commune_code", "code_list", "eid_level", "categories",
                 "vehicle_class", "time_band", "zone"}


def request_from_dict(data: Mapping[str, Any]) -> QuoteRequest:
    """Build a request from test-case data (YAML ``given``); unknown keys or values are errors."""
    unknown = sorted(set(data) - _REQUEST_KEYS)
    if unknown:
        raise RequestInvalid(f"quote request: unknown key(s) {', '.join(unknown)}")
    when = data.get("decision_at", data.get("decision_date"))
    if when is None:
        raise RequestInvalid("quote request: decision_date is required")
    if isinstance(when, str):
        when = datetime.fromisoformat(when) if "T" in when or " " in when else date.fromisoformat(when)
    birthdate = data.get("birthdate")
    request = QuoteRequest(
        service_code=str(data.get("service_code", data.get("service"))), decision_at=decision_instant(when),
        channel=data.get("channel", "COUNTER"), quantity=int(data.get("quantity", 1)),
        birthdate=date.fromisoformat(birthdate) if isinstance(birthdate, str) else birthdate,
        residence_province_code=_code(data.get("residence_province_code"), 2),
        residence_commune_code=_code(data.get("residence_commune_code"), 5),
        code_list=data.get("code_list", CURRENT_CODE_LIST), eid_level=data.get("eid_level"),
        categories=frozenset(data.get("categories") or ()), vehicle_class=data.get("vehicle_class"),
        time_band=data.get("time_band"), zone=data.get("zone"))
    check_request(request)
    return request


def check_request(request: QuoteRequest) -> None:
    """Refuse values outside the vocabulary, so a typo cannot silently fail every condition."""
    problems = []
    if request.channel not in CHANNELS:
        problems.append(f"channel {request.channel!r} is not one of {', '.join(CHANNELS)}")
    if request.eid_level is not None and request.eid_level not in EID_LEVELS:
        problems.append(f"eid_level {request.eid_level!r} is not 1 or 2")
    if unknown := sorted(request.categories - set(CATEGORIES)):
        problems.append(f"unknown categories {', '.join(unknown)}")
    if request.vehicle_class is not None and request.vehicle_class not in VEHICLE_CLASSES:
        problems.append(f"vehicle_class {request.vehicle_class!r} is not one of {', '.join(VEHICLE_CLASSES)}")
    if request.time_band is not None and request.time_band not in TIME_BANDS:
        problems.append(f"time_band {request.time_band!r} is not one of {', '.join(TIME_BANDS)}")
    if request.birthdate is not None and request.birthdate > request.decision_day:
        problems.append("birthdate is after the decision date")
    if isinstance(request.quantity, bool) or not isinstance(request.quantity, int) or request.quantity < 1:
        problems.append("quantity must be a whole number of at least 1")
    if problems:
        raise RequestInvalid("quote request: " + "; ".join(problems), details={"problems": problems})


def _code(value: Any, width: int) -> str | None:
    # YAML reads an unquoted 01 as the number 1: put the leading zeros back.
    if value is None:
        return None
    return str(value).zfill(width) if isinstance(value, int) else str(value)
