"""Transaction search with filters and paging, and one transaction traced to its bill, receipt and ledger."""

from __future__ import annotations

import re
from datetime import timedelta

from identity.roles import FINANCE_OFFICER
from payments.reconciliation.transactions import PAGE_SIZE
from tests.admin.finance import settled
from tests.admin.finance.settled import paid_bill
from tests.admin.finance.support import at_vietnam, days_ago, payment, text_of

paying = settled.paying


def _search(client, **args):
    return client.get("/admin/finance/transactions", query_string=args)


def test_the_search_filters_by_service_agency_channel_status_code_and_amount(officer, db):
    day = days_ago(2)
    card = payment(db, amount=200_000, finished_at=at_vietnam(day, 9), service="LLTP", provider="stripe")
    payment(db, amount=25_000, finished_at=at_vietnam(day, 10), service="PARKING", provider="vietqr",
            agency="HCM-STP")
    payment(db, amount=77_000, finished_at=at_vietnam(day, 11), status="declined", provider="vnpay")
    payment(db, amount=50_000, finished_at=at_vietnam(days_ago(20), 11))  # outside the default week
    page = text_of(_search(officer))
    assert "3 transactions" in page and "declined" in page and "50,000 ₫" not in page
    assert "1 transactions" in text_of(_search(officer, service="PARKING"))
    assert "1 transactions" in text_of(_search(officer, agency="HCM-STP"))
    assert "1 transactions" in text_of(_search(officer, provider="vnpay", status="declined"))
    assert "2 transactions" in text_of(_search(officer, status="succeeded"))
    assert "2 transactions" in text_of(_search(officer, min="50.000", max="200,000"))
    by_code = text_of(_search(officer, code=card.public_id))
    assert "1 transactions" in by_code and card.public_id in by_code
    wide = f"{days_ago(30):%d/%m/%Y}"
    assert "4 transactions" in text_of(_search(officer, **{"from": wide}))


def test_a_bad_filter_is_explained_next_to_its_field(officer):
    response = _search(officer, min="nhiều", max="1000")
    assert response.status_code == 422
    text = text_of(response)
    assert "Enter the smallest amount in whole dong" in text and 'aria-invalid="true"' in text
    reversed_range = _search(officer, min="5000", max="1000")
    assert reversed_range.status_code == 422 and "must not be below the smallest" in text_of(reversed_range)
    assert _search(officer, **{"from": "31/02/2026"}).status_code == 422


def test_results_come_a_page_at_a_time_newest_first(officer, db):
    day = days_ago(1)
    for minute in range(PAGE_SIZE + 2):
        payment(db, amount=1_000 + minute, finished_at=at_vietnam(day, 8) + timedelta(minutes=minute))
    first = _search(officer, max="9999").get_data(as_text=True)
    assert f"{PAGE_SIZE + 2} transactions" in " ".join(first.split()) and "Page 1 of 2" in first
    assert first.index("1,051 ₫") < first.index("1,050 ₫")  # newest first
    following = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = text_of(officer.get(following))
    assert "Page 2 of 2" in second and "1,000 ₫" in second and "1,051 ₫" not in second
    assert "Page 2 of 2" in text_of(_search(officer, max="9999", page="99"))  # past the end: the last page


def test_a_transaction_shows_its_bill_attempts_receipt_and_balanced_ledger_postings(officer, db, paying):
    paid = paid_bill(db, paying, declined_first=True)
    response = officer.get(f"/admin/finance/transactions/{paid.public_id}")
    assert response.status_code == 200
    text = text_of(response)
    assert "HN-STP" in text and "LLTP" in text and "Subsidy HN-NQ11-2024" in text and "50,000 ₫" in text
    assert text.count("declined") >= 1 and "succeeded" in text  # both attempts, with their events
    assert "No receipt has been issued" not in text and "series" in text
    for account in ("clearing:sandbox", "subsidy_receivable:HN-NQ11-2024", "budget_payable:HN-STP"):
        assert account in text
    assert "balanced" in text and "not balanced" not in text
    assert 'data-total="debits">200,000 ₫' in text and 'data-total="credits">200,000 ₫' in text
    listed = text_of(_search(officer, code=paid.public_id[:6].lower()))
    assert f'href="/admin/finance/transactions/{paid.public_id}"' in listed


def test_an_unknown_payment_code_is_not_found(officer):
    assert officer.get("/admin/finance/transactions/GW0000000000").status_code == 404


def test_the_pages_read_in_vietnamese(login_as, db, paying):
    paid = paid_bill(db, paying)
    client = login_as(FINANCE_OFFICER, "vi")
    listed = text_of(client.get("/admin/finance/transactions"))
    assert "Tìm giao dịch" in listed and "1 giao dịch từ" in listed and "thành công" in listed
    detail = text_of(client.get(f"/admin/finance/transactions/{paid.public_id}"))
    assert "Sổ cái" in detail and "cân đối" in detail and "Hỗ trợ HN-NQ11-2024" in detail
    assert "Chuyển cấp trên" not in detail
