"""Benchmark: what keeping the campaign results' roll-up costs a send batch (500 messages
of 500 leads) on the web-app benchmark's database, in a transaction that is rolled back
(the database is left as it was).

    .venv/bin/python bench/email_rollup_cost.py [--database nurture_bench_web]

Times ``follow_messages`` for 500 leads' newest emails: unchanged (what it reads), then
as if each had just been sent (its copy removed first, so the lead is rolled up again).
"""

from __future__ import annotations

import argparse
import time

from benchlib import postgres_url  # first: puts this checkout on sys.path
from sqlalchemy import create_engine, delete, make_url, text
from sqlalchemy.orm import Session

from nurture.analytics.email_rollup import follow_messages
from nurture.models import RolledUpEmail

NEWEST = text(
    "SELECT max(id) FROM messages WHERE kind = 'campaign' AND sent_at IS NOT NULL"
    " GROUP BY lead_id ORDER BY lead_id DESC LIMIT 500"
)


def timed(session: Session, ids: list[int], label: str) -> None:
    began = time.perf_counter()
    changed = follow_messages(session, ids)
    took = (time.perf_counter() - began) * 1000
    print(f"{label:<28}{len(ids)} messages, {changed} leads rolled up again: {took:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database", default="nurture_bench_web")
    args = parser.parse_args()
    url = make_url(postgres_url(args.database)).set(drivername="postgresql+psycopg")
    with create_engine(url).connect() as conn:
        outer = conn.begin()
        try:
            session = Session(bind=conn, join_transaction_mode="create_savepoint")
            ids = [int(i) for i in session.scalars(NEWEST)]
            timed(session, ids, "unchanged (reads only)")
            timed(session, ids, "unchanged, again")
            session.execute(delete(RolledUpEmail).where(RolledUpEmail.message_id.in_(ids)))
            timed(session, ids, "each lead one email sent")
        finally:
            outer.rollback()


if __name__ == "__main__":
    main()
