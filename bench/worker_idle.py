#!/usr/bin/env python
"""The worker's whole idle tick: every periodic job ``nurture worker`` runs, timed one by one
on a database with a live system's history, when there is nothing to do.

Usage (see docs/benchmarks.md, "The worker's whole idle tick"):

    .venv/bin/python bench/worker_idle.py --db sqlite --leads 100000 [--runs 30] [--reseed]
    .venv/bin/python bench/worker_idle.py --db postgresql --leads 100000 \\
        --pg-database nurture_bench_idle_h_idle

The database is ``bench/idle_tick.py``'s (N leads, each with one active enrolment due in the
next 30 days and one sent message) plus the history a live system keeps: 3 events per lead
(half of them older than the tracking retention, their raw keys already purged), 2 processed
tracking hits per lead, N anonymous website visitors and N/5 identified ones, one lead in
five warm (its temperature cooling in the coming weeks) and N/20 delivered webhooks.

Each job of ``nurture/worker/loop.py`` is timed on its own, in the order the worker runs
them, with its own clock advancing by its interval (so the once-per-5-s visitor merge of
the hits job runs as often as in the worker): the four file watchers, the scoring file and
score cooling, the SLA pass, the engine's tick (these make the tick, every
``NURTURE_TICK_SECONDS``), the whole tick as ``WorkerPass.run``, the tracking-hits job
(every second), the webhooks job (every 2 s), the digests job (every 15 minutes) and the
privacy purge (daily). For each: median and p95 ms, SQL statements per run, and the
milliseconds per minute of idle time the job costs at its interval. The references, in the
same run on the same pool: a ``SELECT 1`` round trip and the engine's bare tick.
Exits 1 if any job did work (nothing is due, nothing is waiting).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from benchlib import (
    OUT,
    _seed_postgres,
    _seed_sqlite,
    _timestamp_processor,
    bench_settings,
    make_engine,
    percentile,
    print_machine,
    sync_bench_campaign,
)
from idle_tick import T0, seeded_url, timed
from sqlalchemy import Engine as SAEngine
from sqlalchemy import event, text

from nurture.analytics.digests import send_due_digests
from nurture.handoff.sla import run_due as run_sla
from nurture.handoff.webhooks import deliver_due as deliver_webhooks
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.privacy.rights import purge_expired
from nurture.sending.engine import Engine
from nurture.tracking.processing import HitProcessor
from nurture.worker.loop import WorkerPass

TICK = timedelta(seconds=5)  # NURTURE_TICK_SECONDS' default


@dataclass
class Job:
    """One periodic job: what it runs, how often the worker runs it."""

    name: str
    every: timedelta
    run: Callable[[Any], Any]
    part_of_tick: bool = False


# --------------------------------------------------------------------------- history


def _history(engine: SAEngine, n: int) -> list[tuple[str, tuple[str, ...], Iterator[Any]]]:
    ts = _timestamp_processor(engine)
    old, recent = ts(T0 - timedelta(days=500)), ts(T0 - timedelta(days=20))

    def events() -> Iterator[tuple[Any, ...]]:
        for i in range(1, 3 * n + 1):
            when = old if i % 2 else recent
            yield (i, (i - 1) // 3 + 1, "email.opened", (i - 1) // 3 + 1, when, when, False, "[]",
                   "{}")  # fmt: skip

    def hits() -> Iterator[tuple[Any, ...]]:
        for i in range(1, 2 * n + 1):
            when = old if i % 2 else recent
            yield (i, "open", f"{(i + 1) // 2:032x}", when, "GET", True, False)

    def visitors() -> Iterator[tuple[Any, ...]]:
        for i in range(1, n + n // 5 + 1):
            lead = i - n if i > n else None
            yield (f"v{i:012d}", lead, ts(T0 - timedelta(days=i % 300)))

    def deliveries() -> Iterator[tuple[Any, ...]]:
        when = ts(T0 - timedelta(days=3))
        for i in range(1, n // 20 + 1):
            yield (i, f"evt-{i}", "handoff.accepted", "https://crm.example/hook", "{}", "delivered",
                   1, when, when, 200, when)  # fmt: skip

    return [
        ("events", ("id", "lead_id", "type", "message_id", "occurred_at", "recorded_at",
                    "is_machine", "machine_reasons", "properties"), events()),
        ("tracking_hits", ("id", "kind", "token", "occurred_at", "method", "processed",
                           "prefetch"), hits()),
        ("tracking_visitors", ("visitor_id", "lead_id", "first_seen_at"), visitors()),
        ("webhook_deliveries", ("id", "event_id", "event", "url", "body", "status", "attempts",
                                "last_attempt_at", "delivered_at", "response_code",
                                "created_at"), deliveries()),
    ]  # fmt: skip


def ensure_history(url: str, n: int) -> str:
    """Add the live system's history to the idle-tick database (once); how it was obtained."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if conn.exec_driver_sql("SELECT count(*) FROM tracking_visitors").scalar():
                return "history reused"
        tables = _history(engine, n)
        if engine.dialect.name == "postgresql":
            # tracking_visitors has no id sequence for _seed_postgres to move: copied alone.
            visitors = [t for t in tables if t[0] == "tracking_visitors"]
            _seed_postgres(engine, [t for t in tables if t not in visitors])  # type: ignore[arg-type]
            _copy_postgres(engine, visitors[0])
        else:
            _seed_sqlite(engine, tables)  # type: ignore[arg-type]
        ts = _timestamp_processor(engine)
        with engine.begin() as conn:
            # One lead in five is warm; its temperature drops some time in the next 30 days.
            conn.execute(
                text(
                    "UPDATE leads SET temperature = 'warm', score_value = 40, score_as_of = :now,"
                    " temperature_cools_at = :cools WHERE id % 5 = 0"
                ),
                {"now": ts(T0), "cools": ts(T0 + timedelta(days=12))},
            )
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE leads")
        return "history seeded"
    finally:
        engine.dispose()


