"""Server-side sessions: hashed tokens, idle and absolute timeouts per realm, ending is audited and final."""

from datetime import datetime

import pytest
from sqlalchemy import select

from core.clock import UTC, FixedClock
from identity.errors import SessionExpired
from identity.models import AuditEvent, Citizen, StaffAccount, WebSession
from identity.sessions import LoginFacts, end_session, end_sessions_of, load_session, open_session, token_hash


@pytest.fixture()
def clock():
    return FixedClock(datetime(2026, 11, 29, 8, 0, tzinfo=UTC))


@pytest.fixture()
def citizen(db, clock):
    row = Citizen(issuer="https://op", subject="s1", personal_id_encrypted=b"x", personal_id_hash="h" * 64,
                  personal_id_masked="0010******45", full_name="A", eid_level=2, created_at=clock.now(),
                  updated_at=clock.now())
    db.add(row)
    db.flush()
    return row


@pytest.fixture()
def staff(db, clock):
    row = StaffAccount(issuer="https://op", subject="st1", display_name="S", created_at=clock.now())
    db.add(row)
    db.flush()
    return row


def facts(realm):
    return LoginFacts(realm=realm, issuer="https://op", subject="s1", id_token="a.b.c", eid_level=2)


def test_the_table_keeps_only_a_hash_of_the_token(db, clock, citizen):
    token, row = open_session(db, facts("citizen"), citizen_id=citizen.id, clock=clock)
    assert row.id == token_hash(token) and token not in row.id and len(token) >= 43
    assert load_session(db, token, clock=clock).id == row.id


@pytest.mark.parametrize(("realm", "idle_minutes", "absolute_hours"), [("citizen", 30, 12), ("staff", 15, 8)])
def test_timeouts_per_realm(db, clock, citizen, staff, realm, idle_minutes, absolute_hours):
    principal = {"citizen_id": citizen.id} if realm == "citizen" else {"staff_account_id": staff.id}
    token, row = open_session(db, facts(realm), clock=clock, **principal)
    clock.advance(minutes=idle_minutes - 1)
    assert load_session(db, token, clock=clock) is not None
    clock.advance(minutes=idle_minutes)
    with pytest.raises(SessionExpired):
        load_session(db, token, clock=clock)
    assert row.end_reason == "idle" and load_session(db, token, clock=clock) is None

    token, row = open_session(db, facts(realm), clock=clock, **principal)
    started, ended = clock.now(), None
    while ended is None:  # keep it busy: only the absolute limit can end it
        clock.advance(minutes=idle_minutes - 1)
        try:
            load_session(db, token, clock=clock)
        except SessionExpired:
            ended = clock.now()
    assert row.end_reason == "absolute"
    assert absolute_hours * 60 <= (ended - started).total_seconds() / 60 < absolute_hours * 60 + idle_minutes


def test_ending_is_idempotent_and_audited_once(db, clock, citizen):
    _, row = open_session(db, facts("citizen"), citizen_id=citizen.id, clock=clock)
    assert end_session(db, row, "logout", clock=clock) is True
    assert end_session(db, row, "logout", clock=clock) is False
    events = db.scalars(select(AuditEvent).where(AuditEvent.event == "session_ended")).all()
    assert [(e.actor, e.reason) for e in events] == [(f"citizen:{citizen.id}", "logout")]


def test_all_sessions_of_a_principal_can_be_revoked(db, clock, staff):
    tokens = [open_session(db, facts("staff"), staff_account_id=staff.id, clock=clock)[0] for _ in range(3)]
    assert end_sessions_of(db, staff_account_id=staff.id, clock=clock) == 3
    assert all(load_session(db, token, clock=clock) is None for token in tokens)
    assert db.scalars(select(WebSession).where(WebSession.ended_at.is_(None))).all() == []


@pytest.mark.parametrize("token", [None, "", "x" * 101, "not-a-session"])
def test_unknown_tokens_find_nothing(db, clock, token):
    assert load_session(db, token, clock=clock) is None
