"""Inserting many new rows by the database's bulk path and keeping them as ORM objects.

The unit of work (or the ORM's bulk INSERT … RETURNING of objects) sends one long
multi-row statement per batch, which psycopg parses in Python on every batch, and builds
each object through attribute events. Here the rows go out through
``platform.db.bulk_insert`` with their ids known beforehand (taken from the sequence on
PostgreSQL, the next after the largest on SQLite), and, where the caller wants objects,
each row becomes a persistent, unchanged object with every column loaded, as a flush would
have left it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Table, func, insert, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached

from nurture.platform.db import Base, allocate_ids, bulk_insert

T = TypeVar("T", bound=Base)


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (dicts with the same keys, no ``id``) in the session's transaction;
    return their new ids in order and set each row's ``id``."""
    if not rows:
        return []
    ids = allocate_ids(session, table.name, len(rows)) or _next_sqlite_ids(session, table, rows)
    if ids is not None:
        for row, row_id in zip(rows, ids, strict=True):
            row["id"] = row_id
        bulk_insert(session.connection(), table, rows)
        return ids
    returned = session.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    )
    ids = list(returned.scalars())
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id
    return ids


def _next_sqlite_ids(
    session: Session, table: Table, rows: list[dict[str, Any]]
) -> list[int] | None:
    """On SQLite, the ids the database would give the rows: the next after the largest.

    SQLite returns the rows of a multi-row INSERT … RETURNING in no promised order, so
    SQLAlchemy sends such an insert one row per statement; with the ids known, the rows go
    as one executemany. Safe because every transaction here begins IMMEDIATE
    (``platform.db.make_engine``), holding the database's write lock from its start, and no
    table is AUTOINCREMENT (so SQLite itself takes the largest id plus one).
    """
    if session.get_bind().dialect.name != "sqlite":
        return None
    largest = session.scalar(select(func.max(table.c.id))) or 0
    return list(range(largest + 1, largest + 1 + len(rows)))


def as_loaded(session: Session, model: type[T], rows: Sequence[dict[str, Any]]) -> list[T]:
    """Persistent objects of ``model`` for rows just inserted (with their ids and every
    value the insert wrote; a column a row lacks was NULL): in the session's identity map,
    unchanged, every column loaded."""
    keys = [(attr.key, attr.columns[0].name) for attr in inspect(model).column_attrs]
    objects = []
    for row in rows:
        instance = model()
        # Straight into the transient object's state: make_transient_to_detached takes
        # it as loaded, and an attribute event per column would cost more than the insert.
        instance.__dict__.update({key: row.get(name) for key, name in keys})
        make_transient_to_detached(instance)
        session.add(instance)
        objects.append(instance)
    return objects
