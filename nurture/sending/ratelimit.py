"""Rate limiting for outgoing mail.

Mail providers and relays cap how fast a customer may send (for example 14 messages/s), and
going over the cap earns 4xx replies or worse. The SMTP transport therefore asks a
:class:`RateLimiter` before every message. Today that is an in-process
:class:`TokenBucket`, shared by every connection of one worker. A limiter shared by several
workers (a row in the database, or Redis) only has to provide the same one method, so it can
replace the bucket without touching the transport.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable


@runtime_checkable
class RateLimiter(Protocol):
    """Grants permission to send; blocks the caller until it may."""

    def acquire(self, n: int = 1) -> None:
        """Return once ``n`` more messages may be sent."""
        ...


class TokenBucket:
    """A thread-safe token bucket: ``rate`` tokens a second, at most ``burst`` saved up.

    The bucket starts full. A caller that finds too few tokens *reserves* them (the count
    goes negative) and sleeps until they would have accrued, outside the lock. Reserving
    first makes concurrent callers queue fairly: each later caller sees the earlier
    reservations and sleeps correspondingly longer, so the rate holds across threads
    without a condition variable. ``clock`` and ``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self.rate = float(rate)
        self.burst = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._updated = clock()

    def acquire(self, n: int = 1) -> None:
        """Take ``n`` tokens, sleeping until they are available.

        ``n`` may exceed ``burst``: the caller then waits for the shortfall to accrue.
        """
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= n
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate:g}, burst={self.burst:g})"
