"""Benchmark: what the campaign results' roll-up costs the send path, its worker pass, and
a report with leads still queued, on the web-app benchmark's database (migrated to 9790),
in transactions that are rolled back (the database is left as it was).

    .venv/bin/python bench/email_rollup_cost.py [--database nurture_bench_web] [--runs 7]

- **send path**: a send batch's recording of 500 messages as sent (the recorder's one
  ``bulk_update`` of status and ``sent_at``), with the queue's triggers firing against the
  same update with the triggers off (``session_replication_role = replica``), alternated
  ``--runs`` times: the difference is what the roll-up costs a send;
- **report**: the 12-month report by step (``analytics_reports``' period) with 0, 100,
  500 and 1,000 leads queued (each rolled up in memory by the report);
- **pass**: the worker's pass over the last 1,000 queued leads (``roll_up_pending``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from analytics_reports import period
from benchlib import postgres_url  # first: puts this checkout on sys.path
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from nurture.analytics.campaign_rollup import rolled_up_results
from nurture.analytics.email_rollup import roll_up_pending
from nurture.analytics.filters import ReportFilter
from nurture.handoff.team_sync import active_team
from nurture.models import Message
from nurture.platform.db import bulk_update, table_of

NEWEST = text(
    "SELECT max(id) FROM messages WHERE kind = 'campaign' AND sent_at IS NOT NULL"
    " GROUP BY lead_id ORDER BY lead_id DESC LIMIT :n"
)


def record_sent(session: Session, ids: list[int], *, triggers: bool) -> float:
    """Put ``ids`` back to queued (untimed, triggers off), then time recording them sent."""
    session.execute(text("SET LOCAL session_replication_role = replica"))
    session.execute(
        text("UPDATE messages SET status = 'queued', sent_at = NULL WHERE id = ANY(:ids)"),
        {"ids": ids},
    )
    session.execute(text("DELETE FROM email_rollup_queue"))
    if triggers:
        session.execute(text("SET LOCAL session_replication_role = origin"))
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [{"id": i, "status": "sent", "sent_at": now} for i in ids]
    began = time.perf_counter()
    bulk_update(session.connection(), table_of(Message), rows)
    took = time.perf_counter() - began
    session.execute(text("SET LOCAL session_replication_role = origin"))
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database", default="nurture_bench_web")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    url = make_url(postgres_url(args.database)).set(drivername="postgresql+psycopg")
    with create_engine(url).connect() as conn:
        outer = conn.begin()
        try:
            session = Session(bind=conn, join_transaction_mode="create_savepoint")
            ids = [int(i) for i in session.scalars(NEWEST, {"n": 500})]
            timed: dict[bool, list[float]] = {True: [], False: []}
            for _ in range(args.runs):
                for triggers in (False, True):
                    timed[triggers].append(record_sent(session, ids, triggers=triggers))
            off, on = (statistics.median(timed[flag]) * 1000 for flag in (False, True))
            queued = session.scalar(text("SELECT count(*) FROM email_rollup_queue"))
            print(f"send batch of {len(ids)} recorded sent, median of {args.runs}:")
            print(f"  triggers off {off:8.1f} ms")
            print(f"  triggers on  {on:8.1f} ms  ({queued} leads queued)")
            print(f"  roll-up cost {(on - off) / len(ids) * 1000:8.1f} µs per message")
            report = ReportFilter(*period(session, 12), group_by="step")
            team = active_team(session)
            for pending in (0, 100, 500, 1000):
                session.execute(text("DELETE FROM email_rollup_queue"))
                session.execute(
                    text(
                        "INSERT INTO email_rollup_queue (lead_id) SELECT lead_id FROM"
                        " (SELECT DISTINCT lead_id FROM messages ORDER BY lead_id DESC"
                        " LIMIT :n) AS last"
                    ),
                    {"n": pending},
                )
                began = time.perf_counter()
                rolled_up_results(session, report, report.start_at, report.end_at,
                                  campaign_id=None, version_id=None, team=team)  # fmt: skip
                took = (time.perf_counter() - began) * 1000
                print(f"report by step, {pending:>5} leads queued: {took:8.1f} ms")
            began = time.perf_counter()
            taken = roll_up_pending(session, team)
            took = (time.perf_counter() - began) * 1000
            print(f"worker pass over {taken} queued leads: {took:8.1f} ms")
        finally:
            outer.rollback()


if __name__ == "__main__":
    main()
