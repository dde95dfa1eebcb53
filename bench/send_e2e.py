"""The send path as a user runs it, against the pipe's own ceiling, in the same run.

Usage (docs/benchmarks.md):

    .venv/bin/python bench/send_e2e.py --db postgresql --n 20000 --senders 2 [--repeat 3]
    .venv/bin/python bench/send_e2e.py --db sqlite --n 20000

Starts Postfix's ``smtp-sink`` (accept and discard, counting) on a free local port. Then:

* **user path**: a fresh database (SQLite file, or the PostgreSQL database
  ``nurture_bench_e2e``, dropped and created) set up with ``nurture db upgrade``; a campaign
  folder holding one campaign that enrols every new lead (``triggers: [lead_created]``) and
  sends it one email; ``nurture campaigns sync``. Then, each one timed on its own:
  ``nurture leads import leads.csv`` (N consented leads; the campaign enrols them as they
  are created) and ``nurture worker --senders S``, from its start to the moment the last
  of the N messages is recorded ``sent`` in the database (polled every 50 ms); the worker
  is then stopped with SIGTERM as Ctrl-C would. Also printed: the time from its start to
  the first message recorded ``sent`` (start-up and the first batch) and the rate after it.
* **pipe ceiling** (the reference): N prebuilt messages of the same size as the ones the
  user path sent, through the product's own SMTP transport (``SmtpTransport.send_many``,
  streamed and pipelined, in groups of ``NURTURE_OUTCOME_GROUP``) over S connections, one
  per process, started together; timed from the common start to the last one done. It runs
  before the first user-path run and after every one; each run is compared with the mean of
  the ceilings around it, and ``--repeat R`` reports the median of R ratios.

Checks afterwards: exactly N messages ``sent``, one per lead, and the sink received exactly
N (else exit 1). Goal (issue 14): worker ≥ 0.5 × the pipe's ceiling with ``--senders 2`` on
PostgreSQL. Missing it prints FAIL but exits 0.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import (
    SmtpSink,
    print_machine,
    recreate_postgres_database,
    run_together,
    verdict,
)
from send_throughput import reference_messages
from sqlalchemy import create_engine, text

from nurture.sending.delivery import Outgoing
from nurture.sending.smtp import SmtpTransport

# The command installed beside the interpreter running this script (the project's .venv, or
# a shared one when a second checkout runs it with PYTHONPATH pointing at itself).
NURTURE = Path(sys.executable).parent / "nurture"
SENDER = "hello@bench.example"
GROUP = 20  # NURTURE_OUTCOME_GROUP's default: what the engine hands the transport at a time

CAMPAIGN = """\
id: bench-e2e
name: Benchmark end to end
description: One welcome email to every new lead, for measuring import and send.
entry:
  triggers:
    - lead_created
re_entry: { policy: never }
send_window: { days: mon-sun, hours: "00:00-24:00", timezone: lead }
frequency_cap: { max: 1000, per: 1d }
tracks:
  main:
    steps:
      - id: welcome
        send: welcome-guide
"""


HEADER = ("email", "first_name", "last_name", "company", "title", "consent_status", "lawful_basis")


def write_leads(path: Path, n: int) -> None:
    """N consented leads, as a marketer's export would have them."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(n):
            writer.writerow(
                [
                    f"lead{i:07d}@company{i % 997}.example",
                    "Ada",
                    f"Lovelace{i}",
                    f"Company {i % 997}",
                    "Head of RevOps",
                    "granted",
                    "consent",
                ]
            )


