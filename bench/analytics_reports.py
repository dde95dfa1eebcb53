"""Benchmark: every report (issue 11's "fast at scale") on the web-app benchmark's database
(1,000,000 leads, 20,000,000 events; bench/web_data.py).

    .venv/bin/python bench/analytics_reports.py [--database nurture_bench_web]
        [--runs 10] [--warmup 2] [--months 12] [--only funnel,cohorts,velocity,...]
        [--by source,campaign] [--older 5000000,10000000,20000000]

Reads the database as it is (never changes it: build it with bench/web_pages.py). Each
report (``REPORTS``: funnel, cohorts, velocity, volume, costs, campaigns, feedback, clv,
attribution, roi) is called for the ``--months`` months up to the newest lead, ungrouped
and by each of its own groupings (``GROUPINGS``; ``--by`` narrows them), ``--runs`` times
after ``--warmup`` calls: p50 / p95 / max wall time of the Python call (SQL and Python).
The reference in the same run is a ``SELECT 1`` round trip. The goal: every p95 below
GOAL_P95_MS.

``--older`` then measures the same reports with that many events older than the range (each
count in turn): human page views dated in the year before the range, on leads spread over
the whole table, added in one transaction that is rolled back at the end (the database is
left as it was). The time must not grow with them.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from typing import Any

from benchlib import percentile, postgres_url, print_machine, verdict
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from nurture.analytics.attribution import ATTRIBUTION_BY, attribution_report
from nurture.analytics.campaign_results import campaign_results
from nurture.analytics.clv import clv_report
from nurture.analytics.costs import cost_report, volume_report
from nurture.analytics.email_results import CAMPAIGN_GROUP_BY
from nurture.analytics.feedback import feedback_report
from nurture.analytics.feedback_rules import FEEDBACK_GROUP_BY
from nurture.analytics.filters import GROUP_BY, VELOCITY_GROUP_BY, ReportFilter
from nurture.analytics.funnel import cohort_report, funnel_report
from nurture.analytics.roi import ROI_BY, roi_report
from nurture.analytics.velocity import velocity_report

GOAL_P95_MS = 1000.0
DEFAULT_DB = "nurture_bench_web"
REPORTS = {
    "funnel": funnel_report,
    "cohorts": cohort_report,
    "velocity": velocity_report,
    "volume": volume_report,
    "costs": cost_report,
    "campaigns": campaign_results,
    "feedback": feedback_report,
    # The CLV's "now" (a customer's lifetime so far) is the newest lead's time, as the
    # period's end is.
    "clv": lambda session, report: clv_report(session, report, now=report.end_at),
    "attribution": attribution_report,
    "roi": roi_report,
}
# Each report's groupings, as its command and API accept them.
GROUPINGS: dict[str, tuple[str, ...]] = {
    "velocity": VELOCITY_GROUP_BY,
    "campaigns": CAMPAIGN_GROUP_BY,
    "feedback": FEEDBACK_GROUP_BY,
    "attribution": ATTRIBUTION_BY,
    "roi": ROI_BY,
}
# Events older than the range, added for --older: human page views of the year before it.
OLD_EVENTS = text(
    "INSERT INTO events (lead_id, type, occurred_at, recorded_at, is_machine,"
    " machine_reasons, properties)"
    " SELECT 1 + (g * 7919) % :leads, 'page.viewed', ts, ts, false, '[]', '{}'"
    " FROM (SELECT g, CAST(:start AS timestamp) - (1 + g % 31536000) * interval '1 second'"
    " AS ts FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g) AS old"
)


def period(session: Session, span: int) -> tuple[date, date]:
    """``span`` whole months ending with the month of the newest lead (its data's 'now')."""
    newest = session.scalar(text("SELECT max(created_at) FROM leads"))
    assert newest is not None, "the database has no leads"
    end_month = newest.year * 12 + newest.month  # the month after the newest (0-based)
    start_month = end_month - span
    return (
        date(start_month // 12, start_month % 12 + 1, 1),
        date(end_month // 12, end_month % 12 + 1, 1),
    )


def timed(call: object, runs: int, warmup: int) -> list[float]:
    assert callable(call)
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return times


def measure(
    session: Session, names: list[str], groupings: list[str], start: date, end: date, args: Any
) -> list[str]:
    """Time each report by each grouping; print a line each; return the failures."""
    print(f"\n{'report':<12}{'by':<10}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  verdict")
    failures = []
    for name in names:
        report = REPORTS[name]
        for by in groupings:
            group_by = None if by == "-" else by
            if group_by not in (None, *GROUPINGS.get(name, GROUP_BY)):
                continue
            wanted = ReportFilter(start, end, group_by=group_by)
            times = timed(lambda r=report, w=wanted: r(session, w), args.runs, args.warmup)
            session.rollback()  # each call reads afresh, as a request would
            p95 = percentile(times, 0.95)
            ok = p95 < GOAL_P95_MS
            if not ok:
                failures.append(f"{name} by {by}")
            print(f"{name:<12}{by:<10}{percentile(times, 0.5):>9.0f}{p95:>9.0f}"
                  f"{max(times):>9.0f}  {verdict(ok)}")  # fmt: skip
    return failures


def older(
    engine: Engine, names: list[str], groupings: list[str], start: date, end: date, args: Any
) -> list[str]:
    """The reports again with ``--older`` events before the range, added in a transaction
    that is rolled back."""
    failures: list[str] = []
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            # Each report's own rollback (measure) returns to a savepoint inside this one.
            session = Session(bind=conn, join_transaction_mode="create_savepoint")
            leads = conn.scalar(text("SELECT max(id) FROM leads"))
            before = conn.scalar(
                text("SELECT count(*) FROM events WHERE occurred_at < :s"), {"s": start}
            )
            added = 0
            for target in (int(n) for n in args.older.split(",") if n):
                more = target - before - added
                if more > 0:
                    began = time.perf_counter()
                    conn.execute(
                        OLD_EVENTS,
                        {"leads": leads, "start": start, "first": added + 1, "last": added + more},
                    )
                    conn.execute(text("ANALYZE events"))
                    added += more
                    print(f"\n(added {more:,} old events in {time.perf_counter() - began:.0f} s)")
                print(f"older events  {before + added:,} events before {start}")
                failures += [
                    f"{f} at {before + added:,} older events"
                    for f in measure(session, names, groupings, start, end, args)
                ]
            session.close()
        finally:
            outer.rollback()
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database", default=DEFAULT_DB)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--only", default=",".join(REPORTS), help="reports to measure")
    every = dict.fromkeys(g for name in REPORTS for g in GROUPINGS.get(name, GROUP_BY))
    parser.add_argument("--by", default="-," + ",".join(every), help="groupings; - is none")
    parser.add_argument(
        "--older", default="", help="event counts before the range to measure at (e.g. 5000000)"
    )
    parser.add_argument("--older-by", default="-,source", help="groupings measured at --older")
    args = parser.parse_args(argv)
    url = make_url(postgres_url(args.database)).set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    print_machine(engine)
    names = list(filter(None, args.only.split(",")))
    with Session(engine) as session:
        start, end = period(session, args.months)
        leads = session.scalar(text("SELECT count(*) FROM leads"))
        events = session.scalar(text("SELECT count(*) FROM events"))
        in_range = session.scalar(
            text("SELECT count(*) FROM leads WHERE created_at >= :s AND created_at < :e"),
            {"s": start, "e": end},
        )
        print(f"data          {leads:,} leads, {events:,} events; {in_range:,} leads created in"
              f" [{start}, {end})")  # fmt: skip
        costs = session.scalar(text("SELECT count(*) FROM costs"))
        print(f"costs         {costs:,} cost entries")
        if not costs and "costs" in names:
            # Without entries the cost report spreads nothing and reads no lead for it.
            print(
                "warning       no cost entries: the cost report's figures are not"
                " representative (bench/web_pages.py adds them to a reused database)"
            )
        reference = timed(lambda: session.execute(text("SELECT 1")).scalar(), 50, 5)
        print(f"reference     SELECT 1 p50 {percentile(reference, 0.5):.2f} ms"
              f"  p95 {percentile(reference, 0.95):.2f} ms")  # fmt: skip
        failures = measure(session, names, list(filter(None, args.by.split(","))), start, end, args)
    if args.older:
        failures += older(
            engine, names, list(filter(None, args.older_by.split(","))), start, end, args
        )
    print(f"\ngoal          every report p95 < {GOAL_P95_MS:.0f} ms  {verdict(not failures)}")
    for failure in failures:
        print(f"FAIL  {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
