"""A quote request has one (de)serializer, and an e-ID login's facts apply to it as typed fields."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from subsidies.facts import EidFacts, QuoteRequest
from subsidies.vocabulary import CATEGORIES, CHANNELS

codes = st.one_of(st.none(), st.sampled_from(["01", "79", "48"]))
birthdates = st.one_of(st.none(), st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 12, 31)))
facts = st.builds(EidFacts, eid_level=st.sampled_from([1, 2]), residence_province_code=codes,
                  residence_commune_code=st.one_of(st.none(), st.sampled_from(["00004", "26734"])),
                  birthdate=birthdates)
requests = st.builds(
    QuoteRequest, service_code=st.sampled_from(["LLTP", "TLHT"]), channel=st.sampled_from(CHANNELS),
    decision_at=st.datetimes(min_value=datetime(2021, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
    quantity=st.integers(1, 5), birthdate=birthdates, residence_province_code=codes,
    eid_level=st.one_of(st.none(), st.sampled_from([1, 2])),
    categories=st.frozensets(st.sampled_from(sorted(CATEGORIES)), max_size=2))


@given(requests)
def test_a_stored_request_reads_back_as_the_same_request(request):
    assert QuoteRequest.from_dict(request.to_dict()) == request


@given(requests, facts)
def test_a_logins_facts_change_only_what_the_login_asserts(request, login):
    applied = login.apply_to(request)
    kept = ("service_code", "decision_at", "quantity", "categories", "code_list", "vehicle_class", "zone")
    assert all(getattr(applied, name) == getattr(request, name) for name in kept)
    assert (applied.channel, applied.eid_level, applied.birthdate) == ("VNEID", login.eid_level, login.birthdate)
    assert not login.differ_from(applied)


@given(requests, facts)
def test_facts_differ_from_a_request_exactly_when_one_asserted_field_differs(request, login):
    asserted = ("channel", "eid_level", "birthdate", "residence_province_code", "residence_commune_code")
    expected = any(getattr(request, name) != getattr(login, name) for name in asserted)
    assert login.differ_from(request) == expected
