"""The data behind ``bench/web_pages.py``: a PostgreSQL database the size of a busy instance
(the rows themselves come from ``bench/web_rows.py``).

Not a benchmark itself. ``build`` migrates a fresh database with the product's Alembic
migrations, loads the real configuration (50 campaign files generated from the bundled
examples and synced through the product's sync, the scoring, ICP, readiness and sales-team
files), then streams leads, accounts, enrolments, messages, events, lifecycle changes and
handoffs with COPY from generators: nothing is held in memory but one lead's rows.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from benchlib import (
    SECRET,
    admin_engine,
    alembic_head,
    migrate,
    postgres_database_exists,
    postgres_url,
    recreate_postgres_database,
    rss_peak_mb,
)
from sqlalchemy import delete, text
from web_rows import (
    CAMPAIGN_SOURCES,
    DATA_VERSION,
    HISTORY_DAYS,
    PASSWORD,
    SOURCES,
    USERS,
    Campaigns,
    Sizes,
    account_rows,
    campaign_rows,
    event_rows,
    handoff_rows,
    lead_rows,
    sla_rows,
    stage_change_rows,
)

from nurture.analytics.campaign_entries import rebuild_entries
from nurture.analytics.costs import sync_costs_file
from nurture.analytics.email_rollup_rebuild import rebuild_email_rollup
from nurture.analytics.first_touches import rebuild_touches
from nurture.analytics.rollup import rebuild_firsts
from nurture.analytics.stage_entries import rebuild_stage_entries
from nurture.auth import users
from nurture.campaigns.services import sync_campaign_files
from nurture.handoff.service import hand_off
from nurture.handoff.team_sync import sync_team_file
from nurture.models import Base, EmailRollupQueue, Lead
from nurture.platform.config import Settings
from nurture.platform.db import transaction
from nurture.platform.decay import DEFAULT_HALF_LIFE, score_rank
from nurture.platform.runtime import Runtime
from nurture.qualification.watch import sync_qualification_files
from nurture.scoring.watch import sync_scoring_file
from nurture.tracking import backfill_engagement

# --------------------------------------------------------------------------- loading


# Columns some branches add with values the models keep (a NOT NULL column without a default
# must be named here, or the load stops and says which).
COLUMN_FILLERS: dict[str, dict[str, Callable[[dict[str, Any]], Any]]] = {
    "leads": {
        "name_key": lambda r: f"{r['last_name']} {r['first_name']}".lower(),
        "full_name_key": lambda r: f"{r['first_name']} {r['last_name']}".lower(),
        "score_rank": lambda r: score_rank(r["score_value"], r["score_as_of"], DEFAULT_HALF_LIFE),
        "last_activity_at": lambda r: r["updated_at"],
    },
    "accounts": {"name_key": lambda r: (r["name"] or "").lower()},
}


def copy_rows(conn: Any, table: str, rows: Iterator[dict[str, Any]]) -> int:
    """COPY ``rows`` (dicts) into ``table``; returns how many. Columns the table has and the
    rows do not are left to their defaults, or filled by COLUMN_FILLERS."""
    first = next(rows, None)
    if first is None:
        return 0
    with conn.cursor() as cur:
        cur.execute(
            "SELECT column_name, is_nullable, column_default FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = %s",
            (table,),
        )
        table_columns = cur.fetchall()
    fillers = {}
    for name, nullable, default in table_columns:
        if name in first:
            continue
        filler = COLUMN_FILLERS.get(table, {}).get(name)
        if filler is not None:
            fillers[name] = filler
        elif nullable == "NO" and default is None:
            raise SystemExit(
                f"{table}.{name} is NOT NULL without a default and the benchmark does not"
                f" fill it: add it to COLUMN_FILLERS in bench/web_data.py"
            )
    columns = list(first) + list(fillers)
    count = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for row in _chain(first, rows):
            for name, filler in fillers.items():
                row[name] = filler(row)
            cp.write_row([row[c] for c in columns])
            count += 1
    return count


def _chain(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest


# --------------------------------------------------------------------------- the build


def marker(sizes: Sizes) -> str:
    """What a cached database must match to be reused: sizes, schema and data version."""
    return json.dumps({"sizes": asdict(sizes), "schema": alembic_head(), "data": DATA_VERSION})


def cached(name: str, sizes: Sizes) -> bool:
    if not postgres_database_exists(name):
        return False
    admin = admin_engine()
    try:
        with admin.connect() as conn:
            comment = conn.execute(
                text(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
                    " WHERE datname = :name"
                ),
                {"name": name},
            ).scalar()
    finally:
        admin.dispose()
    return comment == marker(sizes)


def drop_database(name: str) -> None:
    admin = admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def bench_settings(url: str, instance: Path, campaigns: Path) -> Settings:
    base = Settings.from_env(env={"NURTURE_SECRET_KEY": SECRET}, instance_path=instance)
    return base.with_overrides(
        database_url=url,
        smtp_url=None,
        campaigns_path=campaigns,
        public_url="https://nurture.bench.example",
        # Campaign emails must say who sends them: the bench brand.
        company_name="Bench Company",
        postal_address="Bench Company, 1 Bench Street, 00-001 Benchtown",
    )


def write_campaign_files(folder: Path, count: int) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """``count`` valid campaign files made from the bundled examples; per file its key and
    send steps (track, step id, template)."""
    made = []
    for n in range(count):
        source = CAMPAIGN_SOURCES[0 if n % 5 else 1]
        original = source.read_text()
        old_key = re.search(r"^id: ([\w-]+)", original, re.MULTILINE)
        assert old_key is not None
        key = f"bench-{n:02d}-{old_key.group(1)}"
        body = re.sub(r"^id: [\w-]+", f"id: {key}", original, count=1, flags=re.MULTILINE)
        body = re.sub(r"^name: (.*)$", rf"name: \1 {n:02d}", body, count=1, flags=re.MULTILINE)
        body = body.replace(f"campaign: {old_key.group(1)} }}", f"campaign: {key} }}")
        (folder / f"{key}.yaml").write_text(body)
        spec = yaml.safe_load(body)
        sends = [
            (track, step["id"], step["send"])
            for track, definition in spec["tracks"].items()
            for step in definition["steps"]
            if "send" in step
        ]
        made.append((key, sends))
    return made


def build(name: str, sizes: Sizes, now: datetime) -> str:
    """A fresh database ``name`` of ``sizes``; returns its URL."""
    started = time.perf_counter()
    url = recreate_postgres_database(name)
    migrate(url)
    print(f"  migrated ({alembic_head()})  {time.perf_counter() - started:6.1f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="nurture-bench-web-") as tmp:
        folder = Path(tmp) / "campaigns"
        folder.mkdir()
        files = write_campaign_files(folder, sizes.campaigns)
        runtime = Runtime.from_settings(bench_settings(url, Path(tmp), folder))
        try:
            campaigns = _load_configuration(runtime, files, now)
            load_costs(runtime, Path(tmp), campaigns.keys, now)
            _load_tables(runtime, sizes, campaigns, now)
            _load_handoffs(runtime, sizes, now)
            _rebuild_rollups(runtime)
        finally:
            runtime.close()
    _finish(url, name, sizes)
    print(f"  built in {time.perf_counter() - started:.1f} s; peak RSS {rss_peak_mb():.0f} MB")
    return url


def _load_configuration(
    runtime: Runtime, files: list[tuple[str, list[tuple[str, str, str]]]], now: datetime
) -> Campaigns:
    """The product's own files through the product's own syncs, and one user per role."""
    report = sync_campaign_files(runtime, now=now)
    assert sync_scoring_file(runtime, now=now).ok
    assert sync_team_file(runtime, now=now).ok
    assert all(r.ok for r in sync_qualification_files(runtime, now=now))
    with transaction(runtime.sessions) as session:
        for role, email in USERS.items():
            users.create_user(
                session, email=email, name=role.title(), role=role, password=PASSWORD,
                actor="bench", now=now,
            )  # fmt: skip
        rows = dict(
            (key, (cid, version))
            for key, cid, version in session.execute(
                text("SELECT key, id, active_version_id FROM campaigns WHERE status = 'active'")
            ).all()
        )
    missing = [key for key, _ in files if key not in rows]
    if missing:
        raise SystemExit(f"campaigns did not load: {missing}: {report!r}")
    return Campaigns(
        ids=[rows[key][0] for key, _ in files],
        keys=[key for key, _ in files],
        sends=[sends for _, sends in files],
        versions=[rows[key][1] for key, _ in files],
    )


# The campaigns a cost is entered for (the first of the benchmark's), besides each source.
COST_CAMPAIGNS = 10


def write_costs_file(folder: Path, keys: list[str], now: datetime) -> Path:
    """A costs file as a marketing team keeps one (docs/costs.md): for every month of the
    data's history, a cost for each lead source and for each of the first
    ``COST_CAMPAIGNS`` campaigns, so the cost report spreads real entries over the leads
    they cover."""
    first = now - timedelta(days=HISTORY_DAYS)
    month, last = (first.year, first.month), (now.year, now.month)
    entries: list[dict[str, Any]] = []
    while month <= last:
        name = f"{month[0]:04d}-{month[1]:02d}"
        for i, (source, _) in enumerate(s for s in SOURCES if s[0] is not None):
            entries.append({"month": name, "source": source, "amount": 800 + 150 * i})
        for i, key in enumerate(keys[:COST_CAMPAIGNS]):
            entries.append({"month": name, "campaign": key, "amount": 300 + 40 * i})
        month = (month[0] + month[1] // 12, month[1] % 12 + 1)
    path = folder / "costs.yaml"
    # In the sales team file's currency (campaigns/sales-team.yaml), the deals' own, so the
    # ROI report can set the costs against the revenue.
    path.write_text(yaml.safe_dump({"currency": "USD", "costs": entries}, sort_keys=False))
    return path


def load_costs(runtime: Runtime, folder: Path, keys: list[str], now: datetime) -> None:
    """The costs file of ``write_costs_file`` through the product's own sync."""
    began = time.perf_counter()
    path = write_costs_file(folder, keys, now)
    report = sync_costs_file(runtime, now=now, path=path)
    if not report.ok:
        raise SystemExit(f"the costs file did not load: {report!r}")
    entries = len(yaml.safe_load(path.read_text())["costs"])
    print(f"  costs            {entries:>10,} entries {time.perf_counter() - began:5.1f} s")


