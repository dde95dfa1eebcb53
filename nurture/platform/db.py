"""Database engine, sessions and the declarative base shared by every model."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, cast

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    MetaData,
    Table,
    any_,
    bindparam,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import CursorResult, Dialect, Result, make_url
from sqlalchemy.orm import DeclarativeBase, QueryableAttribute, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from nurture.platform import pg_arrays

# How often serialize_within asks again for a lock another transaction holds.
_LOCK_POLL_SECONDS = 0.05

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
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True, **kwargs)


# Execution option of ``peek``: on SQLite, begin a deferred (read) transaction.
_READ_ONLY = "nurture_read_only"


def _sqlite_begin(conn: Connection) -> None:
    # IMMEDIATE takes the write lock at once, so two use cases never deadlock upgrading
    # from read to write; a peek only reads and must not wait for (or hold up) writers.
    deferred = conn.get_execution_options().get(_READ_ONLY)
    conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


@contextmanager
def peek(engine: Engine) -> Iterator[Connection]:
    """A connection for one short read, such as "is anything waiting?" before a periodic
    job opens its write transaction.

    On SQLite the read takes no write lock (a deferred transaction: writers neither wait for
    it nor hold it up); on PostgreSQL it runs in autocommit, one round trip with no
    BEGIN/ROLLBACK. Nothing written through it is guaranteed to be atomic: read only.
    """
    options: dict[str, Any] = (
        {_READ_ONLY: True} if is_sqlite(engine) else {"isolation_level": "AUTOCOMMIT"}
    )
    with engine.connect().execution_options(**options) as connection:
        yield connection


def checkpoint_wal(engine: Engine) -> None:
    """On SQLite, copy the write-ahead log into the database file as far as readers allow,
    without waiting for or blocking writers (a PASSIVE checkpoint); elsewhere nothing.

    For a process that writes off the request path (the hit processor), so that requests'
    commits seldom reach ``wal_autocheckpoint`` and pay for a checkpoint themselves.
    """
    if not is_sqlite(engine):
        return
    raw = engine.raw_connection()
    try:
        # The DBAPI connection is in autocommit mode (_sqlite_pragmas): no transaction.
        cast(Any, raw.driver_connection).execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        raw.close()


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
    session.execute(
        text(f"SELECT pg_advisory_xact_lock{'_shared' if shared else ''}(:key)"),
        {"key": _lock_key(name)},
    )


def serialize_within(session: Session, name: str, seconds: float, *, shared: bool = False) -> bool:
    """``serialize``, giving up after ``seconds``: whether the lock is held now.

    For a reader that has a slower way round a long holder (a report that can read the
    source tables while the roll-up it would read is rebuilt for minutes). Polls the
    non-blocking form: a blocking wait with ``lock_timeout`` would abort the transaction
    the caller wants to go on with.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    statement = text(f"SELECT pg_try_advisory_xact_lock{'_shared' if shared else ''}(:key)")
    key = {"key": _lock_key(name)}
    deadline = time.monotonic() + seconds
    while not session.scalar(statement, key):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_LOCK_POLL_SECONDS)
    return True


def _lock_key(name: str) -> int:
    """The advisory lock key of ``name``: a stable signed 64-bit hash."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


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


def refresh_statistics(session: Session, tables: Sequence[Table]) -> None:
    """Have PostgreSQL sample ``tables`` again (``ANALYZE``), so queries are planned from
    what the tables hold now: a table grown from empty within minutes has no statistics
    until autovacuum gets to it (never, where it is off), and a query planned without them
    can read the whole table. Nothing on SQLite, which keeps none unless asked."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        # The table's own name, not text from outside.
        session.execute(text(f"ANALYZE {table.name}"))


def with_defaults(table: Table, rows: list[dict[str, Any]]) -> None:
    """Give every row the Python-side defaults of the table's columns it lacks (as an
    INSERT would), in place: the values are then known to the caller too."""
    if not rows:
        return
    for column in table.columns:
        default = column.default
        if default is None or column.name in rows[0]:
            continue
        for row in rows:
            if default.is_scalar:
                row[column.name] = default.arg  # type: ignore[attr-defined]
            elif default.is_callable:
                row[column.name] = default.arg(None)  # type: ignore[attr-defined]


