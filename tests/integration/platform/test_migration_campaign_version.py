"""Upgrading a database with history: migration 9630 gives each campaign message the
version of its campaign that was the newest when it was sent."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, text

from nurture.models import Campaign, CampaignVersion, Lead, Message
from nurture.platform import migrate
from nurture.platform.db import make_engine, table_of
from tests.integration.platform.test_migration_engagement import empty_database  # noqa: F401

V1 = datetime(2026, 1, 1, tzinfo=UTC)
V2 = datetime(2026, 2, 1, tzinfo=UTC)


def test_the_upgrade_names_the_version_each_email_was_sent_by(empty_database):  # noqa: F811
    engine = make_engine(empty_database)
    try:
        migrate.upgrade(engine, "9610")
        with engine.begin() as conn:
            conn.execute(
                insert(table_of(Lead)).values(
                    id=1, email="a@b.example", created_at=V1, updated_at=V1
                )
            )
            conn.execute(
                insert(table_of(Campaign)).values(
                    id=1, key="alpha", name="Alpha", status="active", created_at=V1, updated_at=V1
                )
            )
            for number, created in ((1, V1), (2, V2)):
                conn.execute(
                    insert(table_of(CampaignVersion)).values(
                        id=number, campaign_id=1, number=number, checksum=f"c{number}",
                        source="", spec={}, created_at=created,
                    )
                )  # fmt: skip
            sent = {
                1: datetime(2026, 1, 15, tzinfo=UTC),  # version 1 was the newest
                2: datetime(2026, 2, 1, tzinfo=UTC),  # version 2, created that instant
                3: datetime(2025, 12, 1, tzinfo=UTC),  # before any version: none
                4: datetime(2026, 3, 1, tzinfo=UTC),  # not a campaign's email
            }
            for number, at in sent.items():
                conn.execute(
                    insert(table_of(Message)).values(
                        id=number, lead_id=1, campaign_id=1 if number != 4 else None,
                        kind="campaign" if number != 4 else "handoff", template="t",
                        to_address="a@b.example", message_id=f"m{number}", token=f"t{number}",
                        status="sent", queued_at=at, sent_at=at,
                    )
                )  # fmt: skip
        migrate.upgrade(engine)
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT id, campaign_version_id FROM messages ORDER BY id")
            ).all()
        assert [tuple(row) for row in found] == [(1, 1), (2, 2), (3, None), (4, None)]
    finally:
        engine.dispose()
