"""Upgrading a database with history: migration 9700 records every hand-raise already on a
timeline as answered ``earlier``, so the upgrade sends nobody a late auto-reply."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, text

from nurture.models import Event, Lead
from nurture.platform import migrate
from nurture.platform.db import make_engine, table_of
from tests.integration.platform.test_migration_engagement import empty_database  # noqa: F401

AT = datetime(2026, 11, 20, 9, tzinfo=UTC)


def test_the_upgrade_marks_earlier_hand_raises_as_answered(empty_database):  # noqa: F811
    engine = make_engine(empty_database)
    try:
        migrate.upgrade(engine, "9750")
        with engine.begin() as conn:
            conn.execute(
                insert(table_of(Lead)).values(
                    id=1, email="a@b.example", created_at=AT, updated_at=AT
                )
            )
            for number, kind in (
                (1, "demo.requested"),
                (2, "lead.hand_raised"),
                (3, "page.viewed"),
            ):
                conn.execute(
                    insert(table_of(Event)).values(
                        id=number, lead_id=1, type=kind, occurred_at=AT, recorded_at=AT,
                        is_machine=False, machine_reasons=[], properties={},
                    )
                )  # fmt: skip
        migrate.upgrade(engine)
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT lead_id, event_id, route, review_status FROM hand_raises")
            ).all()
        assert [tuple(row) for row in found] == [(1, 2, "earlier", None)]
        migrate.check(engine)
    finally:
        engine.dispose()
