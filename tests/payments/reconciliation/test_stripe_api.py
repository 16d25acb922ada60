"""Stripe payouts fetched through the API (minor units) against a local fake of Stripe, imported once."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.clock import FixedClock
from payments.providers import register_provider, unregister_provider
from payments.providers.stripe import StripeProvider
from payments.reconciliation.models import ReportFile, ReportLine
from payments.reconciliation.parsed import ImportRejected
from payments.reconciliation.readers import read_report
from payments.reconciliation.stripe_fetch import LOOKBACK_DAYS, fetch_recent, fetch_stripe_payouts
from tests.payments.providers.fake_stripe import FakeStripe

FIXTURE = Path(__file__).parent / "fixtures" / "same-day.stripe-api.json"
#: 08:00 in Hà Nội on 5 December 2026.
CLOCK = FixedClock(datetime(2026, 12, 5, 1, 0, tzinfo=UTC))


def _at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def _charge(n: int, created: str, gross: int, fee: int, code: str, text: str = "Phí lý lịch tư pháp") -> dict:
    return {"id": f"txn_same{n:03d}", "object": "balance_transaction", "type": "charge",
            "reporting_category": "charge", "amount": gross, "fee": fee, "net": gross - fee, "currency": "vnd",
            "created": _at(created), "available_on": _at(created[:10] + " 00:00:00") + 2 * 86_400,
            "source": {"id": f"ch_same{n:03d}", "object": "charge", "payment_intent": f"pi_same{n:03d}",
                       "metadata": {"payment_id": code}, "description": text}}


def _same_day(fake: FakeStripe) -> None:
    """The three card payments of the same-day fixtures, in two payouts arriving on 3 and 4 December."""
    fake.add_payout("po_same01", _at("2026-12-03 01:00:00"), [
        _charge(1, "2026-12-01 02:15:02", 200_000, 7_800, "GW7K2M9Q4XAB"),
        _charge(2, "2026-12-01 03:12:40", 100_000, 3_900, "GW3P8R2T6V9C")])
    fake.add_payout("po_same02", _at("2026-12-04 01:00:00"), [
        _charge(4, "2026-12-02 01:00:00", 8_000, 312, "GW0000ABCD12", "Trích lục hộ tịch")])



@pytest.fixture()
def stripe_provider(fake):
    provider = register_provider(StripeProvider(secret_key="sk_test_fake", webhook_secrets=["whsec_x"], clock=CLOCK,
                                                api_base=fake.api_base, max_network_retries=0))
    yield provider
    unregister_provider("stripe")


def test_the_fetched_document_is_the_fixture_the_readers_agree_on(fake, stripe_provider):
    _same_day(fake)
    fetched = stripe_provider.payouts_report(arrived_from=datetime(2026, 12, 2, 17, tzinfo=UTC),
                                             arrived_before=datetime(2026, 12, 4, 17, tzinfo=UTC))
    assert json.loads(fetched) == json.loads(FIXTURE.read_bytes())
    lines = read_report(fetched, "stripe_api").provider_lines
    assert [(line.payout_id, line.payment_code, line.gross, line.fee, line.net) for line in lines] == [
        ("po_same01", "GW7K2M9Q4XAB", 200_000, 7_800, 192_200), ("po_same01", "GW3P8R2T6V9C", 100_000, 3_900, 96_100),
        ("po_same02", "GW0000ABCD12", 8_000, 312, 7_688)]
    assert lines[0].metadata["charge_id"] == "ch_same001" and lines[0].currency == "VND"


def test_every_page_is_fetched_and_the_payouts_own_entry_is_left_out(fake, stripe_provider):
    items = [_charge(n, "2026-12-01 02:00:00", 10_000 + n, 100, f"GW{n:010d}") for n in range(1, 251)]
    fake.add_payout("po_big", _at("2026-12-03 01:00:00"), items)
    fake.add_payout("po_other_day", _at("2026-12-05 01:00:00"), items[:1])
    document = json.loads(stripe_provider.payouts_report(arrived_from=datetime(2026, 12, 2, 17, tzinfo=UTC),
                                                         arrived_before=datetime(2026, 12, 3, 17, tzinfo=UTC)))
    [payout] = document["payouts"]
    assert payout["id"] == "po_big" and len(payout["balance_transactions"]) == 250
    assert sum(t["net"] for t in payout["balance_transactions"]) == payout["amount"]
    pages = [params for method, path, params in fake.requests if path == "/v1/balance_transactions"]
    assert len(pages) == 3 and pages[1]["starting_after"] == "txn_same100"


def test_a_day_is_imported_once_however_often_it_is_fetched(db, fake, stripe_provider):
    _same_day(fake)
    first = fetch_stripe_payouts(db, date(2026, 12, 3), clock=CLOCK)
    again = fetch_stripe_payouts(db, date(2026, 12, 3), clock=CLOCK)
    assert first.created and not again.created and again.file.id == first.file.id
    assert (first.file.format, first.file.filename) == ("stripe_api_payouts", "stripe-payouts-2026-12-03.json")
    stored = db.execute(select(ReportLine.payout_id, ReportLine.payment_code, ReportLine.amount, ReportLine.net,
                               ReportLine.booked_on).order_by(ReportLine.row)).all()
    assert stored == [("po_same01", "GW7K2M9Q4XAB", 200_000, 192_200, date(2026, 12, 1)),
                      ("po_same01", "GW3P8R2T6V9C", 100_000, 96_100, date(2026, 12, 1))]


def test_the_daily_fetch_looks_back_over_the_last_days_and_without_stripe_fetches_nothing(db, fake, stripe_provider):
    _same_day(fake)
    results = fetch_recent(db, clock=CLOCK)
    assert len(results) == LOOKBACK_DAYS and [r.file.line_count for r in results] == [0, 2, 1]  # 2, 3, 4 Dec
    unregister_provider("stripe")
    assert fetch_recent(db, clock=CLOCK) == []


@pytest.mark.parametrize(("change", "row", "reason"), [
    (lambda d: d["payouts"][0]["balance_transactions"][1].update(amount=100000.0), 2, "not an integer amount"),
    (lambda d: d["payouts"][1]["balance_transactions"][0].update(fee=311), 3, "!= net"),
    (lambda d: d["payouts"][0]["balance_transactions"][0].pop("currency"), 1, "missing currency"),
    (lambda d: d["payouts"][0]["balance_transactions"][0].update(created="yesterday"), 1, "Unix timestamp"),
    (lambda d: d["payouts"][1].pop("id"), 3, "without an id"),
])
def test_a_malformed_document_is_refused_with_the_row_and_nothing_is_kept(db, change, row, reason):
    from payments.reconciliation.imports import import_report

    document = json.loads(FIXTURE.read_bytes())
    change(document)
    with pytest.raises(ImportRejected) as caught:
        import_report(db, json.dumps(document).encode(), "stripe_api", filename="x.json", imported_by="t", clock=CLOCK)
    assert caught.value.row == row and reason in caught.value.reason
    assert db.scalar(select(func.count()).select_from(ReportFile)) == 0


@pytest.mark.parametrize("content", [b"not json", b'{"payouts": []}', b'{"source": "stripe_api"}', b"[]"])
def test_something_that_is_not_a_payouts_document_is_refused(content):
    with pytest.raises(ImportRejected):
        read_report(content, "stripe_api")


def _one_item(**changes) -> bytes:
    item = {"id": "txn_1", "reporting_category": "charge", "amount": 100_000, "fee": 0, "net": 100_000,
            "currency": "vnd", "created": 1_775_000_000, "source": {"id": "ch_1", "object": "charge"}, **changes}
    return json.dumps({"source": "stripe_api", "payouts": [{"id": "po_1", "balance_transactions": [item]}]}).encode()


@pytest.mark.parametrize("changes", [{"source": {"metadata": ["payment_id"]}}, {"source": {"description": 12345}},
                                     {"created": 10 ** 12}, {"available_on": 10 ** 12}])
def test_odd_values_in_a_document_are_refused_not_a_crash(changes):
    with pytest.raises(ImportRejected):
        read_report(_one_item(**changes), "stripe_api")


def test_balance_transactions_that_are_not_a_list_are_refused():
    document = {"source": "stripe_api", "payouts": [{"id": "po_1", "balance_transactions": {"id": "txn_1"}}]}
    with pytest.raises(ImportRejected):
        read_report(json.dumps(document).encode(), "stripe_api")