def bulk_insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) in one statement, Python-side column
    defaults applied as SQLAlchemy would (``with_defaults``).

    On PostgreSQL the rows travel as one typed array per column and are expanded with
    ``unnest``: one statement to plan and execute instead of one per row, which is what
    makes the engine's per-batch writes cheap (measured ~30 µs/row less than executemany
    for 500 message rows). On SQLite they go to the driver's executemany with the column
    types' own conversions: SQLAlchemy's per-row parameter handling cost more than SQLite's
    insert of the row.
    """
    if not rows:
        return
    with_defaults(table, rows)
    names = list(rows[0])
    dialect = connection.dialect.name
    if dialect == "sqlite":
        _sqlite_executemany(connection, table, names, rows)
        return
    if dialect != "postgresql":
        connection.execute(table.insert(), rows)
        return
    casts, selects, arrays = _unnest_columns(connection, table, names, rows)
    aliases = ", ".join(f"c{i}" for i in range(len(names)))
    # Every name was checked against the table's columns by _unnest_columns; values are
    # parameters.
    statement = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "  # noqa: S608
        f"SELECT {', '.join(selects)} FROM unnest({', '.join(casts)}) AS u({aliases})"
    )
    connection.exec_driver_sql(statement, tuple(arrays))


def _sqlite_executemany(
    connection: Connection, table: Table, names: list[str], rows: list[dict[str, Any]]
) -> None:
    values = _driver_rows(connection, table, names, rows)
    quoted = ", ".join(connection.dialect.identifier_preparer.quote(name) for name in names)
    marks = ", ".join("?" * len(names))
    # The names are the table's own columns (``_bind_processors`` looked each up in
    # ``table.c``); the values are parameters.
    statement = f"INSERT INTO {table.name} ({quoted}) VALUES ({marks})"  # noqa: S608
    connection.exec_driver_sql(statement, values)


def _driver_rows(
    connection: Connection, table: Table, names: list[str], rows: list[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """``rows`` as the driver's parameter tuples of ``names``, each column converted as
    SQLAlchemy binds it (``_bind_processors``, ``_converted``)."""
    processors = _bind_processors(table, tuple(names), connection.dialect)
    columns = [
        _converted([row[name] for row in rows], process)
        for name, process in zip(names, processors, strict=True)
    ]
    return list(zip(*columns, strict=True))


def _converted(values: list[Any], convert: Callable[[Any], Any] | None) -> list[Any]:
    """One column's values through its bind conversion, each distinct object converted
    once: a batch's rows share most of their timestamps (the batch's ``now``) and often a
    JSON value (one fit's reasons), and converting them row by row was most of a bulk
    insert's cost in Python. Keyed by identity, so unhashable values (dicts, lists) are
    shared too; every value stays referenced by ``values`` while this runs, so no id is
    reused."""
    if convert is None:
        return values
    done: dict[int, Any] = {}
    out = []
    for value in values:
        key = id(value)
        converted = done.get(key, done)
        if converted is done:
            converted = done[key] = convert(value)
        out.append(converted)
    return out


@lru_cache(maxsize=256)
def _bind_processors(
    table: Table, names: tuple[str, ...], dialect: Dialect
) -> list[Callable[[Any], Any] | None]:
    """Each column's conversion to what the driver stores, as SQLAlchemy applies it (the
    dialect's type: on SQLite, timestamps as text with microseconds)."""
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]


def bulk_update(
    connection: Connection, table: Table, rows: list[dict[str, Any]], key: str = "id"
) -> None:
    """Update rows by primary key in one statement (``unnest`` on PostgreSQL, executemany
    elsewhere). Every dict has ``key`` and the same other keys: the columns to set."""
    if not rows:
        return
    names = list(rows[0])
    if connection.dialect.name == "sqlite":
        _sqlite_update_many(connection, table, names, rows, key)
        return
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


def _sqlite_update_many(
    connection: Connection, table: Table, names: list[str], rows: list[dict[str, Any]], key: str
) -> None:
    """``bulk_update`` on SQLite: the driver's executemany with the column types' own
    conversions, as ``bulk_insert`` does (SQLAlchemy's per-row parameter handling cost more
    than the update)."""
    columns = [name for name in names if name != key] + [key]
    values = _driver_rows(connection, table, columns, rows)
    quote = connection.dialect.identifier_preparer.quote
    assignments = ", ".join(f"{quote(name)} = ?" for name in columns[:-1])
    # The names are the table's own columns (``_bind_processors`` looked each up in
    # ``table.c``); the values are parameters.
    statement = f"UPDATE {table.name} SET {assignments} WHERE {quote(key)} = ?"  # noqa: S608
    connection.exec_driver_sql(statement, values)


