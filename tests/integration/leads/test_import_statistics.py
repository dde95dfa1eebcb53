"""A large import keeps PostgreSQL's statistics of the tables it grows current: planned
without them, each batch's queries by account read every lead."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from nurture.leads import csv_import
from nurture.leads.csv_import import import_leads_csv
from nurture.models import Lead
from nurture.platform.db import refresh_statistics, table_of, transaction
from tests.integration.leads.test_leads_import import NOW


def test_the_tables_are_sampled_each_time_the_created_leads_double(runtime, tmp_path, monkeypatch):
    sampled: list[int] = []

    def record(session, tables):
        sampled.append(session.scalar(select(func.count()).select_from(Lead)))

    monkeypatch.setattr(csv_import, "ANALYZE_AFTER", 10)
    monkeypatch.setattr(csv_import, "refresh_statistics", record)
    path = tmp_path / "leads.csv"
    path.write_text("email\n" + "".join(f"p{i}@example.com\n" for i in range(45)))

    summary = import_leads_csv(runtime.sessions, path, now=NOW, progress=False, batch_size=5)

    assert summary.created == 45
    # After 10 created, then 20, then 40: as many again each time.
    assert sampled == [10, 20, 40]


def test_refreshing_statistics_samples_the_table_now(runtime):
    with transaction(runtime.sessions) as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("PostgreSQL keeps statistics; SQLite does nothing here")
        session.execute(
            table_of(Lead).insert(),
            [{"email": f"s{i}@example.com", "stage": "subscriber"} for i in range(25)],
        )
        refresh_statistics(session, [table_of(Lead)])
        sampled = session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'leads'"))

    assert sampled == 25
