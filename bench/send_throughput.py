#!/usr/bin/env python
"""Send throughput: the whole pipeline against the raw SMTP ceiling, in the same run.

Usage (README: see docs/benchmarks.md):

    .venv/bin/python bench/send_throughput.py --db postgresql --n 20000 [--batch 500] [--repeat 3]
    .venv/bin/python bench/send_throughput.py --db sqlite --n 20000 [--profile]

Starts Postfix's ``smtp-sink`` (accept and discard) on a free local port, then measures:

* **ceiling**: N prebuilt ~14 KB messages (built with ``email.message.EmailMessage`` before
  the clock starts; 500 distinct ones used in turn) sent with ``sendmail`` over one reused
  ``smtplib.SMTP`` connection. It runs before the first pipeline run and after every one;
  each pipeline run is compared with the mean of the ceilings just before and after it, so
  a machine that slows down mid-run (a 2-core box shared with test suites) shows and
  cancels out. ``--repeat R`` does R pipeline runs and reports the median ratio.
* **pipeline**: a fresh database (SQLite file in a temporary folder, or the PostgreSQL
  database ``nurture_bench``, dropped and created), migrated, the campaign in
  bench/campaigns synced, N leads and N enrolments due now bulk-inserted (untimed), then
  ``Engine(runtime).tick(now)`` timed end to end: claim, decide, record, render, MIME, SMTP,
  record outcomes.

Afterwards it checks that exactly N messages are ``sent``, one per enrolment, and that the
sink received exactly N; any difference exits with status 1. Missing the speed goal
(pipeline ≥ 0.8 × ceiling on PostgreSQL, ≥ 0.5 × on SQLite) prints FAIL but exits 0.
For information it also times nurture.sending.smtp's transport alone on the same prebuilt messages,
and breaks the tick down by phase and by SQL statement (driver time).
``--profile`` runs the tick under cProfile (slower: the figures are then not the benchmark's)
and prints the top entries; the profile is saved under bench/out/.
"""

from __future__ import annotations

import argparse
import smtplib
import statistics
import sys
import tempfile
import time
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path

from benchlib import (
    OUT,
    SendRun,
    SmtpSink,
    bench_settings,
    make_engine,
    prepare_send_database,
    print_machine,
    print_phases,
    print_run,
    run_send,
    timestamp,
    verdict,
)

from nurture.sending.delivery import Outgoing
from nurture.sending.smtp import smtp_transport_from_settings

GOALS = {"postgresql": 0.8, "sqlite": 0.5}
SENDER = "hello@brightpath.example"
# Distinct prebuilt messages, used in turn; N copies of 14 KB would only measure memory.
DISTINCT = 500

_PARAGRAPH = (
    "Our starter guide walks through each question with the reports to build, the CRM fields "
    "they depend on, and the shortcuts that quietly make them wrong — it takes about fifteen "
    "minutes to read. Pipeline by source, cycle length by stage, forecast from measured "
    "conversion rates: the three numbers every revenue team should know by heart. "
)


def _message(index: int, repeats: int) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = f"Brightpath Analytics <{SENDER}>"
    message["To"] = f"Lead {index} <lead{index:07d}@company.example>"
    message["Subject"] = "Welcome to Brightpath, Ada: your revenue analytics starter guide"
    message["Date"] = format_datetime(timestamp())
    message["Message-ID"] = make_msgid(domain="brightpath.example")
    message["List-Unsubscribe"] = (
        f"<https://nurture.bench.example/u/{index:032x}>, "
        f"<mailto:unsubscribe+{index:032x}@brightpath.example>"
    )
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text = "Hi Ada,\n\n" + "\n\n".join([_PARAGRAPH] * repeats)
    html = (
        '<!doctype html><html><body><table role="presentation" width="100%"><tr><td>'
        + "".join(
            f'<p style="font-family:Helvetica,Arial,sans-serif;font-size:15px;'
            f'line-height:1.5;color:#333333;margin:0 0 12px">{_PARAGRAPH}</p>'
            for _ in range(repeats)
        )
        + f'<img src="https://nurture.bench.example/t/o/{index:032x}.gif" width="1" height="1">'
        + "</td></tr></table></body></html>"
    )
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message.as_bytes()


