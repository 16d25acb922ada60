"""Subsidy funds never over-reserve: a guarded UPDATE decides, even under 200 concurrent quotes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import func, select, update

from subsidies import budgets, quotes
from subsidies.budgets import Fund
from subsidies.seed import seed_catalogue, seed_rules


def test_a_reservation_fits_exactly_up_to_the_cap(seeded):
    seeded.execute(update(Fund).where(Fund.code == "HN-LLTP-2024").values(cap=500))
    assert budgets.try_reserve(seeded, "HN-LLTP-2024", 300)
    assert not budgets.try_reserve(seeded, "HN-LLTP-2024", 201)
    assert budgets.try_reserve(seeded, "HN-LLTP-2024", 200)
    assert budgets.fund_room(seeded)["HN-LLTP-2024"] == 0


def test_an_unknown_fund_is_reported(seeded):
    from subsidies.errors import FundUnknown

    with pytest.raises(FundUnknown):
        budgets.get_fund(seeded, "NOPE")
    assert not budgets.try_reserve(seeded, "NOPE", 1)


def test_two_hundred_concurrent_quotes_against_room_for_fifty_win_exactly_fifty(
        committed_db, session_factory, hanoi_request, clock):
    # PostgreSQL: rows locked by the guarded UPDATE; SQLite: BEGIN IMMEDIATE queues the writers.
    with committed_db() as session, session.begin():
        seed_catalogue(session)
        seed_rules(session, clock=clock)
        session.execute(update(Fund).where(Fund.code == "HN-LLTP-2024").values(cap=50 * 200_000))
    start = Barrier(20)

    def one_quote(index: int) -> int:
        if index < 20:
            start.wait()  # the first wave starts together, to make the race real
        with session_factory() as session, session.begin():
            return quotes.create_quote(session, hanoi_request(), clock=clock).amount_due

    with ThreadPoolExecutor(max_workers=20) as pool:
        amounts = list(pool.map(one_quote, range(200)))
    assert amounts.count(0) == 50
    assert amounts.count(200_000) == 150
    with committed_db() as session:
        fund = session.get(Fund, "HN-LLTP-2024")
        assert (fund.reserved, fund.committed) == (50 * 200_000, 0)
        held = session.scalar(select(func.count()).select_from(budgets.FundReservation))
        assert held == 50
