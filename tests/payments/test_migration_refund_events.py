"""Migration 0020 adds refund_events and gives every refund made before it the first line of its history."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from tests.payments.migration_support import bill_row, migrate

BEFORE, AFTER = "0019", "0020"
AT = "2026-12-01 08:00:00+00:00"


def _refund(connection, status: str) -> None:
    bill_row(connection, f"bill-{status}", {})
    bill_id = connection.scalar(text("SELECT id FROM bills WHERE agency_reference = :r"), {"r": f"bill-{status}"})
    connection.execute(text(
        "INSERT INTO payments (public_id, bill_id, provider, status, amount, currency, refunded_amount, created_at,"
        " expires_at, updated_at) VALUES (:p, :bill, 'sandbox', 'succeeded', 200000, 'VND', 50000, :at, :at, :at)"),
        {"p": f"GW{status[:10].upper():0<10}", "bill": bill_id, "at": AT})
    payment_id = connection.scalar(text("SELECT id FROM payments WHERE bill_id = :bill"), {"bill": bill_id})
    connection.execute(text(
        "INSERT INTO refunds (public_id, payment_id, amount, currency, status, reason, requested_by, created_at,"
        " updated_at) VALUES (:r, :payment, 50000, 'VND', :status, 'trùng', 'finance-1', :at, :at)"),
        {"r": f"refund-{status}", "payment": payment_id, "status": status, "at": AT})


def test_refunds_made_before_get_one_history_started_event_with_their_status(private_database):
    connection = private_database
    migrate(connection, command.upgrade, BEFORE)
    _refund(connection, "succeeded")
    _refund(connection, "awaiting_approval")
    connection.commit()
    migrate(connection, command.upgrade, AFTER)
    events = connection.execute(text(
        "SELECT r.public_id, e.from_status, e.to_status, e.event, e.actor FROM refund_events e"
        " JOIN refunds r ON r.id = e.refund_id ORDER BY r.public_id")).all()
    assert [tuple(e) for e in events] == [
        ("refund-awaiting_approval", None, "awaiting_approval", "history_started", "migration 0020"),
        ("refund-succeeded", None, "succeeded", "history_started", "migration 0020")]
    migrate(connection, command.downgrade, BEFORE)
    migrate(connection, command.upgrade, AFTER)
    assert connection.scalar(text("SELECT count(*) FROM refund_events")) == 2
