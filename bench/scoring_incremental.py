#!/usr/bin/env python
"""Click → score CPU for a lead with a short and a long history (incremental scoring).

Usage (see docs/benchmarks.md):

    .venv/bin/python bench/scoring_incremental.py --db sqlite [--clicks 200] [--history 10,5000]
    .venv/bin/python bench/scoring_incremental.py --db postgresql

A fresh database with the bundled scoring model (``campaigns/scoring.yaml``) and one lead
per history size, each with a sent message and that many past events (page views of
pricing, product, blog and careers pages, opens and clicks, a third of them machine
hits), already scored. Each timed click is what a person's click is in the product: a
``tracking_hits`` row as the click route writes it, then one pass of the hit processor
(``process_pending_hits``: the event, the lead's activity, scoring, readiness), timed with
``time.process_time`` (this process's CPU) and ``time.perf_counter`` (wall, with the
database server's work). Clicks alternate between the leads, so both see the same load.

The reference, measured in the same run on the same leads: the same click with the
lead's score state deleted first, so it is scored from the whole history as before
incremental scoring. Goal: the incremental click on the long history within 1.5× the CPU
of the short one (medians). Exits 1 if any stored score differs from a full rescore.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchlib import (
    OUT,
    ROOT,
    bench_settings,
    migrate,
    percentile,
    print_machine,
    recreate_postgres_database,
    verdict,
)
from sqlalchemy import delete, insert, select

from nurture.models import Event, Lead, LeadScoreState, Message
from nurture.platform.db import transaction
from nurture.platform.runtime import Runtime
from nurture.scoring import rescore_leads, sync_scoring
from nurture.tracking.capture import record_hit
from nurture.tracking.hit_rows import hit_row
from nurture.tracking.processing import process_pending_hits

GOAL_RATIO = 1.5
DATABASE = "nurture_bench_scoring_incremental"
SCORING = ROOT / "campaigns" / "scoring.yaml"
# The clock: history in the 60 days before, clicks two minutes apart after it.
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"
PAGES = (
    "https://brightpath.example/pricing",
    "https://brightpath.example/product/tour",
    "https://brightpath.example/blog/nurture-101",
    "https://brightpath.example/careers/engineer",
    "https://brightpath.example/customers/ferrow",
)
CLICKED = "https://brightpath.example/pricing"


def fresh_url(db: str) -> str:
    if db == "postgresql":
        return recreate_postgres_database(DATABASE)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "scoring-incremental.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def seed_lead(runtime: Runtime, size: int) -> tuple[int, str]:
    """A lead with a message sent before its history and ``size`` past events, scored."""
    token = f"bench-{size}"
    start = T0 - timedelta(days=60)
    with transaction(runtime.sessions) as session:
        lead = Lead(email=f"history-{size}@bench.example", consent_status="granted")
        session.add(lead)
        session.flush()
        message = Message(
            lead_id=lead.id,
            kind="campaign",
            template="bench",
            to_address=lead.email,
            message_id=f"{token}@bench",
            token=token,
            status="sent",
            sent_at=start - timedelta(days=1),
        )
        session.add(message)
        session.flush()
        step = timedelta(days=60) / max(size, 1)
        rows = []
        for i in range(size):
            kind = ("page.viewed", "page.viewed", "email.opened", "email.clicked")[i % 4]
            machine = i % 3 == 0
            rows.append(
                {
                    "lead_id": lead.id,
                    "type": kind,
                    "message_id": message.id if kind.startswith("email.") else None,
                    "occurred_at": start + step * i,
                    "recorded_at": start + step * i,
                    "is_machine": machine,
                    "machine_reasons": ["scanner"] if machine else [],
                    "properties": {"url": PAGES[i % len(PAGES)]} if kind != "email.opened" else {},
                }
            )
        if rows:
            session.execute(insert(Event), rows)
        rescore_leads(session, [lead.id], T0, full=True)
        return lead.id, token


def click(runtime: Runtime, token: str, now: datetime) -> tuple[float, float]:
    """One human click through capture's row and the hit processor: (CPU ms, wall ms)."""
    settings = runtime.settings
    record_hit(
        runtime,
        hit_row(
            kind="click",
            now=now,
            method="GET",
            user_agent=AGENT,
            ip="198.51.100.23",
            prefetch=False,
            ip_privacy=settings.ip_privacy,
            secret=settings.secret_key,
            token=token,
            url=CLICKED,
            link_index=1,
            link_count=3,
        ),
    )
    cpu, wall = time.process_time(), time.perf_counter()
    processed = process_pending_hits(runtime, now)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert processed == 1, processed
    return cpu * 1000, wall * 1000


