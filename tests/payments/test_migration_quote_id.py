"""Migration 0012 turns bills.quote_id into the quote's UUID string, copied from the explanation, on both backends."""

from __future__ import annotations

import json
import uuid

import pytest
from alembic import command
from sqlalchemy import inspect, text

from core.db import make_engine
from core.migrations import alembic_config

BEFORE, AFTER = "0011", "0012"
QUOTE = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


@pytest.fixture()
def private_database(database_url, tmp_path):
    """An empty database of this backend for migrating by hand: a new SQLite file, or a PostgreSQL schema."""
    if database_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path / 'quote_id.db'}")
        with engine.connect() as connection:
            yield connection
        engine.dispose()
        return
    schema = f"migration_{uuid.uuid4().hex[:12]}"
    engine = make_engine(database_url)
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        connection.execute(text(f'SET search_path TO "{schema}"'))
        connection.commit()
        try:
            yield connection
        finally:
            connection.rollback()
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            connection.commit()
    engine.dispose()


def _migrate(connection, direction, revision: str) -> None:
    config = alembic_config(str(connection.engine.url))
    config.attributes["connection"] = connection
    direction(config, revision)
    connection.commit()


def _bill(connection, reference: str, explanation: dict) -> None:
    connection.execute(text(
        "INSERT INTO bills (public_id, payer_id_hash, service_code, quantity, amount_due, currency, base_amount,"
        " subsidy_lines, explanation, rule_set_hash, quoted_at, fee_kind, retained_basis_points, agency_code,"
        " agency_reference, description, status, created_at, updated_at) VALUES (:ref, 'payer', 'LLTP', 1, 0,"
        " 'VND', 200000, '[]', :explanation, 'r', :at, 'phi', 0, 'HN-STP', :ref, '', 'open', :at, :at)"),
        {"ref": reference, "explanation": json.dumps(explanation), "at": "2026-11-29 08:00:00+00:00"})


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
