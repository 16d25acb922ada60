"""The database kernel on both backends: UTC instants in and out, and bulk inserts that keep every value."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import JSON, Boolean, Column, Date, Integer, MetaData, String, Table, Text, select, text
from sqlalchemy.exc import StatementError

from core.db import UTCDateTime, bulk_insert, make_engine

metadata = MetaData()
samples = Table("test_db_samples", metadata, Column("id", Integer, primary_key=True), Column("at", UTCDateTime),
                Column("day", Date), Column("text", Text), Column("flag", Boolean), Column("data", JSON),
                Column("code", String(20)))


@pytest.fixture()
def table(fresh_engine):
    metadata.create_all(fresh_engine)
    yield samples
    metadata.drop_all(fresh_engine)


def test_instants_go_in_as_utc_and_come_back_aware(table, session_factory):
    hanoi = timezone(timedelta(hours=7))
    with session_factory() as session, session.begin():
        session.execute(table.insert().values(id=1, at=datetime(2026, 12, 1, 9, 0, tzinfo=hanoi)))
    with session_factory() as session:
        stored = session.scalar(select(table.c.at))
    assert stored == datetime(2026, 12, 1, 2, 0, tzinfo=UTC) and stored.utcoffset() == timedelta(0)


def test_a_naive_instant_is_refused(table, session_factory):
    with session_factory() as session, pytest.raises(StatementError, match="naive"):
        session.execute(table.insert().values(id=1, at=datetime(2026, 12, 1, 9, 0)))


def test_bulk_insert_keeps_awkward_values_exactly(table, session_factory):
    rows = [
        {"id": 1, "at": datetime(2026, 12, 1, 2, 0, tzinfo=UTC), "day": date(2026, 12, 1),
         "text": "tab\there\nnew line\\back slash\r and \\N", "flag": True, "data": {"a": [1, "đ"]}, "code": "GW1"},
        {"id": 2, "at": None, "day": None, "text": None, "flag": False, "data": None, "code": None},
        {"id": 3, "at": datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=7))), "day": date(2026, 1, 1),
         "text": "Phí lý lịch tư pháp", "flag": None, "data": [], "code": ""},
    ]
    with session_factory() as session, session.begin():
        bulk_insert(session, table, rows)
    with session_factory() as session:
        stored = [dict(row._mapping) for row in session.execute(select(table).order_by(table.c.id))]
    assert stored[0] == rows[0]
    assert stored[1] == {**rows[1], "data": None}
    assert stored[2] == {**rows[2], "at": datetime(2026, 12, 1, 2, 0, tzinfo=UTC)}


@pytest.fixture()
def postgres_url(database_url) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("pool pings are PostgreSQL's (SQLite has no server to lose)")
    return database_url


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT pg_backend_pid()"))


def _terminate(url: str, pid: int) -> None:
    other = make_engine(url)
    with other.connect() as connection:
        connection.scalar(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})  # waits for the exit
    other.dispose()


def test_a_connection_dropped_right_after_it_was_returned_is_replaced_before_use(postgres_url):
    engine = make_engine(postgres_url, pool_size=1)
    first = _backend_pid(engine)
    _terminate(postgres_url, first)  # a failover the instant after the request returned its connection
    assert _backend_pid(engine) != first  # the ping found it dead; the next request never saw an error
    engine.dispose()