def _unnest_columns(
    connection: Connection, table: Table, names: list[str], rows: list[dict[str, Any]]
) -> tuple[list[str], list[str], list[Any]]:
    """Per column: the array parameter with its cast, the select expression, the values
    (run through the column type's bind processing, e.g. UTC datetimes to naive UTC), as
    an array in binary format where ``pg_arrays`` builds it."""
    casts, selects, converters, encoders = _unnest_plan(table, tuple(names), connection.dialect)
    arrays: list[Any] = []
    for name, convert, encode in zip(names, converters, encoders, strict=True):
        values = _converted([row[name] for row in rows], convert)
        arrays.append(values if encode is None else encode(values))
    return casts, selects, arrays


@lru_cache(maxsize=256)
def _unnest_plan(
    table: Table, names: tuple[str, ...], dialect: Dialect
) -> tuple[list[str], list[str], list[Callable[[Any], Any] | None], list[pg_arrays.Encoder | None]]:
    """The casts, select expressions, value converters and array encoders of
    ``_unnest_columns``, made once per table, column list and dialect: compiling the types
    and making their bind processors cost more than converting a small group's values (the
    send engine writes outcomes twenty messages at a time).

    The arrays travel in PostgreSQL's binary format (``%b``): psycopg builds a text array
    literal in Python, quoting and escaping every element (2-3 µs each for texts and
    timestamps, measured), and a binary one with a Python loop over the elements that
    ``pg_arrays`` replaces for the common types."""
    casts: list[str] = []
    selects: list[str] = []
    converters: list[Callable[[Any], Any] | None] = []
    encoders: list[pg_arrays.Encoder | None] = []
    for index, name in enumerate(names):
        column = table.c[name]
        sql_type = column.type.compile(dialect=dialect)
        if sql_type in ("JSON", "JSONB"):
            # JSON travels as text and is cast back: psycopg adapts a dict, not an array
            # of them.
            casts.append("%b::text[]")
            selects.append(f"u.c{index}::{sql_type.lower()}")
            converters.append(_json_text)
            encoders.append(pg_arrays.array_encoder("TEXT"))
        else:
            casts.append(f"%b::{sql_type}[]")
            selects.append(f"u.c{index}")
            converters.append(_bind_processors(table, (name,), dialect)[0])
            encoders.append(pg_arrays.array_encoder(sql_type))
    return casts, selects, converters, encoders


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def rows_affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched (the cursor's row count; SQLAlchemy types
    ``Session.execute`` as returning a plain ``Result``)."""
    return cast(CursorResult[Any], result).rowcount


def table_of(model: type[Base]) -> Table:
    """A mapped class's table, typed as the ``Table`` it is (for the bulk helpers)."""
    return cast(Table, model.__table__)


def among(
    session: Session,
    column: ColumnElement[Any] | QueryableAttribute[Any],
    values: Iterable[Any],
) -> ColumnElement[bool]:
    """``column IN values``, as one array parameter on PostgreSQL (``= ANY(:values)``).

    psycopg parses a statement's placeholders in Python and caches only short statements,
    so an IN list of hundreds of ids or addresses was split by a regular expression on
    every execution; one array parameter keeps the statement short and the same for any
    number of values. SQLite gets the usual expanding IN.
    """
    values = list(values)
    expression = column.expression if isinstance(column, QueryableAttribute) else column
    if session.get_bind().dialect.name == "postgresql":
        return expression == any_(bindparam(None, values, type_=ARRAY(expression.type)))
    return expression.in_(values)


def one_of_known(
    column: ColumnElement[Any] | QueryableAttribute[Any], values: Iterable[str]
) -> ColumnElement[bool]:
    """``column IN (values)`` with the values written into the statement's text: for a few
    fixed values (temperatures, stages) on an indexed column.

    psycopg prepares a statement once it has run a few times, and PostgreSQL may then plan
    it once for any parameters. Such a generic plan cannot know how rare a parameter's
    value is (it guesses from the number of distinct values: with every lead cold, that
    ``temperature IN ('warm', 'hot')`` keeps every row), so it read every person of every
    account an import batch touched instead of descending the accounts' index to the
    engaged ones. Written as literals, the values are planned as what they are.
    """
    expression = column.expression if isinstance(column, QueryableAttribute) else column
    return expression.in_(bindparam(None, sorted(values), expanding=True, literal_execute=True))
