"""Fetch Stripe payouts through the API every day and import them like a report file.

Each Vietnamese calendar day of payout arrivals is fetched on its own, so fetching a day again returns the
same document while Stripe's data is unchanged, and the importer's content hash makes that a no-op. The
daily job looks back ``LOOKBACK_DAYS`` days: payouts are created days after their charges and a day can
still change while its payouts are in transit. A deployment without Stripe fetches nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.clock import SYSTEM_CLOCK, Clock
from core.errors import ValidationFailed
from core.outbox import job_handler
from payments.providers import get_provider, registered_providers
from payments.reconciliation.expected import vietnam_day_bounds
from payments.reconciliation.imports import ImportResult, import_report

FETCH_JOB = "reconciliation.fetch_stripe_payouts"
LOOKBACK_DAYS = 3
ACTOR = "stripe-fetch"


def fetch_stripe_payouts(session: Session, day: date, *, imported_by: str = ACTOR,
                         clock: Clock = SYSTEM_CLOCK) -> ImportResult:
    """Fetch the payouts that arrived on Vietnamese calendar ``day`` and import them (idempotent)."""
    provider = get_provider("stripe")
    if not hasattr(provider, "payouts_report"):
        raise ValidationFailed("the registered Stripe provider cannot list payouts", code="unknown_provider")
    start, end = vietnam_day_bounds(day, day)
    content = provider.payouts_report(arrived_from=start, arrived_before=end)
    return import_report(session, content, "stripe_api", filename=f"stripe-payouts-{day.isoformat()}.json",
                         imported_by=imported_by, clock=clock)


def fetch_recent(session: Session, *, clock: Clock = SYSTEM_CLOCK) -> list[ImportResult]:
    """Fetch each of the last ``LOOKBACK_DAYS`` days before today (Asia/Ho_Chi_Minh); none without Stripe."""
    if "stripe" not in registered_providers():
        return []
    today = clock.today_in_vietnam()
    return [fetch_stripe_payouts(session, today - timedelta(days=back), clock=clock)
            for back in range(LOOKBACK_DAYS, 0, -1)]


@job_handler(FETCH_JOB, max_attempts=5)
def fetch_job(session: Session, payload: dict[str, Any]) -> None:
    """Outbox job (daily, and on request for one ``day``): fetch and import Stripe payouts."""
    if payload.get("day"):
        fetch_stripe_payouts(session, date.fromisoformat(payload["day"]))
    else:
        fetch_recent(session)
