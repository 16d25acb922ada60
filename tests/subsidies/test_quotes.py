"""Quotes: previews change nothing; pinned quotes keep their price, explanation and reservations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from subsidies import quotes
from subsidies.budgets import Fund, FundReservation
from subsidies.errors import QuoteNotOpen, UnknownService
from subsidies.rule_store import RuleVersion, add_version, current_rule_set, snapshot_rule_set
from subsidies.schema import parse_rule


def _fund(session, code="HN-LLTP-2024") -> Fund:
    session.expire_all()
    return session.get(Fund, code)


def test_a_preview_prices_without_storing_or_reserving(seeded, hanoi_request):
    decision = quotes.preview(seeded, hanoi_request())
    assert decision.amount_due == 0
    assert seeded.scalar(select(func.count()).select_from(quotes.Quote)) == 0
    assert _fund(seeded).reserved == 0


def test_a_pinned_quote_reserves_the_subsidy_and_stores_its_explanation(seeded, hanoi_request, clock):
    quote = quotes.create_quote(seeded, hanoi_request(quantity=4), citizen_ref="citizen-1", clock=clock)
    assert (quote.base_amount, quote.amount_due, quote.status) == (210_000, 0, "open")
    assert quote.rule_set_hash == current_rule_set(seeded).hash
    assert _fund(seeded).reserved == 210_000
    applied = [e for layer in quote.explanation for e in layer["entries"] if e["applied"]]
    cited = {basis["doc"] for entry in applied for basis in entry["legal_basis"]}
    assert cited == {"244/2016/TT-BTC", "11/2024/NQ-HĐND"}


def test_payment_commits_the_reservation(seeded, hanoi_request, clock):
    quote = quotes.create_quote(seeded, hanoi_request(), clock=clock)
    quotes.mark_paid(seeded, quote.id, clock=clock)
    fund = _fund(seeded)
    assert (fund.reserved, fund.committed) == (0, 200_000)
    assert seeded.scalar(select(FundReservation.status)) == "committed"
    with pytest.raises(QuoteNotOpen):
        quotes.mark_paid(seeded, quote.id, clock=clock)
    assert _fund(seeded).committed == 200_000, "a second payment call moves no money"


def test_cancelling_and_expiry_release_the_reservation(seeded, hanoi_request, clock):
    cancelled = quotes.create_quote(seeded, hanoi_request(), clock=clock)
    expiring = quotes.create_quote(seeded, hanoi_request(), ttl=timedelta(minutes=30), clock=clock)
    quotes.create_quote(seeded, hanoi_request(), ttl=timedelta(hours=2), clock=clock)
    quotes.cancel_quote(seeded, cancelled.id, clock=clock)
    clock.advance(hours=1)
    assert quotes.expire_quotes(seeded, clock=clock) == 1
    assert quotes.get_quote(seeded, expiring.id).status == "expired"
    assert _fund(seeded).reserved == 200_000, "only the quote still open holds money"


def test_an_exhausted_fund_stops_the_rule_and_the_explanation_says_so(seeded, hanoi_request, clock):
    fund = _fund(seeded)
    fund.cap = 250_000
    seeded.flush()
    first = quotes.create_quote(seeded, hanoi_request(), clock=clock)
    second = quotes.create_quote(seeded, hanoi_request(), clock=clock)
    assert (first.amount_due, second.amount_due) == (0, 200_000)
    entry = next(e for layer in second.explanation for e in layer["entries"] if e["rule_id"] == "HN-LLTP-VNEID")
    assert entry["outcome"] == "fund_exhausted"
    assert "ngân sách hỗ trợ đã hết" in entry["reason"]["vi"]
    assert second.exhausted_funds == ["HN-LLTP-2024"]
    assert quotes.replays_identically(seeded, second)


def test_a_newer_rule_set_never_reprices_a_pinned_quote(seeded, hanoi_request, clock):
    quote = quotes.create_quote(seeded, hanoi_request(eid_level=1), clock=clock)
    assert quote.amount_due == 200_000
    loosened = parse_rule({**seeded.scalar(select(RuleVersion.definition).where(
        RuleVersion.rule_id == "HN-LLTP-VNEID", RuleVersion.version == 1)), "version": 3,
        "effective_from": "2024-06-01", "effective_to": "2024-12-31",
        "conditions": [{"field": "channel", "op": "eq", "value": "VNEID"}]})
    row = add_version(seeded, loosened, author_id="editor", clock=clock)
    row.status, row.approver_id = "published", "approver"
    seeded.flush()
    snapshot_rule_set(seeded, "approver", clock)
    assert current_rule_set(seeded).hash != quote.rule_set_hash
    assert quotes.preview(seeded, hanoi_request(eid_level=1)).amount_due == 0
    stored = quotes.get_quote(seeded, quote.id)
    assert stored.amount_due == 200_000
    assert quotes.replays_identically(seeded, stored)


def test_a_quote_for_an_unknown_service_is_refused(seeded, hanoi_request, clock):
    with pytest.raises(UnknownService):
        quotes.create_quote(seeded, hanoi_request(service_code="NOPE"), clock=clock)


def test_the_expiry_job_releases_reservations_of_quotes_past_their_time(seeded, hanoi_request, clock):
    from subsidies.jobs import expire_open_quotes

    quote = quotes.create_quote(seeded, hanoi_request(), ttl=timedelta(seconds=-1), clock=clock)
    expire_open_quotes(seeded, {})
    expire_open_quotes(seeded, {})
    assert quotes.get_quote(seeded, quote.id).status == "expired"
    assert _fund(seeded).reserved == 0
