"""Small SQL helpers that differ between PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

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
    """Like ``insert_if_absent``, but return the new row as a loaded ORM object (one statement, no re-read).

    Without ``conflict_columns`` any unique index of the table counts as a conflict (partial ones too).
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(entity).values(**values)
                 .on_conflict_do_nothing(index_elements=conflict_columns).returning(entity))
    return session.scalars(statement).one_or_none()
