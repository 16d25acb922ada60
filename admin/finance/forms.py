"""Reading the finance forms: Vietnamese dates (dd/mm/yyyy) and periods, with translated errors."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l

from core.clock import SYSTEM_CLOCK

#: The longest period a page or report covers at once.
MAX_PERIOD_DAYS = 366


#: The years a finance period may name.
FIRST_YEAR, LAST_YEAR = 2000, 2099


def parse_vn_date(text: str | None) -> date | None:
    """Read ``dd/mm/yyyy`` (or the ISO ``yyyy-mm-dd`` a date picker sends); None when unreadable."""
    text = (text or "").strip()
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            day = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        # Finance periods are real dates: far-off years are typing slips (and 9999 has no next month).
        return day if FIRST_YEAR <= day.year <= LAST_YEAR else None
    return None


def read_period(args, *, default_days: int = 7) -> tuple[date, date, dict[str, str]]:
    """Return (first day, last day, errors) from ``from``/``to`` fields; defaults to the last days."""
    today = SYSTEM_CLOCK.today_in_vietnam()
    first = parse_vn_date(args.get("from")) if args.get("from") else today - timedelta(days=default_days - 1)
    last = parse_vn_date(args.get("to")) if args.get("to") else today
    errors = {}
    if first is None:
        errors["from"] = str(_l("Enter the first day as dd/mm/yyyy, for example 01/12/2026."))
    if last is None:
        errors["to"] = str(_l("Enter the last day as dd/mm/yyyy, for example 31/12/2026."))
    if first and last and first > last:
        errors["to"] = str(_l("The last day must not be before the first day."))
    if first and last and (last - first).days >= MAX_PERIOD_DAYS:
        errors["to"] = str(_l("Choose a period of at most one year."))
    if errors:
        return today - timedelta(days=default_days - 1), today, errors
    return first, last, errors


def parse_whole_dong(text: str | None) -> int | None:
    """Read an amount of whole dong as people write it (``50.000``, ``50,000 ₫``); None when unreadable."""
    digits = (text or "").replace(".", "").replace(",", "").replace(" ", "").replace("₫", "")
    return int(digits) if digits.isdigit() and len(digits) <= 15 else None


def vn_date(value: date) -> str:
    """Show a calendar date as dd/mm/yyyy."""
    return value.strftime("%d/%m/%Y")
