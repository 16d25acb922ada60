"""Citizen profiles from claims, consent to the data-use notice, login history and the data export."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from identity import audit
from identity.errors import ConsentRequired, InvalidPersonalId, LoginRejected
from identity.models import Citizen, Consent, EmailConsent, LoginRecord
from identity.personal_data import PersonalIdVault, mask_personal_id, validate_personal_id

#: Bump when the wording of the consent notice changes: everyone is asked again.
NOTICE_VERSION = "2026-11"
#: What the notice lists as received, in this order (the web layer translates the labels).
NOTICE_CLAIMS = ("personal_id", "name", "birthdate", "residence", "eid_level")
_ASCII_DIGITS = re.compile(r"[0-9]+")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClaimNames:
    """Where the provider puts each fact (configurable: VNeID's profile is not public)."""

    personal_id: str = "so_dinh_danh"
    name: str = "name"
    birthdate: str = "birthdate"
    residence: str = "ma_tinh_thuong_tru"
    commune: str = "ma_xa_thuong_tru"


@dataclass(frozen=True)
class CitizenFacts:
    """The facts a login asserted about a citizen, validated."""

    issuer: str
    subject: str
    personal_id: str
    full_name: str
    birth_date: date | None
    residence_province: str | None
    residence_commune: str | None
    eid_level: int


def facts_from_claims(claims: dict[str, Any], names: ClaimNames, *, issuer: str, eid_level: int) -> CitizenFacts:
    """Validate and pick the citizen's facts out of the merged ID-token and userinfo claims."""
    try:
        personal_id = validate_personal_id(claims.get(names.personal_id))
    except InvalidPersonalId:
        _log_unusable_claim(claims, names.personal_id, "GATEWAY_OIDC_CLAIM_PERSONAL_ID")
        raise LoginRejected("personal_id_invalid") from None
    name = claims.get(names.name)
    if not isinstance(name, str) or not name.strip():
        _log_unusable_claim(claims, names.name, "GATEWAY_OIDC_CLAIM_NAME")
        raise LoginRejected("name_missing")
    return CitizenFacts(issuer=issuer, subject=claims["sub"], personal_id=personal_id, full_name=name.strip()[:200],
                        birth_date=_birth_date(claims.get(names.birthdate)),
                        residence_province=_code(claims.get(names.residence), 2),
                        residence_commune=_code(claims.get(names.commune), 5), eid_level=eid_level)


def _log_unusable_claim(claims: dict[str, Any], claim: str, setting: str) -> None:
    # Names the claim we looked for and the ones that came, so a mis-set claim name is found at once;
    # never a value (they are personal data).
    log.warning("login claim missing or invalid", extra={
        "claim": claim, "setting": setting, "present": claim in claims, "claims_received": sorted(claims)})


def _birth_date(value: object) -> date | None:
    # OIDC's ``birthdate`` is YYYY-MM-DD; VNeID's NgayThangNamSinh is YYYYMMDD. Accept both, else drop it.
    if not isinstance(value, str):
        return None
    for text in (value, f"{value[:4]}-{value[4:6]}-{value[6:]}" if len(value) == 8 else ""):
        try:
            return date.fromisoformat(text)
        except ValueError:
            continue
    return None


def _code(value: object, length: int) -> str | None:
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return text.zfill(length) if _ASCII_DIGITS.fullmatch(text) and len(text) <= length else None


def upsert_citizen(session: Session, facts: CitizenFacts, vault: PersonalIdVault, *,
                   clock: Clock = SYSTEM_CLOCK) -> Citizen:
    """Create or refresh the citizen known by ``(iss, sub)`` with what this login asserted."""
    now = clock.now()
    citizen = _citizen(session, facts)
    if citizen is None:
        citizen = Citizen(issuer=facts.issuer, subject=facts.subject, created_at=now)
        _refresh(citizen, facts, vault, now)
        try:
            # Two first logins of one account at once (two tabs, a double submit): one INSERT wins, the
            # other waits for it on the unique index and then takes the row it committed.
            with session.begin_nested():
                session.add(citizen)
                session.flush()
            return citizen
        except IntegrityError:
            citizen = _citizen(session, facts)
    _refresh(citizen, facts, vault, now)
    session.flush()
    return citizen


def _citizen(session: Session, facts: CitizenFacts) -> Citizen | None:
    return session.scalar(select(Citizen).where(Citizen.issuer == facts.issuer, Citizen.subject == facts.subject))


def _refresh(citizen: Citizen, facts: CitizenFacts, vault: PersonalIdVault, now: datetime) -> None:
    lookup = vault.lookup_hash(facts.personal_id)
    if citizen.personal_id_hash != lookup:
        citizen.personal_id_encrypted = vault.encrypt(facts.personal_id)
        citizen.personal_id_hash = lookup
        citizen.personal_id_masked = mask_personal_id(facts.personal_id)
    citizen.full_name = facts.full_name
    citizen.birth_date = facts.birth_date
    citizen.residence_province = facts.residence_province
    citizen.residence_commune = facts.residence_commune
    citizen.eid_level = facts.eid_level
    citizen.updated_at = citizen.last_login_at = now


def find_by_personal_id(session: Session, personal_id: str, vault: PersonalIdVault) -> list[Citizen]:
    """Return the citizens holding this number (one per provider account)."""
    return list(session.scalars(select(Citizen).where(Citizen.personal_id_hash == vault.lookup_hash(personal_id))))


def has_consented(citizen: Citizen) -> bool:
    """True when the citizen agreed to the current notice and has not withdrawn."""
    return any(c.notice_version == NOTICE_VERSION and c.withdrawn_at is None for c in citizen.consents)


def require_consent(citizen: Citizen) -> None:
    """Raise ``ConsentRequired`` unless the citizen agreed to the current notice."""
    if not has_consented(citizen):
        raise ConsentRequired("the citizen has not agreed to the current data-use notice")


def give_consent(session: Session, citizen: Citizen, *, request_id: str | None = None,
                 clock: Clock = SYSTEM_CLOCK) -> Consent:
    """Record agreement to the current notice (idempotent) and audit it."""
    existing = _current_consent(citizen)
    if existing is not None:
        return existing
    try:
        # The consent form sent twice at once (two tabs, a double click): one INSERT wins, the other
        # waits for it on the unique index and returns the row it committed.
        with session.begin_nested():
            consent = Consent(citizen=citizen, notice_version=NOTICE_VERSION, claims=list(NOTICE_CLAIMS),
                              granted_at=clock.now())
            session.add(consent)
            session.flush()
    except IntegrityError:
        session.expire(citizen, ["consents"])
        return _current_consent(citizen)
    audit.record(session, "consent_given", actor=f"citizen:{citizen.id}", details={"notice": NOTICE_VERSION},
                 request_id=request_id, clock=clock)
    return consent


def _current_consent(citizen: Citizen) -> Consent | None:
    return next((c for c in citizen.consents if c.notice_version == NOTICE_VERSION and c.withdrawn_at is None), None)


def login_history(session: Session, citizen: Citizen, limit: int = 20) -> list[LoginRecord]:
    """Return the citizen's latest logins, newest first."""
    query = (select(LoginRecord).where(LoginRecord.citizen_id == citizen.id)
             .order_by(LoginRecord.at.desc(), LoginRecord.id.desc()).limit(limit))
    return list(session.scalars(query))


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


def export_data(session: Session, citizen: Citizen, vault: PersonalIdVault) -> dict[str, Any]:
    """Return everything identity holds about the citizen, for their JSON download (the number in full)."""
    return {
        "personal_id": vault.decrypt(citizen.personal_id_encrypted),
        "full_name": citizen.full_name,
        "birth_date": _iso(citizen.birth_date),
        "residence_province": citizen.residence_province,
        "residence_commune": citizen.residence_commune,
        "eid_level": citizen.eid_level,
        "identity_provider": citizen.issuer,
        "created_at": _iso(citizen.created_at),
        "consents": [{"notice_version": c.notice_version, "claims": c.claims, "granted_at": _iso(c.granted_at),
                      "withdrawn_at": _iso(c.withdrawn_at)} for c in citizen.consents],
        "logins": [{"at": _iso(r.at), "eid_level": r.eid_level, "acr": r.acr, "user_agent": r.user_agent}
                   for r in login_history(session, citizen, limit=1000)],
        "email_consents": [{"address": e.address, "language": e.language, "granted_at": _iso(e.granted_at),
                            "withdrawn_at": _iso(e.withdrawn_at)}
                           for e in session.scalars(select(EmailConsent).where(EmailConsent.citizen_id == citizen.id)
                                                    .order_by(EmailConsent.id))],
    }
