"""Migrations 0021 and 0022: earlier bills take their service's e-ID level, and each starts its history."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from tests.payments.migration_support import bill_row, migrate

AT = "2026-12-01 08:00:00+00:00"


def _bills_before(connection) -> None:
    connection.execute(text(
        "INSERT INTO services (code, procedure_code_verify, name_vi, name_en, kind, unit, min_eid_level, created_at)"
        " VALUES ('LLTP', false, 'Cấp Phiếu lý lịch tư pháp', 'Judicial-record certificate', 'fee', 'copy', 2, :at)"),
        {"at": AT})
    bill_row(connection, "judicial-record", {})
    bill_row(connection, "unknown-service", {})
    connection.execute(text("UPDATE bills SET service_code = 'OLD-SERVICE', status = 'cancelled'"
                            " WHERE agency_reference = 'unknown-service'"))


def test_earlier_bills_take_their_services_e_id_level_or_one(private_database):
    connection = private_database
    migrate(connection, command.upgrade, "0020")
    _bills_before(connection)
    connection.commit()
    migrate(connection, command.upgrade, "0021")
    levels = dict(connection.execute(text("SELECT agency_reference, min_eid_level FROM bills")).all())
    assert levels == {"judicial-record": 2, "unknown-service": 1}
    migrate(connection, command.downgrade, "0020")
    migrate(connection, command.upgrade, "0021")
    assert connection.scalar(text("SELECT min_eid_level FROM bills WHERE agency_reference = 'judicial-record'")) == 2


def test_earlier_bills_get_one_history_started_event_with_their_status(private_database):
    connection = private_database
    migrate(connection, command.upgrade, "0020")
    _bills_before(connection)
    connection.commit()
    migrate(connection, command.upgrade, "0022")
    events = connection.execute(text(
        "SELECT b.agency_reference, e.from_status, e.to_status, e.event, e.actor FROM bill_events e"
        " JOIN bills b ON b.id = e.bill_id ORDER BY b.agency_reference")).all()
    assert [tuple(e) for e in events] == [
        ("judicial-record", None, "open", "history_started", "migration 0022"),
        ("unknown-service", None, "cancelled", "history_started", "migration 0022")]
    migrate(connection, command.downgrade, "0021")
    migrate(connection, command.upgrade, "0022")
    assert connection.scalar(text("SELECT count(*) FROM bill_events")) == 2
