"""Transaction search with filters, and one transaction traced to its bill, receipts and ledger postings."""

from __future__ import annotations

import re

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from admin.finance.blueprint import bp
from admin.finance.forms import read_period, vn_date
from identity.roles import FINANCE_APPROVER, FINANCE_OFFICER
from payments.queries_ledger import transaction_detail
from payments.reconciliation.transactions import SearchFilters, filter_choices, search_transactions
from web.auth import require_role
from web.database import db_session

TEXT_FILTERS = ("service", "agency", "provider", "status", "code")
_DONG = re.compile(r"^\d{1,15}$")


def read_amount(text: str | None) -> tuple[int | None, bool]:
    """Read whole dong (``200000``, ``200.000`` or ``200,000``); return (amount or None, readable)."""
    cleaned = re.sub(r"[.,\s₫đ]", "", text or "")
    if not cleaned:
        return None, True
    return (int(cleaned), True) if _DONG.match(cleaned) else (None, False)


def read_filters(args) -> tuple[SearchFilters, dict[str, str]]:
    """The search filters from the query string, with a translated error for each unreadable field."""
    first, last, errors = read_period(args)
    low, low_ok = read_amount(args.get("min"))
    high, high_ok = read_amount(args.get("max"))
    if not low_ok:
        errors["min"] = str(_l("Enter the smallest amount in whole dong, for example 50000."))
    if not high_ok:
        errors["max"] = str(_l("Enter the largest amount in whole dong, for example 500000."))
    if low is not None and high is not None and low > high:
        errors["max"] = str(_l("The largest amount must not be below the smallest."))
    texts = {name: (args.get(name) or "").strip()[:40] or None for name in TEXT_FILTERS}
    return SearchFilters(first, last, min_amount=low, max_amount=high, **texts), errors


def _page_number(args) -> int:
    text = args.get("page", "1")
    return int(text) if text.isdigit() and 0 < int(text) < 100_000 else 1


@bp.get("/transactions")
@require_role(FINANCE_OFFICER, FINANCE_APPROVER)
def transactions():
    """Payments of a period matching the filters, newest first, a page at a time."""
    filters, errors = read_filters(request.args)
    session = db_session()
    page = None if errors else search_transactions(session, filters, page=_page_number(request.args))
    return render_template("admin/finance/transactions.html", page=page, filters=filters, errors=errors,
                           choices=filter_choices(session), first=vn_date(filters.first),
                           last=vn_date(filters.last)), 422 if errors else 200


@bp.get("/transactions/<code>")
@require_role(FINANCE_OFFICER, FINANCE_APPROVER)
def transaction(code: str):
    """One payment: its bill, every attempt with its events, the receipt and the ledger postings."""
    return render_template("admin/finance/transaction.html", detail=transaction_detail(db_session(), code[:40]))