def add_missing_costs(name: str) -> None:
    """Give a database built before ``load_costs`` was part of ``build`` its costs, dated
    as if it were built when its newest lead was created (the data's "now")."""
    url = postgres_url(name)
    with tempfile.TemporaryDirectory(prefix="nurture-bench-costs-") as tmp:
        runtime = Runtime.from_settings(bench_settings(url, Path(tmp), Path(tmp)))
        try:
            with runtime.sessions() as session:
                if session.scalar(text("SELECT count(*) FROM costs")):
                    return
                now = session.scalar(text("SELECT max(created_at) FROM leads"))
                keys = list(session.scalars(text("SELECT key FROM campaigns ORDER BY id")))
            print(f"database {name}: adding the costs file of the benchmark's data")
            load_costs(runtime, Path(tmp), keys, now.replace(tzinfo=UTC))
        finally:
            runtime.close()


BIG_TABLES = ("accounts", "leads", "enrollments", "messages", "events", "stage_changes")


def _load_tables(runtime: Runtime, sizes: Sizes, campaigns: Campaigns, now: datetime) -> None:
    naive = now.astimezone(UTC).replace(tzinfo=None)  # UTC columns store naive UTC
    loads: list[tuple[str, Callable[[], Iterator[dict[str, Any]]]]] = [
        ("accounts", lambda: account_rows(sizes, naive)),
        ("leads", lambda: lead_rows(sizes, naive)),
        ("enrollments", lambda: campaign_rows(sizes, campaigns, naive, "enrollments")),
        ("messages", lambda: campaign_rows(sizes, campaigns, naive, "messages")),
        ("events", lambda: event_rows(sizes, campaigns, naive)),
        ("stage_changes", lambda: stage_change_rows(sizes, naive)),
    ]  # fmt: skip
    raw = runtime.engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cur:
            # Foreign keys are checked once, after the load (below), not row by row; indexes
            # other than keys and unique constraints are built once, after the load.
            cur.execute("SET session_replication_role = replica")
            cur.execute("SET maintenance_work_mem = '256MB'")
            cur.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public'"
                " AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
                " WHERE c.conname = i.indexname)",
                (list(BIG_TABLES),),
            )
            indexes = cur.fetchall()
            for index, _ in indexes:
                cur.execute(f'DROP INDEX "{index}"')
        for table, rows in loads:
            began = time.perf_counter()
            count = copy_rows(conn, table, rows())
            conn.commit()
            seconds = time.perf_counter() - began
            print(
                f"  {table:<14} {count:>11,} rows {seconds:7.1f} s {count / seconds:>9,.0f} rows/s"
                f"  peak RSS {rss_peak_mb():.0f} MB",
                flush=True,
            )
        began = time.perf_counter()
        # What people did with each email, as the hit processor keeps it on the message.
        with runtime.engine.begin() as connection:
            connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")
            filled = backfill_engagement(connection)
        print(
            f"  engagement     {filled:>11,} messages {time.perf_counter() - began:5.1f} s",
            flush=True,
        )
        began = time.perf_counter()
        with conn.cursor() as cur:
            for table in BIG_TABLES:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT coalesce(max(id), 1) FROM {table}))"
                )
            for _, definition in indexes:
                cur.execute(definition)
            cur.execute("SET session_replication_role = DEFAULT")
        conn.commit()
        print(f"  {len(indexes)} indexes built    {time.perf_counter() - began:6.1f} s", flush=True)
        _check_foreign_keys(conn)
    finally:
        raw.close()


