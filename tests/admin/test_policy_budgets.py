"""The subsidy funds page through the test client: who reads it, and its numbers after real reservations."""

from __future__ import annotations

from datetime import date

from core.money import Money, format_money
from identity.roles import FINANCE_OFFICER, POLICY_APPROVER, POLICY_EDITOR
from subsidies.budgets import Fund
from subsidies.quotes import mark_paid
from tests.admin.policy_support import hanoi_quote

SUPPORT_DAY = date(2024, 7, 1)  # HN-LLTP-VNEID@1 pays the 200,000 đ fee from fund HN-LLTP-2024


def _dong(amount: int) -> str:
    return format_money(Money(amount, "VND"), "vi")


def test_policy_staff_read_the_funds_and_others_are_refused(as_role, seeded):
    for role in (POLICY_EDITOR, POLICY_APPROVER):
        page = as_role(role).get("/admin/policy/budgets")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "HN-LLTP-2024" in text and "HN-LLTP-2025" in text and "HN-LLTP-VNEID@1" in text
    assert as_role(FINANCE_OFFICER).get("/admin/policy/budgets").status_code == 403


def test_the_page_shows_cap_reserved_committed_remaining_and_a_bar(as_role, seeded):
    paid = hanoi_quote(seeded, SUPPORT_DAY, "citizen-1")
    hanoi_quote(seeded, SUPPORT_DAY, "citizen-2")
    mark_paid(seeded, paid.id)
    fund = seeded.get(Fund, "HN-LLTP-2024")
    seeded.refresh(fund)
    assert (fund.reserved, fund.committed) == (200000, 200000), "one quote open, one paid"
    text = as_role(POLICY_APPROVER).get("/admin/policy/budgets").get_data(as_text=True)
    section = text.split('id="fund-HN-LLTP-2024"')[1].split("</section>")[0]
    for amount in (fund.cap, 200000, fund.cap - 400000):
        assert _dong(amount) in section
    assert section.count("<rect") == 3 and "<script" not in text
    assert 'x="0" y="0" width="0"' in section and 'x="0" y="0" width="1000"' in section, "a tiny share draws no width"


def test_a_fund_in_use_draws_its_share(as_role, seeded):
    fund = seeded.get(Fund, "HN-LLTP-2025")
    fund.committed, fund.reserved = fund.cap // 4, fund.cap // 2
    seeded.flush()
    text = as_role(POLICY_EDITOR).get("/admin/policy/budgets").get_data(as_text=True)
    section = text.split('id="fund-HN-LLTP-2025"')[1].split("</section>")[0]
    for rect in ('x="0" y="0" width="250"', 'x="250" y="0" width="500"', 'x="750" y="0" width="250"'):
        assert rect in section
    assert "75%" in section and _dong(fund.cap // 4) in section
