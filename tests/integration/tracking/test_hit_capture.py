"""The capture path's group commit (``nurture.tracking.capture.HitWriter``) on a real database.

Many request threads write at once; a failed commit must be raised in every request whose
row it held and must not stall the rows queued after it; a broken held connection is
replaced once without the request noticing.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from nurture.models import TrackingHit
from nurture.platform.db import transaction, utcnow
from nurture.platform.runtime import Runtime
from nurture.tracking.capture import HitLock, HitWriter, _sink
from nurture.tracking.hit_rows import hit_row
from nurture.tracking.processing import HitProcessor

WAIT = 20.0  # seconds a test waits for a thread before calling it a hang


def row(token: str) -> dict[str, Any]:
    return hit_row(
        kind="open",
        now=utcnow(),
        method="GET",
        user_agent="Mozilla/5.0 test",
        ip="203.0.113.9",
        prefetch=False,
        ip_privacy="truncate",
        secret="s",
        token=token,
    )


def stored_tokens(runtime: Runtime) -> Counter[str]:
    with transaction(runtime.sessions) as session:
        return Counter(session.scalars(select(TrackingHit.token)))


def run_threads(targets: list[threading.Thread]) -> None:
    for thread in targets:
        thread.start()
    for thread in targets:
        thread.join(WAIT)
        assert not thread.is_alive(), "a writer thread hung"


def test_concurrent_hits_from_many_threads_are_each_stored_exactly_once(runtime):
    writer = HitWriter(runtime)
    errors: list[BaseException] = []

    def requests(thread: int) -> None:
        try:
            for i in range(25):
                writer.write(row(f"t{thread}-{i}"))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    run_threads([threading.Thread(target=requests, args=(t,)) for t in range(16)])
    writer.close()

    assert errors == []
    stored = stored_tokens(runtime)
    assert len(stored) == 16 * 25
    assert set(stored.values()) == {1}
    with transaction(runtime.sessions) as session:
        hit = session.scalars(select(TrackingHit).where(TrackingHit.token == "t3-7")).one()
        assert (hit.kind, hit.ip, hit.processed, hit.prefetch) == (
            "open",
            "203.0.113.0",
            False,
            False,
        )


def test_a_failed_commit_answers_every_waiter_and_the_next_hits_are_stored(runtime):
    """The leader commits its own row while five requests queue; the five rows' commit
    fails twice (first try and retry): each of the five gets the error, nobody hangs, and
    a later hit is stored."""
    writer = HitWriter(runtime)
    sink = _sink(runtime.engine)
    real_write = sink.write
    calls: list[list[str]] = []
    queued = threading.Event()

    def write(rows: list[dict[str, Any]]) -> None:
        calls.append([r["token"] for r in rows])
        if len(calls) == 1:
            assert queued.wait(WAIT), "the followers never queued"
            real_write(rows)
        elif len(calls) in (2, 3):
            raise OperationalError("INSERT", {}, Exception("disk full"))
        else:
            real_write(rows)

    sink.write = write  # type: ignore[method-assign]
    writer._sink = sink
    outcome: dict[str, BaseException | None] = {}

    def request(token: str) -> None:
        try:
            writer.write(row(token))
            outcome[token] = None
        except BaseException as exc:  # the request's own view of its hit
            outcome[token] = exc

    leader = threading.Thread(target=request, args=("leader",))
    leader.start()
    while not calls:  # the leader is inside its commit: every later hit queues
        threading.Event().wait(0.001)
    followers = [threading.Thread(target=request, args=(f"f{i}",)) for i in range(5)]
    for thread in followers:
        thread.start()
    while True:
        with writer._lock:
            if len(writer._queue) == 5:
                break
        threading.Event().wait(0.001)
    queued.set()
    for thread in [leader, *followers]:
        thread.join(WAIT)
        assert not thread.is_alive(), "a request hung"

    assert outcome["leader"] is None
    for i in range(5):
        assert isinstance(outcome[f"f{i}"], OperationalError)
    assert calls[0] == ["leader"]
    assert sorted(calls[1]) == sorted(calls[2]) == [f"f{i}" for i in range(5)]

    writer.write(row("later"))
    writer.close()
    assert stored_tokens(runtime) == Counter({"leader": 1, "later": 1})


def test_a_broken_held_connection_is_replaced_and_the_hit_stored(runtime, caplog):
    writer = HitWriter(runtime)
    writer.write(row("first"))
    held = writer._sink
    assert held is not None and held._connection is not None
    # What a database restart does to a held connection, done from the client side.
    held._connection.driver_connection.close()

    with caplog.at_level(logging.WARNING, logger="nurture.tracking.capture"):
        writer.write(row("second"))
    writer.close()

    assert "retrying once" in caplog.text
    assert stored_tokens(runtime) == Counter({"first": 1, "second": 1})


def test_writing_after_close_opens_a_new_connection(runtime):
    writer = HitWriter(runtime)
    writer.write(row("a"))
    writer.close()
    writer.write(row("b"))
    writer.close()
    assert stored_tokens(runtime) == Counter({"a": 1, "b": 1})


def test_a_failure_of_the_first_try_alone_is_invisible_to_the_request(runtime):
    writer = HitWriter(runtime)
    sink = _sink(runtime.engine)
    real_write = sink.write
    left = [1]

    def write(rows: list[dict[str, Any]]) -> None:
        if left[0]:
            left[0] -= 1
            sink.reset()  # as the real write does when the statement fails
            raise OperationalError("COPY", {}, Exception("server closed the connection"))
        real_write(rows)

    sink.write = write  # type: ignore[method-assign]
    writer._sink = sink
    writer.write(row("x"))
    writer.close()
    assert stored_tokens(runtime) == Counter({"x": 1})


def test_every_column_is_stored_as_an_orm_insert_would_store_it(runtime):
    """The sink binds values itself (on PostgreSQL as libpq text parameters): types,
    unicode, JSON, NULLs and a batch bigger than one prepared statement all arrive intact."""
    now = utcnow()
    page = hit_row(
        kind="page",
        now=now,
        method="GET",
        user_agent="Mozilla/5.0 (Macintosh) — “quoted” 'single' \\ backslash",
        ip="2001:db8:85a3::8a2e:370:7334",
        prefetch=True,
        ip_privacy="full",
        secret="s",
        visitor_id="v1234567",
        url="https://brightpath.example/préçis?a=1&b='x'",
        payload={"title": "Prices — €", "nested": {"n": 1, "ok": True}, "list": [1, None]},
    )
    click = row("clicker") | {"kind": "click", "link_index": 2, "link_count": 5, "url": None}
    nul = row("nul") | {"url": "https://a.example/\x00after"}
    many = [row(f"bulk{i}") for i in range(150)]
    sink = _sink(runtime.engine)
    sink.write([page, click, nul, *many])
    sink.reset(broken=False)

    with transaction(runtime.sessions) as session:
        stored = {h.token or h.visitor_id: h for h in session.scalars(select(TrackingHit))}
        assert len(stored) == 153
        got = stored["v1234567"]
        assert (got.kind, got.method, got.user_agent, got.ip, got.url, got.prefetch) == (
            "page",
            "GET",
            page["user_agent"],
            "2001:db8:85a3::8a2e:370:7334",
            page["url"],
            True,
        )
        assert got.payload == page["payload"]
        assert got.occurred_at == now
        assert got.processed is False
        assert (stored["clicker"].link_index, stored["clicker"].link_count) == (2, 5)
        assert stored["clicker"].url is None and stored["clicker"].payload is None
        # PostgreSQL text cannot hold NUL: it becomes U+FFFD instead of failing the batch.
        expected = "\x00" if runtime.engine.dialect.name == "sqlite" else "\ufffd"
        assert stored["nul"].url == f"https://a.example/{expected}after"
        assert all(stored[f"bulk{i}"].kind == "open" for i in range(150))


def test_a_backlog_bigger_than_one_pass_is_processed_in_one_run(runtime):
    processor = HitProcessor(runtime)
    writer = HitWriter(runtime)
    backlog = processor.limit * 2 + 5  # three transactions
    for i in range(backlog):
        writer.write(row(f"b{i}"))
    writer.close()
    assert processor.run_once(utcnow()) == backlog
    with transaction(runtime.sessions) as session:
        assert session.scalars(select(TrackingHit.processed)).all() == [True] * backlog


def test_the_hit_lock_makes_a_second_holder_wait_for_the_first(runtime):
    first, second = HitLock(runtime.engine), HitLock(runtime.engine, keep_open=False)
    if runtime.engine.dialect.name != "sqlite":
        # PostgreSQL needs no queue: the lock is a no-op, so holding both cannot block.
        assert first.path is None and second.path is None
        return
    order: list[str] = []
    holding = threading.Event()

    def hold() -> None:
        with first.held():
            holding.set()
            threading.Event().wait(0.2)
            order.append("first done")

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(WAIT)
    with second.held():
        order.append("second in")
    thread.join(WAIT)
    first.close()
    assert order == ["first done", "second in"]


def test_a_held_connection_left_inside_a_transaction_is_not_trusted(runtime, caplog):
    """Rows written inside a transaction nobody commits would be lost once answered: the
    writer refuses that connection and stores the hit on a fresh one."""
    writer = HitWriter(runtime)
    writer.write(row("first"))
    held = writer._sink
    assert held is not None and held._connection is not None
    held._connection.driver_connection.execute("BEGIN")

    with caplog.at_level(logging.WARNING, logger="nurture.tracking.capture"):
        writer.write(row("second"))
    writer.close()

    assert "retrying once" in caplog.text
    assert stored_tokens(runtime) == Counter({"first": 1, "second": 1})
