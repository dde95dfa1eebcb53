"""Capturing tracking hits: the one INSERT a public tracking request does.

The endpoint stores the raw hit (``nurture.tracking.hit_rows``) and answers;
classification, events and scoring happen in ``nurture.tracking.processing`` afterwards.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import select
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg import pq
from psycopg.types.json import Json
from sqlalchemy import Engine, insert

from nurture.models.tracking import TrackingHit
from nurture.platform.runtime import Runtime

log = logging.getLogger(__name__)

_INSERT = insert(TrackingHit)


def record_hit(runtime: Runtime, row: dict[str, Any]) -> None:
    """Insert one hit and commit: when this returns, the hit is durable."""
    with runtime.engine.begin() as connection:
        connection.execute(_INSERT, row)


# Every column the writer fills, in table order (the id comes from the database). The SQL
# below is built from the model's own column names, never from input.
_COLUMNS = tuple(c for c in TrackingHit.__table__.columns if not c.primary_key)
_NAMES = ", ".join(c.name for c in _COLUMNS)
_INSERT_SQL = "INSERT INTO tracking_hits ({}) VALUES {}"
_INSERT_SQLITE = _INSERT_SQL.format(_NAMES, "(" + ", ".join("?" * len(_COLUMNS)) + ")")


class _Sink:
    """Writes batches of hit rows on one held DBAPI connection, one transaction per batch.

    Hand-written on purpose: SQLAlchemy's ``executemany`` costs ~45 µs of client CPU per
    row on psycopg and ~0.3 ms per transaction (pool checkout with pre-ping, BEGIN events);
    a held connection and one statement per batch cost a fraction of that
    (docs/benchmarks.md).
    Values still go through SQLAlchemy's own bind processors for each column type (UTC
    datetimes, JSON, booleans), so what is stored is what an ORM insert would store.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = engine.dialect
        self.names = tuple(c.name for c in _COLUMNS)
        self.processors = tuple(
            c.type.dialect_impl(dialect).bind_processor(dialect) for c in _COLUMNS
        )
        defaults = {"prefetch": False, "processed": False}
        self._fetch = tuple((name, defaults.get(name)) for name in self.names)
        # Only a few columns convert (the time, the flags, the JSON payload): the others are
        # taken as they are, without a call per column on every hit.
        self._convert = tuple(
            (index, process) for index, process in enumerate(self.processors) if process
        )
        self._connection: Any = None

    def values(self, row: dict[str, Any]) -> tuple[Any, ...]:
        """The row's column values, converted as SQLAlchemy would bind them."""
        get = row.get
        out = [get(name, default) for name, default in self._fetch]
        for index, process in self._convert:
            value = out[index]
            if value is not None:
                out[index] = process(value)
        return tuple(out)

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` and commit; on failure, roll back and drop the connection."""
        if self._connection is None:
            self._connection = self.engine.raw_connection()
            self._opened(self._connection.driver_connection)
        try:
            self._write(self._connection.driver_connection, [self.values(r) for r in rows])
        except BaseException:
            self.reset()
            raise

    def _write(self, connection: Any, values: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def _opened(self, connection: Any) -> None:
        """Prepare a newly held DBAPI connection (nothing by default)."""

    def reset(self, *, broken: bool = True) -> None:
        """Let go of the held connection: discard it when ``broken``, else return it."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.invalidate() if broken else connection.close()
        except Exception:  # already gone: nothing left to release
            log.debug("releasing the hit writer's connection failed", exc_info=True)


class _PostgresSink(_Sink):
    """One prepared multi-row ``INSERT`` per batch, sent through libpq directly.

    Hand-written on purpose, below psycopg's cursor: under wrk, psycopg's cursor machinery
    (adaptation, result objects, its wait loop) cost ~0.25 ms of serving-process CPU per
    stored hit, as much as the rest of the request; a statement sent with
    ``PGconn.send_query_prepared`` (psycopg's public libpq wrapper) and text parameters
    costs 70-120 µs per batch of 1-16 rows (docs/benchmarks.md, "Tracking capture").
    One round trip per batch: on a connection with no open transaction the statement is
    its own transaction, committed (WAL flushed) before its result comes back, so every
    row is durable when ``write`` returns. A statement per batch size (up to ``_CHUNK``
    rows) is prepared on first use; a bigger batch is written ``_CHUNK`` rows at a time.
    """

    _CHUNK = 64
    _prepared: set[int]  # batch sizes prepared on the held connection (set by _opened)

    def _opened(self, connection: Any) -> None:
        # psycopg itself must never open a transaction on this connection (a pool ping,
        # say): the statements below rely on committing on their own.
        connection.autocommit = True
        self._prepared = set()

    def reset(self, *, broken: bool = True) -> None:
        """As ``_Sink.reset``, but the connection is always discarded: the statements
        prepared on it would clash with a later writer's on the same pooled connection."""
        super().reset(broken=True)

    def _write(self, connection: Any, values: list[tuple[Any, ...]]) -> None:
        pgconn = connection.pgconn
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            # Rows written now would wait for a COMMIT nobody sends: refuse (the writer
            # retries once on a fresh connection).
            raise psycopg.OperationalError("the hit writer's connection is in a transaction")
        for start in range(0, len(values), self._CHUNK):
            chunk = values[start : start + self._CHUNK]
            size = len(chunk)
            name = b"nurture_hits_%d" % size
            if size not in self._prepared:
                _check(pgconn, pgconn.prepare(name, _multi_row_insert(size).encode()))
                self._prepared.add(size)
            pgconn.send_query_prepared(name, [_text(v) for row in chunk for v in row])
            _check(pgconn, _result(pgconn))


def _multi_row_insert(size: int) -> str:
    width = len(_COLUMNS)
    rows = (
        "(" + ", ".join(f"${i * width + j + 1}" for j in range(width)) + ")" for i in range(size)
    )
    return _INSERT_SQL.format(_NAMES, ", ".join(rows))


def _text(value: Any) -> bytes | None:
    """A bound value in PostgreSQL's text input format (the columns' types parse it)."""
    if value is None:
        return None
    if value is True or value is False:
        return b"t" if value else b"f"
    if isinstance(value, datetime):
        return value.isoformat().encode()  # naive UTC, as the bind processor left it
    if isinstance(value, Json):
        value = (value.dumps or json.dumps)(value.obj)
    # libpq sends text parameters as C strings: a NUL would cut the value short, and
    # PostgreSQL's text types cannot hold one anyway (psycopg would refuse the whole
    # batch, every other request's hit with it). The replacement character keeps the rest.
    return str(value).replace("\x00", "\ufffd").encode()


def _result(pgconn: Any, timeout: float = 30.0) -> Any:
    """Wait (without the GIL) for the statement just sent; its last result."""
    deadline = time.monotonic() + timeout
    while pgconn.flush():
        _wait(pgconn, deadline, write=True)
    pgconn.consume_input()
    while pgconn.is_busy():
        _wait(pgconn, deadline, write=False)
        pgconn.consume_input()
    last = None
    while (result := pgconn.get_result()) is not None:
        last = result
    return last


def _wait(pgconn: Any, deadline: float, *, write: bool) -> None:
    # poll, not select: a busy serving process may hold socket numbers above select's 1024.
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLOUT if write else select.POLLIN)
    left = deadline - time.monotonic()
    if not poller.poll(max(0, int(left * 1000))) and left <= 0:
        raise psycopg.OperationalError("storing tracking hits timed out")


def _check(pgconn: Any, result: Any) -> None:
    if result is None or result.status != pq.ExecStatus.COMMAND_OK:
        message = (result.error_message if result is not None else pgconn.error_message) or b""
        raise psycopg.OperationalError(message.decode(errors="replace").strip())


class HitLock:
    """An ``flock`` on ``<database>-hitlock``, taken around every write to SQLite's
    ``tracking_hits`` by the serving processes and the hit processor.

    SQLite's busy handler polls a held write lock with sleeps of 1, 2, 5, 10 … ms, so a
    writer waiting on another kept waking late (capture p50 14 ms against 8 ms with this
    lock, p99 dominated by the processor's passes; docs/benchmarks.md); the kernel hands
    the lock over the moment its holder is done. A no-op for other databases and for
    in-memory SQLite. With ``keep_open`` the lock file stays open between uses (the
    capture's commits: ``close`` it when done), else it is opened for each use. Not shared
    between threads: each holder has its own ``HitLock``.
    """

    def __init__(self, engine: Engine, *, keep_open: bool = True) -> None:
        database = engine.url.database
        is_file = engine.dialect.name == "sqlite" and database and database != ":memory:"
        self.path = f"{database}-hitlock" if is_file else None
        self.keep_open = keep_open
        self._file: Any = None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock (blocking until it is free) for the ``with`` block."""
        if self.path is None:
            yield
            return
        if self._file is None:
            self._file = open(self.path, "ab")  # noqa: SIM115 (closed by close())
        fcntl.flock(self._file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            if not self.keep_open:
                self.close()

    def close(self) -> None:
        """Close the lock file (it is opened again when next needed)."""
        lock_file, self._file = self._file, None
        if lock_file is not None:
            lock_file.close()


# WAL pages after which a capture commit checkpoints on its own (SQLite's default: 1,000).
CAPTURE_AUTOCHECKPOINT = 20_000


class _SQLiteSink(_Sink):
    """One prepared INSERT run for the batch inside ``BEGIN IMMEDIATE``, under ``HitLock``."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._lock = HitLock(engine)

    def _opened(self, connection: Any) -> None:
        # A commit that fills the WAL past ``wal_autocheckpoint`` pages copies it into the
        # database file and fsyncs both, under the hit lock every other capture waits on.
        # The hit processor checkpoints after its passes instead (``checkpoint_wal``); this
        # higher mark only bounds the WAL when no processor runs.
        connection.execute(f"PRAGMA wal_autocheckpoint={CAPTURE_AUTOCHECKPOINT}")

    def _write(self, connection: Any, values: list[tuple[Any, ...]]) -> None:
        with self._lock.held():
            self._transaction(connection, values)

    def reset(self, *, broken: bool = True) -> None:
        """As ``_Sink.reset``; on a clean release the lock file is closed as well."""
        super().reset(broken=broken)
        if not broken:
            self._lock.close()

    def _transaction(self, connection: Any, values: list[tuple[Any, ...]]) -> None:
        # The engine's connections run in autocommit mode (nurture.platform.db): begin explicitly,
        # taking the write lock at once as every other writer does.
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(_INSERT_SQLITE, values)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise


class _CoreSink(_Sink):
    """Any other database: SQLAlchemy Core ``executemany``."""

    def write(self, rows: list[dict[str, Any]]) -> None:
        with self.engine.begin() as connection:
            connection.execute(_INSERT, rows)


def _sink(engine: Engine) -> _Sink:
    name = engine.dialect.name
    if name == "postgresql" and engine.dialect.driver == "psycopg":
        return _PostgresSink(engine)
    if name == "sqlite":
        return _SQLiteSink(engine)
    return _CoreSink(engine)


@dataclass(eq=False)
class _Pending:
    row: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    # Set (with ``done``) when this waiting request is made the next leader: the batch it
    # must commit, its own row first.
    batch: list[_Pending] | None = None


def hit_writer(runtime: Runtime) -> HitWriter:
    """The process's HitWriter for ``runtime`` (closed with the runtime)."""
    writer = runtime._cache.get("hit_writer")
    if writer is None:
        writer = runtime._cache.setdefault("hit_writer", HitWriter(runtime))
    assert isinstance(writer, HitWriter)
    return writer


class HitWriter:
    """Leader/follower group commit for one process, run by the request threads themselves.

    A request that finds no commit in flight becomes the leader and commits its own row at
    once on the connection the writer holds: no other thread is involved, so an isolated
    hit costs one transaction and no thread switch. Requests arriving while that commit
    runs queue up and wait; when the leader has committed, it hands the whole queue (up to
    ``max_batch`` rows) to the first waiting request, which becomes the next leader and
    commits them in one transaction (one WAL flush on PostgreSQL, one write lock on SQLite:
    as ``_Sink`` writes them), then hands on in turn. Every hit is
    committed before its request returns; a failed commit is raised in every request whose
    row was in it, and the next batch starts afresh on a new connection.
    """

    def __init__(self, runtime: Runtime, *, max_batch: int = 512, timeout: float = 30.0):
        self.runtime = runtime
        self.max_batch = max_batch
        self.timeout = timeout
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._busy = False  # a leader is committing: new rows queue up
        self._sink: _Sink | None = None

    def write(self, row: dict[str, Any]) -> None:
        """Store ``row``; returns once it is committed, raises if the commit failed."""
        pending = _Pending(row)
        with self._lock:
            if self._busy:
                self._queue.append(pending)
            else:
                self._busy = True
                pending.batch = [pending]
        if pending.batch is None:
            self._wait(pending)
        if pending.batch is not None:
            self._lead(pending.batch)
        if pending.error is not None:
            raise pending.error

    def _wait(self, pending: _Pending) -> None:
        if pending.done.wait(self.timeout):
            return
        with self._lock:
            if pending.batch is not None or pending.done.is_set():
                # Promoted (or answered) just as the wait ran out: the batch must still be
                # committed, or every request queued behind it would wait forever.
                return
            if pending in self._queue:
                self._queue.remove(pending)
            # else its batch is being committed by a slow leader: the row may still be
            # stored, but this request stops waiting for it.
        raise TimeoutError("the hit was not committed in time")

    def _lead(self, batch: list[_Pending]) -> None:
        try:
            self._commit(batch)
        finally:
            with self._lock:
                if self._queue:
                    # The first waiting request leads the next transaction; the others stay
                    # asleep until it has committed their rows.
                    following = self._queue[: self.max_batch]
                    del self._queue[: self.max_batch]
                    following[0].batch = following
                    following[0].done.set()
                else:
                    self._busy = False
            for pending in batch:
                pending.done.set()

    def close(self) -> None:
        """Give back the held connection (Runtime.close calls this).

        Nothing is ever left to write here: each row is committed by a request thread before
        its ``write`` returns. If a commit is in flight, its leader keeps the connection.
        """
        with self._lock:
            if self._busy or self._sink is None:
                return
            sink, self._sink = self._sink, None
        sink.reset(broken=False)

    def _commit(self, batch: list[_Pending]) -> None:
        rows = [p.row for p in batch]
        if self._sink is None:
            self._sink = _sink(self.runtime.engine)
        sink = self._sink
        try:
            try:
                sink.write(rows)
            except Exception:
                # The held connection may have died (database restart, idle timeout):
                # one retry on a fresh connection before the requests are told.
                log.warning("storing %d hits failed; retrying once", len(rows), exc_info=True)
                sink.write(rows)
        except BaseException as exc:  # raised in each request whose row was in the batch
            for pending in batch:
                pending.error = exc
