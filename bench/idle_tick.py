#!/usr/bin/env python
"""Idle tick: how long ``Engine.tick`` and the worker's whole pass take when a million
enrolments exist and none is due.

Usage (README: see docs/benchmarks.md):

    .venv/bin/python bench/idle_tick.py --db postgresql --leads 1000000 [--ticks 20] [--reseed]
    .venv/bin/python bench/idle_tick.py --db sqlite --leads 1000000

The database holds N leads, each with one active enrolment in the bench campaign due at
some time in the 30 days after the tick's clock, and one earlier ``sent`` message (the
history a live system has). Seeding uses COPY on PostgreSQL and one big ``executemany``
transaction with ``PRAGMA synchronous=OFF`` on SQLite; the seeded database is kept and
reused (PostgreSQL database ``nurture_bench_idle`` or ``--pg-database``;
bench/out/idle-N.sqlite) when it holds the same N rows at the current schema revision, or
rebuilt with ``--reseed``.

After one warm-up tick, ``--ticks`` ticks are timed (median and p95) against the goal
(< 50 ms), then as many of the worker's whole passes (``WorkerPass.run``: the file watchers,
score cooling, the SLA pass and the engine tick, what ``nurture worker`` runs every
``NURTURE_TICK_SECONDS``) and of its tracking-hits job (every second), with the reference
measured in the same run on the same connection pool: a ``SELECT 1`` round trip, and an
empty transaction around it (a tick is two transactions).
It also lists the SQL one idle tick runs, with the database's plan for each SELECT.
Exits 1 if a tick claims or sends anything (nothing is due); missing the goal prints FAIL.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchlib import (
    OUT,
    Seed,
    alembic_head,
    bench_settings,
    future,
    make_engine,
    migrate,
    percentile,
    postgres_database_exists,
    postgres_url,
    print_machine,
    recreate_postgres_database,
    schema_revision,
    seed_rows,
    sync_bench_campaign,
    verdict,
)
from sqlalchemy import event, func, select, text

from nurture.models import Enrollment
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.sending.engine import Engine
from nurture.tracking.processing import HitProcessor
from nurture.worker.loop import WorkerPass

GOAL_MS = 50.0
DATABASE = "nurture_bench_idle"
# The tick's clock: fixed, so a cached database stays idle whatever the wall clock says.
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def seeded_url(db: str, n: int, reseed: bool, database: str = DATABASE) -> tuple[str, str]:
    """The URL of a database seeded with ``n`` idle enrolments, and how it was obtained
    (``database``: the PostgreSQL database's name)."""
    if db == "postgresql":
        url = postgres_url(database)
        exists = postgres_database_exists(database)
    else:
        path = OUT / f"idle-{n}.sqlite"
        url = f"sqlite:///{path}"
        exists = path.exists()
    if exists and not reseed and _holds(url, n):
        return url, "reused (use --reseed to rebuild)"
    if db == "postgresql":
        recreate_postgres_database(database)
    else:
        OUT.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    migrate(url)
    runtime = Runtime.from_settings(bench_settings(url, OUT / "instance"))
    try:
        campaign_id, version_id = sync_bench_campaign(runtime, T0)
        seconds = seed_rows(
            runtime.engine,
            Seed(
                n=n,
                campaign_id=campaign_id,
                version_id=version_id,
                now=T0,
                due_at=lambda i: future(T0, i),
                step="welcome",
                with_messages=True,
            ),
        )
    finally:
        runtime.close()
    return url, f"seeded in {seconds:.1f} s"


def _holds(url: str, n: int) -> bool:
    engine = make_engine(url)
    try:
        if schema_revision(engine) != alembic_head():
            return False
        with engine.connect() as conn:
            counts = [
                conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
                for table in ("leads", "enrollments", "messages")
            ]
            due = conn.scalar(
                select(func.count()).select_from(Enrollment).where(Enrollment.next_due_at <= T0)
            )
        return counts == [n, n, n] and due == 0
    finally:
        engine.dispose()


def timed(function: Callable[[], Any], repeats: int) -> list[float]:
    """Milliseconds per call, one warm-up call first."""
    function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def describe(label: str, times: list[float]) -> str:
    return (
        f"{label:<34} median {statistics.median(times):8.2f} ms"
        f"   p95 {percentile(times, 0.95):8.2f} ms"
        f"   min {min(times):7.2f} ms   max {max(times):7.2f} ms"
    )


def print_plans(runtime: Runtime, statements: list[tuple[str, Any]]) -> None:
    dialect = runtime.engine.dialect.name
    print(f"\nSQL run by one idle tick ({len(statements)} statements):")
    for statement, parameters in statements:
        print("  " + " ".join(statement.split()))
        if not statement.lstrip().upper().startswith("SELECT"):
            continue
        prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
        with runtime.engine.connect() as conn:
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
            conn.rollback()
        for row in rows:
            print("      | " + (str(row[-1]) if dialect == "sqlite" else str(row[0])))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--leads", type=int, default=1_000_000, help="enrolled leads")
    parser.add_argument("--ticks", type=int, default=20, help="timed ticks")
    parser.add_argument("--reseed", action="store_true", help="rebuild the cached database")
    parser.add_argument(
        "--pg-database", default=DATABASE, help="PostgreSQL database (rebuilt when stale)"
    )
    args = parser.parse_args()

    print(f"== idle tick: {args.db}, {args.leads:,} enrolled leads, none due ==")
    url, how = seeded_url(args.db, args.leads, args.reseed, args.pg_database)
    runtime = Runtime.from_settings(bench_settings(url, OUT / "instance"))
    print_machine(runtime.engine)
    print(f"dataset       {args.leads:,} leads / enrolments / sent messages: {how}")
    sync_bench_campaign(runtime, T0)  # a no-op unless the campaign file changed
    engine = Engine(runtime)
    problems = []
    try:
        statements: list[tuple[str, Any]] = []

        def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            statements.append((statement, parameters))

        event.listen(runtime.engine, "before_cursor_execute", capture)
        report = engine.tick(T0)
        event.remove(runtime.engine, "before_cursor_execute", capture)

        reports = []

        def tick() -> None:
            reports.append(engine.tick(T0))

        tick_times = timed(tick, args.ticks)

        # The worker's whole pass: file watchers, score cooling, the SLA pass, the engine
        # tick; and its tracking-hits job, which runs every second beside it.
        worker_pass = WorkerPass(runtime, engine)

        def whole_pass() -> None:
            reports.append(worker_pass.run(T0))

        pass_times = timed(whole_pass, args.ticks)
        hits = HitProcessor(runtime)
        hit_times = timed(lambda: hits.run_once(T0), args.ticks)

        def select_one() -> None:
            with runtime.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1").scalar()

        def empty_transaction() -> None:
            with transaction(runtime.sessions) as session:
                session.execute(text("SELECT 1")).scalar()

        select_times = timed(select_one, args.ticks)
        transaction_times = timed(empty_transaction, args.ticks)
        for r in [report, *reports]:
            if r.claimed or r.sent or r.retried:
                problems.append(f"an idle tick did work: {r}")
                break
        print_plans(runtime, statements)
    finally:
        engine.close()
        runtime.close()

    median, p95 = statistics.median(tick_times), percentile(tick_times, 0.95)
    whole_p95 = percentile(pass_times, 0.95)
    reference = statistics.median(select_times)
    print(f"\n{args.ticks} timed ticks after one warm-up (same connection pool for all rows):")
    print(describe("Engine.tick(now), nothing due", tick_times))
    print(describe("worker pass (files, cooling, SLA)", pass_times))
    print(describe("worker's tracking-hits job", hit_times))
    print(describe("reference: SELECT 1 round trip", select_times))
    print(describe("reference: transaction + SELECT 1", transaction_times))
    print(f"ratio     idle tick / SELECT 1 (medians): {median / reference:.1f} ×")
    print(
        f"goal      idle tick < {GOAL_MS:.0f} ms (judged on p95 {p95:.2f} ms): "
        f"{verdict(p95 < GOAL_MS)}"
    )
    print(
        f"goal      whole worker pass < {GOAL_MS:.0f} ms (p95 {whole_p95:.2f} ms): "
        f"{verdict(whole_p95 < GOAL_MS)}"
    )
    if problems:
        print("\nCORRECTNESS FAILED:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print("correct   no idle tick claimed or sent anything")
    return 0


if __name__ == "__main__":
    sys.exit(main())
