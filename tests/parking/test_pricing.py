"""Pricing stays from the seeded tariffs (Hà Nội Decision 44/2017, HCMC Decision 35/2018): every shape,
its boundaries, the grace, a tariff changing mid-stay, a pass and an exemption; and two properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.clock import VIETNAM
from parking.pricing import StayRequest, price_stay
from parking.stays import DAY, DAY_NIGHT, NIGHT, StayRefused
from subsidies.compiler import CompiledRuleSet
from subsidies.definitions import Effect
from subsidies.yaml_io import load_rule_files

SEED = [loaded.definition for loaded in load_rule_files() if loaded.status == "published"]
RULES = CompiledRuleSet(SEED)


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    """``hour:minute`` on ``day`` December 2026 in Hà Nội."""
    return datetime(2026, month, day, hour, minute, tzinfo=VIETNAM)


def price(vehicle: str, entered: datetime, exited: datetime, *, service: str = "PARKING_HN", rules=RULES, **more):
    return price_stay(rules, StayRequest(service, vehicle, entered, exited, **more))


@pytest.mark.parametrize(("entered", "exited", "amount", "bands"), [
    pytest.param(at(7, 8), at(7, 12), 5_000, [DAY], id="a morning"),
    pytest.param(at(7, 19), at(7, 23), 8_000, [NIGHT], id="an evening"),
    pytest.param(at(7, 17), at(7, 19), 12_000, [DAY_NIGHT], id="across 18:00"),
    pytest.param(at(7, 5, 59), at(7, 7), 12_000, [DAY_NIGHT], id="across 06:00"),
    pytest.param(at(7, 6), at(7, 18), 5_000, [DAY], id="06:00 to 18:00 exactly is one day turn"),
    pytest.param(at(7, 18), at(8, 6), 8_000, [NIGHT], id="18:00 to 06:00 exactly is one night turn"),
    pytest.param(at(7, 23), at(8, 1), 8_000, [NIGHT], id="across midnight"),
    pytest.param(at(7, 8), at(8, 10), 17_000, [DAY_NIGHT, DAY], id="26 hours: a full turn, then a day turn"),
    pytest.param(at(7, 8), at(7, 8, 10), 0, [], id="10 minutes is within the grace"),
    pytest.param(at(7, 8), at(7, 8, 11), 5_000, [DAY], id="11 minutes is a turn"),
])
def test_a_motorbike_pays_per_turn_by_band(entered, exited, amount, bands):
    priced = price("MOTORBIKE", entered, exited)
    assert priced.amount.amount == amount and [s.band for s in priced.segments] == bands
    assert all(s.unit == "turn" for s in priced.segments)


@pytest.mark.parametrize(("minutes", "amount"), [
    (9, 0), (10, 0), (11, 25_000), (60, 25_000), (61, 50_000), (120, 50_000), (121, 85_000),
    (5 * 60, 165_000), (26 * 60, 1_110_000)])
def test_a_car_pays_each_started_hour_at_its_tier_after_the_grace(minutes, amount):
    assert price("CAR", at(7, 9), at(7, 9) + timedelta(minutes=minutes)).amount.amount == amount


def test_a_car_on_central_hoan_kiem_streets_pays_per_started_two_hours():
    priced = price("CAR", at(7, 9), at(7, 12), zone="HOAN_KIEM_CENTRAL")
    assert priced.amount.amount == 120_000 and priced.segments[0].applied == ("PARK-HN-CAR-HOAN-KIEM@1",)


def _with_new_car_tariff(on: date) -> CompiledRuleSet:
    """The seed, with the car tariff replaced from ``on`` by 30,000 / 40,000 / 50,000."""
    old = next(d for d in SEED if d.rule_id == "PARK-HN-CAR")
    new = replace(old, version=2, effective_from=on, effects=(
        Effect("per_unit_price", amount=30_000, from_unit=1, to_unit=2),
        Effect("per_unit_price", amount=40_000, from_unit=3, to_unit=4),
        Effect("per_unit_price", amount=50_000, from_unit=5)))
    ended = replace(old, effective_to=on - timedelta(days=1))
    return CompiledRuleSet([d for d in SEED if d.rule_id != "PARK-HN-CAR"] + [ended, new])


def test_a_tariff_changing_mid_stay_splits_the_stay_and_keeps_the_tiers_counting():
    rules = _with_new_car_tariff(date(2026, 12, 8))
    priced = price("CAR", at(7, 22), at(8, 3), rules=rules)  # hours 1-2 on the 7th, hours 3-5 on the 8th
    assert [(s.first_hour, s.last_hour, s.amount, s.applied) for s in priced.segments] == [
        (1, 2, 50_000, ("PARK-HN-CAR@1",)), (3, 5, 130_000, ("PARK-HN-CAR@2",))]
    assert priced.amount.amount == 180_000 and priced.rule_set_hash == rules.hash


def test_a_pass_holder_pays_nothing_and_the_pass_is_named():
    priced = price("MOTORBIKE", at(7, 8), at(7, 20), right="pass:PSHN0001")
    assert (priced.amount.amount, priced.covered_by, priced.segments) == (0, "pass:PSHN0001", ())


def test_an_exempt_citizen_pays_nothing_and_sees_the_legal_basis():
    priced = price("MOTORBIKE", at(7, 8), at(7, 12), categories=frozenset({"DISABILITY"}))
    [segment] = priced.segments
    assert priced.amount.amount == 0 and "PARK-HN-EXEMPT-DISABILITY@1" in segment.applied
    entries = [entry for layer in segment.explanation for entry in layer["entries"]]
    exempt = next(e for e in entries if e["rule_id"] == "PARK-HN-EXEMPT-DISABILITY")
    assert exempt["applied"] and any(b["doc"] == "51/2010/QH12" for b in exempt["legal_basis"])


def test_the_hcmc_lot_prices_its_own_levels():
    assert price("MOTORBIKE", at(7, 8), at(7, 12), service="PARKING_HCM").amount.amount == 4_000
    assert price("MOTORBIKE", at(7, 19), at(7, 22), service="PARKING_HCM").amount.amount == 6_000
    assert price("BICYCLE", at(7, 8), at(7, 12), service="PARKING_HCM").amount.amount == 2_000


def test_an_exit_before_the_entry_is_refused():
    with pytest.raises(StayRefused):
        price("CAR", at(7, 9), at(7, 8))


ENTRIES = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)).map(
    lambda naive: naive.replace(tzinfo=VIETNAM))
MINUTES = st.integers(min_value=0, max_value=4 * 24 * 60)


@settings(max_examples=300, deadline=None)
@given(vehicle=st.sampled_from(["MOTORBIKE", "CAR"]), entered=ENTRIES, shorter=MINUTES, more=MINUTES)
def test_a_longer_stay_never_costs_less(vehicle, entered, shorter, more):
    short = price(vehicle, entered, entered + timedelta(minutes=shorter))
    longer = price(vehicle, entered, entered + timedelta(minutes=shorter + more))
    assert short.amount.amount <= longer.amount.amount
    assert sum(s.amount for s in longer.segments) == longer.amount.amount


@settings(max_examples=200, deadline=None)
@given(entered=ENTRIES, minutes=MINUTES, change=st.dates(min_value=date(2026, 1, 2), max_value=date(2026, 12, 31)))
def test_a_tariff_that_only_rises_never_lowers_a_stay(entered, minutes, change):
    # The replacement tariff charges more at every tier: a stay across the change costs at least the old price.
    exited = entered + timedelta(minutes=minutes)
    assert price("CAR", entered, exited).amount <= price("CAR", entered, exited,
                                                          rules=_with_new_car_tariff(change)).amount