def _rebuild_rollups(runtime: Runtime) -> None:
    """The reports' roll-ups, recomputed from the history loaded around the use cases (as
    an operator would: ``nurture db rebuild-rollups``)."""
    # The enrolments, the events and the stage changes went in with their triggers off
    # (COPY as replica): their tables of first enrolments, first touches and stage entries
    # are filled here too.
    for table, rebuild in (
        ("lead_stage_firsts", rebuild_firsts),
        ("campaign_entries", rebuild_entries),
        ("lead_first_touches", rebuild_touches),
        ("stage_entries", rebuild_stage_entries),
    ):
        began = time.perf_counter()
        with transaction(runtime.sessions) as session:
            session.execute(text("SET LOCAL work_mem = '256MB'"))
            rebuilt = rebuild(session)
        print(
            f"  {table:<18} {rebuilt.rows:>8,} rows {time.perf_counter() - began:7.1f} s",
            flush=True,
        )
    began = time.perf_counter()
    with transaction(runtime.sessions) as session:
        session.execute(text("SET LOCAL work_mem = '256MB'"))
        emails = rebuild_email_rollup(session)
        # Nothing else writes during the load: what was queued is in the rebuild.
        session.execute(delete(EmailRollupQueue))
    rows = ", ".join(f"{table} {count:,}" for table, count in emails.rows.items())
    print(f"  email roll-up  {rows} rows {time.perf_counter() - began:7.1f} s", flush=True)


