"""One e-receipt per settled bill, numbered per series with seven digits restarting each 1 January."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import select

from payments.models.receipts import Receipt
from payments.receipts import issue_receipt, issued_receipt, receipt_document, receipt_number
from payments.settlement import settle_free_bill
from tests.payments.factories import HANOI_PROGRAMME, judicial_record_quote, make_bill
from tests.payments.helpers import count


def _free_bill(session, clock):
    return make_bill(session, clock, quote=judicial_record_quote(due=0))


def test_a_free_bill_gets_a_receipt_showing_the_subsidy(db, clock):
    bill = settle_free_bill(db, _free_bill(db, clock).public_id, clock=clock)
    receipt = issued_receipt(db, bill.id)
    assert (receipt.amount_paid, receipt.base_amount, receipt.method) == (0, 200_000, "subsidy")
    assert receipt.subsidy_lines == [{"programme": HANOI_PROGRAMME, "amount": 200_000}]
    assert receipt.explanation == bill.explanation and receipt.year == 2026
    assert receipt_number(receipt) == f"BLTT26-{receipt.number:07d}"


def test_a_bill_gets_exactly_one_receipt(db, clock):
    bill = settle_free_bill(db, _free_bill(db, clock).public_id, clock=clock)
    again = issue_receipt(db, bill, None, clock=clock)
    assert again.id == issued_receipt(db, bill.id).id
    assert count(db, Receipt, Receipt.bill_id == bill.id) == 1


def test_numbering_restarts_at_midnight_on_1_january_in_hanoi(db, clock):
    clock.set(datetime(2026, 12, 31, 16, 59, tzinfo=UTC))  # 23:59 in Hà Nội
    last_of_2026 = issued_receipt(db, settle_free_bill(db, _free_bill(db, clock).public_id, clock=clock).id)
    clock.set(datetime(2026, 12, 31, 17, 0, tzinfo=UTC))  # 00:00 on 1 January 2027 in Hà Nội
    first_of_2027 = issued_receipt(db, settle_free_bill(db, _free_bill(db, clock).public_id, clock=clock).id)
    second_of_2027 = issued_receipt(db, settle_free_bill(db, _free_bill(db, clock).public_id, clock=clock).id)
    assert last_of_2026.year == 2026 and (first_of_2027.year, first_of_2027.number) == (2027, 1)
    assert second_of_2027.number == 2 and receipt_number(first_of_2027) == "BLTT27-0000001"


def test_concurrent_settlements_number_receipts_without_gaps_or_repeats(postgres_only, committing, clock):
    with committing() as session, session.begin():
        bills = [_free_bill(session, clock).public_id for _ in range(20)]

    def settle(public_id):
        with committing() as session, session.begin():
            settle_free_bill(session, public_id, clock=clock)

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(settle, bills))
    with committing() as session:
        numbers = sorted(session.scalars(select(Receipt.number).where(Receipt.year == 2026)))
    assert numbers == list(range(1, 21))


def test_a_rolled_back_settlement_gives_its_number_back(committing, clock):
    with committing() as session, session.begin():
        kept, dropped = _free_bill(session, clock).public_id, _free_bill(session, clock).public_id
    with committing() as session:
        settle_free_bill(session, dropped, clock=clock)
        session.rollback()
    with committing() as session, session.begin():
        settle_free_bill(session, kept, clock=clock)
    with committing() as session:
        assert list(session.scalars(select(Receipt.number))) == [1]


def test_the_receipt_document_shows_what_the_printed_receipt_shows(db, clock):
    bill = make_bill(db, clock, quote=judicial_record_quote(due=0), payer_name="Trần Thị B",
                     payer_masked_id="001******321")
    receipt = issued_receipt(db, settle_free_bill(db, bill.public_id, clock=clock).id)
    document = receipt_document(receipt)
    assert document["number"] == receipt_number(receipt) and document["amount_paid"] == 0
    assert document["payer"] == {"name": "Trần Thị B", "id": "001******321"}
    assert document["subsidies"] == [{"programme": HANOI_PROGRAMME, "amount": 200_000}]
    assert bill.payer_id_hash not in json.dumps(document, ensure_ascii=False)
