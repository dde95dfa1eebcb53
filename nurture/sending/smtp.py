"""Delivery to a real SMTP server over long-lived connections.

Configured by one URL (``NURTURE_SMTP_URL``, see ``nurture.platform.smtp_url``). The design
note measured that a new connection per message halves throughput, so a transport keeps one
connection open and reuses it; it resets the session after an error reply, reconnects when
the server goes away, and pipelines MAIL/RCPT/DATA when the server offers PIPELINING
(``nurture.sending.smtp_connection``). See docs/sending.md.
"""

from __future__ import annotations

import logging
import queue
import smtplib
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from nurture.platform.config import Settings
from nurture.platform.smtp_url import SmtpConfig, parse_smtp_url
from nurture.sending.delivery import DeliveryResult, Outgoing, Transport
from nurture.sending.ratelimit import RateLimiter, TokenBucket
from nurture.sending.smtp_connection import (
    CONNECTION_LOST,
    ConnectFailed,
    Prepared,
    ServerClosing,
    SmtpConnection,
)

log = logging.getLogger(__name__)


class SmtpTransport(SmtpConnection):
    """Delivers over one reused SMTP connection; thread-safe (calls are serialised).

    Each message is one MAIL/RCPT/DATA transaction on the open connection: the commands
    ``smtplib.SMTP.sendmail`` sends (in one write when the server offers PIPELINING), but
    keeping the server's final reply (its queue id) and classifying every refusal instead
    of raising. An error reply is followed by RSET so the next message starts clean. When
    the connection turns out to be gone (the server restarted, an idle timeout, a 421
    reply) the transport reconnects and tries that message once more before reporting it
    ``temporary``. A connection unused for ``max_idle`` seconds is replaced before use.
    """

    # Servers hang up on idle clients (Postfix after 300 s, some relays after 30-60 s), and
    # a NAT box may forget the connection silently, which costs a full timeout to notice.
    # Reconnecting after a quiet minute is cheaper than finding out from a failed command.
    max_idle: float = 60.0

    def __init__(self, config: SmtpConfig | str, *, rate_limiter: RateLimiter | None = None):
        super().__init__(parse_smtp_url(config) if isinstance(config, str) else config)
        self.rate_limiter = rate_limiter
        self._lock = threading.Lock()
        self._last_used = 0.0

    def __repr__(self) -> str:
        state = "connected" if self._conn is not None else "idle"
        return f"<SmtpTransport {self.config.redacted_url} {state}>"

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ public API

    def send(self, item: Outgoing) -> DeliveryResult:
        """Deliver one message and say what happened (never raises for SMTP trouble)."""
        with self._lock:
            try:
                return self._deliver(item)
            except ConnectFailed as exc:
                return exc.result

    def send_many(self, items: Sequence[Outgoing]) -> list[DeliveryResult]:
        """Deliver a batch in order over the one connection; one result per item.

        When the server offers PIPELINING the batch is streamed: each message's data goes
        in one write with the next message's MAIL, RCPT and DATA (RFC 2920 allows the
        content as the first "command" of a group), so a message costs one round trip.

        When no connection can be made, the rest of the batch shares that failure rather
        than trying again per message: against an unreachable host every attempt would
        wait for the full timeout, turning one batch into an hour.
        """
        results: list[DeliveryResult | None] = [None] * len(items)
        with self._lock:
            try:
                self._stream(items, results)
            except ConnectFailed as exc:
                results = [exc.result if r is None else r for r in results]
        return results  # type: ignore[return-value]  # every slot is filled above

    def close(self) -> None:
        """Say QUIT and close the connection; the next send opens a new one."""
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except OSError:
                conn.close()

    # ------------------------------------------------------------------ delivery

    def _deliver(self, item: Outgoing) -> DeliveryResult:
        if self.rate_limiter is not None:
            self.rate_limiter.acquire()
        now = time.monotonic()
        if self._conn is not None and now - self._last_used > self.max_idle:
            self._discard()
        self._last_used = now
        conn = self._conn or self._open()
        try:
            return self._transaction(conn, item)
        except CONNECTION_LOST as exc:
            self._lost(exc)
        return self._retry(item)

    def _lost(self, exc: BaseException) -> None:
        self._discard()
        log.info("SMTP connection to %s lost (%s); reconnecting", self.config.address, exc)

    def _retry(self, item: Outgoing) -> DeliveryResult:
        """The one more try, on a fresh connection, of a message whose connection died.

        Servers drop idle connections and restart, so one retry is worth it; a second
        failure is reported and left to the engine's backoff. (If the drop came after the
        server had read the final dot, it may have queued the message: SMTP cannot tell,
        RFC 1047.) A connection opened for an earlier retry of the same batch is reused.
        """
        conn = self._conn or self._open()
        try:
            return self._transaction(conn, item)
        except ServerClosing as exc:
            self._discard()
            return DeliveryResult.from_reply(exc.code, exc.text)
        except OSError as exc:
            self._discard()
            return DeliveryResult.temporary_failure(
                f"connection to {self.config.address} lost: {exc}"
            )

    def _stream(self, items: Sequence[Outgoing], results: list[DeliveryResult | None]) -> None:
        """Fill ``results`` for ``items``: one write and one round trip per message where
        the server pipelines, a message at a time (``_deliver``) where it does not."""
        index = 0
        # The message whose DATA was accepted; its content goes out with the next write.
        pending: tuple[int, Prepared] | None = None
        while index < len(items) or pending is not None:
            if pending is None:
                conn = self._usable()
                if not conn.has_extn("pipelining"):
                    results[index] = self._deliver(items[index])
                    index += 1
                    continue
            upcoming: tuple[int, Prepared] | None = None
            if index < len(items):
                if self.rate_limiter is not None:
                    self.rate_limiter.acquire()
                prepared = self._prepare(conn, items[index])
                if isinstance(prepared, DeliveryResult):
                    results[index] = prepared
                else:
                    upcoming = (index, prepared)
                index += 1
                if pending is None and upcoming is None:
                    continue
            in_flight = [entry[0] for entry in (pending, upcoming) if entry is not None]
            try:
                self._write_group(conn, pending, upcoming)
                if pending is not None:
                    code, reply = conn.getreply()
                    results[pending[0]] = self._data_answered(
                        conn, code, reply, reset=upcoming is None
                    )
                    pending = None
                if upcoming is not None:
                    refused = self._data_refused(conn, self._command_replies(conn))
                    if refused is None:
                        pending = upcoming
                    else:
                        results[upcoming[0]] = refused
            except (smtplib.SMTPResponseException, *CONNECTION_LOST) as exc:
                pending = None
                unanswered = [i for i in in_flight if results[i] is None]
                if isinstance(exc, smtplib.SMTPResponseException):
                    # A garbled reply (smtplib hung up): that message is refused as
                    # ``_transaction`` would refuse it; the ones behind it are retried.
                    self._discard()
                    results[unanswered.pop(0)] = DeliveryResult.from_reply(
                        exc.smtp_code, f"message refused: {exc.smtp_error!r}", "DATA"
                    )
                else:
                    self._lost(exc)
                for lost in unanswered:
                    results[lost] = self._retry(items[lost])

    def _usable(self) -> smtplib.SMTP:
        """The open connection, replaced first when it sat idle too long, or a new one."""
        now = time.monotonic()
        if self._conn is not None and now - self._last_used > self.max_idle:
            self._discard()
        self._last_used = now
        return self._conn or self._open()

    def _write_group(
        self,
        conn: smtplib.SMTP,
        pending: tuple[int, Prepared] | None,
        upcoming: tuple[int, Prepared] | None,
    ) -> None:
        """One write: the pending message's content, then the next one's commands."""
        chunks = [] if pending is None else [pending[1].payload]
        if upcoming is not None:
            prepared = upcoming[1]
            chunks.append(
                f"{prepared.mail}\r\n{prepared.rcpt}\r\nDATA\r\n".encode(prepared.encoding)
            )
        self._last_used = time.monotonic()
        conn.send(b"".join(chunks))


