"""Migrating a private database by hand, for the tests of one migration's data changes."""

from __future__ import annotations

import json

from sqlalchemy import text

from core.migrations import alembic_config


def migrate(connection, direction, revision: str) -> None:
    config = alembic_config(str(connection.engine.url))
    config.attributes["connection"] = connection
    direction(config, revision)
    connection.commit()


def bill_row(connection, reference: str, explanation: dict) -> None:
    connection.execute(text(
        "INSERT INTO bills (public_id, payer_id_hash, service_code, quantity, amount_due, currency, base_amount,"
        " subsidy_lines, explanation, rule_set_hash, quoted_at, fee_kind, retained_basis_points, agency_code,"
        " agency_reference, description, status, created_at, updated_at) VALUES (:ref, 'payer', 'LLTP', 1, 0,"
        " 'VND', 200000, '[]', :explanation, 'r', :at, 'phi', 0, 'HN-STP', :ref, '', 'open', :at, :at)"),
        {"ref": reference, "explanation": json.dumps(explanation), "at": "2026-11-29 08:00:00+00:00"})