def environment(db_url: str, workdir: Path, sink: SmtpSink, senders: int) -> dict[str, str]:
    campaigns = workdir / "campaigns"
    campaigns.mkdir(exist_ok=True)
    (campaigns / "bench-e2e.yaml").write_text(CAMPAIGN, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NURTURE_")}
    env.update(
        NURTURE_DATABASE_URL=db_url,
        NURTURE_INSTANCE_PATH=str(workdir / "instance"),
        NURTURE_SECRET_KEY="bench-secret-key-bench-secret-key",
        NURTURE_SMTP_URL=sink.url,
        NURTURE_CAMPAIGNS_PATH=str(campaigns),
        NURTURE_PUBLIC_URL="https://nurture.bench.example",
        NURTURE_MAIL_FROM=f"Bench <{SENDER}>",
        NURTURE_COMPANY_NAME="Bench Company",
        NURTURE_POSTAL_ADDRESS="1 Bench Street, 00-001 Benchtown",
        NURTURE_TICK_SECONDS="0.2",
    )
    return env


def nurture(env: dict[str, str], *args: str) -> float:
    """Run one nurture command as a user would; its wall time in seconds."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(NURTURE), *args], env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        print(f"nurture {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}", file=sys.stderr)
        raise SystemExit(1)
    return seconds


def sent_count(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.scalar(text("select count(*) from messages where status = 'sent'")) or 0


def user_path(
    db: str, n: int, senders: int, sink: SmtpSink, workdir: Path, pg_database: str
) -> dict[str, float]:
    """Import N leads through the CLI, then time ``nurture worker`` sending them all."""
    if db == "postgresql":
        db_url = recreate_postgres_database(pg_database)
    else:
        db_url = f"sqlite:///{workdir / 'e2e.db'}"
    env = environment(db_url, workdir, sink, senders)
    csv_path = workdir / "leads.csv"
    write_leads(csv_path, n)
    nurture(env, "db", "upgrade")
    nurture(env, "campaigns", "sync")
    import_seconds = nurture(env, "leads", "import", str(csv_path), "--no-progress")
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        enrolled = conn.scalar(text("select count(*) from enrollments")) or 0
    if enrolled != n:
        print(f"the import enrolled {enrolled} leads, not {n}", file=sys.stderr)
        raise SystemExit(1)
    before = sink.count()
    args = [str(NURTURE), "worker"] + (["--senders", str(senders)] if senders > 1 else [])
    log = (workdir / "worker.log").open("w")
    started = time.perf_counter()
    worker = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    first_seconds = None
    try:
        deadline = started + max(120.0, n / 50)
        while (count := sent_count(engine)) < n:
            if count and first_seconds is None:
                first_seconds = time.perf_counter() - started
            if worker.poll() is not None or time.perf_counter() > deadline:
                print(f"worker stopped or timed out at {count} of {n} sent", file=sys.stderr)
                print((workdir / "worker.log").read_text()[-3000:], file=sys.stderr)
                raise SystemExit(1)
            time.sleep(0.05)
        send_seconds = time.perf_counter() - started
        if first_seconds is None:  # all of them went out between two polls
            first_seconds = send_seconds
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
    with engine.connect() as conn:
        distinct = conn.scalar(
            text("select count(distinct lead_id) from messages where status = 'sent'")
        )
        size = conn.scalar(text("select count(*) from messages")) or 0
    engine.dispose()
    received = sink.count(expect=before + n) - before
    if distinct != n or size != n or received != n:
        print(f"sent to {distinct} leads, {size} messages, sink got {received}", file=sys.stderr)
        raise SystemExit(1)
    return {"import": import_seconds, "send": send_seconds, "first": first_seconds}


def _ceiling_lane(port: int, messages: list[bytes], start, results) -> None:  # type: ignore[no-untyped-def]
    items = [
        Outgoing(None, SENDER, f"lead{i:07d}@company.example", data)
        for i, data in enumerate(messages)
    ]
    transport = SmtpTransport(f"smtp://127.0.0.1:{port}?tls=off")
    transport.send_many(items[:1])  # connected before the clock starts, as a worker is
    start.wait()
    failed = 0
    for first in range(1, len(items), GROUP):
        failed += sum(not r.ok for r in transport.send_many(items[first : first + GROUP]))
    results.put((time.perf_counter(), failed))
    transport.close()


def pipe_ceiling(sink: SmtpSink, n: int, lanes: int, size: int) -> float:
    """Messages per second through the product's transport over ``lanes`` connections."""
    share = n // lanes
    templates = reference_messages(size, 500)
    messages = [templates[i % 500] for i in range(share + 1)]
    began, finished = run_together(_ceiling_lane, [(sink.port, messages)] * lanes)
    if any(failed for _, failed in finished):
        print("the ceiling's transport failed to send some messages", file=sys.stderr)
        raise SystemExit(1)
    return share * lanes / (max(end for end, _ in finished) - began)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--size", type=int, default=14_800, help="ceiling message bytes")
    parser.add_argument(
        "--pg-database",
        default="nurture_bench_e2e",
        help="PostgreSQL database to drop and create (one per person sharing the server)",
    )
    options = parser.parse_args()
    if options.db == "sqlite" and options.senders > 1:
        parser.error("--senders above 1 needs PostgreSQL")
    print_machine()
    print(f"N={options.n} senders={options.senders} db={options.db} repeat={options.repeat}")
    ratios, imports, sends = [], [], []
    with SmtpSink() as sink, tempfile.TemporaryDirectory(prefix="nurture-e2e-") as tmp:
        ceiling = pipe_ceiling(sink, options.n, options.senders, options.size)
        print(f"pipe ceiling: {ceiling:,.0f} msg/s over {options.senders} connection(s)")
        for run in range(options.repeat):
            workdir = Path(tmp) / f"run{run}"
            workdir.mkdir()
            timings = user_path(
                options.db, options.n, options.senders, sink, workdir, options.pg_database
            )
            after = pipe_ceiling(sink, options.n, options.senders, options.size)
            reference = (ceiling + after) / 2
            rate = options.n / timings["send"]
            then = max(timings["send"] - timings["first"], 1e-3)
            ratios.append(rate / reference)
            imports.append(timings["import"])
            sends.append(rate)
            print(
                f"run {run + 1}: import {timings['import']:.1f} s "
                f"({options.n / timings['import']:,.0f} rows/s, enrolling); "
                f"worker {rate:,.0f} msg/s ({timings['send']:.1f} s; first sent after "
                f"{timings['first']:.1f} s, then {(options.n - 1) / then:,.0f} msg/s); "
                f"ceiling {after:,.0f} msg/s; ratio {rate / reference:.2f}; "
                f"load average {os.getloadavg()[0]:.2f}"
            )
            ceiling = after
    ratio = statistics.median(ratios)
    print(
        f"median: import {statistics.median(imports):.1f} s, worker "
        f"{statistics.median(sends):,.0f} msg/s, ratio {ratio:.2f} of the pipe's ceiling "
        f"(goal >= 0.5 with --senders 2 on PostgreSQL): {verdict(ratio >= 0.5)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
