"""Shared helpers for the benchmarks in bench/ (not a benchmark itself).

Machine facts, the ``smtp-sink`` process, fresh or cached benchmark databases, fast seeding
(COPY on PostgreSQL, raw ``executemany`` on SQLite), and the send run shared by
``send_throughput.py`` and ``send_memory.py``.
"""

from __future__ import annotations

import cProfile
import gc
import os
import platform
import pstats
import re
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

import sqlalchemy  # noqa: E402
from sqlalchemy import Engine as SAEngine  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from nurture import wiring  # noqa: E402
from nurture.campaigns.services import sync_campaign_files  # noqa: E402
from nurture.models import Campaign, Enrollment, Lead, Message  # noqa: E402
from nurture.platform.config import Settings  # noqa: E402
from nurture.platform.db import make_engine  # noqa: E402
from nurture.platform.migrate import alembic_config, upgrade  # noqa: E402
from nurture.platform.runtime import Runtime  # noqa: E402
from nurture.sending.engine import Engine  # noqa: E402
from nurture.sending.tick import TickReport  # noqa: E402
from nurture.sending.transports import make_transport  # noqa: E402

# The benchmarks run the product's use cases in their own processes: like every entry point,
# they connect the features' subscriptions first.
wiring.connect()

BENCH_DIR = ROOT / "bench"
BENCH_CAMPAIGNS = BENCH_DIR / "campaigns"
OUT = BENCH_DIR / "out"  # git-ignored: profiles, cached SQLite files
BENCH_CAMPAIGN_KEY = "bench-send"
BENCH_TRACK = "main"
# The server the benchmarks use; the maintenance database "postgres" creates the others.
POSTGRES_URL = os.environ.get(
    "NURTURE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SECRET = "bench-secret-key-not-for-production-use-0123456789"

SINK_INSTALL_HINT = """\
smtp-sink (Postfix's test SMTP server) was not found.
Install it with (Debian/Ubuntu, as root):

    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postfix

Only the /usr/sbin/smtp-sink binary is needed: if the postfix MTA started, stop it
(`postfix stop`) so nothing listens on port 25. On other systems install Postfix from the
package manager, or set SMTP_SINK=/path/to/smtp-sink."""


# --------------------------------------------------------------------------- machine


def git_revision() -> str:
    """Short HEAD, with ``+dirty`` when the code under test has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--",
                "nurture",
                "campaigns",
                "templates",
                "migrations",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def source_fingerprint() -> str:
    """A short hash of the code under test (nurture/, campaigns/, templates/, migrations/),
    so figures from an uncommitted tree can still be matched to the code that made them."""
    import hashlib

    digest = hashlib.sha256()
    for folder in ("nurture", "campaigns", "templates", "migrations"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def nproc() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def database_version(engine: SAEngine) -> str:
    if engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with engine.connect() as conn:
        return "PostgreSQL " + str(conn.exec_driver_sql("SHOW server_version").scalar())


def print_machine(engine: SAEngine | None = None) -> None:
    """The facts a figure needs to be compared with another: code, machine, versions."""
    import psycopg

    print(
        f"commit        {git_revision()}  source {source_fingerprint()}"
        f"  ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
    )
    print(f"machine       nproc={nproc()}  {cpu_model()}  {platform.platform()}")
    print(
        f"software      Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__},"
        f" psycopg {psycopg.__version__}, SQLite lib {sqlite3.sqlite_version}"
    )
    if engine is not None:
        print(f"database      {database_version(engine)}  ({engine.url.render_as_string()})")


def rss_now_mb() -> float:
    """Current resident set size in MB (Linux /proc; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def rss_peak_mb() -> float:
    """Peak RSS of this process in MB (``ru_maxrss`` is in KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# --------------------------------------------------------------------------- smtp-sink


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """Postfix's ``smtp-sink`` on a free local port: accepts every message and discards it.

    ``-c`` makes it print running counters (``mesg=N``) to its output file, which gives an
    independent count of the messages that really arrived.
    """

    def __init__(self) -> None:
        binary = os.environ.get("SMTP_SINK") or shutil.which("smtp-sink")
        if binary is None and Path("/usr/sbin/smtp-sink").exists():
            binary = "/usr/sbin/smtp-sink"
        if binary is None:
            print(SINK_INSTALL_HINT, file=sys.stderr)
            raise SystemExit(2)
        self.binary = binary
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="nurture-sink-")
        self.log = Path(self._dir.name) / "sink.out"

    def __enter__(self) -> SmtpSink:
        self.port = free_port()
        command = [self.binary, "-c"]
        if os.geteuid() == 0:
            command += ["-u", "nobody"]  # smtp-sink refuses to keep root privileges
        # The last argument is the listen backlog.
        command += [f"127.0.0.1:{self.port}", "1000"]
        self._out = self.log.open("wb")
        self.process = subprocess.Popen(command, stdout=self._out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.recv(100)  # the greeting
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"smtp-sink did not start: {self.log.read_text(errors='replace')}"
                    ) from None
                time.sleep(0.05)
        return self

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?tls=off"

    def count(self, expect: int | None = None, wait: float = 2.0) -> int:
        """Messages received so far (waits briefly for the counter to reach ``expect``)."""
        deadline = time.monotonic() + wait
        while True:
            found = re.findall(rb"mesg=(\d+)", self.log.read_bytes())
            value = int(found[-1]) if found else 0
            if expect is None or value >= expect or time.monotonic() > deadline:
                return value
            time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._out.close()
        self._dir.cleanup()


# --------------------------------------------------------------------------- databases


def admin_engine() -> SAEngine:
    return create_engine(
        make_url(POSTGRES_URL).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
    )


def postgres_url(database: str) -> str:
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


def recreate_postgres_database(name: str) -> str:
    """Drop and create database ``name``; returns its URL."""
    admin = admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return postgres_url(name)


def postgres_database_exists(name: str) -> bool:
    admin = admin_engine()
    try:
        with admin.connect() as conn:
            return bool(
                conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                ).scalar()
            )
    finally:
        admin.dispose()


def migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def alembic_head() -> str:
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head())


def schema_revision(engine: SAEngine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except sqlalchemy.exc.DBAPIError:
        return None


def bench_settings(
    database_url: str,
    instance: Path,
    *,
    smtp_url: str | None = None,
    batch_size: int = 500,
) -> Settings:
    """Settings for a benchmark: no environment leaks in, the bench campaign folder."""
    base = Settings.from_env(env={"NURTURE_SECRET_KEY": SECRET}, instance_path=instance)
    return base.with_overrides(
        database_url=database_url,
        smtp_url=smtp_url,
        batch_size=batch_size,
        campaigns_path=BENCH_CAMPAIGNS,
        public_url="https://nurture.bench.example",
        # Campaign emails must say who sends them: the bench brand.
        company_name="Bench Company",
        postal_address="Bench Company, 1 Bench Street, 00-001 Benchtown",
    )


def sync_bench_campaign(runtime: Runtime, now: datetime) -> tuple[int, int]:
    """Load bench/campaigns through the real sync; returns (campaign id, active version id)."""

    report = sync_campaign_files(runtime, now=now, path=BENCH_CAMPAIGNS)
    with runtime.sessions() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.key == BENCH_CAMPAIGN_KEY))
    if campaign is None or campaign.active_version_id is None or campaign.status != "active":
        print(f"the bench campaign did not load: {report!r}", file=sys.stderr)
        raise SystemExit(2)
    return campaign.id, campaign.active_version_id


# --------------------------------------------------------------------------- seeding

LEAD_COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "title",
    "timezone",
    "attributes",
    "stage",
    "stage_changed_at",
    "temperature",
    "score_value",
    "consent_status",
    "lawful_basis",
    "consent_source",
    "consent_at",
    "created_at",
    "updated_at",
    "last_activity_at",
)
ENROLLMENT_COLUMNS = (
    "id",
    "lead_id",
    "campaign_id",
    "entry_number",
    "status",
    "version_id",
    "track",
    "step",
    "next_due_at",
    "enrolled_at",
)
MESSAGE_COLUMNS = (
    "id",
    "lead_id",
    "campaign_id",
    "enrollment_id",
    "step_key",
    "kind",
    "template",
    "subject",
    "to_address",
    "message_id",
    "token",
    "status",
    "attempts",
    "smtp_code",
    "queued_at",
    "sent_at",
)
_FIRST = ("Ada", "Grace", "Linus", "Barbara", "Alan", "Edsger", "Frances", "Ken", "Radia")
_TITLES = ("Head of RevOps", "VP Sales", "Marketing Ops Manager", "CFO", "Data Analyst")


@dataclass
class Seed:
    """What to insert: ``n`` leads, one enrolment each, optionally one sent message each."""

    n: int
    campaign_id: int
    version_id: int
    now: datetime
    # Enrolment i (1-based) is next due at due_at(i); None means finished.
    due_at: Callable[[int], datetime | None]
    step: str | None = None
    with_messages: bool = False


def _lead_rows(seed: Seed, ts: Callable[[datetime | None], Any]) -> Iterator[tuple[Any, ...]]:
    now = ts(seed.now)
    for i in range(1, seed.n + 1):
        yield (
            i,
            f"lead{i:07d}@company{i % 5000:04d}.example",
            _FIRST[i % len(_FIRST)],
            f"Bench{i}",
            _TITLES[i % len(_TITLES)],
            "UTC",
            "{}",
            "lead",
            now,
            "cold",
            0.0,
            "granted",
            "consent",
            "benchmark seed",
            now,
            now,
            now,
            now,
        )


def _enrollment_rows(seed: Seed, ts: Callable[[datetime | None], Any]) -> Iterator[tuple[Any, ...]]:
    now = ts(seed.now)
    cache: dict[datetime | None, Any] = {}
    for i in range(1, seed.n + 1):
        due = seed.due_at(i)
        value = cache.get(due)
        if value is None:
            value = cache.setdefault(due, ts(due))
        yield (
            i,
            i,
            seed.campaign_id,
            1,
            "active",
            seed.version_id,
            BENCH_TRACK,
            seed.step,
            value,
            now,
        )


def _message_rows(seed: Seed, ts: Callable[[datetime | None], Any]) -> Iterator[tuple[Any, ...]]:
    now = ts(seed.now)
    for i in range(1, seed.n + 1):
        yield (
            i,
            i,
            seed.campaign_id,
            i,
            f"{BENCH_TRACK}/welcome",
            "campaign",
            "welcome-guide",
            "Welcome to Brightpath",
            f"lead{i:07d}@company{i % 5000:04d}.example",
            f"seed.{i}@brightpath.example",
            f"{i:032x}",
            "sent",
            1,
            250,
            now,
            now,
        )


def _timestamp_processor(engine: SAEngine) -> Callable[[datetime | None], Any]:
    """How the model's UTC column stores a datetime on this backend (computed by SQLAlchemy
    itself, so raw inserts store exactly what the ORM would)."""
    column = Enrollment.__table__.c.next_due_at
    dialect = engine.dialect
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return (lambda value: value) if process is None else process


def seed_rows(engine: SAEngine, seed: Seed) -> float:
    """Insert the seed as fast as the backend allows; returns seconds taken."""
    started = time.perf_counter()
    ts = _timestamp_processor(engine)
    tables: list[tuple[str, Sequence[str], Iterable[tuple[Any, ...]]]] = [
        ("leads", LEAD_COLUMNS, _lead_rows(seed, ts)),
        ("enrollments", ENROLLMENT_COLUMNS, _enrollment_rows(seed, ts)),
    ]
    if seed.with_messages:
        tables.append(("messages", MESSAGE_COLUMNS, _message_rows(seed, ts)))
    if engine.dialect.name == "postgresql":
        _seed_postgres(engine, tables)
    else:
        _seed_sqlite(engine, tables)
    return time.perf_counter() - started


def _seed_postgres(
    engine: SAEngine, tables: list[tuple[str, Sequence[str], Iterable[tuple[Any, ...]]]]
) -> None:
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cur:
            for table, columns, rows in tables:
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                # Explicit ids were written: move the sequence past them.
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT coalesce(max(id), 1) FROM {table}))"
                )
        conn.commit()
        # A long-running database has planner statistics and a visibility map (autovacuum);
        # give the fresh one the same, or the first queries plan on guesses.
        conn.autocommit = True
        with conn.cursor() as cur:
            for table, _, _ in tables:
                cur.execute(f"VACUUM ANALYZE {table}")
        conn.autocommit = False
    finally:
        raw.close()


def _seed_sqlite(
    engine: SAEngine, tables: list[tuple[str, Sequence[str], Iterable[tuple[Any, ...]]]]
) -> None:
    # A private connection: synchronous=OFF is for seeding only, never for the engine's pool.
    conn = sqlite3.connect(str(engine.url.database), isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        for table, columns, rows in tables:
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            rows = iter(rows)
            while chunk := [row for _, row in zip(range(50_000), rows, strict=False)]:
                conn.executemany(sql, chunk)
        conn.execute("COMMIT")
    finally:
        conn.close()


def message_status_counts(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        rows = session.execute(select(Message.status, func.count()).group_by(Message.status)).all()
    return {status: count for status, count in rows}


# --------------------------------------------------------------------------- timing


class CountingTransport:
    """Wraps the engine's real transport: times ``send_many`` and counts messages and bytes
    (a few additions per message, nothing that shows in the figures)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.calls = 0
        self.messages = 0
        self.bytes = 0
        self.results: Counter[str] = Counter()

    def send(self, item: Any) -> Any:
        return self.send_many([item])[0]

    def send_many(self, items: Sequence[Any]) -> list[Any]:
        started = time.perf_counter()
        try:
            results = self.inner.send_many(items)
        finally:
            self.seconds += time.perf_counter() - started
        self.calls += 1
        self.messages += len(items)
        self.bytes += sum(len(item.data) for item in items)
        self.results.update(result.status for result in results)
        return results

    def close(self) -> None:
        self.inner.close()


@dataclass
class PhaseTimer:
    """Wall time spent in named methods of an object (wrapped on the instance)."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: Counter[str] = field(default_factory=Counter)
    after: dict[str, Callable[[], None]] = field(default_factory=dict)

    def wrap(self, obj: Any, attribute: str, label: str) -> bool:
        function = getattr(obj, attribute, None)
        if function is None:
            return False

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started
                self.calls[label] += 1
                hook = self.after.get(label)
                if hook is not None:
                    hook()

        setattr(obj, attribute, timed)
        return True


_STATEMENT_RE = re.compile(
    r"^\s*(?:(INSERT INTO|UPDATE|DELETE FROM)\s+(\w+)|(SELECT)\b.*?\bFROM\s+(\w+))",
    re.IGNORECASE | re.DOTALL,
)


@dataclass
class SqlTimer:
    """Time spent in the database driver per kind of statement (``INSERT INTO messages``,
    ``SELECT FROM enrollments``…): the driver call only, so what a phase spends beyond it
    is SQLAlchemy and engine Python."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: Counter[str] = field(default_factory=Counter)

    def attach(self, engine: SAEngine) -> None:
        sqlalchemy.event.listen(engine, "before_cursor_execute", self._before)
        sqlalchemy.event.listen(engine, "after_cursor_execute", self._after)

    def detach(self, engine: SAEngine) -> None:
        sqlalchemy.event.remove(engine, "before_cursor_execute", self._before)
        sqlalchemy.event.remove(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        elapsed = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        match = _STATEMENT_RE.match(statement)
        if match is None:
            label = " ".join(statement.split()[:2])
        elif match.group(1):
            label = f"{match.group(1).upper()} {match.group(2)}"
        else:
            label = f"SELECT FROM {match.group(4)}"
        if many:
            label += " (executemany)"
        self.seconds[label] += elapsed
        self.calls[label] += 1


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def print_profile(profile: cProfile.Profile, path: Path, top: int = 25) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    profile.dump_stats(str(path))
    stats = pstats.Stats(profile)
    stats.strip_dirs()
    print(f"\n--- cProfile, top {top} by cumulative time (full profile: {path}) ---")
    stats.sort_stats("cumulative").print_stats(top)
    print(f"--- cProfile, top {top} by own time ---")
    stats.sort_stats("tottime").print_stats(top)


# --------------------------------------------------------------------------- the send run


@dataclass
class SendRun:
    """The outcome of one timed ``Engine.tick`` over ``n`` due enrolments."""

    n: int
    seconds: float
    # The sending process's CPU time (all its threads) during the tick; 0 with workers.
    cpu_seconds: float
    report: Any
    statuses: dict[str, int]
    distinct_enrollments: int
    still_due: int
    sink_received: int
    transport: CountingTransport
    phases: PhaseTimer
    seed_seconds: float
    rss_before_tick_mb: float
    rss_samples: list[tuple[int, float]]
    sql: SqlTimer
    problems: list[str]

    @property
    def rate(self) -> float:
        return self.n / self.seconds if self.seconds else 0.0


class CollectorTimer:
    """A ``gc.callbacks`` entry that adds up the cyclic collector's runs and time."""

    def __init__(self) -> None:
        self.runs = 0
        self.full = 0
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        self.runs += 1
        self.full += info["generation"] == 2
        self.seconds += time.perf_counter() - self._started


def prepare_send_database(
    db: str, n: int, workdir: Path, now: datetime, pg_database: str = "nurture_bench"
) -> tuple[str, float]:
    """A fresh, migrated database with the bench campaign and ``n`` enrolments due at
    ``now`` (on PostgreSQL the database ``pg_database``, dropped and created). Returns
    (url, seeding seconds)."""
    if db == "postgresql":
        url = recreate_postgres_database(pg_database)
    else:
        url = f"sqlite:///{workdir / 'bench.sqlite'}"
    migrate(url)
    runtime = Runtime.from_settings(bench_settings(url, workdir / "instance"))
    try:
        campaign_id, version_id = sync_bench_campaign(runtime, now)
        seconds = seed_rows(
            runtime.engine,
            Seed(
                n=n, campaign_id=campaign_id, version_id=version_id, now=now, due_at=lambda i: now
            ),
        )
    finally:
        runtime.close()
    return url, seconds


def run_send(
    url: str,
    n: int,
    *,
    sink: SmtpSink,
    workdir: Path,
    now: datetime,
    batch_size: int,
    seed_seconds: float,
    profile_to: Path | None = None,
    workers: int = 1,
) -> SendRun:
    """Time ``Engine(runtime).tick(now)`` end to end, then check every message went once.

    With ``workers`` > 1 (PostgreSQL), that many processes tick at the same time, each with
    its own engine, as several ``nurture worker`` processes would."""

    settings = bench_settings(url, workdir / "instance", smtp_url=sink.url, batch_size=batch_size)
    runtime = Runtime.from_settings(settings)
    transport = CountingTransport(make_transport(settings, runtime.sessions))
    engine = Engine(runtime, transport=transport)
    phases = PhaseTimer()
    rss_samples: list[tuple[int, float]] = []
    phases.after["record outcomes (delivery lane)"] = lambda: rss_samples.append(
        (transport.messages, rss_now_mb())
    )
    phases.wrap(engine.decider, "decide_batch", "claim + decide + record sends (tx 1)")
    phases.wrap(engine.decider, "claim_retries", "claim retries")
    phases.wrap(engine.renderer, "build_message", "render + MIME")
    phases.wrap(engine.recorder, "record", "record outcomes (delivery lane)")
    sql = SqlTimer()
    sql.attach(runtime.engine)
    sink_before = sink.count()
    rss_before = rss_now_mb()
    profile = cProfile.Profile() if profile_to else None
    try:
        if workers > 1:
            # The scale-out path: W worker processes share the due enrolments through
            # SKIP LOCKED; the wall time runs from the common start to the last one done.
            report, seconds = _tick_in_processes(settings, now, workers, transport)
            cpu_seconds = 0.0  # spent in the worker processes, not measured here
        else:
            # As a worker does once started (nurture.platform.start_up): the set-up's objects
            # out of the cyclic collector's way, so it does not walk them during the tick.
            gc.collect()
            gc.freeze()
            collector = CollectorTimer()
            gc.callbacks.append(collector)
            started, cpu_started = time.perf_counter(), time.process_time()
            if profile is not None:
                profile.enable()
            try:
                report = engine.tick(now)
            finally:
                gc.callbacks.remove(collector)
            if profile is not None:
                profile.disable()
            seconds = time.perf_counter() - started
            # Every thread of this process: steadier than the wall time on a shared machine.
            cpu_seconds = time.process_time() - cpu_started
            print(
                f"collector     {collector.runs} collections ({collector.full} full) took "
                f"{collector.seconds:.2f} s of the tick"
            )
    finally:
        engine.close()
        sql.detach(runtime.engine)
    if profile is not None and profile_to is not None:
        print_profile(profile, profile_to)
    try:
        statuses = message_status_counts(runtime)
        with runtime.sessions() as session:
            distinct = session.scalar(select(func.count(func.distinct(Message.enrollment_id))))
            still_due = session.scalar(
                select(func.count()).select_from(Enrollment).where(Enrollment.next_due_at <= now)
            )
            leads = session.scalar(select(func.count()).select_from(Lead))
    finally:
        runtime.close()
    received = sink.count(expect=sink_before + n) - sink_before
    problems = []
    total = sum(statuses.values())
    if leads != n:
        problems.append(f"{leads} leads in the database, expected {n}")
    if statuses.get("sent", 0) != n or total != n:
        problems.append(f"messages by status {statuses}, expected exactly {n} sent")
    if distinct != n:
        problems.append(f"{distinct} distinct enrolments have a message, expected {n}")
    if received != n:
        problems.append(f"smtp-sink received {received} messages, expected {n}")
    if report.sent != n:
        problems.append(f"TickReport says sent={report.sent}, expected {n}")
    if still_due:
        problems.append(f"{still_due} enrolments are still due after the tick")
    return SendRun(
        n=n,
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        report=report,
        statuses=statuses,
        distinct_enrollments=distinct or 0,
        still_due=still_due or 0,
        sink_received=received,
        transport=transport,
        phases=phases,
        seed_seconds=seed_seconds,
        rss_before_tick_mb=rss_before,
        rss_samples=rss_samples,
        sql=sql,
        problems=problems,
    )


def _tick_in_processes(
    settings: Settings, now: datetime, workers: int, counter: CountingTransport
) -> tuple[Any, float]:
    started, outcomes = run_together(_worker_tick, [(settings, now)] * workers)
    seconds = time.perf_counter() - started
    total = TickReport()
    for report, sent_messages, sent_bytes, smtp_seconds in outcomes:
        for name in vars(total):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        counter.messages += sent_messages
        counter.bytes += sent_bytes
        counter.seconds += smtp_seconds / workers
        counter.calls += report.batches
    return total, seconds


def run_together(
    target: Callable[..., None], argument_lists: Sequence[tuple[Any, ...]]
) -> tuple[float, list[Any]]:
    """Run ``target(*arguments, start, results)`` in one forked process per argument list,
    all released at once through the barrier ``start``; each puts its outcome on the queue
    ``results``. Returns the release time (``perf_counter``) and the outcomes."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    start = context.Barrier(len(argument_lists) + 1)
    results = context.Queue()
    processes = [
        context.Process(target=target, args=(*arguments, start, results))
        for arguments in argument_lists
    ]
    for process in processes:
        process.start()
    start.wait()
    started = time.perf_counter()
    outcomes = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    return started, outcomes


def _worker_tick(settings: Settings, now: datetime, start: Any, results: Any) -> None:
    runtime = Runtime.from_settings(settings)
    transport = CountingTransport(make_transport(settings, runtime.sessions))
    engine = Engine(runtime, transport=transport)
    try:
        start.wait()
        began = time.perf_counter()
        report = engine.tick(now)
        print(
            f"  worker {os.getpid()}: {report.sent} sent in {report.batches} batches,"
            f" {time.perf_counter() - began:.2f} s",
            flush=True,
        )
    finally:
        engine.close()
        runtime.close()
    results.put((report, transport.messages, transport.bytes, transport.seconds))


def print_phases(run: SendRun) -> None:
    """Where the tick's wall time went (nested: render + MIME and SMTP run inside deliver)."""
    total = run.seconds
    smtp = run.transport.seconds
    rows = [
        (label, run.phases.seconds[label], run.phases.calls[label]) for label in run.phases.seconds
    ]
    rows.insert(2, ("SMTP send_many (delivery lane)", smtp, run.transport.calls))
    accounted = sum(seconds for _, seconds, _ in rows)
    print(f"\nphases of the tick (wall time, {total:.2f} s in all):")
    for label, seconds, calls in rows:
        per = seconds / run.n * 1e6 if run.n else 0.0
        print(
            f"  {label:<40} {seconds:8.2f} s  {seconds / total:6.1%}  "
            f"{per:7.1f} µs/msg  ({calls} calls)"
        )
    other = total - accounted
    if other >= 0:
        print(f"  {'other (engine glue, loops)':<40} {other:8.2f} s  {other / total:6.1%}")
    else:
        # The delivery lane sends and records batch k while batch k+1 is decided and built.
        print(f"  (phases overlap: {-other:.2f} s of them ran in parallel with another)")
    in_driver = sum(run.sql.seconds.values())
    print(
        f"\ndatabase driver time by statement ({in_driver:.2f} s in all, {in_driver / total:.1%}"
        " of the tick; the rest of the database phases is SQLAlchemy and engine Python):"
    )
    for label, seconds in sorted(run.sql.seconds.items(), key=lambda item: -item[1]):
        print(
            f"  {label:<44} {seconds:8.2f} s  {seconds / total:6.1%}  "
            f"{run.sql.calls[label]:6} calls"
        )


def print_run(run: SendRun, label: str = "pipeline") -> None:
    mean_size = run.transport.bytes / run.transport.messages if run.transport.messages else 0
    print(
        f"{label:<13} {run.n} messages in {run.seconds:.2f} s = {run.rate:,.0f} msg/s "
        f"(mean message {mean_size / 1024:.1f} KB; seeding took {run.seed_seconds:.1f} s, untimed)"
    )
    if run.cpu_seconds:
        print(
            f"cpu           the sending process's CPU time {run.cpu_seconds:.2f} s = "
            f"{run.cpu_seconds / run.n * 1e6:,.0f} µs per message (all its threads)"
        )
    print(
        f"check         messages by status {run.statuses}; {run.distinct_enrollments} distinct "
        f"enrolments; smtp-sink received {run.sink_received}; still due {run.still_due}; "
        f"report: {run.report}"
    )


def timestamp() -> datetime:
    return datetime.now(UTC)


def future(now: datetime, i: int) -> datetime:
    """Enrolment i's next due time: spread over the next 30 days, never before an hour."""
    return now + timedelta(hours=1, minutes=i % (30 * 24 * 60))
