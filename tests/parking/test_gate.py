"""Gate events make sessions: once per event id, in any order, under concurrency, priced at the exit."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.clock import VIETNAM
from parking.errors import EventIdReused, EventInvalid, LotNotFound
from parking.gate import GateEventIn, take_event
from parking.lots import operator_by_code
from parking.models import GateEvent, ParkingSession
from subsidies.compiler import CompiledRuleSet
from subsidies.yaml_io import load_rule_files
from tests.parking.conftest import NOW, VAULT

RULES = CompiledRuleSet(loaded.definition for loaded in load_rule_files() if loaded.status == "published")

_serial = iter(range(10**9))


def event(kind: str, at: datetime, plate: str = "29A-123.45", vehicle: str = "MOTORBIKE", *, event_id: str = "",
          lot: str = "HK-HANG-KHAY") -> GateEventIn:
    return GateEventIn(event_id or f"ev-{next(_serial)}", lot, kind, at, plate, vehicle, "plate_read", plate)


def hanoi(hour: int, minute: int = 0, day: int = 7) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=VIETNAM)


def take(db, operator, sent, clock):
    return take_event(db, operator, sent, rule_set=RULES, vault=VAULT, clock=clock)


def test_an_entry_opens_a_session_and_its_exit_closes_it_priced_from_the_tariff(db, operator, clock):
    opened = take(db, operator, event("entry", hanoi(8)), clock).session
    assert (opened.status, opened.amount, opened.plate) == ("open", None, "29A12345")
    closed = take(db, operator, event("exit", hanoi(12)), clock).session
    assert closed.public_id == opened.public_id and (closed.status, closed.amount, closed.flags) == ("closed", 5000, [])
    [segment] = closed.pricing["segments"]
    assert segment["band"] == "DAY" and segment["applied"] == ["PARK-HN-MOTORBIKE-DAY@1"]


def test_a_retried_event_changes_nothing_and_another_event_under_its_id_is_refused(db, operator, clock):
    sent = event("entry", hanoi(8), event_id="gate-7-000123")
    first, again = take(db, operator, sent, clock), take(db, operator, sent, clock)
    assert (first.repeated, again.repeated) == (False, True) and first.session.id == again.session.id
    with pytest.raises(EventIdReused):
        take(db, operator, event("exit", hanoi(9), event_id="gate-7-000123"), clock)
    assert db.scalar(select(func.count()).select_from(GateEvent)) == 1


def test_an_exit_without_entry_is_priced_by_the_lots_rule_and_flagged_until_the_entry_arrives(db, operator, clock):
    lone = take(db, operator, event("exit", hanoi(12)), clock).session
    # Priced as a stay of 24 hours ending at the exit: one turn across day and night.
    assert (lone.status, lone.flags, lone.amount) == ("closed", ["exit_without_entry"], 12000)
    late = take(db, operator, event("entry", hanoi(8)), clock).session  # the entry arrives late
    assert late.public_id == lone.public_id and (late.flags, late.amount) == ([], 5000)


def test_a_second_entry_without_an_exit_supersedes_the_first(db, operator, clock):
    first = take(db, operator, event("entry", hanoi(8)), clock).session
    second = take(db, operator, event("entry", hanoi(10)), clock).session
    take(db, operator, event("exit", hanoi(11)), clock)
    db.expire_all()
    assert (db.get(ParkingSession, first.id).status, db.get(ParkingSession, first.id).flags) == (
        "superseded", ["entry_without_exit"])
    assert (db.get(ParkingSession, second.id).status, db.get(ParkingSession, second.id).amount) == ("closed", 5000)


def test_a_gate_clock_ahead_is_flagged_and_far_ahead_refused(db, operator, clock):
    ahead = take(db, operator, event("entry", NOW + timedelta(minutes=20)), clock).session
    assert ahead.flags == ["clock_skew"]
    with pytest.raises(EventInvalid):
        take(db, operator, event("entry", NOW + timedelta(hours=2), plate="30B99999"), clock)


def test_events_for_another_operators_lot_or_a_class_the_lot_does_not_take_are_refused(db, operator, clock):
    with pytest.raises(LotNotFound):
        take(db, operator, event("entry", hanoi(8), lot="Q1-LE-LOI"), clock)
    hcm = operator_by_code(db, "HCM-PARKING")
    with pytest.raises(EventInvalid) as refused:
        take(db, hcm, event("entry", hanoi(8), vehicle="CAR", lot="Q1-LE-LOI"), clock)
    assert "CAR" in refused.value.message


def test_a_car_pays_its_hours(db, operator, clock):
    take(db, operator, event("entry", hanoi(9), plate="30G-555.55", vehicle="CAR"), clock)
    assert take(db, operator, event("exit", hanoi(14, 5), plate="30G55555", vehicle="CAR"), clock).session.amount == (
        2 * 25_000 + 2 * 35_000 + 2 * 45_000)  # six started hours


def _stream(vehicles: int, seed: int) -> list[GateEventIn]:
    """Each vehicle comes and goes a few times through the day; some exits or entries are missing."""
    chance = random.Random(seed)
    events = []
    for number in range(vehicles):
        plate, at = f"29A{number:05d}", hanoi(6) + timedelta(minutes=chance.randrange(0, 600))
        for _ in range(chance.randrange(1, 4)):
            if chance.random() > 0.05:
                events.append(event("entry", at, plate))
            at += timedelta(minutes=chance.randrange(11, 400))
            if chance.random() > 0.05:
                events.append(event("exit", at, plate))
            at += timedelta(minutes=chance.randrange(1, 120))
    return events


def _outcome(db) -> set[tuple]:
    rows = db.execute(select(ParkingSession.plate, ParkingSession.entered_at, ParkingSession.exited_at,
                             ParkingSession.status, ParkingSession.amount)).all()
    return {tuple(row) for row in rows}


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000))
def test_shuffled_events_give_the_same_sessions_and_charges_as_the_ordered_stream(db, operator, clock, seed):
    _same_either_way(db, operator, clock, _stream(15, seed), seed)


def test_a_thousand_shuffled_events_of_two_hundred_vehicles_give_the_ordered_streams_sessions(
        postgres_only, db, operator, clock):
    stream = _stream(200, seed=7)
    while len(stream) > 1_000:
        stream.pop()
    _same_either_way(db, operator, clock, stream, seed=7)


def _same_either_way(db, operator, clock, stream: list[GateEventIn], seed: int) -> None:
    clock.set(hanoi(6, day=9))  # every event of the day has happened by then
    results = []
    for order in (sorted(stream, key=lambda e: e.at), random.Random(seed).sample(stream, len(stream))):
        savepoint = db.begin_nested()
        try:
            for sent in order:
                take(db, operator, sent, clock)
            results.append(_outcome(db))
        finally:
            savepoint.rollback()
            db.expunge_all()
    assert results[0] == results[1] and len(results[0]) >= len({e.plate for e in stream})


def test_ten_copies_of_one_event_at_once_make_one_event_and_one_session(postgres_only, committed_operator, clock):
    factory = committed_operator
    sent = event("entry", hanoi(8), event_id="gate-1-000042")

    def deliver(_):
        with factory() as session, session.begin():
            return take(session, operator_by_code(session, "HN-PARKING"), sent, clock).session.public_id

    with ThreadPoolExecutor(10) as pool:
        answers = set(pool.map(deliver, range(10)))
    with factory() as session:
        assert len(answers) == 1 and session.scalar(select(func.count()).select_from(ParkingSession)) == 1
        assert session.scalar(select(func.count()).select_from(GateEvent)) == 1


def test_an_entry_and_an_exit_of_one_vehicle_at_once_make_one_closed_session(postgres_only, committed_operator, clock):
    factory = committed_operator

    def deliver(sent):
        with factory() as session, session.begin():
            take(session, operator_by_code(session, "HN-PARKING"), sent, clock)

    clock.set(hanoi(23))
    for visit in range(5):  # each visit's two events race each other; without the vehicle's lock, a rebuild
        start = hanoi(7) + timedelta(hours=2 * visit)  # that missed the other event made two sessions
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(deliver, [event("entry", start, plate="29A77777"),
                                    event("exit", start + timedelta(hours=1), plate="29A77777")]))
    with factory() as session:
        assert session.scalars(select(ParkingSession.status)).all() == ["closed"] * 5