def _copy_postgres(engine: SAEngine, table: tuple[str, tuple[str, ...], Iterator[Any]]) -> None:
    name, columns, rows = table
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        sql = f"COPY {name} ({', '.join(columns)}) FROM STDIN"
        with conn.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        conn.autocommit = True
        conn.execute(f"VACUUM ANALYZE {name}")
    finally:
        raw.close()


# --------------------------------------------------------------------------- jobs


def jobs(runtime: Runtime, engine: Engine) -> tuple[WorkerPass, list[Job]]:
    """The worker's jobs (nurture/worker/loop.py), the parts of its tick one by one."""
    one_pass = WorkerPass(runtime, engine)
    campaigns, team, qualification, costs = one_pass.watchers
    hits = HitProcessor(runtime)

    def purge(now: Any) -> Any:
        with transaction(runtime.sessions) as session:
            return purge_expired(session, runtime.settings, now=now)

    return one_pass, [
        Job("campaign files", TICK, campaigns.sync_if_changed, True),
        Job("sales team file", TICK, team.sync_if_changed, True),
        Job("ICP and readiness files", TICK, qualification.sync_if_changed, True),
        Job("costs file", TICK, costs.sync_if_changed, True),
        Job("scoring file", TICK, one_pass.scoring.sync_if_changed, True),
        Job("score cooling", TICK, one_pass.scoring.cool, True),
        Job("SLA pass", TICK, lambda now: run_sla(runtime, now), True),
        Job("engine tick", TICK, engine.tick, True),
        Job("tracking-hits job", timedelta(seconds=1), hits.run_once),
        Job("webhooks job", timedelta(seconds=2), lambda now: deliver_webhooks(runtime, now)),
        Job("digests job", timedelta(minutes=15), lambda now: send_due_digests(runtime, now)),
        Job("privacy purge", timedelta(days=1), purge),
    ]


