"""Lead import as a user runs it (``nurture leads import FILE``), with an enrolling campaign,
against the database's own bulk-load rate measured in the same run.

Usage (docs/benchmarks.md):

    python bench/lead_import.py --db both --rows 100000
    python bench/lead_import.py --db sqlite --rows 20000 --profile
    python bench/lead_import.py --db both --rows 20000 --api   # POST /api/v1/leads instead

For each database: a fresh one (SQLite file, or the PostgreSQL database
``nurture_bench_import`` or the one ``--pg-database`` names, dropped and created) set up
with ``nurture db upgrade``; a campaign folder with one campaign that enrols every new
lead (``triggers: [lead_created]``, the one ``bench/send_e2e.py`` uses) and ``nurture
campaigns sync``; then a first import of the "existing" leads (not timed). The timed run
is ``nurture leads import leads.csv`` of a mixed file, in a child process of its own whose
peak RSS is read from ``wait4``:

* about 90 % new, valid leads at 997 company domains (accounts matched by domain), about
  a tenth of them at free-mail addresses;
* 5 % existing leads, with a changed title (updated, and re-evaluated for entry);
* 2 % rows repeating an earlier address (duplicates: the last row wins);
* 1 % invalid email addresses (rejected, written to the rejects file);
* 2 % without consent (imported, not mailable, so not enrolled).

The reference: the same number of rows of the same width inserted into a scratch table by
the database's own fastest path (PostgreSQL ``COPY``, SQLite ``executemany`` in one
transaction), timed in the same run. Checks afterwards that every created, mailable lead is
enrolled exactly once and has one ``lead.created`` event (else exit 1). Goals (issue 14):
100,000 rows in < 20 s on each database, peak RSS < 250 MB. Missing one prints FAIL but
exits 0. ``--profile`` runs the import under cProfile and prints where the time goes.
"""

from __future__ import annotations

import argparse
import csv
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import OUT, ROOT, print_machine, recreate_postgres_database, verdict
from send_e2e import CAMPAIGN
from sqlalchemy import create_engine, text

PYTHON = sys.executable
# The shipped command line, run from this checkout (``nurture`` as the console script does).
CLI = "import sys; from nurture.cli import main; sys.argv[0] = 'nurture'; sys.exit(main())"
# ``--api``: the same file through the JSON API's bulk endpoint (POST /api/v1/leads, a JSON
# array of at most 1000 leads per request), the app served in-process by Flask's test
# client, so the child's CPU time and RSS are the endpoint's and the import's, not a web
# server's or the network's. Every request must answer 200.
API = """
import csv, sys
from nurture.auth.apikeys import create_api_key
from nurture.platform.db import transaction, utcnow
from nurture.platform.start_up import started
from nurture.web import create_app

app = create_app()
started()
with transaction(app.extensions["nurture"].sessions) as session:
    _, key = create_api_key(session, "bench", now=utcnow())
client = app.test_client()
with open(sys.argv[1], newline="", encoding="utf-8") as handle:
    rows = csv.reader(handle)
    header = next(rows)
    chunk = []
    def post():
        answer = client.post(
            "/api/v1/leads", json=chunk, headers={"Authorization": "Bearer " + key}
        )
        assert answer.status_code == 200, (answer.status_code, answer.get_data(as_text=True))
        chunk.clear()
    for row in rows:
        chunk.append({k: v for k, v in zip(header, row) if v})
        if len(chunk) == 1000:
            post()
    if chunk:
        post()
"""
HEADER = (
    "email",
    "first_name",
    "last_name",
    "company",
    "title",
    "country",
    "consent_status",
    "lawful_basis",
)
GOAL_SECONDS_PER_100K = 20.0
GOAL_RSS_MB = 250.0


