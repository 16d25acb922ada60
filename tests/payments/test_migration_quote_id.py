"""Migration 0012 turns bills.quote_id into the quote's UUID string, copied from the explanation, on both backends."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import inspect, text

from tests.payments.migration_support import bill_row as _bill
from tests.payments.migration_support import migrate as _migrate

BEFORE, AFTER = "0011", "0012"
QUOTE = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def _quote_ids(connection) -> dict[str, str | None]:
    return dict(connection.execute(text("SELECT agency_reference, quote_id FROM bills")).all())


def test_existing_bills_get_the_quote_id_their_explanation_holds(private_database):
    connection = private_database
    _migrate(connection, command.upgrade, BEFORE)
    _bill(connection, "priced", {"quote_id": QUOTE, "layers": []})
    _bill(connection, "outside", {"fee": "LLTP"})
    connection.commit()
    _migrate(connection, command.upgrade, AFTER)
    assert _quote_ids(connection) == {"priced": QUOTE, "outside": None}
    column = next(c for c in inspect(connection).get_columns("bills") if c["name"] == "quote_id")
    assert column["type"].python_type is str and column["type"].length == 36
    explanation = connection.scalar(text("SELECT explanation FROM bills WHERE agency_reference = 'priced'"))
    assert (json.loads(explanation) if isinstance(explanation, str) else explanation)["quote_id"] == QUOTE


def test_the_migration_runs_down_and_up_again_without_losing_the_quote(private_database):
    connection = private_database
    _migrate(connection, command.upgrade, BEFORE)
    _bill(connection, "priced", {"quote_id": QUOTE})
    connection.commit()
    _migrate(connection, command.upgrade, AFTER)
    _migrate(connection, command.downgrade, BEFORE)
    assert _quote_ids(connection) == {"priced": None}  # an integer column cannot hold a UUID
    _migrate(connection, command.upgrade, AFTER)
    assert _quote_ids(connection) == {"priced": QUOTE}  # the explanation still had it