_T = TypeVar("_T")


class SmtpPool:
    """Several :class:`SmtpTransport` connections used side by side from threads.

    Worth it when each message waits on network round trips (a relay far away); against a
    local MTA one connection is usually as fast. ``send_many`` deals a batch out to the
    connections round-robin and returns the results in the batch's order; the rate
    limiter, if any, is shared, so the limit holds across connections.
    """

    def __init__(
        self, config: SmtpConfig | str, size: int, *, rate_limiter: RateLimiter | None = None
    ) -> None:
        if size < 1:
            raise ValueError(f"pool size must be at least 1, got {size}")
        self.config = parse_smtp_url(config) if isinstance(config, str) else config
        self.rate_limiter = rate_limiter
        self.size = size
        self.transports = [
            SmtpTransport(self.config, rate_limiter=rate_limiter) for _ in range(size)
        ]
        self._idle: queue.SimpleQueue[SmtpTransport] = queue.SimpleQueue()
        for transport in self.transports:
            self._idle.put(transport)
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<SmtpPool {self.config.redacted_url} size={self.size}>"

    def _with_idle(self, work: Callable[[SmtpTransport], _T]) -> _T:
        transport = self._idle.get()
        try:
            return work(transport)
        finally:
            self._idle.put(transport)

    def send(self, item: Outgoing) -> DeliveryResult:
        """Deliver one message over whichever connection is free."""
        return self._with_idle(lambda transport: transport.send(item))

    def send_many(self, items: Sequence[Outgoing]) -> list[DeliveryResult]:
        """Deliver a batch over up to ``size`` connections at once; results in order."""
        items = list(items)
        lanes = min(self.size, len(items))
        if lanes <= 1:
            return self._with_idle(lambda transport: transport.send_many(items))
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="nurture-smtp")
            executor = self._executor
        futures = [
            executor.submit(
                self._with_idle,
                lambda transport, lane=lane: transport.send_many(items[lane::lanes]),
            )
            for lane in range(lanes)
        ]
        results: list[DeliveryResult] = [None] * len(items)  # type: ignore[list-item]
        for lane, future in enumerate(futures):
            results[lane::lanes] = future.result()
        return results

    def close(self) -> None:
        """Close every connection and stop the worker threads (both restart on demand)."""
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
        for transport in self.transports:
            transport.close()


def smtp_transport_from_settings(settings: Settings) -> Transport:
    """An SMTP transport (or pool) for ``settings.smtp_url`` with the configured rate limit."""
    if not settings.smtp_url:
        raise ValueError("no SMTP URL configured (NURTURE_SMTP_URL)")
    config = parse_smtp_url(settings.smtp_url)
    limiter = TokenBucket(settings.smtp_rate_limit) if settings.smtp_rate_limit > 0 else None
    if settings.smtp_pool_size > 1:
        return SmtpPool(config, settings.smtp_pool_size, rate_limiter=limiter)
    if settings.smtp_pool_size < 1:
        raise ValueError(f"smtp_pool_size must be at least 1, got {settings.smtp_pool_size}")
    return SmtpTransport(config, rate_limiter=limiter)
