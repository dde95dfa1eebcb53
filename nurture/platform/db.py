"""Database engine, sessions and the declarative base shared by every model."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, cast

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    MetaData,
    Table,
    bindparam,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import CursorResult, Result, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Stable constraint names let Alembic compare and alter constraints on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no timezone type and hands back naive values; storing naive UTC and
    re-attaching UTC on the way out keeps comparisons in Python and SQL consistent.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a timezone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """The one declarative base: every table lives in this metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (the only clock the I/O layer reads)."""
    return datetime.now(UTC)


def is_sqlite(url_or_engine: str | Engine) -> bool:
    """True for the embedded SQLite backend."""
    url = url_or_engine.url if isinstance(url_or_engine, Engine) else make_url(url_or_engine)
    return url.get_backend_name() == "sqlite"


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take
        # control of it so each use case is one real transaction (SQLAlchemy docs recipe).
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (results outlive the use case)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One use case, one transaction: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def serialize(session: Session, name: str, *, shared: bool = False) -> None:
    """Hold a lock named ``name`` until the session's transaction ends (``shared``: a
    lock that other shared holders share, and that keeps only the exclusive one out).

    Two processes doing the same use case at once (two workers syncing the same edited
    file) then run one after the other, the second seeing what the first committed. On
    PostgreSQL this is a transaction-level advisory lock; SQLite needs none, as its
    transactions begin IMMEDIATE and already run one at a time.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    session.execute(
        text(f"SELECT pg_advisory_xact_lock{'_shared' if shared else ''}(:key)"),
        {"key": int.from_bytes(digest, "big", signed=True)},
    )


def allocate_ids(session: Session, table: str, count: int) -> list[int] | None:
    """Take ``count`` primary keys from a PostgreSQL table's sequence in one round trip.

    Rows inserted with known ids need no ``RETURNING``, so a batch goes out as a plain
    executemany (measured: ~60 µs/row instead of ~170 µs/row with RETURNING for 500 message
    rows). Returns None on SQLite, which has no sequences; callers then use RETURNING.
    """
    if count == 0 or session.get_bind().dialect.name != "postgresql":
        return None
    statement = text(
        "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
    )
    return list(session.scalars(statement, {"table": table, "n": count}))


def bulk_insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) in one statement.

    On PostgreSQL the rows travel as one typed array per column and are expanded with
    ``unnest``: one statement to plan and execute instead of one per row, which is what
    makes the engine's per-batch writes cheap (measured ~30 µs/row less than executemany
    for 500 message rows). Elsewhere it is a plain executemany. Python-side column defaults
    are applied as SQLAlchemy would.
    """
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(table.insert(), rows)
        return
    names = list(rows[0])
    for column in table.columns:
        default = column.default
        if column.name in names or default is None:
            continue
        if not (default.is_scalar or default.is_callable):
            continue
        names.append(column.name)
        for row in rows:
            row[column.name] = default.arg if default.is_scalar else default.arg(None)  # type: ignore[attr-defined]
    casts, selects, arrays = _unnest_columns(connection, table, names, rows)
    aliases = ", ".join(f"c{i}" for i in range(len(names)))
    # Every name was checked against the table's columns by _unnest_columns; values are
    # parameters.
    statement = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "  # noqa: S608
        f"SELECT {', '.join(selects)} FROM unnest({', '.join(casts)}) AS u({aliases})"
    )
    connection.exec_driver_sql(statement, tuple(arrays))


def bulk_update(
    connection: Connection, table: Table, rows: list[dict[str, Any]], key: str = "id"
) -> None:
    """Update rows by primary key in one statement (``unnest`` on PostgreSQL, executemany
    elsewhere). Every dict has ``key`` and the same other keys: the columns to set."""
    if not rows:
        return
    names = list(rows[0])
    if connection.dialect.name != "postgresql":
        by_key = (
            table.update()
            .where(table.c[key] == bindparam("b_key"))
            .values({name: bindparam(name) for name in names if name != key})
        )
        connection.execute(by_key, [{**row, "b_key": row[key]} for row in rows])
        return
    casts, selects, arrays = _unnest_columns(connection, table, names, rows)
    aliases = [f"c{i}" for i in range(len(names))]
    assignments = ", ".join(
        f"{name} = {select}" for name, select in zip(names, selects, strict=True) if name != key
    )
    key_alias = aliases[names.index(key)]
    statement = (  # names checked against the table's columns; values are parameters
        f"UPDATE {table.name} SET {assignments} "  # noqa: S608
        f"FROM unnest({', '.join(casts)}) AS u({', '.join(aliases)}) "
        f"WHERE {table.name}.{key} = u.{key_alias}"
    )
    connection.exec_driver_sql(statement, tuple(arrays))


def _unnest_columns(
    connection: Connection, table: Table, names: list[str], rows: list[dict[str, Any]]
) -> tuple[list[str], list[str], list[list[Any]]]:
    """Per column: the array parameter with its cast, the select expression, the values
    (run through the column type's bind processing, e.g. UTC datetimes to naive UTC)."""
    dialect = connection.dialect
    casts, selects, arrays = [], [], []
    for index, name in enumerate(names):
        column = table.c[name]
        sql_type = column.type.compile(dialect=dialect)
        process = column.type.bind_processor(dialect)
        values = [row[name] for row in rows]
        if sql_type in ("JSON", "JSONB"):
            # JSON travels as text and is cast back: psycopg adapts a dict, not an array
            # of them.
            values = [None if value is None else json.dumps(value) for value in values]
            casts.append("%s::text[]")
            selects.append(f"u.c{index}::{sql_type.lower()}")
        else:
            if process is not None:
                values = [process(value) for value in values]
            casts.append(f"%s::{sql_type}[]")
            selects.append(f"u.c{index}")
        arrays.append(values)
    return casts, selects, arrays


def rows_affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched (the cursor's row count; SQLAlchemy types
    ``Session.execute`` as returning a plain ``Result``)."""
    return cast(CursorResult[Any], result).rowcount


def table_of(model: type[Base]) -> Table:
    """A mapped class's table, typed as the ``Table`` it is (for the bulk helpers)."""
    return cast(Table, model.__table__)
