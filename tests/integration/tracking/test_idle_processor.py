"""An idle hit processor (the worker's job every second, ``nurture serve``'s processor between
wake-ups) only looks: it takes neither the hit lock nor a write transaction, so captures
never wait on it, and it still processes what it finds."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select

from nurture.models import TrackingHit
from nurture.platform.db import transaction, utcnow
from nurture.platform.runtime import Runtime
from nurture.tracking.capture import HitLock, HitWriter
from nurture.tracking.hit_rows import hit_row
from nurture.tracking.processing import HitProcessor
from tests.integration.engine_support import statements

WAIT = 20.0  # seconds a test waits for a thread before calling it a hang


@contextmanager
def writers_busy(runtime: Runtime) -> Iterator[None]:
    """The hit lock and SQLite's write lock held by someone else (a capture committing)."""
    lock = HitLock(runtime.engine)
    database = runtime.engine.url.database
    other = sqlite3.connect(str(database), isolation_level=None)
    try:
        with lock.held():
            other.execute("BEGIN IMMEDIATE")
            yield
            other.execute("ROLLBACK")
    finally:
        other.close()
        lock.close()


def test_an_idle_pass_takes_no_lock_and_opens_no_write_transaction(runtime):
    processor = HitProcessor(runtime)
    with statements(runtime) as seen:
        assert processor.run_once(utcnow()) == 0  # with the visitor merge, due on a first run
    assert seen, "the pass looked at the database"
    assert not [s for s in seen if "FOR UPDATE" in s or s.startswith("BEGIN IMMEDIATE")]

    if runtime.engine.dialect.name != "sqlite":
        return  # PostgreSQL has no hit lock, and its reads never wait for writers
    done: list[int] = []
    with writers_busy(runtime):
        thread = threading.Thread(target=lambda: done.append(processor.run_once(utcnow())))
        thread.start()
        thread.join(WAIT)
        assert not thread.is_alive(), "an idle pass waited for the writers"
    assert done == [0]


def test_a_pass_that_finds_hits_processes_them(runtime):
    processor = HitProcessor(runtime)
    assert processor.run_once(utcnow()) == 0
    writer = HitWriter(runtime)
    for token in ("a", "b", "c"):
        writer.write(
            hit_row(
                kind="open", now=utcnow(), method="GET", user_agent="Mozilla/5.0 test",
                ip="203.0.113.9", prefetch=False, ip_privacy="truncate", secret="s",
                token=token,
            )
        )  # fmt: skip
    writer.close()
    assert processor.run_once(utcnow()) == 3
    with transaction(runtime.sessions) as session:
        assert session.scalars(select(TrackingHit.processed)).all() == [True] * 3
    assert processor.run_once(utcnow()) == 0


def long_row(i: int) -> dict[str, Any]:
    return hit_row(
        kind="click", now=utcnow(), method="GET", user_agent="Mozilla/5.0 test",
        ip="203.0.113.9", prefetch=False, ip_privacy="truncate", secret="s",
        token=f"t{i}", url="https://a.example/" + "x" * 2000,
    )  # fmt: skip


def database_bytes(runtime: Runtime) -> int:
    return Path(str(runtime.engine.url.database)).stat().st_size


def test_captures_leave_the_checkpoint_to_the_processor(runtime):
    """A capture's commit never copies the log into the database file (that fsyncs, under
    the lock every other capture waits for); the processor's pass does, after its work."""
    if runtime.engine.dialect.name != "sqlite":
        return  # PostgreSQL's checkpoints are the server's business
    writer = HitWriter(runtime)
    writer.write(long_row(0))
    before = database_bytes(runtime)
    # ~5 MB of hits: past SQLite's default autocheckpoint of 1,000 pages (4 MB).
    for i in range(1, 2500):
        writer.write(long_row(i))
    writer.close()
    assert database_bytes(runtime) == before

    assert HitProcessor(runtime).run_once(utcnow()) == 2500
    assert database_bytes(runtime) > before + 5_000_000
