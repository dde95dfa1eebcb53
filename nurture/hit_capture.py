"""Capturing tracking hits: the one INSERT a public tracking request does.

The endpoint stores the raw hit and answers; classification, events and scoring happen in
``nurture.hits`` afterwards. The IP address is stored according to ``NURTURE_IP_PRIVACY``;
the machine rules' network check runs on the full address first, so a privacy-friendly
setting does not blind them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import queue
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert

from nurture.machine_rules import network_of_address
from nurture.models.tracking import TrackingHit
from nurture.runtime import Runtime

log = logging.getLogger(__name__)

IP_PRIVACY_MODES = ("truncate", "hash", "full", "none")
_MAX_AGENT = 500


def stored_ip(ip: str | None, mode: str, secret: str) -> str | None:
    """PURE: ``ip`` as the privacy ``mode`` allows it to be kept.

    ``truncate`` keeps the network (/24 for IPv4, /48 for IPv6): enough for the rough
    location and the network rules, not enough to name a household. ``hash`` keeps a keyed
    hash (HMAC with the instance secret, so the 2^32 IPv4 addresses cannot simply be
    hashed and looked up), which still tells repeated visits apart. ``none`` keeps nothing.
    """
    return _stored(_address(ip), mode, secret)


def _address(ip: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not ip:
        return None
    try:
        return ipaddress.ip_address(ip)
    except ValueError:
        return None


_KEEP_24 = (1 << 32) - (1 << 8)
_KEEP_48 = (1 << 128) - (1 << 80)


def _stored(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, mode: str, secret: str
) -> str | None:
    if address is None or mode == "none":
        return None
    if mode == "full":
        return str(address)
    if mode == "hash":
        digest = hmac.new(secret.encode(), str(address).encode(), hashlib.sha256)
        return "h:" + digest.hexdigest()[:40]
    # Masking the integer is the /24 or /48 network address without building a network
    # object per request (this runs on every tracking hit).
    if address.version == 4:
        return str(ipaddress.IPv4Address(int(address) & _KEEP_24))
    return str(ipaddress.IPv6Address(int(address) & _KEEP_48))


def hit_row(
    *,
    kind: str,
    now: datetime,
    method: str,
    user_agent: str | None,
    ip: str | None,
    prefetch: bool,
    ip_privacy: str,
    secret: str,
    **fields: Any,
) -> dict[str, Any]:
    """PURE: the ``tracking_hits`` row for one request."""
    address = _address(ip)
    return {
        "kind": kind,
        "occurred_at": now,
        "method": method[:10],
        "user_agent": (user_agent or None) and user_agent[:_MAX_AGENT],
        "ip": _stored(address, ip_privacy, secret),
        "network": network_of_address(address),
        "prefetch": prefetch,
        "processed": False,
        **fields,
    }


_INSERT = insert(TrackingHit)


def record_hit(runtime: Runtime, row: dict[str, Any]) -> None:
    """Insert one hit and commit: when this returns, the hit is durable."""
    with runtime.engine.begin() as connection:
        connection.execute(_INSERT, row)


# Every column the writer fills, in table order (the id comes from the database). The SQL
# below is built from the model's own column names, never from input.
_COLUMNS = tuple(c for c in TrackingHit.__table__.columns if not c.primary_key)
_NAMES = ", ".join(c.name for c in _COLUMNS)
_COPY = f"COPY tracking_hits ({_NAMES}) FROM STDIN"
_INSERT_SQLITE = f"INSERT INTO tracking_hits ({_NAMES}) VALUES ({', '.join('?' * len(_COLUMNS))})"  # noqa: S608


class _Sink:
    """Writes batches of hit rows on one held DBAPI connection, one transaction per batch.

    Hand-written on purpose: SQLAlchemy's ``executemany`` costs ~45 µs of client CPU per
    row on psycopg and ~0.3 ms per transaction (pool checkout with pre-ping, BEGIN events),
    while COPY on a held connection costs ~5 µs per row (measured; docs/benchmarks.md).
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
        self.defaults = {"prefetch": False, "processed": False}
        self._connection: Any = None

    def values(self, row: dict[str, Any]) -> tuple[Any, ...]:
        """The row's column values, converted as SQLAlchemy would bind them."""
        out = []
        for name, process in zip(self.names, self.processors, strict=True):
            value = row.get(name, self.defaults.get(name))
            out.append(process(value) if process is not None and value is not None else value)
        return tuple(out)

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` and commit; on failure, roll back and drop the connection."""
        if self._connection is None:
            self._connection = self.engine.raw_connection()
        try:
            self._write(self._connection.driver_connection, [self.values(r) for r in rows])
        except BaseException:
            self.reset()
            raise

    def _write(self, connection: Any, values: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

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
    """COPY … FROM STDIN: one round trip for the whole batch, no per-row statement."""

    def _write(self, connection: Any, values: list[tuple[Any, ...]]) -> None:
        with connection.cursor() as cursor, cursor.copy(_COPY) as copy:
            for row in values:
                copy.write_row(row)
        connection.commit()


class _SQLiteSink(_Sink):
    """One prepared INSERT run for the batch inside ``BEGIN IMMEDIATE``."""

    def _write(self, connection: Any, values: list[tuple[Any, ...]]) -> None:
        # The engine's connections run in autocommit mode (nurture.db): begin explicitly,
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


@dataclass
class _Pending:
    row: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


def hit_writer(runtime: Runtime) -> HitWriter:
    """The process's HitWriter for ``runtime`` (closed with the runtime)."""
    writer = runtime._cache.get("hit_writer")
    if writer is None:
        writer = runtime._cache.setdefault("hit_writer", HitWriter(runtime))
    assert isinstance(writer, HitWriter)
    return writer


class HitWriter:
    """Group commit for one process: request threads hand their row to a writer thread and
    wait until the transaction holding it has committed.

    Every hit is still durable before its response leaves, but all the hits that arrive
    while one transaction commits share the next one (one WAL flush on PostgreSQL, one
    write lock on SQLite), written in one COPY / executemany on a connection the writer
    keeps. The thread starts on first use, so it is created after gunicorn forks.
    """

    def __init__(self, runtime: Runtime, *, max_batch: int = 512, timeout: float = 30.0):
        self.runtime = runtime
        self.max_batch = max_batch
        self.timeout = timeout
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def write(self, row: dict[str, Any]) -> None:
        """Store ``row``; returns once it is committed, raises if the commit failed."""
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="nurture-hit-writer", daemon=True
                    )
                    self._thread.start()
        pending = _Pending(row)
        self._queue.put(pending)
        if not pending.done.wait(self.timeout):
            raise TimeoutError("the hit was not committed in time")
        if pending.error is not None:
            raise pending.error

    def close(self) -> None:
        """Commit what is queued, then stop the thread (Runtime.close calls this)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(self.timeout)
            self._thread = None

    def _run(self) -> None:
        sink = _sink(self.runtime.engine)
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                stop = False
                while len(batch) < self.max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        stop = True
                        break
                    batch.append(item)
                self._commit(sink, batch)
                if stop:
                    return
        finally:
            sink.reset(broken=False)

    @staticmethod
    def _commit(sink: _Sink, batch: list[_Pending]) -> None:
        rows = [p.row for p in batch]
        try:
            try:
                sink.write(rows)
            except Exception:
                # The held connection may have died (database restart, idle timeout):
                # one retry on a fresh connection before the requests are told.
                log.warning("storing %d hits failed; retrying once", len(rows), exc_info=True)
                sink.write(rows)
        except BaseException as exc:  # handed to each waiting request
            for pending in batch:
                pending.error = exc
        finally:
            for pending in batch:
                pending.done.set()
