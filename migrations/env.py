"""Alembic environment: the metadata of every package's models, and SQLite-safe batch migrations."""

from importlib import import_module

from alembic import context

from core.db import Base, make_engine

#: Every module that maps tables; importing them registers their tables on Base.metadata.
MODEL_MODULES = (
    "core.outbox", "core.geography",
    "identity.models", "identity.devidp.models",
    "subsidies.catalogue", "subsidies.rule_store", "subsidies.budgets", "subsidies.quotes", "subsidies.beneficiaries",
    "payments.models", "payments.reconciliation.models", "payments.reconciliation.runs",
    "payments.reconciliation.requests",
    "agencies.models", "payments.agency_models", "parking.models", "mailing.models",
)
for module in MODEL_MODULES:
    import_module(module)

config = context.config
target_metadata = Base.metadata


def run_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection) -> None:
    # render_as_batch lets ALTER TABLE work on SQLite by copying the table, as Alembic recommends.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
