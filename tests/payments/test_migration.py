"""Migration 0004 creates exactly the tables the payments models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData

import payments.models  # noqa: F401  (registers the tables)
from core.db import Base

PAYMENTS_TABLES = {"bills", "payments", "payment_events", "provider_events", "idempotency_keys", "ledger_accounts",
                   "ledger_transactions", "ledger_postings", "receipt_counters", "receipts", "refunds", "refund_events",
                   "bill_events"}


def test_the_migrated_schema_matches_the_models(fresh_engine):
    def ours(name, type_, parent_names):
        table = name if type_ == "table" else parent_names.get("table_name")
        return table is None or table in PAYMENTS_TABLES

    mine = MetaData(naming_convention=Base.metadata.naming_convention)
    for name in PAYMENTS_TABLES:
        Base.metadata.tables[name].to_metadata(mine)
    with fresh_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": ours, "compare_type": True})
        differences = compare_metadata(context, mine)
    assert differences == []


def test_every_payments_table_is_known_to_the_test():
    assert {name for name in Base.metadata.tables if name in PAYMENTS_TABLES} == PAYMENTS_TABLES