def _check_foreign_keys(conn: Any) -> None:
    """Every foreign key of the loaded tables holds (they were not checked during COPY)."""
    began = time.perf_counter()
    broken = []
    with conn.cursor() as cur:
        for table in BIG_TABLES:
            for fk in Base.metadata.tables[table].foreign_keys:
                column, target = fk.parent.name, fk.column
                cur.execute(
                    f"SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL AND NOT EXISTS"
                    f" (SELECT 1 FROM {target.table.name} r WHERE r.{target.name} = t.{column})"
                )
                if cur.fetchone()[0]:
                    broken.append(f"{table}.{column} → {target.table.name}")
    conn.commit()
    if broken:
        raise SystemExit(f"foreign keys broken by the load: {broken}")
    print(f"  foreign keys checked  {time.perf_counter() - began:6.1f} s", flush=True)


def _load_handoffs(runtime: Runtime, sizes: Sizes, now: datetime) -> None:
    """A few handoffs through the product's own use case (real snapshots, SLA clocks,
    notifications), then many more like them by COPY."""

    began = time.perf_counter()

    @dataclass
    class Qualified:
        rule: str = "engaged-and-fits"
        reasons: tuple[str, ...] = ("score 72 ≥ 60", "grade A")
        hand_raiser: bool = False

    real: list[int] = []
    with transaction(runtime.sessions) as session:
        candidates = session.scalars(
            text(
                "SELECT id FROM leads WHERE stage = 'lead' AND account_id IS NOT NULL"
                " ORDER BY id LIMIT 10"
            )
        ).all()
        for lead_id in candidates:
            lead = session.get(Lead, lead_id)
            assert lead is not None
            real.append(hand_off(session, lead, Qualified(), now).id)
    with transaction(runtime.sessions) as session:
        snapshot = session.scalar(text("SELECT snapshot::text FROM handoffs ORDER BY id LIMIT 1"))
        reps = list(
            session.scalars(
                text(
                    "SELECT id FROM sales_reps"
                    " ORDER BY email <> 'maria.lopez@brightpath.example', id"
                )
            )
        )
        first_id = 1 + (session.scalar(text("SELECT max(id) FROM handoffs")) or 0)
    naive = now.astimezone(UTC).replace(tzinfo=None)
    rows = list(handoff_rows(sizes, naive, reps, snapshot or "{}", first_id, set(candidates)))
    raw = runtime.engine.raw_connection()
    try:
        conn = raw.driver_connection
        count = copy_rows(conn, "handoffs", iter(rows))
        copy_rows(conn, "handoff_slas", sla_rows(rows, naive))
        with conn.cursor() as cur:
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('handoffs', 'id'),"
                " (SELECT max(id) FROM handoffs))"
            )
        conn.commit()
    finally:
        raw.close()
    print(
        f"  handoffs       {len(real) + count:>11,} rows {time.perf_counter() - began:7.1f} s"
        f"  ({len(real)} through the product's hand_off)",
        flush=True,
    )


def _finish(url: str, name: str, sizes: Sizes) -> None:
    began = time.perf_counter()
    admin = admin_engine()
    try:
        engine_url = postgres_url(name)
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        engine = create_engine(
            make_url(engine_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
        )
        with engine.connect() as conn:
            conn.execute(text("VACUUM ANALYZE"))
            size = conn.execute(
                text("SELECT pg_size_pretty(pg_database_size(current_database()))")
            ).scalar()
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{marker(sizes)}'"))
    finally:
        admin.dispose()
    print(f"  VACUUM ANALYZE        {time.perf_counter() - began:6.1f} s; database size {size}")
    del url