def _did_work(name: str, result: Any) -> str | None:
    if result is None:
        return None
    if isinstance(result, list | int) and result:
        return f"{name} returned {result!r}"
    if isinstance(result, tuple) and any(result):
        return f"{name} returned {result!r}"
    for attribute in ("claimed", "sent", "retried", "anything"):
        if getattr(result, attribute, False):
            return f"{name} did work: {result!r}"
    return None


def measure(runtime: Runtime, job: Job, runs: int, problems: list[str]) -> tuple[list[float], int]:
    """Times of ``runs`` runs after one warm-up, and the statements one run sends."""
    clock = [T0]
    statements = [0]
    warm = [False]

    def count(*_: Any) -> None:
        statements[0] += 1

    def once() -> None:
        clock[0] += job.every if job.every < timedelta(hours=1) else timedelta(0)
        result = job.run(clock[0])
        # The warm-up run is the watchers' first look, which syncs each file ("unchanged").
        problem = _did_work(job.name, result) if warm[0] else None
        warm[0] = True
        if problem and problem not in problems:
            problems.append(problem)

    times = timed(once, runs)
    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        once()
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    return times, statements[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30, help="timed runs of each job")
    parser.add_argument("--reseed", action="store_true", help="rebuild the cached database")
    parser.add_argument(
        "--pg-database", default="nurture_bench_idle", help="PostgreSQL database (rebuilt)"
    )
    args = parser.parse_args()

    print(f"== the worker's whole idle tick: {args.db}, {args.leads:,} leads, nothing due ==")
    url, how = seeded_url(args.db, args.leads, args.reseed, args.pg_database)
    history = ensure_history(url, args.leads)
    runtime = Runtime.from_settings(bench_settings(url, OUT / "instance"))
    print_machine(runtime.engine)
    print(f"dataset       {args.leads:,} leads / enrolments / messages: {how}; {history}")
    sync_bench_campaign(runtime, T0)
    engine = Engine(runtime)
    problems: list[str] = []
    rows = []
    try:
        one_pass, all_jobs = jobs(runtime, engine)
        for job in all_jobs:
            rows.append((job, *measure(runtime, job, args.runs, problems)))
        whole = Job("whole tick (WorkerPass.run)", TICK, one_pass.run)
        whole_row = (whole, *measure(runtime, whole, args.runs, problems))

        def select_one() -> None:
            with runtime.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1").scalar()

        reference = timed(select_one, args.runs)
    finally:
        engine.close()
        runtime.close()

    per_minute = 0.0
    print(f"\n{args.runs} timed runs of each job after one warm-up (same pool for all rows):")
    print(f"{'job':<30} {'every':>8} {'median':>9} {'p95':>9} {'SQL':>4} {'ms/min':>8}")
    for job, times, statements in [*rows, whole_row]:
        median = statistics.median(times)
        cost = median * (timedelta(minutes=1) / job.every)
        if not job.part_of_tick and job is not whole:
            per_minute += cost
        p95 = percentile(times, 0.95)
        print(
            f"{job.name:<30} {_every(job.every):>8} {median:7.2f}ms {p95:7.2f}ms"
            f" {statements:>4} {cost:8.2f}"
        )
    tick_median = statistics.median(whole_row[1])
    per_minute += tick_median * (timedelta(minutes=1) / TICK)
    print(f"{'reference: SELECT 1':<30} {'':>8} {statistics.median(reference):7.2f}ms")
    print(f"idle worker: {per_minute:.1f} ms of work per minute (whole tick every 5 s + jobs)")
    print(f"whole tick / engine tick (medians): "
          f"{tick_median / statistics.median(rows[7][1]):.1f} ×")  # fmt: skip
    if problems:
        print("\nCORRECTNESS FAILED:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print("correct   no job did any work")
    return 0


def _every(every: timedelta) -> str:
    seconds = int(every.total_seconds())
    if seconds >= 86400:
        return f"{seconds // 86400}d"
    if seconds >= 60:
        return f"{seconds // 60}min"
    return f"{seconds}s"


if __name__ == "__main__":
    sys.exit(main())
