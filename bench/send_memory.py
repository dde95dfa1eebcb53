#!/usr/bin/env python
"""Memory: peak RSS of a process that sends 100,000 emails in one tick.

Usage (README: see docs/benchmarks.md):

    .venv/bin/python bench/send_memory.py [--db postgresql] [--n 100000] [--batch 500]

Same set-up as bench/send_throughput.py (smtp-sink, fresh database ``nurture_bench``, the
bench campaign, N enrolments due now, seeded by streaming COPY so seeding itself stays
small), then one ``Engine.tick(now)`` that sends all N. Reports the process's peak RSS
(``getrusage(RUSAGE_SELF).ru_maxrss``) against the goal (< 250 MB), and as the reference
in the same run the RSS before the tick (interpreter, imports, migration, seeding), plus
RSS samples as the tick goes (a steady climb means something keeps per-message state).
Exits 1 if a message is lost or duplicated; missing the goal prints FAIL and exits 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from benchlib import (
    SmtpSink,
    make_engine,
    prepare_send_database,
    print_machine,
    print_phases,
    print_run,
    rss_now_mb,
    rss_peak_mb,
    run_send,
    timestamp,
    verdict,
)

GOAL_MB = 250
SLOW_SECONDS = 180


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--n", type=int, default=100_000, help="messages to send")
    parser.add_argument("--batch", type=int, default=500, help="NURTURE_BATCH_SIZE")
    args = parser.parse_args()

    print(f"== send memory: {args.db}, N={args.n}, batch {args.batch} ==")
    rss_start = rss_now_mb()
    now = timestamp()
    with tempfile.TemporaryDirectory(prefix="nurture-bench-") as tmp, SmtpSink() as sink:
        workdir = Path(tmp)
        url, seed_seconds = prepare_send_database(args.db, args.n, workdir, now)
        engine = make_engine(url)
        print_machine(engine)
        engine.dispose()
        peak_before = rss_peak_mb()
        run = run_send(
            url,
            args.n,
            sink=sink,
            workdir=workdir,
            now=now,
            batch_size=args.batch,
            seed_seconds=seed_seconds,
        )
    peak = rss_peak_mb()
    print()
    print_run(run)
    print_phases(run)
    print("\nRSS while sending (messages handed to SMTP → RSS after recording that batch):")
    samples = run.rss_samples
    if samples:
        picks = sorted(
            {0, len(samples) // 10, len(samples) // 4, len(samples) // 2, len(samples) - 1}
        )
        for index in picks:
            sent, rss = samples[index]
            print(f"  after {sent:>8,} messages  {rss:7.1f} MB")
        growth = samples[-1][1] - samples[min(len(samples) - 1, len(samples) // 10)][1]
        print(f"  growth from 10 % to the end: {growth:+.1f} MB")
    print(f"\nRSS at start (interpreter + benchlib imports)   {rss_start:7.1f} MB")
    print(f"RSS just before the tick                         {run.rss_before_tick_mb:7.1f} MB")
    print(f"peak RSS before the tick (set-up, seeding)       {peak_before:7.1f} MB")
    print(f"peak RSS of the process (ru_maxrss)              {peak:7.1f} MB")
    print(f"goal      peak RSS < {GOAL_MB} MB while sending {args.n:,}: {verdict(peak < GOAL_MB)}")
    if run.seconds > SLOW_SECONDS:
        print(
            f"note      the tick took {run.seconds:.0f} s (> {SLOW_SECONDS} s) for {args.n:,} "
            "messages"
        )
    if run.problems:
        print("\nCORRECTNESS FAILED:", *run.problems, sep="\n  ", file=sys.stderr)
        return 1
    print("correct   every enrolment sent exactly one message, and the sink got each one once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
