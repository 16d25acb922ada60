"""Purchases of one pass at once, on PostgreSQL: one pass and one bill, each buyer gets that pass or a refusal.

Each buyer runs ``buy_pass`` in its own connection and transaction, as a request does: a refusal rolls the
transaction back (``citizen.views.parking.buy_pass`` does the same). To make an interleaving certain rather
than likely, a test holds a lock in another transaction until the buyers wait on it: a SHARE lock on
``parking_passes`` lets every buyer look for the pass, find none and bill it, and holds its insert back; a
lock on a citizen's row holds that citizen's inserted (uncommitted) pass at its foreign-key check.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import select, text

from identity.models import Citizen
from parking.errors import PassRefused
from parking.models import ParkingPass
from parking.passes import buy_pass
from parking.vehicles import link_vehicle, unlink_vehicle
from payments.models.billing import Bill
from subsidies.seed import seed_catalogue, seed_rules
from tests.parking.conftest import add_citizen

DECEMBER = date(2026, 12, 1)
LOT = "HK-HANG-KHAY"
PLATE = "29A12345"


@pytest.fixture()
def shop(postgres_only, committed_operator, clock):
    """Committed: the lots, the passes' rules, two citizens and the plate linked to the first."""
    factory = committed_operator
    with factory() as session, session.begin():
        seed_catalogue(session)
        seed_rules(session)
        an = add_citizen(session)
        binh = add_citizen(session, "c-2", "001095067890", "Trần Thị Bình")
        vehicle = link_vehicle(session, an, PLATE, "MOTORBIKE", clock=clock)
        ids = {"an": an.id, "binh": binh.id, "vehicle": vehicle.id}
    return factory, ids


def _buy(factory, citizen_id: int, vehicle_id: int, clock) -> str:
    """The public id of the pass bought, or ``refused:<reason>``; anything else (an IntegrityError) raises."""
    try:
        with factory() as session, session.begin():
            return buy_pass(session, session.get(Citizen, citizen_id), vehicle_id, LOT, DECEMBER,
                            clock=clock).public_id
    except PassRefused as refused:  # the transaction was rolled back, its bill with it
        return f"refused:{refused.details['reason']}"


def _waiting(factory) -> int:
    """How many transactions of the test database wait on a lock."""
    with factory() as probe:
        return probe.scalar(text("SELECT count(*) FROM pg_stat_activity "
                                 "WHERE datname = current_database() AND wait_event_type = 'Lock'"))


def _until_waiting(factory, buyers: int) -> None:
    deadline = time.monotonic() + 20
    while (waiting := _waiting(factory)) < buyers and time.monotonic() < deadline:
        time.sleep(0.02)
    assert waiting == buyers, f"{waiting} of {buyers} buyers wait on the lock (the others failed first?)"


@contextmanager
def lock_held(factory, lock: str, **params):
    """Hold ``lock`` (a statement) in a transaction of its own; ``release(buyers)`` lets go of it once
    ``buyers`` transactions wait on a lock.

    Enter it inside the buyers' thread pool: leaving it early then lets go of the lock before the pool waits
    for its threads."""
    holder = factory()
    holder.begin()
    holder.execute(text(lock), params)

    def release(buyers: int) -> None:
        try:
            _until_waiting(factory, buyers)
        finally:
            holder.commit()

    try:
        yield release
    finally:
        holder.close()  # rolls back (lets go of the lock) when release() was never reached


INSERTS = "LOCK TABLE parking_passes IN SHARE MODE"  # reads go on, inserts wait
CITIZEN_ROW = "SELECT id FROM citizens WHERE id = :id FOR UPDATE"  # a pass of theirs waits at its foreign key


def _sold(factory) -> tuple[list[ParkingPass], list[Bill]]:
    with factory() as session:
        return list(session.scalars(select(ParkingPass))), list(session.scalars(select(Bill)))


def _one_pass_one_bill(factory, answers: list[str], allowed_refusals: set[str]) -> ParkingPass:
    passes, bills = _sold(factory)
    assert len(passes) == 1, f"{len(passes)} passes for one plate, lot and month"
    [sold] = passes
    assert [(bill.id, bill.agency_reference, bill.amount_due) for bill in bills] == [
        (sold.bill_id, sold.public_id, 120_000)], "the pass has exactly one bill, and no other bill was left"
    assert sold.public_id in answers, "someone got the pass"
    assert {answer for answer in answers if answer != sold.public_id} <= {f"refused:{r}" for r in allowed_refusals}
    return sold


def test_two_tabs_buying_the_same_pass_at_once_make_one_pass_and_one_bill(shop, clock):
    factory, ids = shop
    with ThreadPoolExecutor(2) as pool, lock_held(factory, INSERTS) as release:
        tabs = [pool.submit(_buy, factory, ids["an"], ids["vehicle"], clock) for _ in range(2)]
        release(buyers=2)  # both tabs found no pass and billed one: the index decides
        answers = [tab.result(timeout=30) for tab in tabs]
    sold = _one_pass_one_bill(factory, answers, {"just_bought"})
    assert sorted(answers) == sorted([sold.public_id, "refused:just_bought"])
    assert _buy(factory, ids["an"], ids["vehicle"], clock) == sold.public_id  # the next click answers the pass


def test_eight_purchases_released_at_once_make_one_pass_and_one_bill(shop, clock):
    factory, ids = shop  # no insert held back: whatever interleaving the threads fall into
    start = threading.Barrier(8)

    def buy(_):
        start.wait(timeout=30)
        return _buy(factory, ids["an"], ids["vehicle"], clock)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(buy, range(8)))
    _one_pass_one_bill(factory, answers, {"just_bought"})


def test_a_plate_handed_over_while_its_pass_is_bought_gets_one_pass_between_the_two_citizens(shop, clock):
    factory, ids = shop  # two citizens never hold live links of one plate at once (link_vehicle's index): the
    # only race between them is An's purchase in flight while An unlinks the plate and Bình links and buys it
    with ThreadPoolExecutor(2) as pool, lock_held(factory, CITIZEN_ROW, id=ids["an"]) as release:
        an_buys = pool.submit(_buy, factory, ids["an"], ids["vehicle"], clock)
        _until_waiting(factory, 1)  # An's pass is inserted, not committed: its foreign-key check waits
        with factory() as session, session.begin():
            unlink_vehicle(session, session.get(Citizen, ids["an"]), ids["vehicle"], clock=clock)
            binh_vehicle = link_vehicle(session, session.get(Citizen, ids["binh"]), PLATE, "MOTORBIKE",
                                        clock=clock).id
        binh_buys = pool.submit(_buy, factory, ids["binh"], binh_vehicle, clock)
        release(buyers=2)  # Bình found no pass (An's is not committed), billed one, and waits on An's insert
        answers = [an_buys.result(timeout=30), binh_buys.result(timeout=30)]
    sold = _one_pass_one_bill(factory, answers, {"just_bought"})
    assert (sold.citizen_id, answers) == (ids["an"], [sold.public_id, "refused:just_bought"])
    # Bình, holding the plate now, is told the month's pass is someone else's; An no longer holds the plate
    assert _buy(factory, ids["binh"], binh_vehicle, clock) == "refused:held_by_someone_else"
    assert _buy(factory, ids["an"], ids["vehicle"], clock) == "refused:vehicle_not_linked"
    assert len(_sold(factory)[1]) == 1