def reference_messages(size: int, count: int) -> list[bytes]:
    """``count`` distinct messages of about ``size`` bytes (multipart/alternative, UTF-8,
    quoted-printable: the shape the engine sends)."""
    one, eleven = len(_message(0, 1)), len(_message(0, 11))
    repeats = max(1, 1 + round((size - one) / ((eleven - one) / 10)))
    return [_message(i, repeats) for i in range(count)]


def smtp_ceiling(sink: SmtpSink, n: int, messages: list[bytes]) -> tuple[float, int, int]:
    """Send ``n`` prebuilt messages over one connection; (seconds, refused, received)."""
    recipients = [f"lead{i:07d}@company.example" for i in range(len(messages))]
    before = sink.count()
    refused = 0
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=30) as smtp:
        smtp.ehlo()
        for i in range(n):
            k = i % len(messages)
            if smtp.sendmail(SENDER, [recipients[k]], messages[k]):
                refused += 1
    seconds = time.perf_counter() - started
    return seconds, refused, sink.count(expect=before + n) - before


def transport_ceiling(
    sink: SmtpSink, n: int, messages: list[bytes], batch: int, workdir: Path
) -> tuple[float, int, int]:
    """The engine's own SMTP transport alone, on the same prebuilt messages, in batches as
    the engine hands them over; (seconds, not sent, received). Information, not the goal's
    reference: it shows what the SMTP stage costs without the database and the render."""

    settings = bench_settings("sqlite://", workdir / "instance", smtp_url=sink.url)
    transport = smtp_transport_from_settings(settings)
    items = [
        Outgoing(None, SENDER, f"lead{i:07d}@company.example", data)
        for i, data in enumerate(messages)
    ]
    before = sink.count()
    failed = 0
    started = time.perf_counter()
    try:
        for start in range(0, n, batch):
            chunk = [items[i % len(items)] for i in range(start, min(n, start + batch))]
            failed += sum(not result.ok for result in transport.send_many(chunk))
    finally:
        transport.close()
    seconds = time.perf_counter() - started
    return seconds, failed, sink.count(expect=before + n) - before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--n", type=int, default=20_000, help="messages to send")
    parser.add_argument("--batch", type=int, default=500, help="NURTURE_BATCH_SIZE")
    parser.add_argument(
        "--ref-size", type=int, default=14 * 1024, help="bytes per reference message"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="pipeline runs (fresh database each), ceiling between"
    )
    parser.add_argument("--profile", action="store_true", help="run the tick under cProfile")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes ticking at once (PostgreSQL scale-out; phases not broken down)",
    )
    parser.add_argument(
        "--pg-database",
        default="nurture_bench",
        help="PostgreSQL database to drop and create (one per person sharing the server)",
    )
    args = parser.parse_args()

    if args.workers > 1 and (args.db != "postgresql" or args.profile):
        parser.error("--workers > 1 needs --db postgresql and no --profile")
    workers = f", {args.workers} worker processes" if args.workers > 1 else ""
    print(f"== send throughput: {args.db}, N={args.n}, batch {args.batch}{workers} ==")
    problems: list[str] = []
    runs: list[SendRun] = []
    ceilings: list[float] = []
    ratios: list[float] = []
    with tempfile.TemporaryDirectory(prefix="nurture-bench-") as tmp, SmtpSink() as sink:
        workdir = Path(tmp)
        messages = reference_messages(args.ref_size, min(DISTINCT, args.n))
        ref_size = sum(map(len, messages)) / len(messages)

        def ceiling_run(label: str) -> None:
            seconds, refused, received = smtp_ceiling(sink, args.n, messages)
            ceilings.append(args.n / seconds)
            print(
                f"ceiling  {label:<9} {args.n} prebuilt messages ({ref_size / 1024:.1f} KB), one"
                f" connection: {seconds:6.2f} s = {args.n / seconds:6,.0f} msg/s"
                f" (sink received {received}, refused {refused})"
            )
            if refused or received != args.n:
                problems.append(f"reference run {label}: received {received}, refused {refused}")

        for index in range(args.repeat):
            now = timestamp()
            url, seed_seconds = prepare_send_database(
                args.db, args.n, workdir / str(index), now, args.pg_database
            )
            if index == 0:
                engine = make_engine(url)
                print_machine(engine)
                engine.dispose()
                print(f"smtp-sink     {sink.binary} on 127.0.0.1:{sink.port}\n")
                ceiling_run("before 1")
            profile_to = OUT / f"send_{args.db}_{args.n}.prof" if args.profile else None
            run = run_send(
                url,
                args.n,
                sink=sink,
                workdir=workdir / str(index),
                now=now,
                batch_size=args.batch,
                seed_seconds=seed_seconds,
                profile_to=profile_to,
                workers=args.workers,
            )
            runs.append(run)
            problems += run.problems
            print(
                f"pipeline {f'run {index + 1}':<9} {args.n} messages via Engine.tick:       "
                f"   {run.seconds:6.2f} s = {run.rate:6,.0f} msg/s"
                f" (sent {run.statuses.get('sent', 0)}, sink received {run.sink_received})"
                + (f"; CPU {run.cpu_seconds / run.n * 1e6:,.0f} µs/msg" if run.cpu_seconds else "")
            )
            ceiling_run(f"after {index + 1}")
            ratios.append(run.rate / ((ceilings[-2] + ceilings[-1]) / 2))

        seconds, failed, received = transport_ceiling(sink, args.n, messages, args.batch, workdir)
        transport_rate = args.n / seconds
        print(
            f"transport (info)   the same prebuilt messages through nurture.sending.smtp's"
            f" transport in batches of {args.batch}: {transport_rate:,.0f} msg/s"
            f" (sink received {received},"
            f" not sent {failed})"
        )
        if failed or received != args.n:
            problems.append(f"transport-only run: received {received}, not sent {failed}")

    # The run with the median ratio is the one shown in detail.
    order = sorted(range(len(runs)), key=lambda i: ratios[i])
    middle = order[len(order) // 2]
    run = runs[middle]
    print(f"\ndetail of pipeline run {middle + 1} (the median ratio):")
    print_run(run)
    if args.workers == 1:
        print_phases(run)

    ceiling = statistics.mean(ceilings)
    rate = statistics.median(r.rate for r in runs)
    ratio = statistics.median(ratios)
    mean_size = run.transport.bytes / max(1, run.transport.messages)
    goal = GOALS[args.db]
    print(
        f"\nsummary ({args.db}, N={args.n}, batch {args.batch}{workers}, {len(runs)} pipeline"
        " run(s))"
    )
    print(
        f"ceiling   {ceiling:10,.0f} msg/s  mean of {len(ceilings)} smtplib runs "
        f"({', '.join(f'{c:,.0f}' for c in ceilings)}), {ref_size / 1024:.1f} KB"
    )
    print(
        f"pipeline  {rate:10,.0f} msg/s  median of {', '.join(f'{r.rate:,.0f}' for r in runs)};"
        f" {mean_size / 1024:.1f} KB per message"
    )
    print(
        f"ratio     {ratio:10.2f} ×      median of {', '.join(f'{r:.2f}' for r in ratios)} (each"
        " run against the mean of the ceilings just before and after it)"
    )
    print(
        f"(info)    nurture.sending.smtp transport alone on prebuilt messages:"
        f" {transport_rate:,.0f} msg/s"
        f" = {transport_rate / ceiling:.2f} × the smtplib ceiling; the pipeline reaches"
        f" {rate / transport_rate:.2f} × that"
    )
    if args.profile:
        print(f"goal      ≥ {goal} × ceiling on {args.db}: not judged (profiled run is slower)")
    else:
        print(f"goal      ≥ {goal} × ceiling on {args.db}: {verdict(ratio >= goal)}")
    if mean_size < 0.8 * ref_size:
        print(
            f"note      the pipeline's messages are smaller than the reference's; for a like-for"
            f"-like ceiling run with --ref-size {round(mean_size)}"
        )
    if problems:
        print("\nCORRECTNESS FAILED:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print("correct   every enrolment sent exactly one message, and the sink got each one once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
