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
import queue
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from nurture.machine_rules import network_of
from nurture.models.tracking import TrackingHit
from nurture.runtime import Runtime

IP_PRIVACY_MODES = ("truncate", "hash", "full", "none")
_MAX_AGENT = 500


def stored_ip(ip: str | None, mode: str, secret: str) -> str | None:
    """PURE: ``ip`` as the privacy ``mode`` allows it to be kept.

    ``truncate`` keeps the network (/24 for IPv4, /48 for IPv6): enough for the rough
    location and the network rules, not enough to name a household. ``hash`` keeps a keyed
    hash (HMAC with the instance secret, so the 2^32 IPv4 addresses cannot simply be
    hashed and looked up), which still tells repeated visits apart. ``none`` keeps nothing.
    """
    if not ip or mode == "none":
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if mode == "full":
        return str(address)
    if mode == "hash":
        digest = hmac.new(secret.encode(), str(address).encode(), hashlib.sha256)
        return "h:" + digest.hexdigest()[:40]
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


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
    return {
        "kind": kind,
        "occurred_at": now,
        "method": method[:10],
        "user_agent": (user_agent or None) and user_agent[:_MAX_AGENT],
        "ip": stored_ip(ip, ip_privacy, secret),
        "network": network_of(ip),
        "prefetch": prefetch,
        "processed": False,
        **fields,
    }


_INSERT = insert(TrackingHit)


def record_hit(runtime: Runtime, row: dict[str, Any]) -> None:
    """Insert one hit and commit: when this returns, the hit is durable."""
    with runtime.engine.begin() as connection:
        connection.execute(_INSERT, row)


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

    Every hit is still durable before its response leaves, but a burst of concurrent hits
    costs one commit (one WAL flush on PostgreSQL, one write lock on SQLite) instead of one
    each; that is what keeps capture close to the speed of a trivial endpoint. The thread
    starts on first use, so it is created after gunicorn forks.
    """

    def __init__(self, runtime: Runtime, *, max_batch: int = 256, timeout: float = 30.0):
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
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            try:
                with self.runtime.engine.begin() as connection:
                    connection.execute(_INSERT, [p.row for p in batch])
            except BaseException as exc:  # handed to each waiting request
                for pending in batch:
                    pending.error = exc
            finally:
                for pending in batch:
                    pending.done.set()
