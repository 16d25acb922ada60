"""Fixtures for the e-mail tests: a real SMTP server (aiosmtpd) on a free local port, a database that commits,
the mail jobs configured to send to that server, and a citizen who can be given an e-mail consent."""

from __future__ import annotations

import shutil
import socket
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from core.clock import FixedClock
from core.db import Base, make_engine, make_session_factory
from core.mail import SmtpMailer
from core.migrations import upgrade
from identity.models import Citizen
from mailing import jobs as mailing_jobs
from subsidies.catalogue import Service
from tests.conftest import truncate_as_the_test_superuser

SENDER = "Cổng thanh toán <no-reply@pay.test>"
BASE_URL = "https://pay.test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """What the SMTP server received: (envelope recipients, parsed message)."""

    def __init__(self):
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls it by this name
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


class SmtpServer:
    """A real SMTP server the test starts, stops (the relay is down) and starts again on the same port."""

    def __init__(self):
        self.port = free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture()
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def mail_to(smtp):
    """The mail jobs send through the test's SMTP server (plain SMTP on localhost); restored afterwards."""
    previous = (mailing_jobs._CONFIG.mailer, mailing_jobs._CONFIG.base_url, mailing_jobs._CONFIG.reminder_days)
    mailing_jobs.configure(SmtpMailer("127.0.0.1", smtp.port, SENDER, starttls=False), base_url=BASE_URL,
                           reminder_days=(3,))
    yield smtp
    mailing_jobs.configure(previous[0], base_url=previous[1], reminder_days=previous[2])


@pytest.fixture()
def clock() -> FixedClock:
    """10:00 in Hà Nội on 2 March 2026."""
    return FixedClock(datetime(2026, 3, 2, 3, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    path = tmp_path_factory.mktemp("mail-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture()
def committing(database_url, migrated_sqlite, tmp_path):
    """A session factory that really commits (jobs run in their own transactions), on an empty database."""
    if database_url.startswith("sqlite"):
        copy = tmp_path / "mail.db"
        shutil.copy(migrated_sqlite, copy)
        database_url = f"sqlite:///{copy}"
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            truncate_as_the_test_superuser(connection, [t.name for t in reversed(Base.metadata.sorted_tables)
                                                        if t.name != "sandbox_sessions"])
    engine.dispose()


@pytest.fixture()
def citizen(committing, clock):
    """A citizen (by ID hash ``payer-hash-1``) and the judicial-record service in the catalogue."""
    with committing() as session, session.begin():
        session.add(Service(code="LLTP", name_vi="Cấp Phiếu lý lịch tư pháp", name_en="Judicial record certificate",
                            kind="fee", unit="request", min_eid_level=1, created_at=clock.now()))
        person = Citizen(issuer="https://vneid.test", subject="mail-citizen", personal_id_encrypted=b"-",
                         personal_id_hash="payer-hash-1", personal_id_masked="0011******45", full_name="Test Person",
                         eid_level=2, created_at=clock.now(), updated_at=clock.now())
        session.add(person)
        session.flush()
        return person.id
