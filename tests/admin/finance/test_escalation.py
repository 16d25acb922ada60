"""Escalation on the break workbench: breaks open past two settlement dates are badged, filtered and listed first."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from core.clock import SYSTEM_CLOCK
from payments.reconciliation.runs import ReconBreak, ReconRun
from tests.admin.finance.flows import DAY_BACK, completed_bank_run
from tests.admin.finance.support import days_ago, text_of

#: With the default T+2 lag a break escalates on day + 2 + 2 + 1; the bank day of the flows is older.
ESCALATES_AFTER = 5


def _young_break(db, kind: str = "missing_internally", priority: int = 3) -> ReconBreak:
    """A live break from yesterday, opened by the existing run: not escalated yet."""
    run = db.scalars(select(ReconRun)).first()
    young = ReconBreak(scope=run.scope, kind=kind, key="line:FRESH-1", status="open", priority=priority,
                       day=days_ago(1), our_amount=None, their_amount=12_000, currency="VND", opened_run_id=run.id,
                       last_seen_run_id=run.id, opened_at=SYSTEM_CLOCK.now() - timedelta(days=1))
    db.add(young)
    db.flush()
    return young


def test_old_breaks_are_badged_escalated_and_counted(app, db, officer):
    assert DAY_BACK >= ESCALATES_AFTER
    completed_bank_run(app, db, officer)
    _young_break(db)
    page = officer.get("/admin/finance/breaks").get_data(as_text=True)
    assert 'data-escalated="2"' in page and page.count('class="badge-escalated"') == 2
    assert "3 breaks" in text_of(officer.get("/admin/finance/breaks"))


def test_the_escalated_filter_shows_only_escalated_breaks(app, db, officer):
    completed_bank_run(app, db, officer)
    young = _young_break(db)
    only = text_of(officer.get("/admin/finance/breaks?escalated=1"))
    assert "2 breaks" in only and f"#{young.id}<" not in only.replace(" <", "<")
    assert 'name="escalated" value="1" checked' in only


def test_escalated_breaks_come_first_after_priority(app, db, officer):
    completed_bank_run(app, db, officer)
    young = _young_break(db)  # priority 3, as the escalated missing_internally break
    html = officer.get("/admin/finance/breaks").get_data(as_text=True)
    listed = [int(i) for i in re.findall(r'href="/admin/finance/breaks/(\d+)"', html)]
    old = db.scalars(select(ReconBreak).where(ReconBreak.kind == "missing_internally",
                                              ReconBreak.id != young.id)).one()
    assert listed.index(old.id) < listed.index(young.id)


def test_the_break_page_says_when_it_escalated_or_will(app, db, officer):
    completed_bank_run(app, db, officer)
    old = db.scalars(select(ReconBreak).where(ReconBreak.kind == "missing_internally")).one()
    page = text_of(officer.get(f"/admin/finance/breaks/{old.id}"))
    since = days_ago(DAY_BACK) + timedelta(days=ESCALATES_AFTER)
    assert "Escalated" in page and f"since {since:%d/%m/%Y}" in page
    young = _young_break(db)
    later = days_ago(1) + timedelta(days=ESCALATES_AFTER)
    assert f"escalates on {later:%d/%m/%Y} if still open" in text_of(officer.get(f"/admin/finance/breaks/{young.id}"))