def forget_state(runtime: Runtime, lead_id: int) -> None:
    with transaction(runtime.sessions) as session:
        session.execute(delete(LeadScoreState).where(LeadScoreState.lead_id == lead_id))


def stored_score(runtime: Runtime, lead_id: int) -> tuple[float, str]:
    with runtime.sessions() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        return lead.score_value, lead.temperature


def describe(times: list[float]) -> str:
    return f"{statistics.median(times):7.2f} / {percentile(times, 0.95):7.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--clicks", type=int, default=200, help="timed clicks per lead and path")
    parser.add_argument("--history", default="10,5000", help="past events of each lead")
    args = parser.parse_args()
    sizes = [int(part) for part in args.history.split(",")]

    print(f"== click → score: {args.db}, histories {sizes}, {args.clicks} clicks each ==")
    url = fresh_url(args.db)
    migrate(url)
    runtime = Runtime.from_settings(bench_settings(url, OUT / "instance"))
    print_machine(runtime.engine)
    problems = []
    try:
        with transaction(runtime.sessions) as session:
            assert sync_scoring(session, SCORING, now=T0).ok
        leads = {size: seed_lead(runtime, size) for size in sizes}
        results: dict[tuple[str, int], list[tuple[float, float]]] = {
            (path, size): [] for path in ("incremental", "full") for size in sizes
        }
        now = T0
        for round_ in range(args.clicks + 1):  # the first round warms up
            # The incremental click last: the check below starts from the state it left.
            for path in ("full", "incremental"):
                for size in sizes:
                    lead_id, token = leads[size]
                    if path == "full":
                        forget_state(runtime, lead_id)
                    now += timedelta(minutes=2)
                    timing = click(runtime, token, now)
                    if round_:
                        results[(path, size)].append(timing)
        for size, (lead_id, _) in leads.items():
            # Both read at one moment: from the stored state, then from every event.
            with transaction(runtime.sessions) as session:
                rescore_leads(session, [lead_id], now)
            kept = stored_score(runtime, lead_id)
            with transaction(runtime.sessions) as session:
                rescore_leads(session, [lead_id], now, full=True)
            full = stored_score(runtime, lead_id)
            if kept != full:
                problems.append(f"history {size}: stored {kept} but a full rescore gives {full}")
        with runtime.sessions() as session:
            counts = {
                size: len(session.scalars(select(Event.id).where(Event.lead_id == lead)).all())
                for size, (lead, _) in leads.items()
            }
    finally:
        runtime.close()

    print(f"\nper click, median / p95 in ms ({args.clicks} clicks each, after one warm-up):")
    print(f"{'path':<40} {'past events':>11} {'CPU':>17} {'wall':>17}")
    for (path, size), timings in results.items():
        label = "incremental (stored state)" if path == "incremental" else "reference: full"
        cpu = [c for c, _ in timings]
        wall = [w for _, w in timings]
        print(f"{label:<40} {size:>11,} {describe(cpu):>17} {describe(wall):>17}")
    print(f"(events on each lead at the end: {counts})")
    small, large = min(sizes), max(sizes)

    def median_cpu(path: str, size: int) -> float:
        return statistics.median(c for c, _ in results[(path, size)])

    ratio = median_cpu("incremental", large) / median_cpu("incremental", small)
    before = median_cpu("full", large) / median_cpu("full", small)
    print(f"\nratio     CPU {large:,} / {small:,} events, incremental: {ratio:.2f} ×")
    print(f"          (full recomputation, the reference: {before:.2f} ×)")
    print(f"goal      incremental ratio ≤ {GOAL_RATIO} ×: {verdict(ratio <= GOAL_RATIO)}")
    if problems:
        print("\nCORRECTNESS FAILED:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print("correct   every lead's stored score equals a full rescore")
    return 0


if __name__ == "__main__":
    sys.exit(main())
