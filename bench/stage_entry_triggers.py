"""What the triggers that keep ``stage_entries`` (migration 9880) cost per stage change
written, on PostgreSQL and SQLite.

Each run inserts one batch of changes into funnel stages (one ``insert(StageChange)`` with
a list of rows, an executemany; each of a lead that has entered stages before, at the
lead's newest time, so each finds its previous entries) in a transaction that is rolled
back, once with the table's triggers as they are and once with them disabled in the same
transaction (PostgreSQL) or with the changes into ``subscriber``, on which they do not act
(SQLite, whose triggers cannot be disabled); the two interleaved so that the machine's load
falls on both alike. The stays' triggers (migration 9840) run in both.

    python bench/stage_entry_triggers.py --backend sqlite
    python bench/stage_entry_triggers.py --backend postgresql --database bench_entries
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import benchlib
from sqlalchemy import Engine, insert, select, text

from nurture.models import Lead, StageChange
from nurture.platform.db import make_engine

TRIGGERS = ("stage_entries_insert", "stage_entries_update", "stage_entries_delete")
STAGES = ("mql", "sal", "sql", "opportunity", "customer")


def _engine(backend: str, database: str | None, leads: int) -> Engine:
    if backend == "postgresql":
        if not database:
            raise SystemExit("--database names the PostgreSQL database (at migration 9880)")
        return make_engine(benchlib.postgres_url(database))
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'entries.db'}"
    benchlib.migrate(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        old = datetime(2025, 1, 1, tzinfo=UTC)
        rows = [{"email": f"l{n}@bench.example", "created_at": old} for n in range(leads)]
        connection.execute(insert(Lead), rows)
        ids = list(connection.scalars(select(Lead.id)))
        history = [
            _row(lead, stage, old + timedelta(days=day))
            for lead in ids
            for day, stage in enumerate(("mql", "recycled", "mql", "sal"))
        ]
        connection.execute(insert(StageChange), history)
    return engine


def _row(lead_id: int, to_stage: str, at: datetime) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "from_stage": "recycled",
        "to_stage": to_stage,
        "at": at,
        "reason": "bench",
        "actor": "system",
    }


def _run(engine: Engine, leads: list[int], size: int, with_triggers: bool) -> float:
    now = datetime(2027, 6, 1, tzinfo=UTC)
    rng = random.Random()
    sqlite = engine.dialect.name == "sqlite"
    stage = (lambda: rng.choice(STAGES)) if with_triggers or not sqlite else lambda: "subscriber"
    rows = [_row(rng.choice(leads), stage(), now) for _ in range(size)]
    with engine.connect() as connection:
        transaction = connection.begin()
        if not with_triggers and not sqlite:
            for trigger in TRIGGERS:
                connection.execute(text(f"ALTER TABLE stage_changes DISABLE TRIGGER {trigger}"))
        began = time.perf_counter()
        connection.execute(insert(StageChange), rows)
        spent = time.perf_counter() - began
        transaction.rollback()
    return spent / size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database")
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    engine = _engine(args.backend, args.database, args.leads)
    with engine.connect() as connection:
        entered = select(StageChange.lead_id).where(StageChange.to_stage == "mql").distinct()
        leads = list(connection.scalars(entered.limit(args.leads)))
    timings: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.runs):
        for with_triggers in (True, False):
            timings[with_triggers].append(_run(engine, leads, args.size, with_triggers))
    on, off = (statistics.median(timings[flag]) * 1e6 for flag in (True, False))
    print(
        f"{args.backend}: {args.size} changes per statement, {args.runs} runs, median per"
        f" change: with the entries' triggers {on:.1f} µs, without {off:.1f} µs,"
        f" cost {on - off:.1f} µs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
