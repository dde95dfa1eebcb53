"""What the triggers that keep ``lead_first_touches`` (migration 9850) cost per event
inserted, on PostgreSQL and SQLite.

Each run inserts one batch of events the way the hit processor does (one ``insert(Event)``
with a list of rows, an executemany: 500 events on PostgreSQL, 32 on SQLite, its pass
sizes) in a transaction that is rolled back, once as they are and once all marked as
machine hits, on which no trigger acts (every other cost, the indexes, the foreign keys,
the statement, is the same), the two interleaved so that the machine's load falls on both
alike; dropping the triggers instead would measure the invalidation of every plan over
``events`` too. The events are the processor's mix: opens, clicks and page views, a third
of them machine hits, of leads touched before (the usual case: nothing to move) or, with
``--new-leads``, of leads never touched (every human event moves its lead's row).

    python bench/first_touch_triggers.py --backend sqlite
    python bench/first_touch_triggers.py --backend postgresql --database bench_touch

A PostgreSQL database without leads (migrated to 9850) is given ``--leads`` first.
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

from nurture.models import Event, Lead
from nurture.platform.db import make_engine

TYPES = ("email.opened", "email.clicked", "page.viewed")


def _engine(backend: str, database: str | None, leads: int) -> Engine:
    if backend == "postgresql":
        if not database:
            raise SystemExit("--database names the PostgreSQL database (at migration 9850)")
        engine = make_engine(benchlib.postgres_url(database))
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'touches.db'}"
        benchlib.migrate(url)
        engine = make_engine(url)
    with engine.begin() as connection:
        if connection.scalar(select(Lead.id).limit(1)) is None:
            _seed(connection, leads)
    return engine


def _seed(connection: Any, leads: int) -> None:
    """``leads`` leads in an empty database, half of them touched long ago."""
    old = datetime(2025, 1, 1, tzinfo=UTC)
    new = [{"email": f"l{n}@bench.example", "created_at": old} for n in range(leads)]
    connection.execute(insert(Lead), new)
    ids = list(connection.scalars(select(Lead.id)))
    connection.execute(
        insert(Event),
        [
            {"lead_id": lead, "type": "page.viewed", "occurred_at": old, "recorded_at": old,
             "is_machine": False, "machine_reasons": [], "properties": {}}
            for lead in ids[: len(ids) // 2]
        ],
    )  # fmt: skip


def _batch(
    lead_ids: list[int], size: int, at: datetime, rng: random.Random
) -> list[dict[str, Any]]:
    return [
        {
            "lead_id": rng.choice(lead_ids),
            "type": rng.choice(TYPES),
            "occurred_at": at + timedelta(seconds=n),
            "recorded_at": at,
            "is_machine": rng.random() < 1 / 3,
            "machine_reasons": [],
            "properties": {},
        }
        for n in range(size)
    ]


def _timed(engine: Engine, rows: list[dict[str, Any]]) -> float:
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            # One row first, so that the timed INSERT finds its statement prepared, as the
            # processor's does in a long-running connection.
            connection.execute(insert(Event), rows[:1])
            began = time.perf_counter()
            connection.execute(insert(Event), rows[1:])
            seconds = time.perf_counter() - began
        finally:
            transaction.rollback()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="sqlite")
    parser.add_argument("--database", help="PostgreSQL: the database (at migration 9850)")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--batch", type=int, help="events per INSERT (default: 500 / 32)")
    parser.add_argument("--leads", type=int, default=20_000, help="leads of an empty database")
    parser.add_argument("--new-leads", action="store_true", help="leads never touched before")
    args = parser.parse_args()
    engine = _engine(args.backend, args.database, args.leads)
    postgres = engine.dialect.name == "postgresql"
    size = args.batch or (500 if postgres else 32)
    rng = random.Random(7)
    exists = "EXISTS (SELECT 1 FROM lead_first_touches t WHERE t.lead_id = leads.id)"
    chosen = select(Lead.id).where(text(("NOT " if args.new_leads else "") + exists))
    with engine.connect() as connection:
        lead_ids = list(connection.scalars(chosen.limit(50_000)))
    # Later than every stored first touch (the usual case), unless the leads are new.
    at = datetime(2027, 1, 1, tzinfo=UTC)
    timings: dict[bool, list[float]] = {True: [], False: []}
    for run in range(args.runs + 1):
        rows = _batch(lead_ids, size, at, rng)
        # The same rows as machine hits: no trigger acts on them, and every other cost (the
        # indexes, the foreign keys, the statement) is the same.
        machine = [{**row, "is_machine": True} for row in rows]
        for touching in (run % 2 == 0, run % 2 == 1):
            seconds = _timed(engine, rows if touching else machine)
            if run:  # the first pair warms the caches
                timings[touching].append(seconds)
    with_, without = (statistics.median(timings[flag]) for flag in (True, False))
    size -= 1  # the row that prepared the statement is not timed
    print(f"{engine.dialect.name}: {size} events per INSERT, {args.runs} interleaved pairs")
    print(f"  all machine hits  {without * 1e3:8.2f} ms  ({without / size * 1e6:6.1f} µs/event)")
    print(f"  the mix           {with_ * 1e3:8.2f} ms  ({with_ / size * 1e6:6.1f} µs/event)")
    print(f"  cost              {(with_ - without) / size * 1e6:+6.1f} µs/event (medians)")
    engine.dispose()


if __name__ == "__main__":
    main()
