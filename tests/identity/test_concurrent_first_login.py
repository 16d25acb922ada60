"""Two first logins of one e-ID account at the same moment (two tabs, a double submit) make one citizen
and one consent.

Found by the crash matrix (tests/deployed/test_crash_matrix.py): with several journeys logging the same
citizen in at once, the second INSERT of the ``(issuer, subject)`` citizen row, and of the
``(citizen_id, notice_version)`` consent row, hit the unique constraint: the callback (or the consent form)
answered 500.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import delete, func, select, text

from core.db import make_session_factory
from identity.citizens import CitizenFacts, give_consent, upsert_citizen
from identity.models import Citizen, Consent
from identity.personal_data import PersonalIdVault

VAULT = PersonalIdVault(b"k" * 32)


def _facts(subject: str) -> CitizenFacts:
    return CitizenFacts(issuer="https://id.example.vn", subject=subject, personal_id="079090045678",
                        full_name="Lê Minh Châu", birth_date=date(1990, 11, 20), residence_province="79",
                        residence_commune="26734", eid_level=2)


@pytest.fixture()
def postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: two writers at once (SQLite serialises them before the first read)")


def test_a_concurrent_first_login_of_the_same_account_finds_the_citizen_the_other_one_created(postgres_only,
                                                                                               fresh_engine):
    factory = make_session_factory(fresh_engine)
    facts = _facts(f"race-{uuid.uuid4().hex}")
    try:
        with factory() as first, ThreadPoolExecutor(1) as pool:
            first.begin()
            created = upsert_citizen(first, facts, VAULT)  # inserted, not yet committed

            def second_login() -> int:
                with factory() as second, second.begin():
                    return upsert_citizen(second, facts, VAULT).id  # reads no row, then inserts the same key

            racing = pool.submit(second_login)
            _wait_until_a_backend_waits_for_a_lock(fresh_engine, "citizens")  # the second INSERT waits
            first.commit()
            assert racing.result(timeout=30) == created.id
        with factory() as session:
            count = session.scalar(select(func.count()).select_from(Citizen).where(Citizen.subject == facts.subject))
        assert count == 1
    finally:
        with factory() as session, session.begin():
            session.execute(delete(Citizen).where(Citizen.subject == facts.subject))


def test_the_consent_form_sent_twice_at_once_records_one_consent(postgres_only, fresh_engine):
    factory = make_session_factory(fresh_engine)
    facts = _facts(f"race-{uuid.uuid4().hex}")
    with factory() as session, session.begin():
        citizen_id = upsert_citizen(session, facts, VAULT).id
    try:
        with factory() as first, ThreadPoolExecutor(1) as pool:
            first.begin()
            consent = give_consent(first, first.get(Citizen, citizen_id))  # recorded, not yet committed

            def second_form() -> int:
                with factory() as second, second.begin():
                    return give_consent(second, second.get(Citizen, citizen_id)).id  # sees none, inserts one

            racing = pool.submit(second_form)
            _wait_until_a_backend_waits_for_a_lock(fresh_engine, "consents")
            first.commit()
            assert racing.result(timeout=30) == consent.id
        with factory() as session:
            count = session.scalar(select(func.count()).select_from(Consent).where(Consent.citizen_id == citizen_id))
        assert count == 1
    finally:
        with factory() as session, session.begin():
            session.execute(delete(Consent).where(Consent.citizen_id == citizen_id))
            session.execute(delete(Citizen).where(Citizen.id == citizen_id))


def _wait_until_a_backend_waits_for_a_lock(engine, table: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query ILIKE :insert"), {"insert": f"INSERT INTO {table}%"})
            connection.rollback()
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("the second login never reached its INSERT")
