"""Turning a verified login into a session, and recording failed ones: the use cases behind the callback."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from identity import audit
from identity.citizens import ClaimNames, facts_from_claims, upsert_citizen
from identity.errors import LoginRejected
from identity.models import Citizen, LoginRecord, StaffAccount, WebSession
from identity.oidc.relying_party import VerifiedLogin
from identity.personal_data import PersonalIdVault
from identity.sessions import LoginFacts, open_session
from identity.staff import provision_staff


@dataclass(frozen=True)
class LoginResult:
    """A new session: its cookie token, the row, and where to send the browser next."""

    token: str
    web_session: WebSession
    next_path: str
    requested_level: int


def _short(value: object, limit: int) -> str | None:
    # Provider strings go into bounded columns: an oversized value is dropped, never a database error.
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def _facts(login: VerifiedLogin, realm: str) -> LoginFacts:
    claims = login.claims
    amr = claims.get("amr")
    methods = [m for m in amr[:10] if _short(m, 50)] if isinstance(amr, list) else None
    return LoginFacts(realm=realm, issuer=claims["iss"], subject=claims["sub"], id_token=login.id_token.raw,
                      eid_level=login.eid_level, acr=_short(claims.get("acr"), 100), amr=methods,
                      auth_time=login.id_token.auth_time, provider_sid=_short(claims.get("sid"), 255))


def _record(session: Session, facts: LoginFacts, user_agent: str | None, clock: Clock, **principal: int) -> None:
    session.add(LoginRecord(realm=facts.realm, at=clock.now(), issuer=facts.issuer, acr=facts.acr,
                            eid_level=facts.eid_level, auth_time=facts.auth_time,
                            user_agent=(user_agent or "")[:120] or None, **principal))
    session.flush()


def finish_citizen_login(session: Session, login: VerifiedLogin, *, vault: PersonalIdVault, claim_names: ClaimNames,
                         user_agent: str | None = None, request_id: str | None = None,
                         clock: Clock = SYSTEM_CLOCK) -> LoginResult:
    """Create or refresh the citizen, record the login and open a new session."""
    facts = _facts(login, "citizen")
    citizen_facts = facts_from_claims(login.claims, claim_names, issuer=facts.issuer, eid_level=login.eid_level)
    citizen: Citizen = upsert_citizen(session, citizen_facts, vault, clock=clock)
    _record(session, facts, user_agent, clock, citizen_id=citizen.id)
    token, row = open_session(session, facts, citizen_id=citizen.id, clock=clock)
    audit.record(session, "login", actor=f"citizen:{citizen.id}", request_id=request_id, clock=clock,
                 details={"realm": "citizen", "eid_level": login.eid_level, "acr": facts.acr})
    return LoginResult(token, row, login.flow.next_path, login.flow.requested_level)


def finish_staff_login(session: Session, login: VerifiedLogin, *, user_agent: str | None = None,
                       request_id: str | None = None, clock: Clock = SYSTEM_CLOCK) -> LoginResult:
    """Find or provision the staff account (no roles until an admin grants them) and open a session."""
    facts = _facts(login, "staff")
    account: StaffAccount = provision_staff(session, issuer=facts.issuer, subject=facts.subject,
                                            display_name=_short(login.claims.get("name"), 200) or facts.subject,
                                            email=_short(login.claims.get("email"), 254), clock=clock)
    if not account.active:
        raise LoginRejected("staff_account_disabled")
    account.last_login_at = clock.now()
    _record(session, facts, user_agent, clock, staff_account_id=account.id)
    token, row = open_session(session, facts, staff_account_id=account.id, clock=clock)
    audit.record(session, "login", actor=f"staff:{account.id}", request_id=request_id, clock=clock,
                 details={"realm": "staff", "roles": sorted(account.role_names)})
    return LoginResult(token, row, login.flow.next_path, login.flow.requested_level)


def record_failed_login(session: Session, realm: str, error: LoginRejected, *, request_id: str | None = None,
                        clock: Clock = SYSTEM_CLOCK) -> None:
    """Audit a refused login with its reason (and nothing the attacker sent)."""
    audit.record(session, "login_failed", actor="anonymous", reason=error.reason[:80], request_id=request_id,
                 details={"realm": realm}, clock=clock)
