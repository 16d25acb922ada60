"""Small SQL helpers that differ between PostgreSQL and SQLite."""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Insert, Table, Update, bindparam, insert, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

T = TypeVar("T")


def insert_if_absent(session: Session, table: Table, values: dict[str, Any], conflict_columns: list[str]) -> Any:
    """INSERT ``values`` unless a row with the same ``conflict_columns`` exists; return the new key or None.

    ``ON CONFLICT DO NOTHING`` is the race-free claim: on PostgreSQL a concurrent inserter of the same
    key waits for the first one's transaction and then inserts nothing, instead of failing.
    """
    statement = _insert(_dialect_name(session), table, tuple(conflict_columns), "primary key")
    return session.execute(statement, values).scalar_one_or_none()


def insert_entity_if_absent(session: Session, entity: type[T], values: dict[str, Any],
                            conflict_columns: list[str] | None = None) -> T | None:
    """Like ``insert_if_absent``, but return the new row as a persistent ORM object (one statement, no re-read).

    Without ``conflict_columns`` any unique index of the table counts as a conflict (partial ones too).
    A plain ``INSERT … RETURNING`` every column, the row then made the object the ORM would have loaded:
    about a third of the CPU of an ORM-enabled INSERT, on paths that run for every payment.
    """
    conflict = tuple(conflict_columns) if conflict_columns else ANY_UNIQUE
    return execute_entity_insert(session, entity, _insert(_dialect_name(session), entity.__table__, conflict, "row"),
                                 values)


def execute_entity_insert(session: Session, entity: type[T], statement: Insert, values: dict[str, Any]) -> T | None:
    """Run ``statement`` (an INSERT … RETURNING every column of ``entity``'s table, built once by the caller
    when some column is a SQL expression) with ``values``; return the row as a persistent object, or None."""
    session.flush()  # like an ORM statement: pending changes reach the database first
    row = session.execute(statement, values).one_or_none()
    if row is None:
        return None
    instance = entity(**dict(zip(_attribute_names(entity), row, strict=True)))
    make_transient_to_detached(instance)  # the values are the row's: nothing to flush, identity set
    session.add(instance)
    return instance


def insert_entity(session: Session, entity: type[T], values: dict[str, Any]) -> T:
    """A plain ``INSERT … RETURNING`` every column of ``entity``'s table; the new row as a persistent object.

    What ``session.add`` and a flush would write, without the unit of work's bookkeeping (see
    ``insert_entity_if_absent``); the statement is built once per table.
    """
    return execute_entity_insert(session, entity, _plain_insert(entity.__table__), values)


def update_loaded(session: Session, instance: object, values: dict[str, Any]) -> None:
    """Write ``values`` to ``instance``'s row now, in one ``UPDATE … WHERE id``, and give the object those
    values as loaded.

    The unit of work would issue the same UPDATE at the next flush, at several times the CPU (it looks for
    changes on every object of the session): this is for rows the hot path changes on every payment. The
    values are not pending afterwards, so no later flush writes them again; other attributes the caller set
    on the object stay pending and are flushed as usual. The caller holds the row's lock.
    """
    state = inspect(instance)
    if state.pending:  # not in the database yet: its INSERT goes first, as an ORM flush would order it
        session.flush()
    session.execute(_update_by_id(state.mapper.local_table), {"_row_id": state.identity[0], **values})
    for name, value in values.items():
        set_committed_value(instance, name, value)


#: ``index_elements`` meaning "no conflict target": any unique index counts.
ANY_UNIQUE = ("*",)


def dialect_insert(session: Session, table: Table) -> Insert:
    """``INSERT`` of ``table`` in the session's dialect (PostgreSQL or SQLite), for ``ON CONFLICT`` clauses."""
    return (postgresql if _dialect_name(session) == "postgresql" else sqlite).insert(table)


def _dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


@cache
def _insert(dialect_name: str, table: Table, conflict: tuple[str, ...], returning: str) -> Insert:
    """The INSERT … ON CONFLICT DO NOTHING, built once per dialect and shape (values come as parameters)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(table).on_conflict_do_nothing(index_elements=None if conflict == ANY_UNIQUE
                                                             else conflict)
    if returning == "row":
        return statement.returning(*table.columns)
    return statement.returning(list(table.primary_key.columns)[0])


@cache
def _attribute_names(entity: type) -> list[str]:
    mapper = inspect(entity)
    return [mapper.get_property_by_column(column).key for column in entity.__table__.columns]


@cache
def _plain_insert(table: Table) -> Insert:
    return insert(table).returning(*table.columns)


@cache
def _update_by_id(table: Table) -> Update:
    """``UPDATE table … WHERE id = :_row_id``; the columns to set are the other parameters of each call."""
    return table.update().where(table.c.id == bindparam("_row_id"))
