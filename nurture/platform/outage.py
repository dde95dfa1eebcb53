"""Riding out a database outage: one clear line when the database goes away, quiet retries
with back-off while it is gone, one line when it is back.

Without this every periodic job of the worker (the tick, tracking hits, webhooks, the
digest…) logs a full traceback each time it runs into the missing database — hundreds for
a 20-second restart — and hammers the server as it comes back. An ``OutageGate`` wraps a
job: when the job fails because the database cannot be reached, the gate logs that once
(per outage, across every job sharing it), skips the jobs until a back-off delay has
passed, then lets one through as a probe; the first that succeeds ends the outage.

Work is never lost: a job that did not run leaves its work due in the database (or, with
the database gone, nothing could have been done anyway).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

log = logging.getLogger("nurture.outage")

T = TypeVar("T")

# The first retry after this long, doubling up to the ceiling: the database usually comes
# back within seconds (a restart, a failover), and work resumes at most MAX_DELAY after it
# does; a probe is one failed connection attempt, so one every few seconds costs nothing.
FIRST_DELAY = 1.0
MAX_DELAY = 5.0
# How deep to follow an error's causes (a failed delivery lane wraps the database error).
_MAX_DEPTH = 8


def is_outage(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) says the database cannot be reached or
    stopped answering, as opposed to a bug or a constraint violation."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < _MAX_DEPTH:
        if isinstance(current, OperationalError | InterfaceError | DisconnectionError):
            return True
        if isinstance(current, sqlite3.OperationalError):
            return True
        # psycopg's own errors, met outside SQLAlchemy (a raw connection).
        if type(current).__module__.startswith("psycopg") and type(current).__name__ in (
            "OperationalError",
            "InterfaceError",
        ):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def _reason(error: BaseException) -> str:
    """The first line of the deepest message: no SQL, no parameters (they can hold
    personal data), no traceback."""
    current: BaseException = error
    while current.__cause__ is not None or current.__context__ is not None:
        nxt = current.__cause__ or current.__context__
        assert nxt is not None
        current = nxt
    text = str(getattr(current, "orig", None) or current).strip().splitlines()
    return (text[0] if text else type(current).__name__)[:200]


class OutageGate:
    """Runs jobs while the database answers; rides out an outage quietly (module doc)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self._delay = FIRST_DELAY
        self._next_probe = 0.0

    @property
    def down(self) -> bool:
        """True while an outage is going on."""
        return self.down_since is not None

    def run(self, job: Callable[[], T]) -> T | None:
        """``job()``, or None when it was skipped or met the outage. Errors that are not
        about reaching the database propagate unchanged."""
        with self._lock:
            if self.down_since is not None and self._clock() < self._next_probe:
                return None
        try:
            result = job()
        except Exception as error:
            if not is_outage(error):
                raise
            self._failed(error)
            return None
        self._succeeded()
        return result

    def _failed(self, error: BaseException) -> None:
        with self._lock:
            now = self._clock()
            if self.down_since is None:
                self.down_since = now
                self._delay = FIRST_DELAY
                log.warning(
                    "the database cannot be reached (%s); work waits in the database and is "
                    "retried with back-off until it answers",
                    _reason(error),
                )
            else:
                self._delay = min(self._delay * 2, MAX_DELAY)
            self._next_probe = now + self._delay

    def _succeeded(self) -> None:
        with self._lock:
            if self.down_since is None:
                return
            lasted = self._clock() - self.down_since
            self.down_since = None
            self._delay = FIRST_DELAY
        log.warning("the database answers again after %.0f s; carrying on", lasted)