def lead_row(i: int, *, title: str = "Head of RevOps", consent: str = "granted") -> list[str]:
    domain = "gmail.com" if i % 10 == 7 else f"company{i % 997}.example"
    return [
        f"lead{i:07d}@{domain}",
        "Ada",
        f"Lovelace{i}",
        f"Company {i % 997}",
        title,
        ("PL", "DE", "US", "GB")[i % 4],
        consent,
        "consent",
    ]


def write_files(workdir: Path, rows: int) -> tuple[Path, Path, int]:
    """The existing leads' file and the mixed file; returns them and the expected number of
    new mailable leads the import creates."""
    existing_count = rows // 20
    existing = workdir / "existing.csv"
    with existing.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(existing_count):
            writer.writerow(lead_row(1_000_000 + i))
    mixed = workdir / "leads.csv"
    expected_enrolled = 0
    with mixed.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        new = 0
        for n in range(rows):
            kind = n % 100
            if kind < 5:
                writer.writerow(lead_row(1_000_000 + (n // 100) % existing_count, title="CMO"))
            elif kind < 7 and new:
                writer.writerow(lead_row(new - 1, title="VP Marketing"))  # a repeat
            elif kind == 7:
                writer.writerow(["not-an-email-" + str(n), "X", "Y", "Z", "T", "PL", "", ""])
            elif kind < 10:
                writer.writerow(lead_row(new, consent=""))  # no consent: not mailable
                new += 1
            else:
                writer.writerow(lead_row(new))
                expected_enrolled += 1
                new += 1
    return existing, mixed, expected_enrolled


def environment(db_url: str, workdir: Path) -> dict[str, str]:
    campaigns = workdir / "campaigns"
    campaigns.mkdir(exist_ok=True)
    (campaigns / "bench-e2e.yaml").write_text(CAMPAIGN, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NURTURE_")}
    env.update(
        PYTHONPATH=str(ROOT),
        NURTURE_DATABASE_URL=db_url,
        NURTURE_INSTANCE_PATH=str(workdir / "instance"),
        NURTURE_SECRET_KEY="bench-secret-key-bench-secret-key",
        NURTURE_CAMPAIGNS_PATH=str(campaigns),
        NURTURE_PUBLIC_URL="https://nurture.bench.example",
        NURTURE_MAIL_FROM="Bench <hello@bench.example>",
        NURTURE_COMPANY_NAME="Bench Company",
        NURTURE_POSTAL_ADDRESS="1 Bench Street, 00-001 Benchtown",
    )
    return env


def nurture(
    env: dict[str, str], *args: str, profile: Path | None = None, code: str = CLI
) -> tuple[float, float, float]:
    """Run one nurture command (or ``code``) in a child process; its wall time (s), peak RSS
    (MB) and CPU time (s: user + system, which a loaded machine stretches far less than the
    wall time)."""
    command = [PYTHON, "-c", code, *args]
    if profile is not None:
        script = profile.with_suffix(".py")
        script.write_text(code + "\n", encoding="utf-8")
        command = [PYTHON, "-m", "cProfile", "-o", str(profile), str(script), *args]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            out.seek(0)
            print(f"nurture {' '.join(args)} failed:\n{out.read().decode()}", file=sys.stderr)
            raise SystemExit(1)
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def reference_rate(db_url: str, path: Path) -> float:
    """Rows per second of the database's own bulk load of the file's rows (scratch table)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS bench_scratch"))
            conn.execute(text(f"CREATE TABLE bench_scratch (id integer primary key, {columns})"))
        raw = engine.raw_connection()
        try:
            started = time.perf_counter()
            cursor = raw.cursor()
            if engine.dialect.name == "postgresql":
                with cursor.copy("COPY bench_scratch FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for i, row in enumerate(rows):
                        copy.write_row([i, *row])
            else:
                marks = ", ".join("?" * (len(HEADER) + 1))
                cursor.executemany(
                    f"INSERT INTO bench_scratch VALUES ({marks})",
                    ([i, *row] for i, row in enumerate(rows)),
                )
            raw.commit()
            seconds = time.perf_counter() - started
        finally:
            raw.close()
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE bench_scratch"))
    finally:
        engine.dispose()
    return len(rows) / seconds


def check(db_url: str, expected_enrolled: int) -> str:
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            enrolled = conn.scalar(text("select count(*) from enrollments")) or 0
            distinct = conn.scalar(text("select count(distinct lead_id) from enrollments"))
            created = conn.scalar(text("select count(*) from events where type = 'lead.created'"))
            leads = conn.scalar(text("select count(*) from leads")) or 0
    finally:
        engine.dispose()
    # The existing leads were enrolled by the first (untimed) import.
    if enrolled != distinct or created != leads:
        print(
            f"{enrolled} enrolments of {distinct} leads; {created} lead.created events "
            f"for {leads} leads",
            file=sys.stderr,
        )
        raise SystemExit(1)
    return f"{leads:,} leads, {enrolled:,} enrolments (new this run ~{expected_enrolled:,})"


def run(
    db: str,
    rows: int,
    workdir: Path,
    profile: bool,
    pg_database: str,
    batch_size: int | None,
    api: bool = False,
) -> bool:
    if db == "postgresql":
        db_url = recreate_postgres_database(pg_database)
    else:
        db_url = f"sqlite:///{workdir / 'import.db'}"
    env = environment(db_url, workdir)
    existing, mixed, expected = write_files(workdir, rows)
    nurture(env, "db", "upgrade")
    nurture(env, "campaigns", "sync")
    nurture(env, "leads", "import", str(existing), "--no-progress")
    reference = reference_rate(db_url, mixed)
    OUT.mkdir(exist_ok=True)
    out = OUT / f"lead_import_{db}.prof" if profile else None
    batch = ("--batch-size", str(batch_size)) if batch_size else ()
    if api:
        seconds, rss, cpu = nurture(env, str(mixed), profile=out, code=API)
    else:
        seconds, rss, cpu = nurture(
            env, "leads", "import", str(mixed), "--no-progress", *batch, profile=out
        )
    rate = rows / seconds
    facts = check(db_url, expected)
    goal = GOAL_SECONDS_PER_100K * rows / 100_000
    ok = seconds < goal and rss < GOAL_RSS_MB
    print(
        f"{db:10}  {'API bulk: ' if api else ''}{rows:,} rows in {seconds:.1f} s = "
        f"{rate:,.0f} rows/s (CPU {cpu:.1f} s = "
        f"{rows / cpu:,.0f} rows/CPU-s); peak RSS {rss:.0f} MB;"
        f" reference bulk load {reference:,.0f} rows/s ({rate / reference:.1%} of it); {facts}"
    )
    print(
        f"{db:10}  goal < {goal:.0f} s and < {GOAL_RSS_MB:.0f} MB: {verdict(ok)}"
        + ("" if not profile else " (under cProfile: slower than without)")
    )
    if out is not None:
        stats = pstats.Stats(str(out))
        stats.sort_stats("cumulative").print_stats("nurture/", 40)
        print(f"profile kept in {out}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="run the import under cProfile")
    parser.add_argument(
        "--pg-database",
        default="nurture_bench_import",
        help="the PostgreSQL database to drop and create (default nurture_bench_import)",
    )
    parser.add_argument(
        "--batch-size", type=int, help="rows per transaction of the timed import (--batch-size)"
    )
    parser.add_argument(
        "--api",
        action="store_true",
        help="import through the JSON API's bulk endpoint (1000 leads per request) instead",
    )
    options = parser.parse_args()
    print_machine()
    print(f"rows={options.rows} db={options.db} load average {os.getloadavg()}")
    dbs = ("sqlite", "postgresql") if options.db == "both" else (options.db,)
    with tempfile.TemporaryDirectory(prefix="nurture-import-") as tmp:
        for db in dbs:
            workdir = Path(tmp) / db
            workdir.mkdir()
            run(
                db,
                options.rows,
                workdir,
                options.profile,
                options.pg_database,
                options.batch_size,
                options.api,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
