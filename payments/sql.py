"""Small SQL helpers that differ between PostgreSQL and SQLite."""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Insert, Table, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached

T = TypeVar("T")


def insert_if_absent(session: Session, table: Table, values: dict[str, Any], conflict_columns: list[str]) -> Any:
    """INSERT ``values`` unless a row with the same ``conflict_columns`` exists; return the new key or None.

    ``ON CONFLICT DO NOTHING`` is the race-free claim: on PostgreSQL a concurrent inserter of the same
    key waits for the first one's transaction and then inserts nothing, instead of failing.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    primary_key = list(table.primary_key.columns)[0]
    statement = (dialect.insert(table).values(**values)
                 .on_conflict_do_nothing(index_elements=conflict_columns).returning(primary_key))
    return session.execute(statement).scalar_one_or_none()


def insert_entity_if_absent(session: Session, entity: type[T], values: dict[str, Any],
                            conflict_columns: list[str] | None = None) -> T | None:
    """Like ``insert_if_absent``, but return the new row as a persistent ORM object (one statement, no re-read).

    Without ``conflict_columns`` any unique index of the table counts as a conflict (partial ones too).
    The row comes back through a plain ``INSERT … RETURNING`` and becomes the object the ORM would have
    loaded: about a third of the CPU of an ORM-enabled INSERT, on a path that runs for every payment.
    """
    session.flush()  # like an ORM statement: pending changes reach the database first
    statement, attributes = _entity_insert(session.get_bind().dialect.name, entity,
                                           tuple(conflict_columns) if conflict_columns else None)
    row = session.execute(statement, values).one_or_none()
    if row is None:
        return None
    instance = entity(**dict(zip(attributes, row, strict=True)))
    make_transient_to_detached(instance)  # the values are the row's: nothing to flush, identity set
    session.add(instance)
    return instance


@cache
def _entity_insert(dialect_name: str, entity: type,
                   conflict_columns: tuple[str, ...] | None) -> tuple[Insert, list[str]]:
    """The entity's INSERT … ON CONFLICT DO NOTHING RETURNING every column, built once per dialect."""
    table, mapper = entity.__table__, inspect(entity)
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = (dialect.insert(table).on_conflict_do_nothing(index_elements=conflict_columns)
                 .returning(*table.columns))
    return statement, [mapper.get_property_by_column(column).key for column in table.columns]
